//! The TCP handshake of an SMC connection, as `smcdump-ex -m all` records it on the real NIC next to the dump
//! frames: a SYN carrying SMC's TCP option announces a connection whose dump frames will travel in a UDP flow of
//! the same addresses and ports (spec section 7).

use super::envelope::{ip_field, Flow, Link};
use super::FieldRange;

/// Where the fields of a TCP header lie.
pub mod tcp_field {
    use crate::wire::FieldRange;

    pub const SPORT: FieldRange = 0..2;
    pub const DPORT: FieldRange = 2..4;
    /// Data offset (high nibble, in 32-bit words).
    pub const DATA_OFFSET: FieldRange = 12..13;
    pub const FLAGS: FieldRange = 13..14;
    /// Options run from here to the data offset.
    pub const OPTIONS: usize = 20;
}

const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;
const IPPROTO_TCP: u8 = 6;
/// The IPv4 header's flags and fragment offset, less the DF bit: non-zero for a fragment.
const IP_MF_AND_OFFSET: u16 = 0x3FFF;
/// SMC's TCP option: experimental (kind 254), length 6, experiment id 0xE2D4C3D9 ("SMCR" in EBCDIC), for SMC-R
/// and SMC-D alike (Linux `TCPOPT_SMC_MAGIC`).
const TCPOPT_EXP: u8 = 254;
const SMC_OPTION: [u8; 6] = [TCPOPT_EXP, 6, 0xE2, 0xD4, 0xC3, 0xD9];

fn at(base: usize, r: &FieldRange) -> core::ops::Range<usize> {
    base + r.start..base + r.end
}

fn be16(b: &[u8], r: core::ops::Range<usize>) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(r)?.try_into().ok()?))
}

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
            self.flow.sport
        } else {
            self.flow.dport
        }
    }
}

/// The connection a TCP SYN (or SYN-ACK) with SMC's option opens; `None` for any other frame. `frame` is a whole
/// captured frame of link type Ethernet, SLL or SLL2.
pub fn smc_syn(frame: &[u8]) -> Option<SmcSyn> {
    Link::ALL.iter().find_map(|&link| smc_syn_at(frame, link))
}

/// The TCP payload of a whole captured frame (Ethernet, SLL or SLL2; IPv4, not a fragment) and the flow it travels
/// in; `None` for any other frame. The payload is what was captured of it, cut at the IP total length.
pub fn tcp_payload(frame: &[u8]) -> Option<(Flow, &[u8])> {
    Link::ALL.iter().find_map(|&link| {
        let (ip, tcp) = tcp_at(frame, link)?;
        let offset = usize::from(frame.get(at(tcp, &tcp_field::DATA_OFFSET))?[0] >> 4) * 4;
        let total = usize::from(be16(frame, ip + 2..ip + 4)?);
        let end = frame.len().min(ip + total);
        let payload = frame.get(tcp + offset..end).unwrap_or(&[]);
        Some((flow_of(frame, ip, tcp)?, payload))
    })
}

/// Where the IPv4 and TCP headers of `frame` start, for link type `link`.
fn tcp_at(frame: &[u8], link: Link) -> Option<(usize, usize)> {
    if !link.announces_ipv4(frame) {
        return None;
    }
    let ip = link.ip();
    let version_ihl = *frame.get(ip)?;
    let ihl = usize::from(version_ihl & 0x0F) * 4;
    if version_ihl >> 4 != 4
        || ihl < ip_field::LEN
        || frame.get(at(ip, &ip_field::PROTOCOL))? != [IPPROTO_TCP]
        || be16(frame, ip + ip_field::ID_FRAG.start + 2..ip + ip_field::ID_FRAG.end)? & IP_MF_AND_OFFSET != 0
    {
        return None;
    }
    Some((ip, ip + ihl))
}

fn flow_of(frame: &[u8], ip: usize, tcp: usize) -> Option<Flow> {
    Some(Flow {
        src: frame.get(at(ip, &ip_field::SRC))?.try_into().ok()?,
        dst: frame.get(at(ip, &ip_field::DST))?.try_into().ok()?,
        sport: be16(frame, at(tcp, &tcp_field::SPORT))?,
        dport: be16(frame, at(tcp, &tcp_field::DPORT))?,
    })
}

fn smc_syn_at(frame: &[u8], link: Link) -> Option<SmcSyn> {
    let (ip, tcp) = tcp_at(frame, link)?;
    let offset = usize::from(frame.get(at(tcp, &tcp_field::DATA_OFFSET))?[0] >> 4) * 4;
    let flags = frame.get(at(tcp, &tcp_field::FLAGS))?[0];
    if flags & TCP_SYN == 0 || offset < tcp_field::OPTIONS {
        return None;
    }
    let mut options = frame.get(tcp + tcp_field::OPTIONS..tcp + offset)?;
    let mut found = false;
    while let Some(&kind) = options.first() {
        match kind {
            0 => break,
            1 => options = &options[1..],
            _ => {
                let len = usize::from(*options.get(1)?);
                if len < 2 || len > options.len() {
                    return None;
                }
                found |= options[..len] == SMC_OPTION;
                options = &options[len..];
            }
        }
    }
    if !found {
        return None;
    }
    Some(SmcSyn { flow: flow_of(frame, ip, tcp)?, ack: flags & TCP_ACK != 0 })
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
        let flow = Flow { src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 45678, dport: 12345 };
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
    fn tcp_payload_is_cut_at_the_ip_length() {
        let mut f = segment(0x18, &[]);
        f.extend_from_slice(b"hello");
        f[17] += 5; // IP total length
        f.extend_from_slice(&[0; 6]); // Ethernet padding
        let (flow, payload) = tcp_payload(&f).unwrap();
        assert_eq!((flow.sport, flow.dport, payload), (45678, 12345, &b"hello"[..]));
    }
}
