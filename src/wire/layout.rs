//! The inferred facts of the dump format, declared once.
//!
//! `../shared/spec/smc-dump-format.md` marks these as *inferred*: no real capture has confirmed them yet. They are
//! the order of the header's fixed fields ([`HeaderRepr`], [`header_field`]) and the defaults of the `smcdump.header_len`,
//! `smcdump.type_raw`, `smcdump.type_cdc` and `smcdump.smcd_byte_order` preferences; the parser reads the latter
//! only through a [`Layout`] value, so that a preference (or a second, legacy header layout) changes them in one
//! place.

use super::record::wire_record;

wire_record! {
    /// The dump header's fixed fields, from the start of the UDP payload. The magic's value is confirmed; its place
    /// first, and the order and width of the others, are our reading of the writer code. [inferred] Reserved bytes
    /// follow, up to the header length ([`Layout::header_len`]).
    pub struct HeaderRepr, view HeaderView, fields header_field {
        /// `CF D3 E7 A5`.
        magic / MAGIC: u32 = 0..4,
        /// Dump header version (`SMC_DUMP_VER`).
        hdr_ver / HDR_VER: u8 = 4..5,
        /// 1 = SMCv1, 2 = SMCv2.
        smc_ver / SMC_VER: u8 = 5..6,
        /// 1 = SMC-R, 2 = SMC-D.
        mode / MODE: u8 = 6..7,
        /// Raw data or CDC message (codes from [`Layout`]).
        type_code / TYPE: u8 = 7..8,
        /// Header plus payload length.
        len / LEN: u16 = 8..10,
    }
}

/// The header's byte order. [inferred]
pub const HEADER_BYTE_ORDER: ByteOrder = ByteOrder::Big;

/// Header length when nothing overrides it: magic, versions, mode, type, length, 6 reserved bytes. [inferred]
pub const DEFAULT_HEADER_LEN: usize = 16;
/// Type code of a raw data block. [inferred]
pub const DEFAULT_TYPE_RAW: u8 = 1;
/// Type code of a CDC message. [inferred]
pub const DEFAULT_TYPE_CDC: u8 = 2;

/// The fixed part of the header ([`header_field`]). Everything after it, up to the header length, is reserved. A
/// header length below this cannot be honoured.
pub const MIN_HEADER_LEN: usize = header_field::SIZE;
/// Upper bound accepted for the header length preference; far beyond any plausible layout.
pub const MAX_HEADER_LEN: usize = 64;

/// Largest buffer offset a cursor count can plausibly hold: SMC buffers (RMBs/DMBs) are at most 1 MiB in Linux.
/// Used only to guess the SMC-D byte order. [inferred]
pub const MAX_PLAUSIBLE_COUNT: u32 = 1 << 20;

/// Byte order of a multi-byte field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// How to read the SMC-D cursors, which the kernel dumps in host byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SmcdByteOrder {
    /// Pick the reading whose counts are plausible buffer offsets; little-endian when both or neither are.
    #[default]
    Auto,
    /// x86-64 and aarch64 hosts.
    Little,
    /// s390x hosts.
    Big,
}

impl SmcdByteOrder {
    /// Preference value of each choice, as stored in Wireshark's enum preference.
    pub const fn pref_value(self) -> i32 {
        match self {
            SmcdByteOrder::Auto => 0,
            SmcdByteOrder::Little => 1,
            SmcdByteOrder::Big => 2,
        }
    }

    /// The choice for a preference value; anything unknown means [`SmcdByteOrder::Auto`].
    pub const fn from_pref_value(v: i32) -> Self {
        match v {
            1 => SmcdByteOrder::Little,
            2 => SmcdByteOrder::Big,
            _ => SmcdByteOrder::Auto,
        }
    }
}

