//! The fake Ethernet/IPv4/UDP envelope the kernel's dump device puts around every dump frame (spec section 2),
//! and the same IPv4/UDP under the Linux cooked-capture headers (SLL, SLL2) that `tcpdump -i any` writes instead
//! of Ethernet.
//!
//! Recognising the envelope itself, and not only the UDP payload, lets smcdump find its frames before a UDP
//! dissector that owns the application's port (53, 11211, …) takes them. The envelope is distinctive: the same
//! MAC on both sides (Ethernet), an IPv4 header with ID 0, no fragmentation flags, TTL 64 and a checksum left at
//! 0, a UDP checksum left at 0, and a dump header inside.

use core::ops::Range;

use super::header::claims;
use super::net::{
    eth_field, sll2_field, sll_field, udp_field, EthRepr, Ipv4Repr, Ipv4View, Sll2Repr, SllRepr, UdpRepr, UdpView,
    ARPHRD_ETHER, ETHERTYPE_IPV4, IPPROTO_UDP, IPV4_LEN, IPV4_VERSION_IHL, NET, PACKET_OUTGOING, UDP_LEN,
};
use super::{Endpoint, FieldRange, Flow, Layout, WireRepr};

/// A link layer the dump frames of a capture can come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The dump device itself (`smcdump-ex -m smc`): Ethernet II.
    Ethernet,
    /// `tcpdump -i any` with older libpcap: Linux cooked capture.
    Sll,
    /// `tcpdump -i any` with libpcap 1.10 and later: Linux cooked capture v2.
    Sll2,
}

impl Link {
    /// Every link layer, in the order a frame of unknown link type is tried.
    pub const ALL: [Link; 3] = [Link::Ethernet, Link::Sll, Link::Sll2];

    /// Offset of the IPv4 header.
    pub const fn ip(self) -> usize {
        match self {
            Link::Ethernet => eth_field::SIZE,
            Link::Sll => sll_field::SIZE,
            Link::Sll2 => sll2_field::SIZE,
        }
    }

    /// Where the EtherType of the payload lies.
    const fn ethertype(self) -> FieldRange {
        match self {
            Link::Ethernet => eth_field::ETHERTYPE,
            Link::Sll => sll_field::PROTOCOL,
            Link::Sll2 => sll2_field::PROTOCOL,
        }
    }

    /// Where the sender's link-layer address lies (cooked captures: zero-padded to 8 bytes).
    const fn source(self) -> FieldRange {
        match self {
            Link::Ethernet => eth_field::SRC,
            Link::Sll => sll_field::ADDR,
            Link::Sll2 => sll2_field::ADDR,
        }
    }

    /// Whether `frame` has this link layer's header, announcing IPv4.
    pub fn announces_ipv4(self, frame: &[u8]) -> bool {
        frame.get(self.ethertype()) == Some(&ETHERTYPE_IPV4.to_be_bytes()[..])
    }

    /// The sender's MAC address in `frame`, when the link layer carries one of 6 bytes.
    pub fn source_mac(self, frame: &[u8]) -> Option<[u8; 6]> {
        frame.get(self.source())?.get(..6)?.try_into().ok()
    }

    /// Whether `frame` has the header the dump device's frames get: announcing IPv4 and, on Ethernet, the same
    /// MAC address on both sides.
    fn carries_dump_ipv4(self, frame: &[u8]) -> bool {
        self.announces_ipv4(frame) && (self != Link::Ethernet || frame.get(eth_field::DST) == frame.get(eth_field::SRC))
    }

    /// The link-layer header of a frame carrying IPv4 that `side` says who sent, in a capture of this link type.
    pub fn header(self, side: &LinkSide) -> Vec<u8> {
        let mut addr = [0u8; 8];
        addr[..6].copy_from_slice(&side.mac);
        let pkttype = if side.outgoing { PACKET_OUTGOING } else { super::net::PACKET_HOST };
        match self {
            Link::Ethernet => EthRepr { dst: side.peer, src: side.mac, ethertype: ETHERTYPE_IPV4 }.emit(NET),
            Link::Sll => SllRepr { pkttype, hatype: ARPHRD_ETHER, halen: 6, addr, protocol: ETHERTYPE_IPV4 }.emit(NET),
            Link::Sll2 => Sll2Repr {
                protocol: ETHERTYPE_IPV4,
                ifindex: side.ifindex,
                hatype: ARPHRD_ETHER,
                pkttype: pkttype as u8,
                halen: 6,
                addr,
                ..Sll2Repr::default()
            }
            .emit(NET),
        }
    }
}

/// Who sent a frame, as its link-layer header says: the sender's MAC (SLL and SLL2 keep only it), the receiver's
/// (Ethernet), whether the capturing host sent it, and the capturing interface's index (SLL2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkSide {
    pub mac: [u8; 6],
    pub peer: [u8; 6],
    pub outgoing: bool,
    pub ifindex: u32,
}

