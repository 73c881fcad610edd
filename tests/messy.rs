//! Messy captures (tests/support/messy.rs): lost frames, bytes dumped twice (SMC-D loopback, merged captures, a
//! duplicated frame), a capture that starts mid-connection, a stray frame first. Each is written twice, inside
//! SMC dump frames and as the plain TCP twin with the same loss, and decoded as well as TCP decodes it:
//! - without Wireshark, the pure pipeline shows the generator's truth for every frame (holes, copies) and hands
//!   each stream byte to the application at most once, at its true position;
//! - on every release, every application PDU Wireshark's TCP decodes from the twin is decoded identically from the
//!   SMC capture, none twice, and tshark shows the truth's fields; Follow shows holes as TCP's Follow does;
//! - no `Dissector bug` on any path into the application dissectors (iPerf3 on 5201 over SLL, SLL2, Ethernet).

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use smcdump::capture::streams::Outcome;
use smcdump::capture::{Application, Handover, Settings};
use smcdump::dissect::tree::{Entry, Value};
use smcdump::dissect::{Ei, Hf};
use smcdump::wire::envelope::Link;
use support::messy::{self, App, Built, Case, Truth};
use support::pdml::{self, missing_from};
use support::replay::replay;

/// A folder for this test binary's captures.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smcdump-messy-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes case `b`'s captures into `dir`: (dump capture, TCP twin, clean dump capture).
fn write_case(dir: &Path, b: &Built) -> (PathBuf, PathBuf, PathBuf) {
    let name = b.case.name();
    let paths = [format!("{name}.pcap"), format!("{name}-tcp.pcap"), format!("{name}-clean.pcap")].map(|n| dir.join(n));
    messy::write(&paths[0], b.link, &b.smc);
    messy::write(&paths[1], b.link, &b.tcp);
    messy::write(&paths[2], b.link, &b.clean);
    let [a, t, c] = paths;
    (a, t, c)
}

/// Each direction's whole stream, by (sending port, receiving port).
fn streams(apps: &[App]) -> HashMap<(u16, u16), Vec<u8>> {
    let mut out: HashMap<(u16, u16), Vec<u8>> = HashMap::new();
    for a in apps {
        for (client, bytes) in &a.writes {
            let key = if *client { (a.client_port, a.server_port) } else { (a.server_port, a.client_port) };
            out.entry(key).or_default().extend_from_slice(bytes);
        }
    }
    out
}

/// An application that takes every byte it is given, remembering where (first pass only).
#[derive(Default)]
struct Taker {
    handed: Vec<((u16, u16), u64, Vec<u8>)>,
}

impl Application for Taker {
    fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
        if h.may_ask_more {
            self.handed.push(((h.flow.src.port, h.flow.dst.port), h.stream_offset, h.bytes.to_vec()));
        }
        Outcome::Consumed
    }
}

/// What a shown frame says of holes and copies: (missing at, missing length, copy of).
fn marks(entries: &[Entry]) -> Truth {
    let value = |hf: Hf| {
        entries.iter().find_map(|e| match e {
            Entry::Item(_, r) if r.hf == hf => match r.value {
                Value::Uint(v) => Some(u64::from(v)),
                Value::Uint64(v) => Some(v),
                _ => None,
            },
            _ => None,
        })
    };
    Truth {
        copy_of: value(Hf::AnCopyOf).map(|v| v as u32),
        hole: value(Hf::AnMissing).map(|len| (value(Hf::AnMissingAt).unwrap_or(u64::MAX), len)),
        fills: entries.iter().any(|e| matches!(e, Entry::Expert(Ei::OutOfOrder, _))),
    }
}

