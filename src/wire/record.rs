//! One description per wire record: [`wire_record!`] turns a list of fields (name, byte range, value type) into
//! everything the parser, the encoder and the tests need, so a field is declared in exactly one line:
//!
//! - a `field` module with each field's byte range (`smcr_field::SEQNO`), for spans and fuzz targets;
//! - a plain value, the `Repr` (smoltcp's name for it): what the encoder consumes ([`WireRepr::emit`]), what a
//!   wholly captured record reads back as (`View::repr`), and what property tests draw at random
//!   ([`WireRepr::sample`]);
//! - a `View`: the record as a capture holds it, each field's value with the bytes it came from
//!   ([`Field`]), `None` where the capture ended first.
//!
//! A compile-time check makes each range exactly as long as its value type, so an encoder can never write a
//! field short or skip it.

use super::{ByteOrder, Field, FieldRange, Span};

/// A fixed-width value a record field holds. One-byte values and byte arrays ignore the byte order.
pub trait WireValue: Copy + Default + PartialEq + core::fmt::Debug {
    /// Bytes on the wire.
    const SIZE: usize;
    /// Reads the value from exactly [`Self::SIZE`] bytes (fewer or more give the default: callers pass the
    /// field's own range, which the record macro checks).
    fn read(bytes: &[u8], order: ByteOrder) -> Self;
    /// Writes the value into exactly [`Self::SIZE`] bytes.
    fn write(self, out: &mut [u8], order: ByteOrder);
    /// A value drawn from `next` (test inputs).
    fn sample(next: &mut dyn FnMut() -> u64) -> Self;
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl WireValue for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn read(bytes: &[u8], order: ByteOrder) -> Self {
                let Ok(b) = <[u8; core::mem::size_of::<$t>()]>::try_from(bytes) else { return 0 };
                match order {
                    ByteOrder::Big => <$t>::from_be_bytes(b),
                    ByteOrder::Little => <$t>::from_le_bytes(b),
                }
            }
            fn write(self, out: &mut [u8], order: ByteOrder) {
                let b = match order {
                    ByteOrder::Big => self.to_be_bytes(),
                    ByteOrder::Little => self.to_le_bytes(),
                };
                if out.len() == b.len() {
                    out.copy_from_slice(&b);
                }
            }
            fn sample(next: &mut dyn FnMut() -> u64) -> Self {
                next() as $t
            }
        }
    )*};
}

wire_int!(u8, u16, u32);

impl<const N: usize> WireValue for [u8; N]
where
    [u8; N]: Default,
{
    const SIZE: usize = N;
    fn read(bytes: &[u8], _: ByteOrder) -> Self {
        bytes.try_into().unwrap_or([0; N])
    }
    fn write(self, out: &mut [u8], _: ByteOrder) {
        if out.len() == N {
            out.copy_from_slice(&self);
        }
    }
    fn sample(next: &mut dyn FnMut() -> u64) -> Self {
        let mut b = [0u8; N];
        b.iter_mut().for_each(|x| *x = next() as u8);
        b
    }
}

/// A value type that is one byte on the wire, read as `u8` and named (flags, codes).
macro_rules! wire_byte {
    ($($t:ty),*) => {$(
        impl WireValue for $t {
            const SIZE: usize = 1;
            fn read(bytes: &[u8], order: ByteOrder) -> Self {
                Self::from(u8::read(bytes, order))
            }
            fn write(self, out: &mut [u8], order: ByteOrder) {
                u8::from(self).write(out, order)
            }
            fn sample(next: &mut dyn FnMut() -> u64) -> Self {
                Self::from(next() as u8)
            }
        }
    )*};
}
pub(crate) use wire_byte;

/// What a record's plain value (`Repr`) offers, for code generic over records.
pub trait WireRepr: Sized {
    /// Bytes of the whole record.
    const SIZE: usize;
    /// Writes every field into the first [`Self::SIZE`] bytes of `out` (a shorter `out` gets the fields it holds
    /// whole).
    fn emit_into(&self, out: &mut [u8], order: ByteOrder);
    /// The record as bytes.
    fn emit(&self, order: ByteOrder) -> Vec<u8> {
        let mut out = vec![0; Self::SIZE];
        self.emit_into(&mut out, order);
        out
    }
    /// A record whose every field is drawn from `next`.
    fn sample(next: &mut dyn FnMut() -> u64) -> Self;
}

