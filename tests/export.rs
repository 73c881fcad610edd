//! smcdump2tcp: a dump capture rewritten as plain TCP.
//! - Without Wireshark: the messy captures of tests/support/messy.rs converted; each direction's TCP stream, put
//!   together by sequence number from the handshake, is the application's stream (zeros where the dump has a
//!   hole), each byte written once; IPv4 and TCP checksums hold; timestamps never go back.
//! - On Wireshark 4.0 and 4.6: every capture of test-pcaps/ with SMC connections, and the messy ones, converted:
//!   the application PDUs TCP shows equal, field by field, what smcdump shows for the original (`tshark -2`);
//!   a dissector throws on as many packets; Wireshark's TCP analysis finds no bad checksum, and "previous segment
//!   not captured" exactly as often as the original has holes.
//! - The command line: help, version, errors, a truncated input, pcapng output with comments, --only-smc.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use smcdump::wire::envelope::find_dump;
use smcdump::wire::handshake::tcp_segment_in;
use smcdump::wire::net::tcp_flags;
use smcdump::wire::{Endpoint, Flow};
use support::capture::read_capture;
use support::messy::{self, Case};
use support::pdml::{self, missing_from, Layers};

/// The command, built once per test binary.
fn command() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let repo = support::repo();
            let target = repo.join("target").join("gen");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--quiet", "--bin", "smcdump2tcp"])
                .current_dir(&repo)
                .env("CARGO_TARGET_DIR", &target)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building smcdump2tcp failed");
            target.join("release/smcdump2tcp")
        })
        .clone()
}

fn run(args: &[&str]) -> Output {
    Command::new(command()).args(args).output().expect("run smcdump2tcp")
}

