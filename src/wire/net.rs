//! The link, network and transport headers smcdump reads and writes around SMC: Ethernet II, Linux cooked capture
//! (SLL, SLL2), IPv4 without options, UDP and TCP, each declared once ([`wire_record!`]), and the Internet
//! checksum. All fields are big-endian (network order).

use super::record::wire_record;
use super::ByteOrder;

/// Network byte order, every field of these headers.
pub const NET: ByteOrder = ByteOrder::Big;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
/// Version 4, header length 5 words: an IPv4 header without options.
pub const IPV4_VERSION_IHL: u8 = 0x45;
/// The more-fragments flag and the fragment offset of [`Ipv4Repr::frag`].
pub const IPV4_MF_AND_OFFSET: u16 = 0x3FFF;
/// Cooked-capture packet types (`PACKET_*`) and the hardware type of an Ethernet-like device.
pub const PACKET_HOST: u16 = 0;
pub const PACKET_OUTGOING: u16 = 4;
pub const ARPHRD_ETHER: u16 = 1;

wire_record! {
    /// An Ethernet II header.
    pub struct EthRepr, view EthView, fields eth_field {
        dst / DST: [u8; 6] = 0..6,
        src / SRC: [u8; 6] = 6..12,
        ethertype / ETHERTYPE: u16 = 12..14,
    }
}

wire_record! {
    /// A Linux cooked-capture header (SLL, linktype 113), as `tcpdump -i any` writes it with older libpcap.
    pub struct SllRepr, view SllView, fields sll_field {
        /// `PACKET_OUTGOING` (4) for what this host sent.
        pkttype / PKTTYPE: u16 = 0..2,
        /// ARPHRD_* type of the device.
        hatype / HATYPE: u16 = 2..4,
        halen / HALEN: u16 = 4..6,
        /// The link-layer address, zero-padded to 8 bytes.
        addr / ADDR: [u8; 8] = 6..14,
        /// EtherType of the payload.
        protocol / PROTOCOL: u16 = 14..16,
    }
}

wire_record! {
    /// A Linux cooked-capture v2 header (SLL2, linktype 276), as `tcpdump -i any` writes it with libpcap 1.10+.
    pub struct Sll2Repr, view Sll2View, fields sll2_field {
        /// EtherType of the payload.
        protocol / PROTOCOL: u16 = 0..2,
        reserved / RESERVED: u16 = 2..4,
        ifindex / IFINDEX: u32 = 4..8,
        hatype / HATYPE: u16 = 8..10,
        pkttype / PKTTYPE: u8 = 10..11,
        halen / HALEN: u8 = 11..12,
        addr / ADDR: [u8; 8] = 12..20,
    }
}

wire_record! {
    /// An IPv4 header without options.
    pub struct Ipv4Repr, view Ipv4View, fields ip_field {
        /// Version and header length in words: 0x45.
        version_ihl / VERSION_IHL: u8 = 0..1,
        tos / TOS: u8 = 1..2,
        total_len / TOTAL_LEN: u16 = 2..4,
        id / ID: u16 = 4..6,
        /// Flags (DF 0x4000, MF 0x2000) and fragment offset.
        frag / FRAG: u16 = 6..8,
        ttl / TTL: u8 = 8..9,
        protocol / PROTOCOL: u8 = 9..10,
        checksum / CHECKSUM: u16 = 10..12,
        src / SRC: [u8; 4] = 12..16,
        dst / DST: [u8; 4] = 16..20,
    }
}

wire_record! {
    /// A UDP header.
    pub struct UdpRepr, view UdpView, fields udp_field {
        sport / SPORT: u16 = 0..2,
        dport / DPORT: u16 = 2..4,
        /// Header plus payload.
        len / LEN: u16 = 4..6,
        checksum / CHECKSUM: u16 = 6..8,
    }
}

wire_record! {
    /// A TCP header without options (options follow it when `data_offset` says so).
    pub struct TcpRepr, view TcpView, fields tcp_field {
        sport / SPORT: u16 = 0..2,
        dport / DPORT: u16 = 2..4,
        seq / SEQ: u32 = 4..8,
        ack / ACK: u32 = 8..12,
        /// Header length in words, in the high nibble.
        data_offset / DATA_OFFSET: u8 = 12..13,
        flags / FLAGS: u8 = 13..14,
        window / WINDOW: u16 = 14..16,
        checksum / CHECKSUM: u16 = 16..18,
        urgent / URGENT: u16 = 18..20,
    }
}

/// TCP flags.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// Header lengths.
pub const ETH_LEN: usize = eth_field::SIZE;
pub const IPV4_LEN: usize = ip_field::SIZE;
pub const UDP_LEN: usize = udp_field::SIZE;
pub const TCP_LEN: usize = tcp_field::SIZE;

