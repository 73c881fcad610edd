//! Pure parsing of SMC dump frames: no Wireshark, no FFI, no `unsafe`.
//!
//! Data flows one way: the UDP payload bytes go in, plain values come out. Every value carries the span of
//! bytes it was read from ([`Field`]), so the tree code can add each item over exactly its bytes. Codes are open
//! enums: an unknown mode or type is a value, never a parse error.
//!
//! Each record (dump header, SMC-R CDC, SMC-D CDC, the link, IPv4, UDP and TCP headers around them) is declared
//! once with [`record::wire_record!`]: every field's byte range and value type in one line, from which come the
//! `field` module of ranges, the plain value the encoder writes (`…Repr`) and the captured view the parser reads
//! (`…View`). A field the capture does not hold is `None`, never a made-up zero.
//!
//! The facts about the format that are *inferred* rather than read in kernel source (the header's field order and
//! length, the two type codes, SMC-D byte order) are gathered in [`layout`]; nothing else in this module
//! hard-codes them.

pub mod cdc;
pub mod clc;
pub mod emit;
pub mod envelope;
pub mod flow;
pub mod frame;
pub mod handshake;
pub mod header;
pub mod layout;
pub mod learn;
pub mod net;
pub mod record;

pub use cdc::{Cdc, ConnState, Cursor, ProdFlags, SmcdCdc};
pub use flow::{ConnKey, Endpoint, Flow};
pub use frame::{DumpFrame, Payload};
pub use header::{DumpHeader, Kind, Mode, MAGIC};
pub use layout::{ByteOrder, Layout, SmcdByteOrder};
pub use record::{WireRepr, WireValue};

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
        Span::new(base.saturating_add(r.start), r.end.saturating_sub(r.start))
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