/// Converts `input` into `output` (quietly); panics when the command fails.
fn convert(input: &Path, output: &Path) {
    let out = run(&["-q", input.to_str().unwrap(), output.to_str().unwrap()]);
    assert!(out.status.success(), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smcdump-export-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The messy cases, written into `dir`: (case, dump capture).
fn messy_captures(dir: &Path) -> Vec<(Case, PathBuf)> {
    let apps = messy::apps();
    Case::ALL
        .iter()
        .map(|&case| {
            let b = messy::build(case, &apps);
            let path = dir.join(format!("{}.pcap", case.name()));
            messy::write(&path, b.link, &b.smc);
            (case, path)
        })
        .collect()
}

/// The timestamps of a pcap file's packets.
fn timestamps(path: &Path) -> Vec<std::time::Duration> {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = pcap_file::pcap::PcapReader::new(file).unwrap();
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet() {
        out.push(p.unwrap().timestamp);
    }
    out
}

/// The one's complement sum of `data`, as IPv4 and TCP checksums add.
fn ones_sum(data: &[u8], mut sum: u32) -> u32 {
    for pair in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum
}

#[test]
fn converted_streams_are_the_applications_streams() {
    let dir = scratch("pure");
    let apps = messy::apps();
    for (case, input) in messy_captures(&dir) {
        let output = dir.join(format!("{}-tcp.pcap", case.name()));
        convert(&input, &output);
        let (_, frames) = read_capture(&output);
        // Every dump frame is rewritten, but for the stray one: it is not SMC's, so it stays as it was.
        let left: Vec<usize> =
            (1..=frames.len()).filter(|&n| find_dump(&frames[n - 1].0, frames[n - 1].0.len()).is_some()).collect();
        let stray: &[usize] = if case == Case::StrayFirst { &[1] } else { &[] };
        assert_eq!(left, stray, "{}: dump frames left", case.name());
        // Each direction: its SYN's number, then the bytes by position; each connection: the last timestamp seen.
        let mut isn: HashMap<Flow, u32> = HashMap::new();
        let mut streams: HashMap<Flow, Vec<(u64, Vec<u8>)>> = HashMap::new();
        let mut last_time = HashMap::new();
        let times = timestamps(&output);
        for (n, (f, _)) in frames.iter().enumerate() {
            let Some(s) = tcp_segment_in(f) else { continue };
            let last = last_time.entry(s.flow.conn()).or_insert(times[n]);
            assert!(times[n] >= *last, "{}: frame {}: time goes back in its connection", case.name(), n + 1);
            *last = times[n];
            // Checksums: the IPv4 header's and the TCP segment's (with its pseudo-header) sum to all ones.
            let ip = &f[14..];
            let ihl = usize::from(ip[0] & 0x0F) * 4;
            assert_eq!(ones_sum(&ip[..ihl], 0), 0xFFFF, "{}: frame {}: IPv4 checksum", case.name(), n + 1);
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let seg = &ip[ihl..total];
            let pseudo = [&ip[12..20], &[0, 6], &(seg.len() as u16).to_be_bytes()[..]].concat();
            assert_eq!(ones_sum(seg, ones_sum(&pseudo, 0)), 0xFFFF, "{}: frame {}: TCP checksum", case.name(), n + 1);
            if s.flags & tcp_flags::SYN != 0 {
                isn.insert(s.flow, s.seq.wrapping_add(1));
            } else if !s.payload.is_empty() {
                let base = isn[&s.flow];
                let pos = u64::from(s.seq.wrapping_sub(base));
                streams.entry(s.flow).or_default().push((pos, s.payload.to_vec()));
            }
        }
        let b = messy::build(case, &apps);
        let server_addr = if case == Case::Loopback { [10, 40, 0, 1] } else { [10, 40, 0, 2] };
        for app in &apps {
            let client = Endpoint::new([10, 40, 0, 1], app.client_port);
            let server = Endpoint::new(server_addr, app.server_port);
            for (client, flow) in [(true, Flow::new(client, server)), (false, Flow::new(server, client))] {
                let want: Vec<u8> = app.writes.iter().filter(|w| w.0 == client).flat_map(|w| w.1.clone()).collect();
                let base = b.starts.iter().find(|s| s.0 == (flow.src.port, flow.dst.port)).map_or(0, |s| s.1);
                let want = &want[base as usize..];
                let mut got = vec![None; want.len()];
                for (pos, bytes) in streams.get(&flow).into_iter().flatten() {
                    for (i, &byte) in bytes.iter().enumerate() {
                        let slot = got.get_mut(*pos as usize + i).expect("a byte past the stream's end");
                        assert!(slot.is_none(), "{}: {flow:?}: byte {} written twice", case.name(), *pos as usize + i);
                        *slot = Some(byte);
                    }
                }
                let written = got.iter().flatten().count();
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(g.is_none() || *g == Some(*w), "{}: {flow:?}: byte {i} differs", case.name());
                }
                if case.copies_only() {
                    assert_eq!(written, want.len(), "{}: {flow:?}: every byte", case.name());
                } else {
                    assert!(written * 10 > want.len() * 8, "{}: {flow:?}: {written} of {}", case.name(), want.len());
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The frames of `capture` (two passes) with a filter, as numbers.
fn count(t: &support::Target, capture: &Path, extra: &[&str], filter: &str) -> usize {
    let file = format!("{{file:{}}}", capture.display());
    let mut args = vec!["-2", "-r", file.as_str(), "-Y", filter, "-T", "fields", "-e", "frame.number"];
    args.extend_from_slice(extra);
    t.tshark(&args).stdout.lines().count()
}

#[test]
fn converted_captures_decode_as_smcdump_shows_the_originals() {
    let dir = scratch("tshark");
    let mut inputs: Vec<PathBuf> = support::CAPTURES.iter().map(|c| support::pcap(c)).collect();
    inputs.extend(messy_captures(&dir).into_iter().map(|(_, p)| p));
    let mut converted = Vec::new();
    for input in &inputs {
        let stem = input.file_stem().unwrap().to_str().unwrap();
        let output = dir.join(format!("{stem}-tcp.pcap"));
        convert(input, &output);
        converted.push((input.clone(), output));
    }
    let checks = ["-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"];
    let mut compared = 0;
    for t in support::targets().into_iter().filter(|t| t.abi == "4.0" || t.abi == "4.6") {
        for (original, tcp) in &converted {
            let name = format!("Wireshark {}: {}", t.abi, original.display());
            if count(&t, original, &[], "smcdump.stream") == 0 {
                continue;
            }
            let want = pdml::pdus(&t, original, &["-2"], &Layers::Applications);
            // smcdump puts bytes that fill an earlier hole in place (merged captures): TCP does so when told to
            // (and then waits for every hole to fill, so only where all of them do).
            let out_of_order = count(&t, original, &[], "smcdump.analysis.out_of_order") > 0;
            let reorder: &[&str] = if out_of_order { &["-o", "tcp.reassemble_out_of_order:TRUE"] } else { &[] };
            let got = pdml::pdus(&t, tcp, &[&["-2"], reorder].concat(), &Layers::Applications);
            assert_eq!(missing_from(&want.all, &got.all), [], "{name}: PDUs smcdump shows and TCP does not");
            assert_eq!(missing_from(&got.all, &want.all), [], "{name}: PDUs TCP shows and smcdump does not");
            assert_eq!(got.thrown, want.thrown, "{name}: packets where a dissector threw");
            compared += want.all.values().sum::<usize>();
            // Dump frames the converter keeps as they were (malformed ones, in bad-input.pcap) are not TCP's to judge.
            let bad = "tcp && (tcp.checksum.status == 0 || ip.checksum.status == 0)";
            assert_eq!(count(&t, tcp, &checks, bad), 0, "{name}: bad checksums");
            let holes = count(&t, original, &[], "smcdump.analysis.data_missing");
            let lost = count(&t, tcp, &[], "tcp.analysis.lost_segment");
            assert_eq!(lost, holes, "{name}: previous segment not captured, against the original's holes");
        }
    }
    assert!(compared > 1000, "{compared} PDUs compared");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_line() {
    let dir = scratch("cli");
    let help = run(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success() && text.starts_with("smcdump2tcp: rewrite an SMC dump capture as plain TCP."));
    let version = run(&["--version"]);
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("smcdump2tcp {}", env!("CARGO_PKG_VERSION")));
    // Wrong use: status 2, one line.
    let wrong = run(&["only-one-file"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&wrong.stderr), "smcdump2tcp: needs <infile> and <outfile> (see --help)\n");
    let out = dir.join("out.pcap");
    let missing = run(&["/nonexistent.pcap", out.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "smcdump2tcp: /nonexistent.pcap: No such file or directory (os error 2)\n"
    );
    // A truncated capture: what is there, converted, and said.
    let whole = std::fs::read(support::pcap("http-smcr.pcap")).unwrap();
    let cut = dir.join("cut.pcap");
    // Cut 20 bytes into the last (15th) record: 14 whole packets remain.
    let mut starts = vec![];
    let mut at = 24;
    while at < whole.len() {
        starts.push(at);
        at += 16 + u32::from_le_bytes(whole[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    assert_eq!(starts.len(), 15);
    std::fs::write(&cut, &whole[..starts[14] + 20]).unwrap();
    let r = run(&[cut.to_str().unwrap(), out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(stderr.lines().last().is_some_and(|l| l.contains("cut short after 14 packets")), "{stderr}");
    // The summary.
    let r = run(&[support::pcap("http-smcr.pcap").to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&r.stderr),
        "smcdump2tcp: 15 packets read (15 dump frames), 16 written; 1 SMC connection as TCP (1 with a synthesized \
         handshake), 148 bytes client to server, 20110 bytes back; 0 holes (0 bytes not in the capture); 0 copies \
         written once; 0 TCP segments of the connections replaced\n"
    );
    // --only-smc: conns.pcap's declined handshakes and fallback HTTP are left out.
    let only = dir.join("only.pcap");
    assert!(run(&["-q", "--only-smc", support::pcap("conns.pcap").to_str().unwrap(), only.to_str().unwrap()])
        .status
        .success());
    let ports: Vec<u16> = read_capture(&only)
        .1
        .iter()
        .filter_map(|(f, _)| tcp_segment_in(f))
        .map(|s| s.flow.src.port.min(s.flow.dst.port))
        .collect();
    assert!(ports.iter().all(|p| [6379, 3306, 8080].contains(p)), "{ports:?}");
    assert!(ports.contains(&6379) && ports.contains(&8080));
    // pcapng: each interface kept, and every packet made from a dump frame names it.
    let ng = dir.join("out.pcapng");
    assert!(run(&["-q", support::pcap("sll2.pcapng").to_str().unwrap(), ng.to_str().unwrap()]).status.success());
    let t = &support::targets()[0];
    let file = format!("{{file:{}}}", ng.display());
    let out = t.tshark(&["-r", &file, "-T", "fields", "-e", "frame.protocols", "-e", "frame.comment"]).stdout;
    let made: Vec<&str> = out.lines().filter(|l| l.contains("smcdump2tcp: from dump frame")).collect();
    assert!(made.len() > 10, "{out}");
    assert!(out.lines().all(|l| l.starts_with("sll:")), "every packet keeps its interface's link type: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}
