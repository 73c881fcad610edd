//! smcdump2tcp (issue 20) judged by TCP tools that know nothing of SMC: its output of a dump capture, read by
//! - tcpflow (the host's, Debian's `tcpflow`): each direction of every SMC connection of every input (seven
//!   captures of test-pcaps/, the seven messy cases of tests/support/messy.rs: 52 connections) reconstructs
//!   byte for byte to what smcdump's Follow (`-z follow,smcdump,yaml,N`, the raw mode's bytes with their frames)
//!   shows for the original, a hole as the zeros tcpflow fills it with, after the CLC handshake the connection's
//!   own TCP carried (the converter keeps it, and the SMC data continues its sequence space); the same conversion
//!   written as pcapng reads in tshark, every packet it made naming its dump frame in a comment;
//! - Suricata (trixie's 7.0, in the trixie chroot, installed there with apt when missing; as root): its HTTP
//!   transactions (client port, method, URL, status) are exactly those smcdump decodes from the original.
//!
//! The original's view is the host's tshark with the plugin, in two passes (a cooked capture without the handshake
//! needs them: in one, the first dump frame of a flow goes to its port's UDP dissector, see README "Link types");
//! the converter is the release build of `smcdump2tcp`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::messy::{self, Case};

/// An input: a capture of test-pcaps/, or a messy case of tests/support/messy.rs.
#[derive(Clone, Copy, Debug)]
enum Input {
    Pcap(&'static str),
    Messy(Case),
}

impl Input {
    fn name(self) -> String {
        match self {
            Input::Pcap(name) => name.trim_end_matches(".pcap").to_string(),
            Input::Messy(case) => format!("messy-{}", case.name()),
        }
    }

    /// The capture, written into `dir` for a messy case.
    fn path(self, dir: &Path) -> PathBuf {
        match self {
            Input::Pcap(name) => support::pcap(name),
            Input::Messy(case) => {
                let path = dir.join(format!("{}.pcap", self.name()));
                let built = messy::build(case, &messy::apps());
                messy::write(&path, built.link, &built.smc);
                path
            }
        }
    }
}

/// The inputs tcpflow reads converted, with the number of SMC connections (smcdump streams) each holds.
const TCPFLOW_INPUTS: [(Input, usize); 14] = [
    (Input::Pcap("http-smcr.pcap"), 1),
    (Input::Pcap("http-smcd.pcap"), 1),
    (Input::Pcap("pgsql.pcap"), 1),
    (Input::Pcap("sample.pcap"), 1),
    (Input::Pcap("conns.pcap"), 3),
    (Input::Pcap("smcr.pcap"), 2),
    (Input::Pcap("sll.pcap"), 8),
    (Input::Messy(Case::HoleEachDirection), 5),
    (Input::Messy(Case::Loopback), 5),
    (Input::Messy(Case::Merged), 5),
    // The other messy cases, as cheap to check.
    (Input::Messy(Case::HoleAcrossWrap), 5),
    (Input::Messy(Case::Duplicated), 5),
    (Input::Messy(Case::MidConnection), 5),
    (Input::Messy(Case::StrayFirst), 5),
];

/// The inputs Suricata reads converted, with the number of HTTP transactions smcdump decodes from each.
const SURICATA_INPUTS: [(Input, usize); 7] = [
    (Input::Pcap("http-smcr.pcap"), 2),
    (Input::Pcap("http-smcd.pcap"), 2),
    // Its HTTP connection lost a request and its response (the hole of each direction): 11 of 12 remain.
    (Input::Messy(Case::HoleEachDirection), 11),
    // Every byte once or more: the copies written once.
    (Input::Messy(Case::Loopback), 12),
    (Input::Messy(Case::Merged), 12),
    (Input::Messy(Case::Duplicated), 12),
    (Input::Messy(Case::StrayFirst), 12),
    // Not here, as the tools tell a different story of the same bytes: HoleAcrossWrap loses the end of the body of
    // the response to /item/5, which Wireshark's HTTP then never shows (it waits for the whole body) while Suricata
    // logs its status from the header; MidConnection starts with a response, which Suricata logs as a transaction
    // of URL "/libhtp::request_uri_not_seen" and no method.
];

/// A fresh, empty folder for this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smcdump-export-tools-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// smcdump2tcp, built (release) once per test binary; cargo makes it a no-op when fresh.
fn converter() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let repo = support::repo();
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "smcdump2tcp", "--quiet"])
            .current_dir(&repo)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building smcdump2tcp failed");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), |d| repo.join(d));
        target.join("release/smcdump2tcp")
    })
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Converts `input` into `output` (its format from the name), quietly: any stderr text fails.
fn convert(input: &Path, output: &Path) {
    let o = Command::new(converter()).arg("-q").arg(input).arg(output).output().expect("run smcdump2tcp");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "smcdump2tcp {} {}: {}\n{}",
        input.display(),
        output.display(),
        o.status,
        text(&o)
    );
}

