//! Link-layer headers of what `smcdump2tcp` writes: the header of a TCP segment it builds, in the link type of the
//! dump frame it replaces, and an Ethernet header in place of a cooked one (SLL, SLL2) for a pcap output, whose
//! packets all share one link type.

use crate::wire::envelope::{Link, LinkSide};
use crate::wire::net::{eth_field, sll2_field, sll_field, EthRepr, Sll2View, SllView, NET};
use crate::wire::{Endpoint, WireRepr};

/// A MAC address for an endpoint's host, made from its IPv4 address (locally administered): the segments of one
/// host carry the same one.
pub fn host_mac(e: &Endpoint) -> [u8; 6] {
    let a = e.addr;
    [0x02, 0x00, a[0], a[1], a[2], a[3]]
}

/// The link-layer header, of link type `link`, of a packet from `src` to `dst` (an IPv4 packet follows).
pub fn header(link: Link, src: &Endpoint, dst: &Endpoint) -> Vec<u8> {
    link.header(&LinkSide { mac: host_mac(src), peer: host_mac(dst), outgoing: false, ifindex: 1 })
}

/// The whole frame `frame` of link type `link` with an Ethernet header in place of its cooked one: the cooked
/// header's protocol as the EtherType, its address (the sender's, when it is a MAC) as the source, zeros as the
/// destination. An Ethernet frame is returned as it is; `None` for a frame too short for its header.
pub fn to_ethernet(link: Link, frame: &[u8]) -> Option<Vec<u8>> {
    let (source, protocol, rest) = match link {
        Link::Ethernet => return Some(frame.to_vec()),
        Link::Sll => {
            let h = SllView::parse(frame.get(..sll_field::SIZE)?, 0, NET).repr()?;
            (address(&h.addr, h.halen), h.protocol, &frame[sll_field::SIZE..])
        }
        Link::Sll2 => {
            let h = Sll2View::parse(frame.get(..sll2_field::SIZE)?, 0, NET).repr()?;
            (address(&h.addr, u16::from(h.halen)), h.protocol, &frame[sll2_field::SIZE..])
        }
    };
    let eth = EthRepr { dst: [0; 6], src: source, ethertype: protocol };
    let mut out = Vec::with_capacity(eth_field::SIZE + rest.len());
    out.extend_from_slice(&eth.emit(NET));
    out.extend_from_slice(rest);
    Some(out)
}

/// A cooked header's address field as a MAC address, when it holds one.
fn address(addr: &[u8; 8], len: u16) -> [u8; 6] {
    let mut mac = [0; 6];
    if len == 6 {
        mac.copy_from_slice(&addr[..6]);
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::envelope::emit_link;
    use crate::wire::Flow;

    #[test]
    fn cooked_frames_get_an_ethernet_header() {
        let flow = Flow::new(Endpoint::new([10, 0, 0, 1], 1), Endpoint::new([10, 0, 0, 2], 2));
        let eth = emit_link(Link::Ethernet, &flow, b"payload");
        for link in [Link::Sll, Link::Sll2] {
            let cooked = emit_link(link, &flow, b"payload");
            let converted = to_ethernet(link, &cooked).unwrap();
            // The dump device's MAC as the source, the IPv4 EtherType, the same IP packet after it.
            assert_eq!(&converted[6..], &eth[6..], "{link:?}");
            assert_eq!(&converted[..6], &[0; 6]);
        }
        assert_eq!(to_ethernet(Link::Ethernet, &eth).unwrap(), eth);
        assert_eq!(to_ethernet(Link::Sll, &[0; 4]), None);
    }
}
