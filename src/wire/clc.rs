//! SMC CLC messages (the handshake over TCP that sets up an SMC connection): what smcdump needs from them to relate
//! the dump frames to their connection. Wireshark's own `smc` dissector shows the messages; this parser only reads
//! the handshake's outcome: SMC-R or SMC-D, version, buffer sizes, alert tokens, a Decline's diagnosis code.
//!
//! Facts from the Linux kernel's `net/smc/smc_clc.h` (`struct smc_clc_msg_hdr`, `smcr_clc_msg_accept_confirm`,
//! `smcd_clc_msg_accept_confirm_common`, `smc_clc_msg_decline`, `SMC_CLC_DECL_*`). All values are big-endian.

/// Where the fields of a CLC message lie.
pub mod field {
    use crate::wire::FieldRange;

    pub const EYECATCHER: FieldRange = 0..4;
    pub const TYPE: usize = 4;
    pub const LENGTH: FieldRange = 5..7;
    /// Version (high nibble), SMCv2 type (bits 3-2), SMCv1 type / path (bits 1-0).
    pub const VERSION_TYPE: usize = 7;
    pub const HEADER_LEN: usize = 8;

    /// SMC-R Accept/Confirm (`smcr_clc_msg_accept_confirm` after the header).
    pub const R_ALERT_TOKEN: FieldRange = 46..50;
    /// RMBE size, compressed (high nibble), and QP MTU (low nibble).
    pub const R_RMBE_SIZE: usize = 50;
    /// SMC-D Accept/Confirm (`smcd_clc_msg_accept_confirm_common`): the DMB token, and the DMBE size (high nibble).
    pub const D_TOKEN: FieldRange = 16..24;
    pub const D_DMBE_SIZE: usize = 25;
    /// Decline: the sender's diagnosis code.
    pub const DECL_DIAG: FieldRange = 16..20;
}

/// The eyecatchers: "SMCR" and "SMCD" in EBCDIC.
pub const EYECATCHER_R: [u8; 4] = [0xE2, 0xD4, 0xC3, 0xD9];
pub const EYECATCHER_D: [u8; 4] = [0xE2, 0xD4, 0xC3, 0xC4];

/// Whether `payload` starts like a CLC message (the test Wireshark's `smc` heuristic makes).
pub fn starts_clc(payload: &[u8]) -> bool {
    matches!(payload.get(field::EYECATCHER), Some(e) if e == EYECATCHER_R || e == EYECATCHER_D)
}

/// SMC-R or SMC-D, as a CLC Accept or Confirm chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    SmcR,
    SmcD,
}

/// What a CLC message says that smcdump uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClcMessage {
    Proposal {
        version: u8,
    },
    /// An Accept (server) or Confirm (client): the sender's receive buffer.
    AcceptConfirm {
        confirm: bool,
        version: u8,
        path: Path,
        buffer: Buffer,
    },
    Decline {
        version: u8,
        diagnosis: Option<u32>,
    },
    Other {
        kind: u8,
        version: u8,
    },
}

/// The receive buffer an Accept or Confirm announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// The compressed size (0..15), when captured.
    pub size_code: Option<u8>,
    /// SMC-R: the RMB element's alert token, which the peer's CDCs carry.
    pub alert_token: Option<u32>,
}

impl Buffer {
    /// The buffer's size in bytes: `16384 << code` (Linux `smc_uncompress_bufsize`).
    pub fn size(&self) -> Option<u32> {
        self.size_code.map(uncompress_bufsize)
    }

    /// The data ring the peer writes into: the whole RMB element for SMC-R; for SMC-D the DMB element less the 32
    /// bytes of the CDC message at its start (upstream `smcd_new_buf_create`).
    pub fn ring_size(&self, path: Path) -> Option<u32> {
        let size = self.size()?;
        Some(match path {
            Path::SmcR => size,
            Path::SmcD => size - 32,
        })
    }
}

/// `1 << (code + 14)`; codes above 15 cannot be sent (a nibble).
pub fn uncompress_bufsize(code: u8) -> u32 {
    16384u32 << (code & 0x0F).min(17)
}

/// Message types (`SMC_CLC_PROPOSAL` ...).
pub const PROPOSAL: u8 = 1;
pub const ACCEPT: u8 = 2;
pub const CONFIRM: u8 = 3;
pub const DECLINE: u8 = 4;