/// The value of field `r` of a record starting at frame offset `base`, if the captured `bytes` of the record hold
/// it whole.
pub fn read_field<T: WireValue>(bytes: &[u8], base: usize, r: &FieldRange, order: ByteOrder) -> Option<Field<T>> {
    let b = bytes.get(r.clone())?;
    Some(Field { span: Span::at(base, r), value: T::read(b, order) })
}

/// Declares a wire record: see the module documentation. Syntax:
///
/// ```text
/// wire_record! {
///     /// What the record is.
///     pub struct NameRepr, view NameView, fields name_field {
///         /// What the field is.
///         field_name / FIELD_NAME: ValueType = start..end,
///         ...
///     }
///     groups { /// doc
///         GROUP = start..end, ... }        // optional: ranges over several fields (a cursor), no value
/// }
/// ```
macro_rules! wire_record {
    (
        $(#[$doc:meta])*
        pub struct $repr:ident, view $view:ident, fields $fmod:ident {
            $( $(#[$fdoc:meta])* $name:ident / $NAME:ident : $ty:ty = $range:expr, )*
        }
        $( groups { $( $(#[$gdoc:meta])* $GROUP:ident = $grange:expr, )* } )?
    ) => {
        /// Where each field of the record lies: bytes from the record's first.
        pub mod $fmod {
            #[allow(unused_imports)]
            use super::*;
            use $crate::wire::FieldRange;
            $( $(#[$fdoc])* pub const $NAME: FieldRange = $range; )*
            $($( $(#[$gdoc])* pub const $GROUP: FieldRange = $grange; )*)?
            /// Bytes of the whole record.
            pub const SIZE: usize = {
                let mut end = 0;
                $( if $NAME.end > end { end = $NAME.end; } )*
                end
            };
        }

        // Every range is exactly as long as its value type: an encoder cannot write a field short.
        const _: () = { $( assert!($fmod::$NAME.end - $fmod::$NAME.start == <$ty as $crate::wire::WireValue>::SIZE); )* };

        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $repr {
            $( $(#[$fdoc])* pub $name: $ty, )*
        }

        impl $crate::wire::WireRepr for $repr {
            const SIZE: usize = $fmod::SIZE;
            fn emit_into(&self, out: &mut [u8], order: $crate::wire::ByteOrder) {
                $(
                    if let Some(b) = out.get_mut($fmod::$NAME) {
                        $crate::wire::WireValue::write(self.$name, b, order);
                    }
                )*
            }
            fn sample(next: &mut dyn FnMut() -> u64) -> Self {
                $repr { $( $name: <$ty as $crate::wire::WireValue>::sample(next), )* }
            }
        }

        /// The record as a capture holds it: each field with the bytes it came from (frame offsets), `None` where
        /// the capture ended before the field's last byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $view {
            /// Frame offset of the record's first byte.
            pub base: usize,
            $( $(#[$fdoc])* pub $name: Option<$crate::wire::Field<$ty>>, )*
        }

        impl $view {
            /// Reads the record from its captured bytes `record`, which start at frame offset `base`.
            pub fn parse(record: &[u8], base: usize, order: $crate::wire::ByteOrder) -> Self {
                $view { base, $( $name: $crate::wire::record::read_field(record, base, &$fmod::$NAME, order), )* }
            }

            /// The frame span of field or group `r`, captured or not.
            pub fn span(&self, r: &$crate::wire::FieldRange) -> $crate::wire::Span {
                $crate::wire::Span::at(self.base, r)
            }

            /// The plain value, when every field was captured.
            pub fn repr(&self) -> Option<$repr> {
                Some($repr { $( $name: self.$name?.value, )* })
            }
        }
    };
}
pub(crate) use wire_record;
