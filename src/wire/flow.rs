//! The one flow type: a direction between two IPv4 endpoints, as every layer names it. A dump frame's UDP flow is
//! its SMC connection's TCP 4-tuple in the direction of the data (spec section 2), so the same [`Flow`] names a
//! dump direction, a CLC message's TCP direction and a connection ([`Flow::conn`]).

use core::fmt;
use core::hash::{Hash, Hasher};

/// An IPv4 address and a port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: [u8; 4],
    pub port: u16,
}

impl Endpoint {
    pub const fn new(addr: [u8; 4], port: u16) -> Self {
        Endpoint { addr, port }
    }

    /// The endpoint as one word: address, then port.
    const fn word(self) -> u64 {
        (u32::from_be_bytes(self.addr) as u64) << 16 | self.port as u64
    }
}

// One word a hash: the maps of per-flow state are looked up on every frame.
impl Hash for Endpoint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.word());
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.addr;
        write!(f, "{a}.{b}.{c}.{d}:{}", self.port)
    }
}

/// One direction: from `src` to `dst`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flow {
    pub src: Endpoint,
    pub dst: Endpoint,
}

impl Flow {
    pub const fn new(src: Endpoint, dst: Endpoint) -> Self {
        Flow { src, dst }
    }

    /// The opposite direction.
    pub const fn reverse(self) -> Flow {
        Flow { src: self.dst, dst: self.src }
    }

    /// The connection this direction belongs to: the same for both directions.
    pub fn conn(self) -> ConnKey {
        if self.src <= self.dst {
            ConnKey { lo: self.src, hi: self.dst }
        } else {
            ConnKey { lo: self.dst, hi: self.src }
        }
    }
}

/// A connection: its two endpoints, the lower first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
}

impl ConnKey {
    /// Whether `e` is one of the connection's endpoints.
    pub fn has(&self, e: Endpoint) -> bool {
        self.lo == e || self.hi == e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_name_one_connection() {
        let a = Endpoint::new([10, 0, 0, 2], 80);
        let b = Endpoint::new([10, 0, 0, 1], 40000);
        let ab = Flow::new(a, b);
        assert_eq!(ab.reverse(), Flow::new(b, a));
        assert_eq!(ab.conn(), ab.reverse().conn());
        assert_eq!(ab.conn(), ConnKey { lo: b, hi: a });
        assert!(ab.conn().has(a) && !ab.conn().has(Endpoint::new([10, 0, 0, 1], 80)));
        assert_eq!(a.to_string(), "10.0.0.2:80");
    }
}