/// The host's release, whose tshark shows the originals.
fn host() -> support::Target {
    support::targets().swap_remove(0)
}

fn tshark_file(path: &Path) -> String {
    format!("{{file:{}}}", path.display())
}

/// An IPv4 endpoint.
type Node = (Ipv4Addr, u16);

fn node(text: &str) -> Node {
    let (addr, port) = text.rsplit_once(':').unwrap_or_else(|| panic!("not address:port: {text:?}"));
    (addr.parse().unwrap_or_else(|e| panic!("{addr:?}: {e}")), port.parse().unwrap_or_else(|e| panic!("{port:?}: {e}")))
}

/// Follow's hole text: `[K bytes missing in capture file]` and a NUL.
fn missing(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.strip_prefix('[')?.strip_suffix(" bytes missing in capture file]\0")?.parse().ok()
}

/// Standard base64, as Follow's YAML writes data (padded, no line breaks inside a line).
fn unbase64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {text:?}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    out
}

/// One stream as Follow (YAML) shows it: its two peers, and its chunks in the order shown: (frame, peer, bytes).
#[derive(Debug, Default)]
struct Shown {
    peers: Vec<Node>,
    chunks: Vec<(u32, usize, Vec<u8>)>,
}

/// The endpoints of a connection, the lower first.
fn ends(a: Node, b: Node) -> (Node, Node) {
    (a.min(b), a.max(b))
}

/// Streams `streams` of follower `proto` (smcdump, tcp) of `capture` as Follow shows them, in one tshark run (two
/// passes), by stream: the YAML names no stream, so each is found by its peers (`by_ends`), and every frame
/// shown must be of it (`stream_of`).
fn follow(
    t: &support::Target,
    capture: &Path,
    proto: &str,
    streams: &BTreeSet<u32>,
    by_ends: &BTreeMap<(Node, Node), u32>,
    stream_of: impl Fn(u32) -> Option<u32>,
) -> BTreeMap<u32, Shown> {
    if streams.is_empty() {
        return BTreeMap::new();
    }
    let mut args = vec!["-2".to_string(), "-r".into(), tshark_file(capture), "-q".into()];
    for s in streams {
        args.extend(["-z".to_string(), format!("follow,{proto},yaml,{s}")]);
    }
    let out = t.tshark(&args.iter().map(String::as_str).collect::<Vec<_>>()).stdout;
    let mut blocks: Vec<Shown> = Vec::new();
    let mut host = None;
    let mut data = String::new();
    let flush = |blocks: &mut Vec<Shown>, data: &mut String| {
        if let Some(chunk) = blocks.last_mut().and_then(|b| b.chunks.last_mut()) {
            if chunk.2.is_empty() && !data.is_empty() {
                chunk.2 = unbase64(data);
            }
        }
        data.clear();
    };
    for line in out.lines() {
        let item = line.trim_start().trim_start_matches("- ");
        if line == "peers:" {
            flush(&mut blocks, &mut data);
            blocks.push(Shown::default());
        } else if let Some(b64) = line.strip_prefix("      ") {
            data.push_str(b64.trim());
        } else if let Some(h) = item.strip_prefix("host: ") {
            host = Some(h.to_string());
        } else if let Some(p) = item.strip_prefix("port: ") {
            let h = host.take().unwrap_or_else(|| panic!("{}: a port without a host", capture.display()));
            blocks.last_mut().expect("peers: first").peers.push(node(&format!("{h}:{p}")));
        } else if let Some(n) = item.strip_prefix("packet: ") {
            flush(&mut blocks, &mut data);
            let n = n.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            blocks.last_mut().expect("peers: first").chunks.push((n, usize::MAX, Vec::new()));
        } else if let Some(p) = item.strip_prefix("peer: ") {
            let p = p.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
            if let Some(chunk) = blocks.last_mut().and_then(|b| b.chunks.last_mut()) {
                chunk.1 = p;
            }
        }
    }
    flush(&mut blocks, &mut data);
    let mut all = BTreeMap::new();
    for b in blocks {
        assert_eq!(b.peers.len(), 2, "{}: Follow's peers: {b:?}", capture.display());
        let stream = *by_ends
            .get(&ends(b.peers[0], b.peers[1]))
            .unwrap_or_else(|| panic!("{}: Follow ({proto}) of no stream: {:?}", capture.display(), b.peers));
        let strays: Vec<u32> = b.chunks.iter().map(|c| c.0).filter(|&n| stream_of(n) != Some(stream)).collect();
        assert!(strays.is_empty(), "{}: {proto} stream {stream}: Follow shows frames {strays:?}", capture.display());
        assert!(b.chunks.iter().all(|c| c.1 < 2), "{}: a chunk without its peer: {b:?}", capture.display());
        assert!(all.insert(stream, b).is_none(), "{}: {proto} stream {stream} followed twice", capture.display());
    }
    assert_eq!(all.keys().copied().collect::<BTreeSet<_>>(), *streams, "{}: {proto} streams", capture.display());
    all
}