fn be32(b: &[u8], r: crate::wire::FieldRange) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(r)?.try_into().ok()?))
}

/// Parses the CLC message at the start of a TCP payload; `None` when it is not one (no eyecatcher, header cut).
pub fn parse(payload: &[u8]) -> Option<ClcMessage> {
    if !starts_clc(payload) || payload.len() < field::HEADER_LEN {
        return None;
    }
    let kind = payload[field::TYPE];
    let vt = payload[field::VERSION_TYPE];
    let version = vt >> 4;
    Some(match kind {
        PROPOSAL => ClcMessage::Proposal { version },
        ACCEPT | CONFIRM => {
            let path = if vt & 0x03 == 1 { Path::SmcD } else { Path::SmcR };
            let (size_at, token) = match path {
                Path::SmcR => (field::R_RMBE_SIZE, be32(payload, field::R_ALERT_TOKEN)),
                Path::SmcD => (field::D_DMBE_SIZE, None),
            };
            let buffer = Buffer { size_code: payload.get(size_at).map(|b| b >> 4), alert_token: token };
            ClcMessage::AcceptConfirm { confirm: kind == CONFIRM, version, path, buffer }
        }
        DECLINE => ClcMessage::Decline { version, diagnosis: be32(payload, field::DECL_DIAG) },
        _ => ClcMessage::Other { kind, version },
    })
}

/// The Linux names of the Decline diagnosis codes (`SMC_CLC_DECL_*`, `net/smc/smc_clc.h`), with their comments.
pub const DECLINE_REASONS: &[(u32, &str, &str)] = &[
    (0x0101_0000, "SMC_CLC_DECL_MEM", "insufficient memory resources"),
    (0x0201_0000, "SMC_CLC_DECL_TIMEOUT_CL", "timeout w4 QP confirm link"),
    (0x0202_0000, "SMC_CLC_DECL_TIMEOUT_AL", "timeout w4 QP add link"),
    (0x0300_0000, "SMC_CLC_DECL_CNFERR", "configuration error"),
    (0x0301_0000, "SMC_CLC_DECL_PEERNOSMC", "peer did not indicate SMC"),
    (0x0302_0000, "SMC_CLC_DECL_IPSEC", "IPsec usage"),
    (0x0303_0000, "SMC_CLC_DECL_NOSMCDEV", "no SMC device found (R or D)"),
    (0x0303_0001, "SMC_CLC_DECL_NOSMCDDEV", "no SMC-D device found"),
    (0x0303_0002, "SMC_CLC_DECL_NOSMCRDEV", "no SMC-R device found"),
    (0x0303_0003, "SMC_CLC_DECL_NOISM2SUPP", "hardware has no ISMv2 support"),
    (0x0303_0004, "SMC_CLC_DECL_NOV2EXT", "peer sent no clc v2 extension"),
    (0x0303_0005, "SMC_CLC_DECL_NOV2DEXT", "peer sent no clc SMC-Dv2 ext."),
    (0x0303_0006, "SMC_CLC_DECL_NOSEID", "peer sent no SEID"),
    (0x0303_0007, "SMC_CLC_DECL_NOSMCD2DEV", "no SMC-Dv2 device found"),
    (0x0303_0008, "SMC_CLC_DECL_NOUEID", "peer sent no UEID"),
    (0x0303_0009, "SMC_CLC_DECL_RELEASEERR", "release version negotiate failed"),
    (0x0303_000a, "SMC_CLC_DECL_MAXCONNERR", "max connections negotiate failed"),
    (0x0303_000b, "SMC_CLC_DECL_MAXLINKERR", "max links negotiate failed"),
    (0x0304_0000, "SMC_CLC_DECL_MODEUNSUPP", "smc modes do not match (R or D)"),
    (0x0305_0000, "SMC_CLC_DECL_RMBE_EC", "peer has eyecatcher in RMBE"),
    (0x0306_0000, "SMC_CLC_DECL_OPTUNSUPP", "fastopen sockopt not supported"),
    (0x0307_0000, "SMC_CLC_DECL_DIFFPREFIX", "IP prefix / subnet mismatch"),
    (0x0308_0000, "SMC_CLC_DECL_GETVLANERR", "err to get vlan id of ip device"),
    (0x0309_0000, "SMC_CLC_DECL_ISMVLANERR", "err to reg vlan id on ism dev"),
    (0x030a_0000, "SMC_CLC_DECL_NOACTLINK", "no active smc-r link in lgr"),
    (0x030b_0000, "SMC_CLC_DECL_NOSRVLINK", "SMC-R link from srv not found"),
    (0x030c_0000, "SMC_CLC_DECL_VERSMISMAT", "SMC version mismatch"),
    (0x030d_0000, "SMC_CLC_DECL_MAX_DMB", "SMC-D DMB limit exceeded"),
    (0x030e_0000, "SMC_CLC_DECL_NOROUTE", "SMC-Rv2 conn. no route to peer"),
    (0x030f_0000, "SMC_CLC_DECL_NOINDIRECT", "SMC-Rv2 conn. indirect mismatch"),
    (0x0400_0000, "SMC_CLC_DECL_SYNCERR", "synchronization error"),
    (0x0500_0000, "SMC_CLC_DECL_PEERDECL", "peer declined during handshake"),
    (0x0999_0000, "SMC_CLC_DECL_INTERR", "internal error"),
    (0x0999_0001, "SMC_CLC_DECL_ERR_RTOK", "rtoken handling failed"),
    (0x0999_0002, "SMC_CLC_DECL_ERR_RDYLNK", "ib ready link failed"),
    (0x0999_0003, "SMC_CLC_DECL_ERR_REGBUF", "reg rdma bufs failed"),
];