#[test]
fn every_case_shows_its_truth_without_wireshark() {
    let dir = scratch("pure");
    let apps = messy::apps();
    let want_streams = streams(&apps);
    for case in Case::ALL {
        let b = messy::build(case, &apps);
        let (smc, _, _) = write_case(&dir, &b);
        let mut taker = Taker::default();
        let r = replay(&smc, &Settings::default(), &mut taker);
        let shown: HashMap<u32, Truth> = r.shown.iter().map(|s| (s.num, marks(&s.tree.in_tree_order()))).collect();
        for (i, want) in b.truth.iter().enumerate() {
            let num = i as u32 + 1;
            let got = shown.get(&num).cloned().unwrap_or_default();
            assert_eq!(&got, want, "{}: frame {num}", case.name());
        }
        // Every byte handed over lies at its true position, and each position is handed once.
        let mut seen: HashMap<(u16, u16), Vec<(u64, u64)>> = HashMap::new();
        for (dir, at, bytes) in &taker.handed {
            let base = b.starts.iter().find(|s| s.0 == *dir).map_or(0, |s| s.1);
            let stream = &want_streams[dir][base as usize..];
            let end = at + bytes.len() as u64;
            let right = stream.get(*at as usize..end as usize) == Some(&bytes[..]);
            assert!(right, "{}: {dir:?}: {} bytes handed at {at} are not the stream's there", case.name(), bytes.len());
            let ranges = seen.entry(*dir).or_default();
            assert!(ranges.iter().all(|&(s, e)| end <= s || e <= *at), "{}: {dir:?} at {at} handed twice", case.name());
            ranges.push((*at, end));
        }
        if case.copies_only() {
            for (dir, stream) in &want_streams {
                let total: u64 = seen.get(dir).map_or(0, |r| r.iter().map(|(s, e)| e - s).sum());
                let base = b.starts.iter().find(|s| s.0 == *dir).map_or(0, |s| s.1);
                assert_eq!(total, stream.len() as u64 - base, "{}: {dir:?}: every byte once", case.name());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The application protocols the cases play, as Wireshark names them.
const PROTOCOLS: [&str; 5] = ["http", "pgsql", "mqtt", "memcache", "dns"];

/// The PDUs of `capture` (two passes): all, and those but of segments TCP marks as retransmitted.
fn pdus(t: &support::Target, capture: &Path) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let p = pdml::pdus(t, capture, &["-2", "-Y", &PROTOCOLS.join("||")], &pdml::Layers::Only(&PROTOCOLS));
    (p.all, p.unmarked)
}

/// What tshark shows of holes and copies for every frame of `capture` (two passes).
fn shown_marks(t: &support::Target, capture: &Path) -> Vec<Truth> {
    let file = format!("{{file:{}}}", capture.display());
    let fields = [
        "smcdump.analysis.copy_of",
        "smcdump.analysis.missing",
        "smcdump.analysis.missing_at",
        "smcdump.analysis.out_of_order",
    ];
    let mut args = vec!["-2", "-r", &file, "-T", "fields"];
    for f in &fields {
        args.extend(["-e", f]);
    }
    let out = t.tshark(&args).stdout;
    let number = |s: &str| -> Option<u64> { (!s.is_empty()).then(|| s.parse().expect("a number")) };
    out.lines()
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            let hole = number(v[1]).map(|len| (number(v[2]).unwrap_or(u64::MAX), len));
            Truth { copy_of: number(v[0]).map(|n| n as u32), hole, fills: !v[3].is_empty() }
        })
        .collect()
}

/// One direction of a followed stream: runs of data (their lengths) and holes, as the follower prints them.
#[derive(Debug, PartialEq, Eq)]
enum Run {
    Data(usize),
    Missing(u64),
}

/// Follow's raw output for stream `stream` of `capture` through follower `proto` (with `extra` arguments, such as
/// `-2`): each direction's runs.
fn followed(t: &support::Target, capture: &Path, proto: &str, stream: u32, extra: &[&str]) -> [Vec<Run>; 2] {
    let file = format!("{{file:{}}}", capture.display());
    let follow = format!("follow,{proto},raw,{stream}");
    let out = t.tshark(&[&["-r", &file, "-q", "-z", &follow], extra].concat()).stdout;
    let mut dirs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for line in out.lines() {
        let hex = line.trim_start_matches('\t');
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let bytes: Vec<u8> =
            (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        let runs = &mut dirs[usize::from(line.starts_with('\t'))];
        let text = String::from_utf8_lossy(&bytes);
        let missing = text
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(" bytes missing in capture file]\0"))
            .and_then(|n| n.parse().ok());
        match (missing, runs.last_mut()) {
            (Some(n), _) => runs.push(Run::Missing(n)),
            (None, Some(Run::Data(len))) => *len += bytes.len(),
            (None, _) => runs.push(Run::Data(bytes.len())),
        }
    }
    dirs
}

#[test]
fn every_case_decodes_as_well_as_its_tcp_twin_on_every_release() {
    let dir = scratch("tshark");
    let apps = messy::apps();
    let built: Vec<(Built, (PathBuf, PathBuf, PathBuf))> = Case::ALL
        .iter()
        .map(|&case| {
            let b = messy::build(case, &apps);
            let paths = write_case(&dir, &b);
            (b, paths)
        })
        .collect();
    for t in support::targets() {
        for (b, (smc, tcp, clean)) in &built {
            let name = format!("Wireshark {}: {}", t.abi, b.case.name());
            let (got, (twin_all, twin), reference) = (pdus(&t, smc).0, pdus(&t, tcp), pdus(&t, clean).0);
            assert!(
                twin.values().sum::<usize>() > 500,
                "{name}: the twin decodes {:?} PDUs",
                twin.values().sum::<usize>()
            );
            // Every PDU TCP decodes, decoded identically; none more often than in the twin or the clean capture.
            let lost = missing_from(&twin, &got);
            assert!(lost.is_empty(), "{name}: PDUs TCP decodes and smcdump does not: {lost:?}");
            let most: HashMap<String, usize> = got
                .keys()
                .map(|k| (k.clone(), twin_all.get(k).copied().max(reference.get(k).copied()).unwrap_or(0)))
                .collect();
            let extra = missing_from(&got, &most);
            assert!(
                extra.is_empty(),
                "{name}: PDUs decoded more often than in the twin or the clean capture: {extra:?}"
            );
            if b.case.as_clean() {
                assert_eq!(missing_from(&reference, &got), [], "{name}: copies only: the clean capture's PDUs");
            }
            // The truth's marks, frame by frame.
            let marks = shown_marks(&t, smc);
            assert_eq!(marks.len(), b.truth.len(), "{name}: frames");
            for (i, (got, want)) in marks.iter().zip(&b.truth).enumerate() {
                assert_eq!(got, want, "{name}: frame {}", i + 1);
            }
            // Follow shows each direction's data and holes as TCP's Follow does; after a first pass (the GUI's
            // Follow, -2) with bytes that filled a hole late (the merged case) in place too.
            let passes: &[&[&str]] = match b.case {
                Case::HoleEachDirection | Case::HoleAcrossWrap => &[&[], &["-2"]],
                Case::Merged => &[&["-2"]],
                _ => &[],
            };
            for (stream, extra) in (0..apps.len() as u32).flat_map(|s| passes.iter().map(move |p| (s, *p))) {
                let ours = followed(&t, smc, "smcdump", stream, extra);
                let holed = ours.iter().any(|d| d.len() > 1);
                assert!(holed || stream > 1 || b.case == Case::Merged, "{name}: stream {stream}: {ours:?}");
                let theirs = followed(&t, tcp, "tcp", stream, &[]);
                assert_eq!(ours, theirs, "{name}: Follow of stream {stream} {extra:?}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every application dissector the cases reach (and iPerf3's on 5201, which looks its conversation up without
/// checking it exists), over Ethernet and the cooked captures of `tcpdump -i any`, with and without the TCP
/// handshake (which decides the path into smcdump: the Ethernet heuristic, the postdissector's hand-over, the UDP
/// heuristic, the flow's dissector), in one pass and two: no `Dissector bug`, and no malformed packet but where
/// README "Link types" says a single pass cannot help it (a cooked capture without the handshake: the first dump
/// frame of a flow goes to the UDP dissector of its port, DNS's here).
#[test]
fn no_dissector_bug_on_any_path() {
    let dir = scratch("paths");
    let mut apps = messy::apps();
    apps.push(messy::iperf3());
    let setup = messy::Setup { mode: smcdump::wire::emit::MODE_SMCR, ring: 65536, loopback: false };
    let mut captures = Vec::new();
    for link in Link::ALL {
        for handshake in [true, false] {
            let path = dir.join(format!("paths-{link:?}-{handshake}.pcap"));
            messy::write(&path, link, &messy::host_capture(&apps, setup, link, handshake));
            captures.push((path, link != Link::Ethernet && !handshake));
        }
    }
    for t in support::targets() {
        for (path, first_frames_to_udp) in &captures {
            let file = format!("{{file:{}}}", path.display());
            for two_pass in [false, true] {
                let mut args = vec!["-r", file.as_str(), "-V"];
                if two_pass {
                    args.insert(0, "-2");
                }
                let out = t.tshark(&args).stdout;
                let name = format!("Wireshark {}: {} (two passes: {two_pass})", t.abi, path.display());
                let line = out.lines().find(|l| l.contains("Dissector bug"));
                assert!(line.is_none(), "{name}: {line:?}");
                if two_pass || !first_frames_to_udp {
                    let line = out.lines().find(|l| l.contains("Malformed Packet"));
                    assert!(line.is_none(), "{name}: {line:?}");
                }
                // The iPerf3 dissector (4.2 and later) was reached.
                if !t.older_than("4.2") {
                    assert!(out.contains("iPerf3"), "{name}: iPerf3 not reached");
                }
                assert!(out.contains("Hypertext Transfer Protocol"), "{name}: HTTP not reached");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
