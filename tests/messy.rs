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

/// A PDU's fields that do not describe the PDU itself but its place among the others: links to other frames,
/// timings, counters over the conversation, expert items, valueless marks ("response missing"), whether a DNS
/// message answers a query seen before.
fn about_other_frames(name: &str, showname: &str, show: &str) -> bool {
    name.starts_with("_ws.")
        || showname.to_ascii_lowercase().contains("frame")
        || ["_in", "_to", "_number", "time"].iter().any(|s| name.ends_with(s))
        || (!name.is_empty() && show.is_empty())
        || name == "dns.unsolicited"
}

/// The value of attribute `attr` in one PDML line.
fn attribute<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {attr}=\""))? + attr.len() + 3;
    line[at..].split('"').next()
}

/// What TCP marks a segment it has seen before with.
const RETRANSMITTED: [&str; 3] =
    ["tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission"];

/// Every application PDU tshark decodes from `capture` (two passes), as the text of its fields, counted: all of
/// them, and those but of segments TCP marks as retransmitted (it decodes a fast retransmission's data again).
fn pdus(t: &support::Target, capture: &Path) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let file = format!("{{file:{}}}", capture.display());
    let filter = PROTOCOLS.join("||");
    let out = t.tshark(&["-2", "-r", &file, "-Y", &filter, "-T", "pdml"]).stdout;
    let (mut all, mut unmarked) = (HashMap::new(), HashMap::new());
    let mut pdu: Option<(usize, String)> = None;
    let mut retransmitted = false;
    for line in out.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("<packet>") {
            retransmitted = false;
        }
        if let Some((depth, text)) = &mut pdu {
            if trimmed.starts_with("<proto ") {
                *depth += 1;
            } else if trimmed.starts_with("</proto>") {
                *depth -= 1;
                if *depth == 0 {
                    let text = std::mem::take(text);
                    if !retransmitted {
                        *unmarked.entry(text.clone()).or_insert(0) += 1;
                    }
                    *all.entry(text).or_insert(0) += 1;
                    pdu = None;
                }
            } else if trimmed.starts_with("<field ") {
                let name = attribute(trimmed, "name").unwrap_or("");
                let show = attribute(trimmed, "show").unwrap_or("");
                if !about_other_frames(name, attribute(trimmed, "showname").unwrap_or(""), show) {
                    text.push_str(&format!("|{name}={show}"));
                }
            }
        } else if let Some(name) = trimmed.strip_prefix("<proto name=\"").and_then(|r| r.split('"').next()) {
            if PROTOCOLS.contains(&name) {
                pdu = Some((1, name.to_string()));
            }
        } else if trimmed.starts_with("<field ") {
            retransmitted |= attribute(trimmed, "name").is_some_and(|n| RETRANSMITTED.contains(&n));
        }
    }
    (all, unmarked)
}

/// The PDUs of `a` that `b` lacks, with how many: a multiset difference.
fn missing_from(a: &HashMap<String, usize>, b: &HashMap<String, usize>) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = a
        .iter()
        .filter_map(|(k, &n)| n.checked_sub(b.get(k).copied().unwrap_or(0)).filter(|&d| d > 0).map(|d| (d, k.clone())))
        .collect();
    out.sort();
    out
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

/// Follow's raw output for stream `stream` of `capture` through follower `proto`: each direction's runs.
fn followed(t: &support::Target, capture: &Path, proto: &str, stream: u32) -> [Vec<Run>; 2] {
    let file = format!("{{file:{}}}", capture.display());
    let out = t.tshark(&["-r", &file, "-q", "-z", &format!("follow,{proto},raw,{stream}")]).stdout;
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
            // Follow shows each direction's data and holes as TCP's Follow does.
            if matches!(b.case, Case::HoleEachDirection | Case::HoleAcrossWrap) {
                for stream in 0..apps.len() as u32 {
                    let ours = followed(&t, smc, "smcdump", stream);
                    assert!(ours.iter().any(|d| d.len() > 1) || stream > 1, "{name}: stream {stream}: {ours:?}");
                    assert_eq!(ours, followed(&t, tcp, "tcp", stream), "{name}: Follow of stream {stream}");
                }
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