/// The Linux name of a Decline diagnosis code, if it has one.
pub fn decline_name(code: u32) -> Option<&'static str> {
    DECLINE_REASONS.iter().find(|r| r.0 == code).map(|r| r.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u8, len: u16, vt: u8, eye: [u8; 4]) -> Vec<u8> {
        let mut m = eye.to_vec();
        m.push(kind);
        m.extend_from_slice(&len.to_be_bytes());
        m.push(vt);
        m
    }

    #[test]
    fn smcr_accept() {
        let mut m = header(ACCEPT, 68, 0x10, EYECATCHER_R);
        m.resize(68, 0);
        m[46..50].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        m[50] = 0x23; // size code 2, MTU 3
        let want = Buffer { size_code: Some(2), alert_token: Some(0x0102_0304) };
        assert_eq!(
            parse(&m),
            Some(ClcMessage::AcceptConfirm { confirm: false, version: 1, path: Path::SmcR, buffer: want })
        );
        assert_eq!(want.size(), Some(65536));
        assert_eq!(want.ring_size(Path::SmcR), Some(65536));
    }

    #[test]
    fn smcd_confirm_ring_is_the_element_less_the_cdc() {
        let mut m = header(CONFIRM, 48, 0x11, EYECATCHER_D);
        m.resize(48, 0);
        m[25] = 0x10;
        let Some(ClcMessage::AcceptConfirm { confirm: true, path: Path::SmcD, buffer, .. }) = parse(&m) else {
            panic!("not an SMC-D Confirm: {:?}", parse(&m));
        };
        assert_eq!((buffer.size(), buffer.ring_size(Path::SmcD), buffer.alert_token), (Some(32768), Some(32736), None));
    }

    #[test]
    fn decline_and_names() {
        let mut m = header(DECLINE, 28, 0x10, EYECATCHER_R);
        m.resize(24, 0);
        m[16..20].copy_from_slice(&0x0303_0000u32.to_be_bytes());
        assert_eq!(parse(&m), Some(ClcMessage::Decline { version: 1, diagnosis: Some(0x0303_0000) }));
        assert_eq!(decline_name(0x0303_0000), Some("SMC_CLC_DECL_NOSMCDEV"));
        assert_eq!(decline_name(0x0307_0000), Some("SMC_CLC_DECL_DIFFPREFIX"));
        assert_eq!(decline_name(0x1234), None);
        assert_eq!(parse(&m[..17]), Some(ClcMessage::Decline { version: 1, diagnosis: None }), "cut diagnosis");
    }

    #[test]
    fn not_clc() {
        assert_eq!(parse(b"*1\r\n$4\r\nPING\r\n"), None);
        assert_eq!(parse(&EYECATCHER_R), None, "header cut");
        assert!(!starts_clc(&[0xE2, 0xD4, 0xC3]));
    }
}
