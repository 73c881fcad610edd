//! Pure parsing of SMC dump frames: no Wireshark, no FFI, no `unsafe`.
//!
//! Data flows one way: the UDP payload bytes go in, plain values come out. Every value carries the span of
//! bytes it was read from ([`Field`]), so the tree code can add each item over exactly its bytes. Codes are open
//! enums: an unknown mode or type is a value, never a parse error.
//!
//! Each record (dump header, SMC-R CDC, SMC-D CDC, the dump device's envelope) declares the byte range of every
//! field once, in a `field` module of its own; the parser ([`Record`]), the encoder ([`emit`]) and the fuzz
//! targets all read those ranges. A field the capture does not hold is `None`, never a made-up zero.
//!
//! The facts about the format that are *inferred* rather than read in kernel source (the header's field order and
//! length, the two type codes, SMC-D byte order) are gathered in [`layout`]; nothing else in this module
//! hard-codes them.

pub mod cdc;
pub mod clc;
pub mod emit;
pub mod envelope;
pub mod frame;
pub mod handshake;
pub mod header;
pub mod layout;
pub mod learn;

pub use cdc::{Cdc, CdcVariant, ConnState, Cursor, ProdFlags, SmcdCdc, SmcrCdc};
pub use frame::{DumpFrame, Payload};
pub use header::{DumpHeader, Kind, Mode, MAGIC};
pub use layout::{ByteOrder, Layout, SmcdByteOrder};

use core::ops::Range;

/// A byte range inside the UDP payload of a dump frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte, from the start of the UDP payload.
    pub off: usize,
    /// Number of bytes.
    pub len: usize,
}

impl Span {
    /// A span of `len` bytes at `off`.
    pub const fn new(off: usize, len: usize) -> Self {
        Span { off, len }
    }

    /// One past the last byte. Saturates, so a span built from a hostile length cannot overflow.
    pub const fn end(&self) -> usize {
        self.off.saturating_add(self.len)
    }

    /// The span as a range, for slicing with `get`.
    pub fn range(&self) -> Range<usize> {
        self.off..self.end()
    }

    /// Whether the whole span lies within the first `captured` bytes.
    pub const fn within(&self, captured: usize) -> bool {
        self.end() <= captured
    }
}

/// Where a field lies inside its record: a byte range from the record's first byte.
pub type FieldRange = Range<usize>;

impl Span {
    /// The bytes of field `r` of a record that starts at `base`.
    pub const fn at(base: usize, r: &FieldRange) -> Self {
        Span::new(base.saturating_add(r.start), r.end - r.start)
    }
}

/// A value read from the wire, with the bytes it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<T> {
    pub span: Span,
    pub value: T,
}

impl<T> Field<T> {
    /// A value read from `len` bytes at `off`.
    pub const fn new(off: usize, len: usize, value: T) -> Self {
        Field { span: Span::new(off, len), value }
    }

    /// The same bytes, read as another type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        Field { span: self.span, value: f(self.value) }
    }
}

/// The bytes of one record that the capture holds, and where the record starts in the frame: reads each field
/// by its [`FieldRange`], giving `None` for a field not (wholly) captured.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> Record<'a> {
    /// A record starting at frame offset `base`, of which `bytes` were captured.
    pub const fn new(bytes: &'a [u8], base: usize) -> Self {
        Record { bytes, base }
    }

    /// The frame span of field `r`, captured or not.
    pub const fn span(&self, r: &FieldRange) -> Span {
        Span::at(self.base, r)
    }

    fn array<const N: usize>(&self, r: &FieldRange) -> Option<[u8; N]> {
        self.bytes.get(r.clone())?.try_into().ok()
    }

    /// A one-byte field.
    pub fn u8(&self, r: &FieldRange) -> Option<Field<u8>> {
        let [b] = self.array::<1>(r)?;
        Some(Field { span: self.span(r), value: b })
    }

    /// A two-byte field in `order`.
    pub fn u16(&self, r: &FieldRange, order: ByteOrder) -> Option<Field<u16>> {
        let b = self.array::<2>(r)?;
        let value = match order {
            ByteOrder::Big => u16::from_be_bytes(b),
            ByteOrder::Little => u16::from_le_bytes(b),
        };
        Some(Field { span: self.span(r), value })
    }

    /// A four-byte field in `order`.
    pub fn u32(&self, r: &FieldRange, order: ByteOrder) -> Option<Field<u32>> {
        let b = self.array::<4>(r)?;
        let value = match order {
            ByteOrder::Big => u32::from_be_bytes(b),
            ByteOrder::Little => u32::from_le_bytes(b),
        };
        Some(Field { span: self.span(r), value })
    }

    /// Whether any captured byte of field `r` is not zero.
    pub fn any_nonzero(&self, r: &FieldRange) -> bool {
        let end = r.end.min(self.bytes.len());
        self.bytes.get(r.start.min(end)..end).is_some_and(|b| b.iter().any(|&x| x != 0))
    }

    /// The captured bytes of field `r` (fewer than the field has when the capture ends inside it).
    pub fn bytes(&self, r: &FieldRange) -> &'a [u8] {
        let end = r.end.min(self.bytes.len());
        self.bytes.get(r.start.min(end)..end).unwrap_or(&[])
    }
}

/// Writes `value` into field `r` of `out`; the encoder's inverse of [`Record`]. A field `out` does not hold is
/// skipped (encoders size their buffers from the same ranges, so that does not happen).
pub fn put(out: &mut [u8], r: &FieldRange, value: &[u8]) {
    if let Some(dst) = out.get_mut(r.clone()) {
        if dst.len() == value.len() {
            dst.copy_from_slice(value);
        }
    }
}
