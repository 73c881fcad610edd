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
use super::{put, FieldRange, Layout};

/// Where the fields of an Ethernet II header lie.
pub mod eth_field {
    use crate::wire::FieldRange;

    pub const DST: FieldRange = 0..6;
    pub const SRC: FieldRange = 6..12;
    pub const ETHERTYPE: FieldRange = 12..14;
    /// Header length.
    pub const LEN: usize = ETHERTYPE.end;
}

/// Where the fields of an IPv4 header without options lie.
pub mod ip_field {
    use crate::wire::FieldRange;

    /// Version 4 and header length 5 words: 0x45.
    pub const VERSION_IHL: FieldRange = 0..1;
    pub const TOS: FieldRange = 1..2;
    pub const TOTAL_LEN: FieldRange = 2..4;
    /// Identification, flags and fragment offset.
    pub const ID_FRAG: FieldRange = 4..8;
    pub const TTL: FieldRange = 8..9;
    pub const PROTOCOL: FieldRange = 9..10;
    pub const CHECKSUM: FieldRange = 10..12;
    pub const SRC: FieldRange = 12..16;
    pub const DST: FieldRange = 16..20;
    /// Header length.
    pub const LEN: usize = DST.end;
}

/// Where the fields of a UDP header lie.
pub mod udp_field {
    use crate::wire::FieldRange;

    pub const SPORT: FieldRange = 0..2;
    pub const DPORT: FieldRange = 2..4;
    /// Header plus payload.
    pub const LEN: FieldRange = 4..6;
    pub const CHECKSUM: FieldRange = 6..8;
    /// Header length.
    pub const LEN_HEADER: usize = CHECKSUM.end;
}

/// Where the fields of a Linux cooked-capture header (SLL, linktype 113) lie.
pub mod sll_field {
    use crate::wire::FieldRange;

    /// 4: sent by this host (the dump device transmits).
    pub const PKTTYPE: FieldRange = 0..2;
    /// ARPHRD_* type of the device: 1 (Ethernet) for the dummy device.
    pub const HATYPE: FieldRange = 2..4;
    pub const HALEN: FieldRange = 4..6;
    /// The link-layer address, zero-padded to 8 bytes.
    pub const ADDR: FieldRange = 6..14;
    /// EtherType of the payload.
    pub const PROTOCOL: FieldRange = 14..16;
    /// Header length.
    pub const LEN: usize = PROTOCOL.end;
}

/// Where the fields of a Linux cooked-capture v2 header (SLL2, linktype 276) lie.
pub mod sll2_field {
    use crate::wire::FieldRange;

    /// EtherType of the payload.
    pub const PROTOCOL: FieldRange = 0..2;
    pub const RESERVED: FieldRange = 2..4;
    pub const IFINDEX: FieldRange = 4..8;
    pub const HATYPE: FieldRange = 8..10;
    pub const PKTTYPE: FieldRange = 10..11;
    pub const HALEN: FieldRange = 11..12;
    pub const ADDR: FieldRange = 12..20;
    /// Header length.
    pub const LEN: usize = ADDR.end;
}

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
            Link::Ethernet => eth_field::LEN,
            Link::Sll => sll_field::LEN,
            Link::Sll2 => sll2_field::LEN,
        }
    }

    /// Whether `frame` has this link layer's header, announcing IPv4.
    pub fn announces_ipv4(self, frame: &[u8]) -> bool {
        let ethertype = match self {
            Link::Ethernet => eth_field::ETHERTYPE,
            Link::Sll => sll_field::PROTOCOL,
            Link::Sll2 => sll2_field::PROTOCOL,
        };
        frame.get(ethertype) == Some(&ETHERTYPE_IPV4[..])
    }

    /// Whether `frame` has the header the dump device's frames get: announcing IPv4 and, on Ethernet, the same
    /// MAC address on both sides.
    fn carries_dump_ipv4(self, frame: &[u8]) -> bool {
        self.announces_ipv4(frame) && (self != Link::Ethernet || frame.get(eth_field::DST) == frame.get(eth_field::SRC))
    }

    /// The link-layer header the dump device's frames get in a capture of this link type (what
    /// [`emit_link`] writes before the IPv4 header).
    fn header(self) -> Vec<u8> {
        let mut h = vec![0u8; self.ip()];
        match self {
            Link::Ethernet => {
                put(&mut h, &eth_field::DST, &DUMMY_MAC);
                put(&mut h, &eth_field::SRC, &DUMMY_MAC);
                put(&mut h, &eth_field::ETHERTYPE, &ETHERTYPE_IPV4);
            }
            Link::Sll => {
                put(&mut h, &sll_field::PKTTYPE, &PACKET_OUTGOING.to_be_bytes());
                put(&mut h, &sll_field::HATYPE, &ARPHRD_ETHER.to_be_bytes());
                put(&mut h, &sll_field::HALEN, &6u16.to_be_bytes());
                put(&mut h, &sll_field::ADDR, &[&DUMMY_MAC[..], &[0, 0]].concat());
                put(&mut h, &sll_field::PROTOCOL, &ETHERTYPE_IPV4);
            }
            Link::Sll2 => {
                put(&mut h, &sll2_field::PROTOCOL, &ETHERTYPE_IPV4);
                put(&mut h, &sll2_field::IFINDEX, &DUMMY_IFINDEX.to_be_bytes());
                put(&mut h, &sll2_field::HATYPE, &ARPHRD_ETHER.to_be_bytes());
                put(&mut h, &sll2_field::PKTTYPE, &[PACKET_OUTGOING as u8]);
                put(&mut h, &sll2_field::HALEN, &[6]);
                put(&mut h, &sll2_field::ADDR, &[&DUMMY_MAC[..], &[0, 0]].concat());
            }
        }
        h
    }
}

