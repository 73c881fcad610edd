//! Mutated captures through tshark with the plugin, on every Wireshark release under test: the small-scale,
//! in-suite version of `scripts/mutate`, on the same driver (examples/mutate.rs).
//!
//! Every capture of test-pcaps/ gets random byte errors (fixed seed, so every run sees the same frames) from the
//! UDP payload, the UDP header, the IP header or the whole frame on, one variant also snapped short; random
//! datagrams that start with the SMC dump magic and lie about their length are added. tshark decodes the lot with
//! full detail (-V), and again in two passes with every UDP port forced to smcdump and another header length. Both
//! runs must print every frame (a crash would cut the output short), show no dissector bug and no exception
//! inside smcdump, and write nothing to stderr that mentions smcdump or a Rust panic. Malformed packets of other
//! dissectors are expected on mutated frames.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder of our own under the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("smcdump-mutation-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("create scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The mutated capture of examples/mutate.rs (one round, seed 1) in `dir`, and its number of frames.
fn mutated_capture(dir: &Path) -> (PathBuf, usize) {
    let path = dir.join("mutated.pcapng");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--release", "--example", "mutate", "--"])
        .arg(&path)
        .current_dir(support::repo())
        // Its own target folder: the test's cargo still holds the lock on the main one.
        .env("CARGO_TARGET_DIR", support::repo().join("target/gen"))
        .output()
        .expect("run the mutation driver");
    assert!(out.status.success(), "examples/mutate failed: {}", String::from_utf8_lossy(&out.stderr));
    // "<path>: <n> frames"
    let text = String::from_utf8_lossy(&out.stdout);
    let frames = text.rsplit(": ").next().and_then(|t| t.split_whitespace().next()).and_then(|n| n.parse().ok());
    (path, frames.unwrap_or_else(|| panic!("examples/mutate said {text:?}")))
}

/// Every way a tshark run can show that smcdump crashed, threw, or broke Wireshark.
fn problems(stdout: &str, stderr: &str, frames: usize) -> Vec<String> {
    let mut found = Vec::new();
    let printed = stdout.lines().filter(|l| l.starts_with("Frame ") && l.contains(": ")).count();
    if printed != frames {
        found.push(format!("{printed} of {frames} frames printed (a crash cuts the output short)"));
    }
    for line in stdout.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.contains("dissector bug")
            || ["[Malformed Packet: SMCDUMP]", "[Malformed Packet: SMC-R]", "[Malformed Packet: SMC-D]"]
                .iter()
                .any(|m| line.contains(m))
        {
            found.push(format!("stdout: {}", line.trim()));
        }
    }
    for line in stderr.lines() {
        let lower = line.to_ascii_lowercase();
        if ["smcdump", "dissector bug", "panicked"].iter().any(|w| lower.contains(w)) {
            found.push(format!("stderr: {line}"));
        }
    }
    found.truncate(20);
    found
}

#[test]
fn mutated_captures_decode_cleanly() {
    let scratch = Scratch::new();
    let (capture, frames) = mutated_capture(&scratch.0);
    assert!(frames >= 300, "only {frames} mutated frames");
    let file = format!("{{file:{}}}", capture.display());
    for t in support::targets() {
        let full: &[&str] = &["-r", &file, "-V"];
        let two_pass: &[&str] =
            &["-r", &file, "-2", "-V", "-d", "udp.port==1-65535,smcdump", "-o", "smcdump.header_len:12"];
        for args in [full, two_pass] {
            let out = t.tshark_allow_stderr(args);
            let found = problems(&out.stdout, &out.stderr, frames);
            assert!(found.is_empty(), "Wireshark {} {args:?}:\n{}", t.abi, found.join("\n"));
        }
        eprintln!("Wireshark {}: {frames} mutated frames decoded cleanly, with -V and with -2 -V", t.abi);
    }
}

/// The checks can fail: a cut-short output, a dissector bug, an smcdump exception, a panic are all reported.
#[test]
fn problems_are_noticed() {
    let clean = "Frame 1: 60 bytes\n    [Malformed Packet: DNS]\nFrame 2: 60 bytes\n";
    assert!(problems(clean, "", 2).is_empty());
    assert_eq!(problems(clean, "", 3).len(), 1);
    assert_eq!(problems("Frame 1: x\n  [Malformed Packet: SMCDUMP]\n", "", 1).len(), 1);
    assert_eq!(problems("Frame 1: x\n  [Dissector bug, protocol UDP: oops]\n", "", 1).len(), 1);
    assert_eq!(problems("Frame 1: x\n", "thread '<unnamed>' panicked at src/wire/frame.rs:1:1", 1).len(), 1);
    assert_eq!(problems("Frame 1: x\n", "** (tshark:1) WARNING: smcdump.len is not ...", 1).len(), 1);
    assert!(problems("Frame 1: x\n", "tshark: some other dissector complained", 1).is_empty());
}