/// One SMC connection, each direction's bytes at their stream positions (node 0's first), every hole as as many
/// zeros as it says are missing.
#[derive(Debug)]
struct Followed {
    nodes: [Node; 2],
    sent: [Vec<u8>; 2],
    /// Holes left (their bytes never came), and their bytes, over both directions.
    holes: usize,
    missing: u64,
    /// Chunks of bytes that filled a hole late (a copy merged from another host's capture), shown at the hole.
    filled: usize,
}

/// What Follow shows of an SMC connection, after a first pass: its chunks one after the other, a hole as zeros.
/// Every chunk goes where smcdump says it lies (`smcdump.data.next_offset`, a hole at
/// `smcdump.analysis.missing_at`), right after the one before: a frame that found a hole shows, at the hole, the
/// bytes later frames filled it with (a merged capture's), as TCP's Follow and tcpflow put a late segment in place.
fn placed(name: &str, stream: u32, shown: &Shown, frames: &BTreeMap<u32, DumpFrame>) -> Followed {
    let mut sent: [Vec<u8>; 2] = [vec![], vec![]];
    // Per position: whether Follow showed it as missing.
    let mut hole: [Vec<bool>; 2] = [vec![], vec![]];
    let mut filled = 0;
    for (n, peer, bytes) in &shown.chunks {
        let at = format!("{name}: stream {stream}: Follow's chunk from frame {n}");
        let frame = frames.get(n).unwrap_or_else(|| panic!("{at}: not a dump frame"));
        let (s, h) = (&mut sent[*peer], &mut hole[*peer]);
        let end = s.len() as u64;
        let in_hole = frame.hole.filter(|&(hole_at, hole_len)| end >= hole_at && end < hole_at + hole_len);
        if let Some(k) = missing(bytes) {
            let (hole_at, hole_len) = in_hole.unwrap_or_else(|| panic!("{at}: {k} missing after {end} bytes shown"));
            assert!(end + k <= hole_at + hole_len, "{at}: {k} missing after {end}, past the hole {hole_at}+{hole_len}");
            s.resize(s.len() + k as usize, 0);
            h.resize(s.len(), true);
            continue;
        }
        if let Some((hole_at, hole_len)) = in_hole {
            let len = bytes.len() as u64;
            assert!(end + len <= hole_at + hole_len, "{at}: {len} filling bytes after {end}, past the hole");
            s.extend_from_slice(bytes);
            h.resize(s.len(), false);
            filled += 1;
            continue;
        }
        let (offset, next) = frame.offsets.unwrap_or_else(|| panic!("{at}: data without stream offsets"));
        let len = bytes.len() as u64;
        assert!(len <= next - offset, "{at}: {len} bytes of a frame of {}", next - offset);
        // A frame that repeats bytes before its new ones shows the new ones: its last.
        assert_eq!(next - len, end, "{at}: bytes {}..{next} after {end} bytes shown", next - len);
        s.extend_from_slice(bytes);
        h.resize(s.len(), false);
    }
    let mut holes = (0, 0);
    for h in &hole {
        holes.0 += h.iter().enumerate().filter(|&(i, &x)| x && (i == 0 || !h[i - 1])).count();
        holes.1 += h.iter().filter(|&&x| x).count() as u64;
    }
    Followed { nodes: [shown.peers[0], shown.peers[1]], sent, holes: holes.0, missing: holes.1, filled }
}

/// A dump frame of a capture, as smcdump shows it (two passes).
#[derive(Debug)]
struct DumpFrame {
    stream: u32,
    /// Its flow: (source, destination).
    flow: (Node, Node),
    data_len: usize,
    copy_of: bool,
    /// Where its data lies in its direction's stream: (first byte, after the last).
    offsets: Option<(u64, u64)>,
    /// The hole found before it: (stream offset, length).
    hole: Option<(u64, u64)>,
}