/// Cooked-capture facts of the dump device's frames: sent by this host, an Ethernet-type device, and the
/// interface index our test captures give it.
const PACKET_OUTGOING: u16 = 4;
const ARPHRD_ETHER: u16 = 1;
const DUMMY_IFINDEX: u32 = 7;

/// Offset of the IPv4 header in an Ethernet frame of the dump device.
pub const ETH_IP: usize = eth_field::LEN;
/// Offset of the UDP header in an Ethernet frame of the dump device.
pub const ETH_UDP: usize = ETH_IP + ip_field::LEN;
/// Offset of the UDP payload (the dump header) in an Ethernet frame of the dump device.
pub const ETH_PAYLOAD: usize = ETH_UDP + udp_field::LEN_HEADER;

/// The values the dump device writes into every IPv4 header: version/IHL, ID and fragment field, TTL, protocol,
/// checksum. (Spec section 2: ID 0, no DF, TTL 64, UDP, header checksum left 0.)
const IP_VERSION_IHL: u8 = 0x45;
const IP_ID_FRAG: [u8; 4] = [0; 4];
const IP_TTL: u8 = 64;
const IP_PROTO_UDP: u8 = 17;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

/// `r`, a range of a header that starts at `base`.
fn at(base: usize, r: &FieldRange) -> Range<usize> {
    base + r.start..base + r.end
}

/// The UDP flow a dump frame travels in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
}

/// The MAC address the dump device puts on both sides of its frames (any one value does; this is ours).
pub const DUMMY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// Writes the dump device's Ethernet envelope around `udp_payload`: the inverse of [`dump_flow`], used to build
/// test captures.
pub fn emit(flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    emit_link(Link::Ethernet, flow, udp_payload)
}

/// Writes the dump device's envelope around `udp_payload` as a capture of link type `link` holds it: the inverse
/// of [`find_dump`]. Payloads too long for the 16-bit length fields get saturated lengths (test captures never need
/// them).
pub fn emit_link(link: Link, flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    let (ip, udp) = (link.ip(), link.ip() + ip_field::LEN);
    let udp_len = u16::try_from(udp_field::LEN_HEADER + udp_payload.len()).unwrap_or(u16::MAX);
    let ip_len = udp_len.saturating_add(ip_field::LEN as u16);
    let mut f = link.header();
    f.resize(udp + udp_field::LEN_HEADER, 0);
    put(&mut f, &at(ip, &ip_field::VERSION_IHL), &[IP_VERSION_IHL]);
    put(&mut f, &at(ip, &ip_field::TOTAL_LEN), &ip_len.to_be_bytes());
    put(&mut f, &at(ip, &ip_field::ID_FRAG), &IP_ID_FRAG);
    put(&mut f, &at(ip, &ip_field::TTL), &[IP_TTL]);
    put(&mut f, &at(ip, &ip_field::PROTOCOL), &[IP_PROTO_UDP]);
    // The checksums stay 0, as the kernel leaves them.
    put(&mut f, &at(ip, &ip_field::SRC), &flow.src);
    put(&mut f, &at(ip, &ip_field::DST), &flow.dst);
    put(&mut f, &at(udp, &udp_field::SPORT), &flow.sport.to_be_bytes());
    put(&mut f, &at(udp, &udp_field::DPORT), &flow.dport.to_be_bytes());
    put(&mut f, &at(udp, &udp_field::LEN), &udp_len.to_be_bytes());
    f.extend_from_slice(udp_payload);
    f
}

