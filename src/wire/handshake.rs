//! The TCP handshake of an SMC connection, as `smcdump-ex -m all` records it on the real NIC next to the dump
//! frames: a SYN carrying SMC's TCP option announces a connection whose dump frames will travel in a UDP flow of
//! the same addresses and ports (spec section 7).

use super::envelope::Link;
use super::net::{tcp_flags, Ipv4View, TcpView, IPPROTO_TCP, IPV4_LEN, IPV4_MF_AND_OFFSET, NET, TCP_LEN};
use super::{Endpoint, Flow};

/// SMC's TCP option: experimental (kind 254), length 6, experiment id 0xE2D4C3D9 ("SMCR" in EBCDIC), for SMC-R
/// and SMC-D alike (Linux `TCPOPT_SMC_MAGIC`).
const TCPOPT_EXP: u8 = 254;
pub const SMC_OPTION: [u8; 6] = [TCPOPT_EXP, 6, 0xE2, 0xD4, 0xC3, 0xD9];

/// A TCP SYN or SYN-ACK carrying SMC's option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcSyn {
    /// From its sender to its receiver.
    pub flow: Flow,
    /// A SYN-ACK: the sender is the server.
    pub ack: bool,
}

impl SmcSyn {
    /// The server's port: the SYN's destination, the SYN-ACK's source.
    pub fn server_port(&self) -> u16 {
        if self.ack {
            self.flow.src.port
        } else {
            self.flow.dst.port
        }
    }
}

/// The connection a TCP SYN (or SYN-ACK) with SMC's option opens; `None` for any other frame. `frame` is a whole
/// captured frame of link type Ethernet, SLL or SLL2.
pub fn smc_syn(frame: &[u8]) -> Option<SmcSyn> {
    Link::ALL.iter().find_map(|&link| smc_syn_at(frame, link))
}

/// A TCP segment of a whole captured frame (Ethernet, SLL or SLL2; IPv4, not a fragment): its flow, header, and
/// options and payload as captured (the payload cut at the IP total length).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub flow: Flow,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: &'a [u8],
    pub payload: &'a [u8],
}

impl Segment<'_> {
    /// The window scale its options announce (a SYN's), if any.
    pub fn window_scale(&self) -> Option<u8> {
        for option in TcpOptions(self.options) {
            let option = option.ok()?;
            if option[0] == TCPOPT_WSCALE && option.len() == 3 {
                return Some(option[2].min(14));
            }
        }
        None
    }

    /// How far it moves its sender's sequence number: its payload, and one for a SYN or a FIN.
    pub fn seq_len(&self) -> u32 {
        let flags = u32::from(self.flags & tcp_flags::SYN != 0) + u32::from(self.flags & tcp_flags::FIN != 0);
        (self.payload.len() as u32).wrapping_add(flags)
    }
}

/// The window scale option's kind.
const TCPOPT_WSCALE: u8 = 3;

/// The TCP segment of a whole captured frame (Ethernet, SLL or SLL2; IPv4, not a fragment); `None` for any other
/// frame.
pub fn tcp_segment_in(frame: &[u8]) -> Option<Segment<'_>> {
    Link::ALL.iter().find_map(|&link| segment(frame, link))
}

/// The TCP payload of a whole captured frame (Ethernet, SLL or SLL2; IPv4, not a fragment) and the flow it travels
/// in; `None` for any other frame. The payload is what was captured of it, cut at the IP total length.
pub fn tcp_payload(frame: &[u8]) -> Option<(Flow, &[u8])> {
    Link::ALL.iter().find_map(|&link| segment(frame, link)).map(|s| (s.flow, s.payload))
}

/// The TCP segment in `frame`, for link type `link`.
fn segment(frame: &[u8], link: Link) -> Option<Segment<'_>> {
    if !link.announces_ipv4(frame) {
        return None;
    }
    let at = link.ip();
    let ip = Ipv4View::parse(frame.get(at..at + IPV4_LEN)?, at, NET).repr()?;
    let ihl = usize::from(ip.version_ihl & 0x0F) * 4;
    if ip.version_ihl >> 4 != 4 || ihl < IPV4_LEN || ip.protocol != IPPROTO_TCP || ip.frag & IPV4_MF_AND_OFFSET != 0 {
        return None;
    }
    let tcp_at = at + ihl;
    let tcp = TcpView::parse(frame.get(tcp_at..tcp_at + TCP_LEN)?, tcp_at, NET).repr()?;
    let offset = usize::from(tcp.data_offset >> 4) * 4;
    let end = frame.len().min(at + usize::from(ip.total_len));
    Some(Segment {
        flow: Flow::new(Endpoint::new(ip.src, tcp.sport), Endpoint::new(ip.dst, tcp.dport)),
        seq: tcp.seq,
        ack: tcp.ack,
        flags: tcp.flags,
        window: tcp.window,
        options: frame.get(tcp_at + TCP_LEN..tcp_at + offset.max(TCP_LEN)).unwrap_or(&[]),
        payload: frame.get(tcp_at + offset..end).unwrap_or(&[]),
    })
}