/// The 16-bit one's complement sum of `data` added to `acc`, not yet folded.
pub fn ones_sum(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

/// The Internet checksum of a sum [`ones_sum`] made: folded and complemented.
pub fn checksum(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

/// The don't-fragment flag of [`Ipv4Repr::frag`].
pub const IPV4_DF: u16 = 0x4000;

impl Ipv4Repr {
    /// The header a Linux host sends a datagram of protocol `protocol` with: no options, DF set, TTL 64; ID,
    /// length and checksum are the datagram's ([`ipv4_datagram`]).
    pub fn new(src: [u8; 4], dst: [u8; 4], protocol: u8) -> Self {
        Ipv4Repr { version_ihl: IPV4_VERSION_IHL, frag: IPV4_DF, ttl: 64, protocol, src, dst, ..Ipv4Repr::default() }
    }
}

/// An IPv4 datagram: `header` with its total length set to the datagram's (saturating) and, with `with_checksum`,
/// its header checksum computed (else as given), then `payload`.
pub fn ipv4_datagram(header: &Ipv4Repr, payload: &[u8], with_checksum: bool) -> Vec<u8> {
    let total_len = u16::try_from(IPV4_LEN + payload.len()).unwrap_or(u16::MAX);
    let repr = Ipv4Repr { total_len, checksum: if with_checksum { 0 } else { header.checksum }, ..*header };
    let mut out = Vec::with_capacity(IPV4_LEN + payload.len());
    out.extend_from_slice(&super::WireRepr::emit(&repr, NET));
    if with_checksum {
        let sum = checksum(ones_sum(&out, 0));
        out[ip_field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// A TCP segment: `header` (its checksum ignored) with `options` (a multiple of 4 bytes) and `payload`, from `src`
/// to `dst`, its data offset and checksum computed.
pub fn tcp_segment(src: [u8; 4], dst: [u8; 4], header: &TcpRepr, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let header_len = TCP_LEN + options.len();
    let repr = TcpRepr { data_offset: ((header_len / 4) as u8) << 4, checksum: 0, ..*header };
    let mut seg = vec![0u8; header_len];
    super::WireRepr::emit_into(&repr, &mut seg, NET);
    seg[TCP_LEN..].copy_from_slice(options);
    seg.extend_from_slice(payload);
    let len = u16::try_from(seg.len()).unwrap_or(u16::MAX);
    let pseudo = [&src[..], &dst[..], &[0, IPPROTO_TCP], &len.to_be_bytes()[..]].concat();
    let sum = checksum(ones_sum(&seg, ones_sum(&pseudo, 0)));
    seg[tcp_field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
    seg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireRepr;

    #[test]
    fn headers_are_as_long_as_their_fields() {
        assert_eq!((ETH_LEN, IPV4_LEN, UDP_LEN, TCP_LEN, sll_field::SIZE, sll2_field::SIZE), (14, 20, 8, 20, 16, 20));
    }

    #[test]
    fn an_ipv4_header_checks_out() {
        // The checksum of a header that holds its checksum is 0.
        let d = ipv4_datagram(&Ipv4Repr::new([10, 0, 0, 1], [10, 0, 0, 2], IPPROTO_TCP), &[0; 40], true);
        assert_eq!(checksum(ones_sum(&d[..IPV4_LEN], 0)), 0);
        let v = Ipv4View::parse(&d, 0, NET).repr().unwrap();
        assert_eq!((v.version_ihl, v.total_len, v.ttl, v.protocol, v.frag), (0x45, 60, 64, 6, 0x4000));
        let given = Ipv4Repr { checksum: 0x1234, ..v };
        assert_eq!(&ipv4_datagram(&given, &[], false)[ip_field::CHECKSUM], &[0x12, 0x34]);
    }

    #[test]
    fn a_tcp_segment_checks_out() {
        let header =
            TcpRepr { sport: 1, dport: 2, seq: 7, ack: 9, flags: tcp_flags::ACK, window: 100, ..TcpRepr::default() };
        let seg = tcp_segment([1, 2, 3, 4], [5, 6, 7, 8], &header, &[1, 1, 1, 1], b"odd");
        let pseudo = [&[1u8, 2, 3, 4][..], &[5, 6, 7, 8], &[0, 6], &(seg.len() as u16).to_be_bytes()].concat();
        assert_eq!(checksum(ones_sum(&seg, ones_sum(&pseudo, 0))), 0);
        let v = TcpView::parse(&seg, 0, NET).repr().unwrap();
        assert_eq!((v.seq, v.ack, v.data_offset >> 4, v.window), (7, 9, 6, 100));
        assert_eq!(&seg[24..], b"odd");
        // The record emits what it reads.
        assert_eq!(TcpView::parse(&v.emit(NET), 0, NET).repr(), Some(v));
    }
}
