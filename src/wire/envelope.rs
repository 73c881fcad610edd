//! The fake Ethernet/IPv4/UDP envelope the kernel's dump device puts around every dump frame (spec section 2).
//!
//! Recognising the envelope itself, and not only the UDP payload, lets smcdump find its frames before a UDP
//! dissector that owns the application's port (53, 11211, …) takes them: the Ethernet layer hands every frame to
//! its heuristics first. The envelope is distinctive: the same MAC on both sides, an IPv4 header with ID 0, no
//! fragmentation flags, TTL 64 and a checksum left at 0, a UDP checksum left at 0, and a dump header inside.

use super::header::claims;
use super::Layout;

/// Byte offsets inside an Ethernet frame carrying an option-less IPv4 header.
mod field {
    pub const ETH_DST: core::ops::Range<usize> = 0..6;
    pub const ETH_SRC: core::ops::Range<usize> = 6..12;
    pub const ETHERTYPE: core::ops::Range<usize> = 12..14;
    pub const IP: usize = 14;
    pub const IP_TOTAL_LEN: core::ops::Range<usize> = 16..18;
    pub const IP_ID_FRAG: core::ops::Range<usize> = 18..22;
    pub const IP_TTL_PROTO: core::ops::Range<usize> = 22..24;
    pub const IP_CHECKSUM: core::ops::Range<usize> = 24..26;
    pub const IP_SRC: core::ops::Range<usize> = 26..30;
    pub const IP_DST: core::ops::Range<usize> = 30..34;
    pub const UDP_SPORT: core::ops::Range<usize> = 34..36;
    pub const UDP_DPORT: core::ops::Range<usize> = 36..38;
    pub const UDP_LEN: core::ops::Range<usize> = 38..40;
    pub const UDP_CHECKSUM: core::ops::Range<usize> = 40..42;
    pub const PAYLOAD: usize = 42;
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

/// Writes the dump device's envelope around `udp_payload`: the inverse of [`dump_flow`], used to build test
/// captures. Payloads too long for the 16-bit length fields get saturated lengths (test captures never need them).
pub fn emit(flow: &Flow, udp_payload: &[u8]) -> Vec<u8> {
    let udp_len = u16::try_from(8 + udp_payload.len()).unwrap_or(u16::MAX);
    let ip_len = udp_len.saturating_add(20);
    let mut f = Vec::with_capacity(field::PAYLOAD + udp_payload.len());
    f.extend_from_slice(&DUMMY_MAC);
    f.extend_from_slice(&DUMMY_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    // Version 4, IHL 5, TOS 0; ID 0, no flags; TTL 64, UDP; checksum left 0, as the kernel leaves it.
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&flow.src);
    f.extend_from_slice(&flow.dst);
    f.extend_from_slice(&flow.sport.to_be_bytes());
    f.extend_from_slice(&flow.dport.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(udp_payload);
    f
}

fn be16(frame: &[u8], r: core::ops::Range<usize>) -> Option<u16> {
    match frame.get(r)? {
        &[hi, lo] => Some(u16::from_be_bytes([hi, lo])),
        _ => None,
    }
}

fn ipv4(frame: &[u8], r: core::ops::Range<usize>) -> Option<[u8; 4]> {
    frame.get(r)?.try_into().ok()
}

/// The flow of `frame` (captured bytes of an Ethernet frame `reported` bytes long on the wire) if it is a dump
/// frame in the dump device's envelope; `None` for anything else. Cheapest checks first: this runs on every
/// Ethernet frame of a capture.
pub fn dump_flow(frame: &[u8], reported: usize, layout: &Layout) -> Option<Flow> {
    if frame.len() < field::PAYLOAD + layout.header_len
        || frame.get(field::ETHERTYPE)? != [0x08, 0x00]
        || frame.get(field::IP)? != &0x45
        || frame.get(field::ETH_DST)? != frame.get(field::ETH_SRC)?
        || frame.get(field::IP_ID_FRAG)? != [0, 0, 0, 0]
        || frame.get(field::IP_TTL_PROTO)? != [64, 17]
        || frame.get(field::IP_CHECKSUM)? != [0, 0]
        || frame.get(field::UDP_CHECKSUM)? != [0, 0]
    {
        return None;
    }
    let ip_len = usize::from(be16(frame, field::IP_TOTAL_LEN)?);
    let udp_len = usize::from(be16(frame, field::UDP_LEN)?);
    // Ethernet may pad a short frame, so the IP datagram may end before the frame; never after it.
    if ip_len != udp_len + 20 || udp_len < 8 || field::IP + ip_len > reported {
        return None;
    }
    let payload = frame.get(field::PAYLOAD..)?;
    let payload = payload.get(..payload.len().min(udp_len - 8))?;
    if !claims(payload, udp_len - 8, layout) {
        return None;
    }
    Some(Flow {
        src: ipv4(frame, field::IP_SRC)?,
        dst: ipv4(frame, field::IP_DST)?,
        sport: be16(frame, field::UDP_SPORT)?,
        dport: be16(frame, field::UDP_DPORT)?,
    })
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
        assert_eq!(emit(&flow, &f[42..]), f);
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
