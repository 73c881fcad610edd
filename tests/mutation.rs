//! Mutated captures through tshark with the plugin, on every Wireshark release under test: the small-scale,
//! in-suite version of `scripts/mutate`.
//!
//! The captures of test-pcaps/ get random byte errors from editcap (fixed seeds, so every run sees the same
//! frames), from the UDP payload, the UDP header, the IP header or the whole frame on, one variant also snapped
//! short; random datagrams that start with the SMC dump magic and lie about their length are added. tshark decodes
//! the lot with full detail (-V), and again in two passes with every UDP port forced to smcdump and another header
//! length. Both runs must print every frame (a crash would cut the output short), show no dissector bug and no
//! exception inside smcdump, and write nothing to stderr that mentions smcdump or a Rust panic. Malformed packets of
//! other dissectors are expected on mutated frames.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use smcdump::wire::envelope::{ETH_IP, ETH_PAYLOAD, ETH_UDP};
use smcdump::wire::MAGIC;
use support::capture::{udp_frame, write_pcap};
use support::rng::Rng;

/// editcap variants: error probability per byte, first byte that may change (the UDP payload, the UDP header,
/// the IP header of an Ethernet frame, or the whole frame), snap length, seed.
const VARIANTS: [(&str, usize, Option<&str>, &str); 5] = [
    ("0.01", ETH_PAYLOAD, None, "11"),
    ("0.03", ETH_PAYLOAD, Some("70"), "12"),
    ("0.02", ETH_UDP, None, "13"),
    ("0.005", ETH_IP, None, "14"),
    ("0.002", 0, None, "15"),
];

/// Datagrams of magic-prefixed garbage.
const PLANTED: usize = 100;

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

fn run(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Frames in a capture, as capinfos counts them.
fn frame_count(path: &Path) -> usize {
    let out = Command::new("capinfos").args(["-c", "-M"]).arg(path).output().expect("run capinfos");
    let text = String::from_utf8_lossy(&out.stdout);
    let count = text.lines().find(|l| l.contains("Number of packets")).and_then(|l| l.split_whitespace().last());
    count.and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("capinfos {}: {text}", path.display()))
}

/// Random UDP datagrams that start with the magic; mode, type and length field mostly plausible, often lying.
fn planted(path: &Path) {
    let mut r = Rng(0x6d75_7461_7465_0001);
    let mut next = move || r.next();
    let frames: Vec<Vec<u8>> = (0..PLANTED)
        .map(|i| {
            let len = 4 + (next() % 80) as usize;
            let mut payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            payload[..4].copy_from_slice(&MAGIC.to_be_bytes());
            if len >= 10 {
                payload[6] = [1, 2, next() as u8][i % 3];
                payload[7] = [1, 2, 2, next() as u8][i % 4];
                let lies = [len, len - 1, len + 1, 16, 0, 0xFFFF, next() as u16 as usize];
                let field = lies[i % lies.len()].min(0xFFFF) as u16;
                payload[8..10].copy_from_slice(&field.to_be_bytes());
            }
            udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40000 + i as u16, 50000, &payload)
        })
        .collect();
    write_pcap(path, &frames);
}

/// One capture holding every mutated variant of every test capture, and the planted datagrams.
fn mutated_capture(dir: &Path) -> PathBuf {
    let mut parts = Vec::new();
    for name in support::CAPTURES {
        for (i, (rate, offset, snap, seed)) in VARIANTS.iter().enumerate() {
            let out = dir.join(format!("{name}.{i}"));
            let input = support::pcap(name);
            let offset = offset.to_string();
            let mut args = vec!["-F", "pcap", "-E", rate, "-o", &offset, "--seed", seed];
            if let Some(snap) = snap {
                args.extend(["-s", snap]);
            }
            args.extend([input.to_str().expect("a UTF-8 path"), out.to_str().expect("a UTF-8 path")]);
            run("editcap", &args);
            parts.push(out);
        }
    }
    let planted_path = dir.join("planted.pcap");
    planted(&planted_path);
    parts.push(planted_path);
    // pcapng: the captures' link types differ (Ethernet, SLL, SLL2), and pcapng keeps each frame's.
    let merged = dir.join("mutated.pcapng");
    let mut args: Vec<&str> = vec!["-F", "pcapng", "-a", "-w", merged.to_str().expect("a UTF-8 path")];
    args.extend(parts.iter().map(|p| p.to_str().expect("a UTF-8 path")));
    run("mergecap", &args);
    merged
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
    let capture = mutated_capture(&scratch.0);
    let frames = frame_count(&capture);
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
