//! Writes the seed corpora of the fuzz targets (fuzz/) from the captures of test-pcaps/:
//!
//! ```text
//! cargo run --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! Each input starts with the 6-byte prefix of `fuzz/src/lib.rs` that selects the default layout and preferences
//! (`10 01 02 00 00 00`): for `parse` and `dissect` the UDP payload of every dump frame, for `envelope` every whole
//! frame, for `frames` each capture's dump frames as one sequence (the flags byte naming the connection and
//! direction of each).

#[path = "common/captures.rs"]
mod captures;

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use smcdump::wire::envelope::find_dump;
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
        let mut sequence = FRAMES_PREFIX.to_vec();
        let mut conns: Vec<ConnKey> = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            write("envelope", format!("{stem}-{i}"), &f.data, false)?;
            let Some(found) = find_dump(&f.data, f.orig_len) else { continue };
            let payload = &f.data[found.payload.clone()];
            write("parse", format!("{stem}-{i}"), payload, false)?;
            write("dissect", format!("{stem}-{i}"), payload, false)?;
            // Four connections a sequence: a capture's fifth and later share the slots of the first ones.
            let key = found.flow.conn();
            let conn = conns.iter().position(|&k| k == key).unwrap_or_else(|| {
                conns.push(key);
                conns.len() - 1
            }) as u8
                % 4;
            let reverse = u8::from(found.flow.src != key.lo) << 2;
            sequence.push(conn | reverse);
            sequence.extend_from_slice(&u16::try_from(payload.len())?.to_be_bytes());
            sequence.extend_from_slice(payload);
        }
        if sequence.len() > FRAMES_PREFIX.len() {
            write("frames", stem, &sequence, true)?;
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    for (target, n) in counts {
        println!("fuzz_seeds: {n} seeds in {}", out.join(target).display());
    }
    Ok(())
}