impl LinkSide {
    /// The dump device with MAC `mac`: it transmits its frames to itself.
    pub const fn dump_device(mac: [u8; 6]) -> Self {
        LinkSide { mac, peer: mac, outgoing: true, ifindex: DUMMY_IFINDEX }
    }
}

/// The interface index our test captures give the dump device in SLL2 headers.
const DUMMY_IFINDEX: u32 = 7;

/// Offset of the IPv4 header in an Ethernet frame of the dump device.
pub const ETH_IP: usize = eth_field::SIZE;
/// Offset of the UDP header in an Ethernet frame of the dump device.
pub const ETH_UDP: usize = ETH_IP + IPV4_LEN;
/// Offset of the UDP payload (the dump header) in an Ethernet frame of the dump device.
pub const ETH_PAYLOAD: usize = ETH_UDP + UDP_LEN;

/// What the dump device writes into every IPv4 header (spec section 2: ID 0, no DF, TTL 64, UDP, header checksum
/// left 0); the UDP checksum is left 0 too.
const IP_TTL: u8 = 64;

/// The `range` of a header that starts at `base`.
fn at(base: usize, r: &FieldRange) -> Range<usize> {
    base + r.start..base + r.end
}

/// The MAC address the dump device puts on both sides of its frames (any one value does; this is ours).
pub const DUMMY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// Writes the dump device's Ethernet envelope around `udp_payload`: the inverse of [`dump_flow`], used to build
/// test captures.
pub fn emit(flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    emit_link(Link::Ethernet, flow, udp_payload)
}

/// Writes the envelope of the dump device with MAC [`DUMMY_MAC`] around `udp_payload` as a capture of link type
/// `link` holds it: the inverse of [`find_dump`].
pub fn emit_link(link: Link, flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    emit_device(link, DUMMY_MAC, flow, udp_payload)
}

/// Writes the envelope of the dump device with MAC `mac` around `udp_payload`, in a capture of link type `link`.
/// Payloads too long for the 16-bit length fields get saturated lengths (test captures never need them).
pub fn emit_device(link: Link, mac: [u8; 6], flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    let udp_len = u16::try_from(UDP_LEN + udp_payload.len()).unwrap_or(u16::MAX);
    let ip = Ipv4Repr {
        version_ihl: IPV4_VERSION_IHL,
        total_len: udp_len.saturating_add(IPV4_LEN as u16),
        ttl: IP_TTL,
        protocol: IPPROTO_UDP,
        src: flow.src.addr,
        dst: flow.dst.addr,
        // ID, fragment field and checksum stay 0, as the kernel leaves them.
        ..Ipv4Repr::default()
    };
    let udp = UdpRepr { sport: flow.src.port, dport: flow.dst.port, len: udp_len, checksum: 0 };
    let mut f = link.header(&LinkSide::dump_device(mac));
    f.extend_from_slice(&ip.emit(NET));
    f.extend_from_slice(&udp.emit(NET));
    f.extend_from_slice(udp_payload);
    f
}

/// A dump frame found in a captured frame: its flow, the dump device's MAC, and where its UDP payload (the dump
/// header) lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDump {
    pub link: Link,
    pub flow: Flow,
    /// The dump device's MAC address (both MAC fields of a dump frame are the capturing device's).
    pub device: Option<[u8; 6]>,
    /// The captured bytes of the UDP payload, as a range of the frame.
    pub payload: Range<usize>,
    /// The UDP payload's length on the wire.
    pub payload_len: usize,
}

/// The dump frame in `frame` (captured bytes of a frame `reported` bytes long on the wire) if it has `link`'s
/// header and the dump device's IPv4/UDP envelope around a payload that starts with the magic; `None` for
/// anything else. Whether the dump header is consistent is [`claims`]' to say, under a layout.
fn envelope_at(link: Link, frame: &[u8], reported: usize) -> Option<FoundDump> {
    let (ip_at, udp_at) = (link.ip(), link.ip() + IPV4_LEN);
    let payload_at = udp_at + UDP_LEN;
    // Cheapest checks first: this runs on every frame of a capture.
    if frame.len() < payload_at + MAGIC.len()
        || frame.get(payload_at..payload_at + MAGIC.len())? != MAGIC
        || !link.carries_dump_ipv4(frame)
    {
        return None;
    }
    let ip = Ipv4View::parse(frame.get(at(ip_at, &(0..IPV4_LEN)))?, ip_at, NET).repr()?;
    let udp = UdpView::parse(frame.get(at(udp_at, &(0..UDP_LEN)))?, udp_at, NET).repr()?;
    if ip.version_ihl != IPV4_VERSION_IHL
        || ip.id != 0
        || ip.frag != 0
        || ip.ttl != IP_TTL
        || ip.protocol != IPPROTO_UDP
        || ip.checksum != 0
        || udp.checksum != 0
    {
        return None;
    }
    let (ip_len, udp_len) = (usize::from(ip.total_len), usize::from(udp.len));
    // A link layer may pad a short frame, so the IP datagram may end before the frame; never after it.
    if ip_len != udp_len + IPV4_LEN || udp_len < UDP_LEN || ip_at + ip_len > reported {
        return None;
    }
    let payload_len = udp_len - UDP_LEN;
    let end = frame.len().min(payload_at + payload_len);
    Some(FoundDump {
        link,
        flow: Flow::new(Endpoint::new(ip.src, udp.sport), Endpoint::new(ip.dst, udp.dport)),
        device: link.source_mac(frame),
        payload: payload_at..end,
        payload_len,
    })
}