/// The options of a TCP header, each as its bytes (kind, length, data), up to the end-of-options kind; no-ops are
/// skipped. An option whose length is impossible ends the walk with an error: the header is broken.
struct TcpOptions<'a>(&'a [u8]);

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<&'a [u8], ()>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match *self.0.first()? {
                0 => return None,
                1 => self.0 = &self.0[1..],
                _ => {
                    let len = self.0.get(1).map_or(0, |&l| usize::from(l));
                    if len < 2 || len > self.0.len() {
                        self.0 = &[];
                        return Some(Err(()));
                    }
                    let (option, rest) = self.0.split_at(len);
                    self.0 = rest;
                    return Some(Ok(option));
                }
            }
        }
    }
}

fn smc_syn_at(frame: &[u8], link: Link) -> Option<SmcSyn> {
    let s = segment(frame, link)?;
    if s.flags & tcp_flags::SYN == 0 {
        return None;
    }
    let mut found = false;
    for option in TcpOptions(s.options) {
        found |= option.ok()? == SMC_OPTION;
    }
    found.then_some(SmcSyn { flow: s.flow, ack: s.flags & tcp_flags::ACK != 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame: IPv4 10.0.0.1 -> 10.0.0.2, TCP 45678 -> 12345 with `flags` and `options`.
    fn segment(flags: u8, options: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        let tcp_len = 20 + options.len();
        f.extend_from_slice(&[0x45, 0, 0, (20 + tcp_len) as u8, 0x12, 0x34, 0x40, 0, 64, 6, 0xAB, 0xCD]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0xB2, 0x6E, 0x30, 0x39, 0, 0, 0, 1, 0, 0, 0, 0]);
        f.extend_from_slice(&[((tcp_len / 4) as u8) << 4, flags, 0xFA, 0xF0, 0, 0, 0, 0]);
        f.extend_from_slice(options);
        f
    }

    const OPTS: [u8; 12] = [2, 4, 5, 0xB4, 1, 1, 254, 6, 0xE2, 0xD4, 0xC3, 0xD9];

    #[test]
    fn a_syn_with_the_smc_option_names_its_connection() {
        let flow = Flow::new(Endpoint::new([10, 0, 0, 1], 45678), Endpoint::new([10, 0, 0, 2], 12345));
        let syn = smc_syn(&segment(0x02, &OPTS)).unwrap();
        assert_eq!((syn, syn.server_port()), (SmcSyn { flow, ack: false }, 12345));
        let synack = smc_syn(&segment(0x12, &OPTS)).unwrap();
        assert_eq!((synack, synack.server_port()), (SmcSyn { flow, ack: true }, 45678));
    }

    #[test]
    fn anything_else_is_not() {
        assert_eq!(smc_syn(&segment(0x10, &OPTS)), None, "not a SYN");
        let mut other_exid = OPTS;
        other_exid[11] = 0xD8;
        assert_eq!(smc_syn(&segment(0x02, &other_exid)), None);
        assert_eq!(smc_syn(&segment(0x02, &[2, 4, 5, 0xB4])), None, "no SMC option");
        let mut broken = OPTS;
        broken[1] = 40;
        assert_eq!(smc_syn(&segment(0x02, &broken)), None, "option longer than the header");
        let f = segment(0x02, &OPTS);
        assert_eq!(smc_syn(&f[..f.len() - 3]), None, "options cut short");
    }

    #[test]
    fn a_segment_says_its_numbers_and_window_scale() {
        let opts = [2, 4, 5, 0xB4, 1, 3, 3, 7];
        let f = segment(0x02, &opts);
        let s = tcp_segment_in(&f).unwrap();
        assert_eq!((s.seq, s.ack, s.window, s.window_scale(), s.seq_len()), (1, 0, 0xFAF0, Some(7), 1));
        let f = segment(0x18, &[]);
        assert_eq!(tcp_segment_in(&f).map(|s| (s.window_scale(), s.seq_len())), Some((None, 0)));
    }

    #[test]
    fn tcp_payload_is_cut_at_the_ip_length() {
        let mut f = segment(0x18, &[]);
        f.extend_from_slice(b"hello");
        f[17] += 5; // IP total length
        f.extend_from_slice(&[0; 6]); // Ethernet padding
        let (flow, payload) = tcp_payload(&f).unwrap();
        assert_eq!((flow.src.port, flow.dst.port, payload), (45678, 12345, &b"hello"[..]));
    }
}