/// Every dump frame of `capture`, by frame number.
fn dump_frames(t: &support::Target, capture: &Path) -> BTreeMap<u32, DumpFrame> {
    let fields = ["frame.number", "smcdump.stream", "ip.src", "udp.srcport", "ip.dst", "udp.dstport"];
    let more = [
        "smcdump.data.len",
        "smcdump.analysis.copy_of",
        "smcdump.data.stream_offset",
        "smcdump.data.next_offset",
        "smcdump.analysis.missing_at",
        "smcdump.analysis.missing",
    ];
    let mut args = vec!["-2", "-r"];
    let file = tshark_file(capture);
    args.extend([file.as_str(), "-Y", "smcdump", "-T", "fields"]);
    for f in fields.iter().chain(&more) {
        args.extend(["-e", f]);
    }
    let out = t.tshark(&args).stdout;
    let mut frames = BTreeMap::new();
    for line in out.lines() {
        let v: Vec<&str> = line.split('\t').collect();
        assert_eq!(v.len(), fields.len() + more.len(), "{}: {line:?}", capture.display());
        if v[1].is_empty() {
            // Of no connection (a stray frame).
            continue;
        }
        let num = |s: &str| s.parse::<u64>().unwrap_or_else(|e| panic!("{}: {line:?}: {e}", capture.display()));
        let pair = |a: &str, b: &str| (!a.is_empty()).then(|| (num(a), num(b)));
        let endpoint = |a: &str, p: &str| node(&format!("{a}:{p}"));
        let frame = DumpFrame {
            stream: num(v[1]) as u32,
            flow: (endpoint(v[2], v[3]), endpoint(v[4], v[5])),
            data_len: if v[6].is_empty() { 0 } else { num(v[6]) as usize },
            copy_of: !v[7].is_empty(),
            offsets: pair(v[8], v[9]),
            hole: pair(v[10], v[11]),
        };
        frames.insert(num(v[0]) as u32, frame);
    }
    frames
}

/// The TCP conversations of `capture` (its own segments: handshakes, CLC, plain TCP): `tcp.stream` by endpoints
/// (the lower first), and by frame.
type Conversations = (BTreeMap<(Node, Node), u32>, BTreeMap<u32, u32>);