/// The layout the parser applies: every inferred fact in one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Length of the dump header, reserved bytes included.
    pub header_len: usize,
    /// `type` value of a raw data block.
    pub type_raw: u8,
    /// `type` value of a CDC message.
    pub type_cdc: u8,
    /// Byte order of the SMC-D cursors.
    pub smcd_byte_order: SmcdByteOrder,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            header_len: DEFAULT_HEADER_LEN,
            type_raw: DEFAULT_TYPE_RAW,
            type_cdc: DEFAULT_TYPE_CDC,
            smcd_byte_order: SmcdByteOrder::Auto,
        }
    }
}

impl Layout {
    /// A layout built from raw preference values, each clamped or reset to a value the parser can honour.
    /// Preferences come from the user: a header length outside `MIN_HEADER_LEN..=MAX_HEADER_LEN` falls back to
    /// the default instead of breaking every packet, and type codes are truncated to the byte they are.
    pub fn from_prefs(header_len: u32, type_raw: u32, type_cdc: u32, smcd_byte_order: i32) -> Self {
        let header_len = usize::try_from(header_len)
            .ok()
            .filter(|l| (MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(l))
            .unwrap_or(DEFAULT_HEADER_LEN);
        Layout {
            header_len,
            type_raw: u8::try_from(type_raw).unwrap_or(DEFAULT_TYPE_RAW),
            type_cdc: u8::try_from(type_cdc).unwrap_or(DEFAULT_TYPE_CDC),
            smcd_byte_order: SmcdByteOrder::from_pref_value(smcd_byte_order),
        }
    }

    /// The layout as one number, for a cache that needs no lock ([`Layout::unpack`] reads it back).
    pub fn pack(&self) -> u32 {
        let header_len = u8::try_from(self.header_len).unwrap_or(u8::MAX);
        let order = self.smcd_byte_order.pref_value() as u8;
        u32::from_le_bytes([header_len, self.type_raw, self.type_cdc, order])
    }

    /// The layout [`Layout::pack`] made `bits` of.
    pub fn unpack(bits: u32) -> Layout {
        let [header_len, type_raw, type_cdc, order] = bits.to_le_bytes();
        Layout {
            header_len: usize::from(header_len),
            type_raw,
            type_cdc,
            smcd_byte_order: SmcdByteOrder::from_pref_value(i32::from(order)),
        }
    }

    /// Number of reserved bytes at the end of the header.
    pub const fn reserved_len(&self) -> usize {
        self.header_len.saturating_sub(MIN_HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_layouts_read_back() {
        for order in [SmcdByteOrder::Auto, SmcdByteOrder::Little, SmcdByteOrder::Big] {
            for l in [
                Layout::default(),
                Layout { header_len: MAX_HEADER_LEN, type_raw: 7, type_cdc: 255, smcd_byte_order: order },
            ] {
                assert_eq!(Layout::unpack(l.pack()), l);
            }
        }
    }

    #[test]
    fn defaults_are_the_spec_inferences() {
        let l = Layout::default();
        assert_eq!((l.header_len, l.type_raw, l.type_cdc), (16, 1, 2));
        assert_eq!(l.reserved_len(), 6);
        assert_eq!(l.smcd_byte_order, SmcdByteOrder::Auto);
    }

    #[test]
    fn prefs_out_of_range_fall_back() {
        assert_eq!(Layout::from_prefs(12, 1, 2, 0).header_len, 12);
        assert_eq!(Layout::from_prefs(12, 1, 2, 0).reserved_len(), 2);
        assert_eq!(Layout::from_prefs(9, 1, 2, 0).header_len, 16);
        assert_eq!(Layout::from_prefs(65, 1, 2, 0).header_len, 16);
        assert_eq!(Layout::from_prefs(16, 300, 7, 2).type_raw, 1);
        assert_eq!(Layout::from_prefs(16, 300, 7, 2).type_cdc, 7);
        assert_eq!(Layout::from_prefs(16, 1, 2, 2).smcd_byte_order, SmcdByteOrder::Big);
        assert_eq!(Layout::from_prefs(16, 1, 2, 99).smcd_byte_order, SmcdByteOrder::Auto);
    }
}
