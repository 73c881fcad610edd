//! Pure parsing of SMC dump frames: no Wireshark, no FFI, no `unsafe`.
//!
//! Data flows one way: the UDP payload bytes go in, plain values come out. Every value carries the span of
//! bytes it was read from ([`Field`]), so the tree code can add each item over exactly its bytes. Codes are open
//! enums: an unknown mode or type is a value, never a parse error.
//!
//! The facts about the format that are *inferred* rather than read in kernel source (header length, the two type
//! codes, SMC-D byte order) are gathered in [`Layout`]; nothing else in this module hard-codes them.

pub mod cdc;
pub mod emit;
pub mod envelope;
pub mod frame;
pub mod header;
pub mod layout;

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
}