fn tcp_conversations(t: &support::Target, capture: &Path) -> Conversations {
    let file = tshark_file(capture);
    let fields = ["frame.number", "tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"];
    let mut args = vec!["-2", "-r", &file, "-Y", "tcp", "-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let (mut by_ends, mut by_frame) = (BTreeMap::new(), BTreeMap::new());
    for line in t.tshark(&args).stdout.lines() {
        let v: Vec<&str> = line.split('\t').collect();
        assert_eq!(v.len(), fields.len(), "{}: {line:?}", capture.display());
        let num = |s: &str| s.parse::<u32>().unwrap_or_else(|e| panic!("{}: {line:?}: {e}", capture.display()));
        let (frame, stream) = (num(v[0]), num(v[1]));
        let (a, b) = (node(&format!("{}:{}", v[2], v[3])), node(&format!("{}:{}", v[4], v[5])));
        let previous = by_ends.insert(ends(a, b), stream);
        let reused = matches!(previous, Some(p) if p != stream);
        assert!(!reused, "{}: two TCP streams between {a:?} and {b:?}", capture.display());
        by_frame.insert(frame, stream);
    }
    (by_ends, by_frame)
}

/// tcpflow's name for the direction `from` -> `to`: `%A.%a-%B.%b`, octets padded to 3 digits and ports to 5.
fn tcpflow_name(from: Node, to: Node) -> String {
    let one = |(a, p): Node| {
        let [w, x, y, z] = a.octets();
        format!("{w:03}.{x:03}.{y:03}.{z:03}.{p:05}")
    };
    format!("{}-{}", one(from), one(to))
}

/// Where two byte strings first differ, to say so without printing either whole.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

fn tool_on_path(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// Each input converted to pcap and read by tcpflow: every direction of every SMC connection is what Follow shows
/// of the original, holes as zeros; converted to pcapng, tshark reads it and every packet made from a dump frame
/// names it.
#[test]
fn tcpflow_reconstructs_every_smc_stream() {
    if !tool_on_path("tcpflow") {
        return support::skip("tcpflow is not installed (scripts/setup --test installs it)");
    }
    let t = host();
    let dir = scratch("tcpflow");
    // A packet's comments: the field `frame.comment` on every release of releases.tsv (3.4 to 4.6; `pkt_comment`
    // is the protocol holding it); checked, so that a release without it fails here rather than as "no comment".
    let comment = "frame.comment";
    assert!(t.tshark(&["-G", "fields"]).stdout.contains("\tframe.comment\t"), "Wireshark {}: no {comment}", t.abi);
    let mut compared = 0;
    let mut with_clc = 0;
    let mut bytes = 0;
    let mut holes = (0, 0);
    let mut filled = 0;
    for (input, want_streams) in TCPFLOW_INPUTS {
        let name = input.name();
        let original = input.path(&dir);
        let frames = dump_frames(&t, &original);
        let streams: BTreeSet<u32> = frames.values().map(|f| f.stream).collect();
        assert_eq!(streams.len(), want_streams, "{name}: SMC connections (smcdump streams): {streams:?}");
        let mut by_ends = BTreeMap::new();
        for f in frames.values() {
            let previous = by_ends.insert(ends(f.flow.0, f.flow.1), f.stream);
            assert!(!matches!(previous, Some(p) if p != f.stream), "{name}: two SMC connections on {:?}", f.flow);
        }
        let shown = follow(&t, &original, "smcdump", &streams, &by_ends, |n| frames.get(&n).map(|f| f.stream));
        let mut followed: BTreeMap<u32, Followed> =
            shown.iter().map(|(&s, shown)| (s, placed(&name, s, shown, &frames))).collect();
        // A connection's own TCP segments (handshake, CLC) are kept, and its SMC data continues their sequence
        // space: its TCP stream is what the original's TCP carried (the CLC messages), then the SMC data.
        let (conversations, tcp_frames) = tcp_conversations(&t, &original);
        let own = |f: &Followed| {
            let [a, b] = f.nodes;
            conversations.get(&ends(a, b)).copied()
        };
        let tcp_streams: BTreeSet<u32> = followed.values().filter_map(own).collect();
        let tcp = follow(&t, &original, "tcp", &tcp_streams, &conversations, |n| tcp_frames.get(&n).copied());
        for f in followed.values_mut() {
            let Some(before) = own(f).map(|s| &tcp[&s]) else { continue };
            assert!(before.chunks.iter().all(|c| missing(&c.2).is_none()), "{name}: a hole in the TCP before SMC");
            for side in 0..2 {
                let chunks = before.chunks.iter().filter(|c| before.peers[c.1] == f.nodes[side]);
                f.sent[side].splice(0..0, chunks.flat_map(|c| c.2.iter().copied()));
            }
            with_clc += usize::from(!before.chunks.is_empty());
        }

        let converted = dir.join(format!("{name}-tcp.pcap"));
        convert(&original, &converted);
        let out = dir.join(format!("{name}-tcpflow"));
        fs::create_dir(&out).unwrap_or_else(|e| panic!("create {}: {e}", out.display()));
        let o = Command::new("tcpflow").arg("-r").arg(&converted).arg("-o").arg(&out).output().expect("run tcpflow");
        let said = String::from_utf8_lossy(&o.stderr);
        let complaints: Vec<&str> = said.lines().filter(|l| !l.starts_with("reportfilename:")).collect();
        assert!(o.status.success() && complaints.is_empty(), "{name}: tcpflow: {}\n{}", o.status, text(&o));
        let files: BTreeSet<String> = fs::read_dir(&out)
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
            .map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned())
            .filter(|f| f != "report.xml")
            .collect();

        for (stream, f) in &followed {
            for side in 0..2 {
                let file = tcpflow_name(f.nodes[side], f.nodes[1 - side]);
                // A direction that carried nothing gets no file.
                let got = match fs::read(out.join(&file)) {
                    Ok(bytes) => bytes,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(e) => panic!("{name}: {file}: {e}"),
                };
                let want = &f.sent[side];
                bytes += want.len();
                let at = first_difference(&got, want);
                assert!(
                    got == *want,
                    "{name}: stream {stream}, {file}: tcpflow wrote {} bytes, Follow shows {}; first difference at \
                     byte {at}: {:?} vs {:?}",
                    got.len(),
                    want.len(),
                    String::from_utf8_lossy(&got[at..got.len().min(at + 40)]),
                    String::from_utf8_lossy(&want[at..want.len().min(at + 40)]),
                );
                // The connection split into more files (`…c1`: a second connection, or a skip of 16 MB) would
                // leave bytes out of the comparison.
                let more: Vec<&String> = files.iter().filter(|n| n.starts_with(&file) && **n != file).collect();
                assert!(more.is_empty(), "{name}: stream {stream}: tcpflow split {file}: {more:?}");
            }
            compared += 1;
            holes.0 += f.holes;
            holes.1 += f.missing;
            filled += f.filled;
        }

        pcapng_names_dump_frames(&t, comment, &name, &original, &frames, &dir);
    }
    let want: usize = TCPFLOW_INPUTS.iter().map(|(_, n)| n).sum();
    assert_eq!(compared, want, "SMC connections compared");
    // The messy hole case loses one data frame of each direction of each of its 5 connections, the hole-across-
    // wrap case one of each direction of one; the merged case's one lost frame is in the other host's capture.
    assert_eq!(holes.0, 12, "holes compared: {holes:?}");
    // The merged case's lost frame (of the DNS connection) comes late from the other host: one chunk.
    assert_eq!(filled, 1, "late bytes shown at their hole");
    eprintln!(
        "tcpflow: {compared} SMC connections ({with_clc} after their CLC handshake), both directions, {bytes} bytes; \
         {} holes ({} bytes) as zeros; {filled} chunks of late bytes Follow shows at their hole",
        holes.0, holes.1
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The pcapng output: tshark reads it (no stderr), and every packet not copied from the input carries a comment:
/// the synthesized handshake's, or `smcdump2tcp: from dump frame N` naming a dump frame of the same flow (data
/// from a frame that holds data); copied packets carry none; every dump frame bringing new data is named.
fn pcapng_names_dump_frames(
    t: &support::Target,
    comment: &str,
    name: &str,
    original: &Path,
    frames: &BTreeMap<u32, DumpFrame>,
    dir: &Path,
) {
    let converted = dir.join(format!("{name}-tcp.pcapng"));
    convert(original, &converted);
    let fields = [comment, "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.len"];
    let mut args = vec!["-r".to_string(), tshark_file(&converted), "-T".into(), "fields".into()];
    for f in fields {
        args.extend(["-e".to_string(), f.to_string()]);
    }
    let out = t.tshark(&args.iter().map(String::as_str).collect::<Vec<_>>()).stdout;
    let shown: Vec<Vec<String>> = out.lines().map(|l| l.split('\t').map(String::from).collect()).collect();

    let input_packets = packets(original);
    let output_packets = packets(&converted);
    assert_eq!(shown.len(), output_packets.len(), "{name}: packets tshark shows of the pcapng");
    let copies: BTreeSet<&Vec<u8>> = input_packets.iter().collect();
    let mut named = BTreeSet::new();
    for (i, (bytes, v)) in output_packets.iter().zip(&shown).enumerate() {
        let at = format!("{name}: pcapng packet {}", i + 1);
        assert_eq!(v.len(), fields.len(), "{at}: {v:?}");
        if copies.contains(bytes) {
            assert_eq!(v[0], "", "{at}: copied from the input, yet commented");
            continue;
        }
        if v[0].starts_with("smcdump2tcp: synthesized handshake") {
            assert_eq!(v[5], "0", "{at}: a synthesized handshake carries no data: {v:?}");
            continue;
        }
        let n: u32 = v[0]
            .strip_prefix("smcdump2tcp: from dump frame ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{at}: made by the converter, but its comment is {:?}", v[0]));
        let frame = frames.get(&n).unwrap_or_else(|| panic!("{at}: names frame {n}, not a dump frame"));
        let flow = (node(&format!("{}:{}", v[1], v[2])), node(&format!("{}:{}", v[3], v[4])));
        assert_eq!(flow, frame.flow, "{at}: its flow is not that of dump frame {n}");
        let len: usize = v[5].parse().unwrap_or_else(|e| panic!("{at}: tcp.len {:?}: {e}", v[5]));
        assert!(len <= frame.data_len, "{at}: {len} data bytes from dump frame {n}, which holds {}", frame.data_len);
        if len > 0 {
            named.insert(n);
        }
    }
    let new_data: BTreeSet<u32> =
        frames.iter().filter(|(_, f)| f.data_len > 0 && !f.copy_of).map(|(&n, _)| n).collect();
    assert!(!new_data.is_empty(), "{name}: no dump frame with data");
    let unnamed: Vec<&u32> = new_data.difference(&named).collect();
    assert!(unnamed.is_empty(), "{name}: dump frames with new data no data segment names: {unnamed:?}");
}

/// Every packet's bytes of a pcap or pcapng file, in order.
fn packets(path: &Path) -> Vec<Vec<u8>> {
    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    if bytes.starts_with(&[0x0A, 0x0D, 0x0D, 0x0A]) {
        let mut r = PcapNgReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        while let Some(block) = r.next_block() {
            match block.unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
                Block::EnhancedPacket(p) => out.push(p.data.into_owned()),
                Block::SimplePacket(p) => out.push(p.data.into_owned()),
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        while let Some(p) = r.next_packet() {
            out.push(p.unwrap_or_else(|e| panic!("{}: {e}", path.display())).data.into_owned());
        }
    }
    out
}

/// A JSON value (eve.json's lines), read by the little parser below: the suite has no JSON crate.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser { b: text.as_bytes(), i: 0 };
        let v = p.value()?;
        p.space();
        if p.i != p.b.len() {
            return Err(format!("trailing text at {}", p.i));
        }
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn space(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), String> {
        if self.b[self.i..].starts_with(s.as_bytes()) {
            self.i += s.len();
            Ok(())
        } else {
            Err(format!("expected {s:?} at {}", self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.space();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.space();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.space();
                    self.expect(":")?;
                    members.push((key, self.value()?));
                    self.space();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(members));
                        }
                        _ => return Err(format!("expected , or }} at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.space();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("expected , or ] at {}", self.i)),
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.expect("true").map(|()| Json::Bool(true)),
            Some(b'f') => self.expect("false").map(|()| Json::Bool(false)),
            Some(b'n') => self.expect("null").map(|()| Json::Null),
            Some(_) => {
                let start = self.i;
                while self.b.get(self.i).is_some_and(|c| b"+-.eE0123456789".contains(c)) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|e| e.to_string())?;
                text.parse().map(Json::Num).map_err(|e| format!("{text:?} at {start}: {e}"))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.b.get(self.i..self.i + 4).ok_or("a short \\u escape")?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(digits).map_err(|e| e.to_string())?, 16).map_err(|e| e.to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect("\"")?;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i).ok_or("an unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or("an unterminated escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                self.expect("\\u")?;
                                code = 0x10000 + ((code - 0xD800) << 10) + (self.hex4()? - 0xDC00);
                            }
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(format!("escape \\{} at {}", e as char, self.i)),
                    };
                    out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.push(c),
            }
        }
    }
}