fn be16(frame: &[u8], r: Range<usize>) -> Option<u16> {
    Some(u16::from_be_bytes(frame.get(r)?.try_into().ok()?))
}

fn ipv4(frame: &[u8], r: Range<usize>) -> Option<[u8; 4]> {
    frame.get(r)?.try_into().ok()
}

/// The UDP length field of the dump frame in `frame`, an Ethernet frame [`dump_flow`] took.
pub fn udp_len(frame: &[u8]) -> Option<usize> {
    be16(frame, at(ETH_UDP, &udp_field::LEN)).map(usize::from)
}

/// A dump frame found in a captured frame: its flow and where its UDP payload (the dump header) lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDump {
    pub link: Link,
    pub flow: Flow,
    /// The captured bytes of the UDP payload, as a range of the frame.
    pub payload: Range<usize>,
    /// The UDP payload's length on the wire.
    pub payload_len: usize,
}

/// The dump frame in `frame` (captured bytes of a frame `reported` bytes long on the wire) if it has `link`'s
/// header and the dump device's IPv4/UDP envelope around a payload that starts with the magic; `None` for
/// anything else. Whether the dump header is consistent is [`claims`]' to say, under a layout.
fn envelope_at(link: Link, frame: &[u8], reported: usize) -> Option<FoundDump> {
    let (ip_at, udp_at) = (link.ip(), link.ip() + ip_field::LEN);
    let payload_at = udp_at + udp_field::LEN_HEADER;
    let ip = |r: &FieldRange| frame.get(at(ip_at, r));
    let udp = |r: &FieldRange| frame.get(at(udp_at, r));
    // Cheapest checks first: this runs on every frame of a capture.
    if frame.len() < payload_at + MAGIC.len()
        || !link.carries_dump_ipv4(frame)
        || ip(&ip_field::VERSION_IHL)? != [IP_VERSION_IHL]
        || ip(&ip_field::ID_FRAG)? != IP_ID_FRAG
        || ip(&ip_field::TTL)? != [IP_TTL]
        || ip(&ip_field::PROTOCOL)? != [IP_PROTO_UDP]
        || ip(&ip_field::CHECKSUM)? != [0, 0]
        || udp(&udp_field::CHECKSUM)? != [0, 0]
        || frame.get(payload_at..payload_at + MAGIC.len())? != MAGIC
    {
        return None;
    }
    let ip_len = usize::from(be16(frame, at(ip_at, &ip_field::TOTAL_LEN))?);
    let udp_len = usize::from(be16(frame, at(udp_at, &udp_field::LEN))?);
    // A link layer may pad a short frame, so the IP datagram may end before the frame; never after it.
    if ip_len != udp_len + ip_field::LEN || udp_len < udp_field::LEN_HEADER || ip_at + ip_len > reported {
        return None;
    }
    let payload_len = udp_len - udp_field::LEN_HEADER;
    let end = frame.len().min(payload_at + payload_len);
    Some(FoundDump {
        link,
        flow: Flow {
            src: ipv4(frame, at(ip_at, &ip_field::SRC))?,
            dst: ipv4(frame, at(ip_at, &ip_field::DST))?,
            sport: be16(frame, at(udp_at, &udp_field::SPORT))?,
            dport: be16(frame, at(udp_at, &udp_field::DPORT))?,
        },
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

    #[test]
    fn emit_writes_what_dump_flow_reads() {
        let f = frame();
        let flow = Flow { src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 53, dport: 40000 };
        assert_eq!(emit(&flow, &f[ETH_PAYLOAD..]), f);
    }

    #[test]
    fn recognises_the_dump_envelope() {
        let f = frame();
        let flow = dump_flow(&f, f.len(), &Layout::default());
        assert_eq!(flow, Some(Flow { src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 53, dport: 40000 }));
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