/// The magic's bytes, as they start every dump header.
const MAGIC: [u8; 4] = super::MAGIC.to_be_bytes();

/// The dump frame in `frame`, of a link type not known here (a postdissector sees every frame, whatever its
/// capture's link type): the first of Ethernet, SLL and SLL2 whose header and envelope fit. A frame of another
/// link type whose bytes happen to fit too would need the dump device's IPv4 and UDP facts and the magic at the
/// right places.
pub fn find_dump(frame: &[u8], reported: usize) -> Option<FoundDump> {
    Link::ALL.iter().find_map(|&link| envelope_at(link, frame, reported))
}

/// The dump device's envelope of `frame` (captured bytes of an Ethernet frame `reported` bytes long on the wire)
/// around a payload that starts with the magic, before its header is checked; `None` for anything else.
pub fn dump_envelope(frame: &[u8], reported: usize) -> Option<FoundDump> {
    envelope_at(Link::Ethernet, frame, reported)
}

/// The flow of `frame` (captured bytes of an Ethernet frame `reported` bytes long on the wire) if it is a dump
/// frame in the dump device's envelope whose header `layout` finds consistent; `None` for anything else.
pub fn dump_flow(frame: &[u8], reported: usize, layout: &Layout) -> Option<Flow> {
    let found = dump_envelope(frame, reported)?;
    claims(frame.get(found.payload.clone())?, found.payload_len, layout).then_some(found.flow)
}

/// The UDP length field of the dump frame in `frame`, an Ethernet frame [`dump_flow`] took.
pub fn udp_len(frame: &[u8]) -> Option<usize> {
    let b = frame.get(at(ETH_UDP, &udp_field::LEN))?;
    Some(usize::from(u16::from_be_bytes(b.try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump frame written from the spec: MAC 02:00:00:00:00:01 twice, 10.0.0.1:53 -> 10.0.0.2:40000,
    /// a 16-byte header announcing 20 bytes, 4 bytes of raw data.
    fn frame() -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 48, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0, 53, 0x9c, 0x40, 0, 28, 0, 0]);
        f.extend_from_slice(&[0xCF, 0xD3, 0xE7, 0xA5, 1, 1, 1, 1, 0, 20, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(b"data");
        f
    }

    fn flow() -> Flow {
        Flow::new(Endpoint::new([10, 0, 0, 1], 53), Endpoint::new([10, 0, 0, 2], 40000))
    }

    #[test]
    fn emit_writes_what_dump_flow_reads() {
        let f = frame();
        assert_eq!(emit(&flow(), &f[ETH_PAYLOAD..]), f);
    }

    #[test]
    fn recognises_the_dump_envelope() {
        let f = frame();
        assert_eq!(dump_flow(&f, f.len(), &Layout::default()), Some(flow()));
        let found = find_dump(&f, f.len()).unwrap();
        assert_eq!((found.device, found.payload, found.payload_len), (Some(DUMMY_MAC), 42..62, 20));
    }

    #[test]
    fn cooked_captures_carry_the_device_mac_too() {
        let mac = [2, 0, 0, 0, 0, 9];
        for link in [Link::Sll, Link::Sll2] {
            let f = emit_device(link, mac, &flow(), &frame()[ETH_PAYLOAD..]);
            let found = find_dump(&f, f.len()).unwrap();
            assert_eq!((found.link, found.flow, found.device), (link, flow(), Some(mac)));
        }
    }

    #[test]
    fn ethernet_padding_is_fine_and_truncation_of_the_payload_too() {
        let mut f = frame();
        f.extend_from_slice(&[0; 6]);
        assert!(dump_flow(&f, f.len(), &Layout::default()).is_some());
        let f = frame();
        assert!(dump_flow(&f[..42 + 16], f.len(), &Layout::default()).is_some());
        assert!(dump_flow(&f[..42 + 15], f.len(), &Layout::default()).is_none());
    }

    #[test]
    fn anything_else_is_refused() {
        let l = Layout::default();
        // Each mutation breaks one envelope fact.
        for (i, v) in
            [(0, 3), (13, 0xDD), (14, 0x46), (19, 1), (20, 0x40), (22, 63), (23, 6), (24, 0x12), (41, 1), (45, 0xA4)]
        {
            let mut f = frame();
            f[i] = v;
            assert_eq!(dump_flow(&f, f.len(), &l), None, "byte {i} = {v:#x}");
        }
        let f = frame();
        assert_eq!(dump_flow(&f, f.len() - 1, &l), None, "IP datagram longer than the frame");
    }
}