/// An HTTP transaction: the client's port, method, URL and the response's status (none: no response).
type Transaction = (u16, String, String, Option<u16>);

/// The HTTP transactions smcdump decodes from `capture` (two passes), sorted: each connection's requests paired
/// with its responses in order, as Suricata logs one event per transaction.
fn smcdump_transactions(t: &support::Target, capture: &Path) -> Vec<Transaction> {
    let file = tshark_file(capture);
    let fields = ["smcdump.stream", "udp.srcport", "http.request.method", "http.request.uri", "http.response.code"];
    // Values of one field joined by a character no URI holds.
    let mut args =
        vec!["-2", "-r", &file, "-Y", "http.request || http.response", "-T", "fields", "-E", "aggregator=\u{1}"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = t.tshark(&args).stdout;
    // Per stream: (client port, method, URL) of the requests, and the statuses, in order.
    type Request = (u16, String, String);
    let mut streams: BTreeMap<u32, (Vec<Request>, Vec<u16>)> = BTreeMap::new();
    for line in out.lines() {
        let v: Vec<&str> = line.split('\t').collect();
        assert_eq!(v.len(), fields.len(), "{}: {line:?}", capture.display());
        let values = |i: usize| v[i].split('\u{1}').filter(|s| !s.is_empty()).collect::<Vec<_>>();
        let stream: u32 = v[0].parse().unwrap_or_else(|e| panic!("{}: {line:?}: {e}", capture.display()));
        let port: u16 = v[1].parse().unwrap_or_else(|e| panic!("{}: {line:?}: {e}", capture.display()));
        let (methods, uris, codes) = (values(2), values(3), values(4));
        assert_eq!(methods.len(), uris.len(), "{}: {line:?}", capture.display());
        let s = streams.entry(stream).or_default();
        s.0.extend(methods.iter().zip(&uris).map(|(m, u)| (port, m.to_string(), u.to_string())));
        s.1.extend(codes.iter().map(|c| c.parse::<u16>().unwrap_or_else(|e| panic!("{line:?}: {e}"))));
    }
    let mut all = Vec::new();
    for (stream, (requests, statuses)) in streams {
        assert!(
            statuses.len() <= requests.len(),
            "{}: stream {stream}: more responses than requests",
            capture.display()
        );
        let mut statuses = statuses.into_iter();
        all.extend(requests.into_iter().map(|(port, method, url)| (port, method, url, statuses.next())));
    }
    all.sort();
    all
}

/// The HTTP transactions of Suricata's eve.json, sorted.
fn eve_transactions(eve: &str) -> Vec<Transaction> {
    let mut all = Vec::new();
    for line in eve.lines() {
        let event = Json::parse(line).unwrap_or_else(|e| panic!("eve.json: {e}: {line}"));
        if event.get("event_type").and_then(Json::str) != Some("http") {
            continue;
        }
        let field = |name: &str| event.get("http").and_then(|h| h.get(name));
        let text = |name: &str| field(name).and_then(Json::str).unwrap_or_else(|| panic!("no {name}: {line}"));
        let port = match event.get("src_port") {
            Some(Json::Num(p)) => *p as u16,
            _ => panic!("no src_port: {line}"),
        };
        let status = match field("status") {
            None => None,
            Some(Json::Num(s)) => Some(*s as u16),
            Some(other) => panic!("status {other:?}: {line}"),
        };
        all.push((port, text("http_method").to_string(), text("url").to_string(), status));
    }
    all.sort();
    all
}

/// The trixie chroot with Suricata installed (apt, when missing), or None (skipped) when it cannot be had.
fn suricata_chroot() -> Option<PathBuf> {
    if !support::is_root() {
        support::skip("Suricata: needs root (it runs in the trixie chroot, and apt installs it there)");
        return None;
    }
    let root = support::chroot_dir().join("trixie");
    if !root.join("usr/bin/tshark").exists() {
        support::skip(&format!("Suricata: no trixie chroot at {} (scripts/ensure-chroot trixie)", root.display()));
        return None;
    }
    if root.join("usr/bin/suricata").exists() {
        return Some(root);
    }
    let apt = |args: &[&str]| {
        Command::new("chroot")
            .arg(&root)
            .args(["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"])
            .args(["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600"])
            .args(args)
            .output()
            .expect("run apt-get in the trixie chroot")
    };
    let install = ["install", "-y", "--no-install-recommends", "suricata"];
    eprintln!("Suricata: installing it into {} with apt", root.display());
    let mut o = apt(&install);
    if !o.status.success() {
        // The chroot's package lists may be older than the mirror's files.
        let update = apt(&["update"]);
        o = if update.status.success() { apt(&install) } else { update };
    }
    if !o.status.success() || !root.join("usr/bin/suricata").exists() {
        support::skip(&format!("Suricata: apt-get install suricata failed in {}:\n{}", root.display(), text(&o)));
        return None;
    }
    Some(root)
}

/// Each converted capture read by Suricata (trixie's 7.0, offline, no rules): its HTTP events are exactly the
/// transactions smcdump decodes from the original: the messy hole case's included (Suricata, like smcdump, goes on
/// after the gap: the lost request and response are the one transaction missing from both), and those of the
/// messy captures holding bytes twice (each once in Suricata's too).
#[test]
fn suricata_logs_the_http_smcdump_decodes() {
    let Some(root) = suricata_chroot() else { return };
    let t = host();
    let dir = scratch("suricata");
    // Suricata's files, inside the chroot.
    let inner = PathBuf::from(format!("/tmp/smcdump-export-tools-{}", std::process::id()));
    let work = root.join(inner.strip_prefix("/").expect("absolute"));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).unwrap_or_else(|e| panic!("create {}: {e}", work.display()));
    for (input, want_count) in SURICATA_INPUTS {
        let name = input.name();
        let original = input.path(&dir);
        let want = smcdump_transactions(&t, &original);
        assert_eq!(want.len(), want_count, "{name}: HTTP transactions smcdump decodes: {want:?}");
        let converted = work.join(format!("{name}.pcap"));
        convert(&original, &converted);
        let log = work.join(format!("{name}-log"));
        fs::create_dir(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let o = Command::new("chroot")
            .arg(&root)
            .args(["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "suricata", "-r"])
            .arg(inner.join(format!("{name}.pcap")))
            .arg("-l")
            .arg(inner.join(format!("{name}-log")))
            // No checksum checks, no rules, no unix socket; the whole of each stream inspected.
            .args(["-k", "none", "-S", "/dev/null", "--set", "unix-command.enabled=no"])
            .args(["--set", "stream.reassembly.depth=0"])
            .output()
            .expect("run suricata in the trixie chroot");
        // Its exit code says little (an unreadable capture exits 0): what it read and logged says.
        let said = text(&o);
        let read = format!("read 1 file, {} packets", packets(&converted).len());
        assert!(o.status.success() && said.contains(&read), "{name}: Suricata did not say {read:?}:\n{said}");
        let errors: Vec<&str> = said.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:")).collect();
        assert!(errors.is_empty(), "{name}: Suricata complained:\n{said}");
        let eve = fs::read_to_string(log.join("eve.json")).unwrap_or_else(|e| panic!("{name}: eve.json: {e}"));
        let got = eve_transactions(&eve);
        assert_eq!(got, want, "{name}: Suricata's HTTP transactions (client port, method, URL, status), smcdump's");
        eprintln!("Suricata: {name}: {} HTTP transactions, as smcdump decodes them", got.len());
    }
    let _ = fs::remove_dir_all(&work);
    let _ = fs::remove_dir_all(&dir);
}
