//! Writes the seed corpora of the fuzz targets (fuzz/) from the captures of test-pcaps/:
//!
//! ```text
//! cargo run --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! Each input starts with the 6-byte prefix of `fuzz/src/lib.rs` that selects the default layout and preferences
//! (`10 01 02 00 00 00`): for `parse` and `dissect` the UDP payload of every dump frame, for `envelope` every whole
//! frame, for `frames` each capture's dump frames as one sequence (the flags byte naming the connection,
//! direction and dump device of each), and so each messy capture of tests/messy.rs.

#[path = "common/captures.rs"]
mod captures;
#[path = "../tests/support/messy.rs"]
mod messy;

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use smcdump::wire::envelope::{find_dump, FoundDump};
use smcdump::wire::ConnKey;

const PREFIX: [u8; 6] = [16, 1, 2, 0, 0, 0];
/// The `frames` target's preferences: everything on, a direction given up after 8 refused frames.
const FRAMES_PREFIX: [u8; 6] = [16, 1, 2, 0, 0, 8];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz_seeds CORPUS_DIR")?);
    let mut counts = HashMap::new();
    // `bytes` as seed `name` of `target`; `whole`: they hold their prefix already.
    let mut write = |target: &str, name: String, bytes: &[u8], whole: bool| -> std::io::Result<()> {
        let dir = out.join(target);
        fs::create_dir_all(&dir)?;
        *counts.entry(target.to_string()).or_insert(0) += 1;
        let prefix: &[u8] = if whole { &[] } else { &PREFIX };
        fs::write(dir.join(name), [prefix, bytes].concat())
    };
    for (path, frames) in captures::test_captures()? {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("capture").to_string();
        let mut sequence = Sequence::default();
        for (i, f) in frames.iter().enumerate() {
            write("envelope", format!("{stem}-{i}"), &f.data, false)?;
            let Some(found) = find_dump(&f.data, f.orig_len) else { continue };
            let payload = &f.data[found.payload.clone()];
            write("parse", format!("{stem}-{i}"), payload, false)?;
            write("dissect", format!("{stem}-{i}"), payload, false)?;
            sequence.push(&found, payload)?;
        }
        if let Some(bytes) = sequence.bytes() {
            write("frames", stem, &bytes, true)?;
        }
    }
    for case in messy::Case::ALL {
        let b = messy::build(case, &messy::apps());
        let mut sequence = Sequence::default();
        for f in &b.smc {
            if let Some(found) = find_dump(&f.data, f.data.len()) {
                sequence.push(&found, &f.data[found.payload.clone()])?;
            }
        }
        if let Some(bytes) = sequence.bytes() {
            write("frames", format!("messy-{}", case.name()), &bytes, true)?;
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    for (target, n) in counts {
        println!("fuzz_seeds: {n} seeds in {}", out.join(target).display());
    }
    Ok(())
}

/// The slot (0 to 3) of `item` in `list`, which it joins if new.
fn slot<T: PartialEq>(list: &mut Vec<T>, item: T) -> u8 {
    let at = list.iter().position(|k| *k == item).unwrap_or_else(|| {
        list.push(item);
        list.len() - 1
    });
    (at % 4) as u8
}

/// A `frames` seed being written: the frames so far, and the connections and devices they named.
#[derive(Default)]
struct Sequence {
    bytes: Vec<u8>,
    conns: Vec<ConnKey>,
    devices: Vec<Option<[u8; 6]>>,
}

impl Sequence {
    /// Appends dump frame `found`, whose UDP payload is `payload`. Four connections and four devices a sequence:
    /// a capture's fifth and later share the slots of the first ones.
    fn push(&mut self, found: &FoundDump, payload: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
        let key = found.flow.conn();
        let conn = slot(&mut self.conns, key);
        let device = slot(&mut self.devices, found.device);
        let reverse = u8::from(found.flow.src != key.lo) << 2;
        let loopback = u8::from(found.flow.src.addr == found.flow.dst.addr) << 6;
        self.bytes.push(conn | reverse | device << 4 | loopback);
        self.bytes.extend_from_slice(&u16::try_from(payload.len())?.to_be_bytes());
        self.bytes.extend_from_slice(payload);
        Ok(())
    }

    /// The seed, behind the `frames` prefix, if it holds a frame.
    fn bytes(self) -> Option<Vec<u8>> {
        (!self.bytes.is_empty()).then(|| [&FRAMES_PREFIX[..], &self.bytes].concat())
    }
}
