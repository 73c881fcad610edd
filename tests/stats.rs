//! `tshark -q -z smcdump,conn`: one row per connection, computed in the first pass, equal in one pass and two,
//! on every release; the rows' values are the generator's ground truth (examples/gen_test_pcaps.rs, conns()).
//! The same rows in the GUI's table (Statistics › SMC Connections, `-z smcdump,connections[,filter]`), counted
//! from the frames its display filter lets through.
//!
//! Regenerate the golden files deliberately with `scripts/regen-goldens` (SMCDUMP_REGEN_GOLDEN=1).

mod support;

use std::fs;
use std::path::PathBuf;

/// The statistics with golden files, test-pcaps/golden/<stem>.<name>.txt (or, where a release prints the same
/// table differently, <stem>.<name>.<release>.txt), and their `-z` arguments.
const STATS: [(&str, &str); 4] = [
    ("conn", "smcdump,conn"),
    ("connections", "smcdump,connections"),
    ("conv", "conv,smcdump"),
    ("endpoints", "endpoints,smcdump"),
];

/// The captures whose statistics have golden files.
const TABLES: [&str; 3] = ["conns.pcap", "sample.pcap", "smcr.pcap"];

fn golden(capture: &str, name: &str, abi: Option<&str>) -> PathBuf {
    let stem = capture.rsplit_once('.').map_or(capture, |(s, _)| s);
    let file = match abi {
        Some(abi) => format!("{stem}.{name}.{abi}.txt"),
        None => format!("{stem}.{name}.txt"),
    };
    support::pcap("golden").join(file)
}

fn stat(t: &support::Target, capture: &str, z: &str, two_pass: bool) -> String {
    let pcap = format!("{{pcap:{capture}}}");
    let mut args = vec!["-r", pcap.as_str(), "-q", "-z", z];
    if two_pass {
        args.insert(0, "-2");
    }
    t.tshark(&args).stdout
}

fn table(t: &support::Target, capture: &str, two_pass: bool) -> String {
    stat(t, capture, "smcdump,conn", two_pass)
}

#[test]
fn statistics_equal_their_golden_files_in_one_pass_and_two_on_every_release() {
    let regen = std::env::var_os("SMCDUMP_REGEN_GOLDEN").is_some();
    let mut targets = support::targets();
    // The host's release writes the common files first.
    targets.sort_by_key(|t| t.chroot.is_some());
    for t in targets {
        for capture in TABLES {
            for (name, z) in STATS {
                let two = stat(&t, capture, z, true);
                let own = golden(capture, name, Some(&t.abi));
                if regen {
                    let common = golden(capture, name, None);
                    if t.chroot.is_none() {
                        fs::write(&common, &two).expect("write golden");
                    } else if fs::read_to_string(&common).ok().as_deref() != Some(two.as_str()) {
                        fs::write(&own, &two).expect("write golden");
                    } else {
                        let _ = fs::remove_file(&own);
                    }
                }
                let path = if own.exists() { own } else { golden(capture, name, None) };
                let want = fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e} (scripts/regen-goldens writes it)", path.display()));
                assert_eq!(two, want, "Wireshark {} -2 -z {z}, {capture}", t.abi);
                assert_eq!(stat(&t, capture, z, false), want, "Wireshark {} one pass -z {z}, {capture}", t.abi);
            }
        }
    }
}

/// The rows of conns.pcap as the generator wrote the connections: stream, endpoints, mode, version, frames, CDCs
/// and data bytes each way, ring sizes (from the Accept and Confirm: 16384 << code), flags seen, how it ended.
const CONNS: [[&str; 14]; 6] = [
    [
        "0",
        "10.30.1.1:47001",
        "10.30.1.2:6379",
        "SMC-R",
        "v1",
        // 4 chunks of 8192, 4 CDCs (two halves, WriteBlocked, wrap), the server's consumer update, 100 bytes,
        // its CDC, the reply and its CDC, the 3 CDCs of the close.
        "15",
        "6",
        "3",
        "32868",
        "5",
        "32768",
        "16384",
        "WriteBlocked,PeerDoneWriting,PeerConnClosed",
        "closed",
    ],
    [
        "1",
        "10.30.2.1:47002",
        "10.30.2.2:3306",
        "SMC-R",
        "v1",
        "5",
        "1",
        "2",
        "300",
        "2000",
        "65536",
        "32768",
        "PeerConnAbort",
        "aborted",
    ],
    [
        "2",
        "10.30.3.1:47003",
        "10.30.3.2:8080",
        "SMC-D",
        "v1",
        "8",
        "1",
        "2",
        "80",
        "20000",
        "-",
        // No handshake: the server's ring size as the wrap of its producer cursor shows it (16 KiB less 32).
        "16352",
        "-",
        "open at capture end",
    ],
    [
        "-",
        "10.30.4.1:47004",
        "10.30.4.2:80",
        "TCP",
        "v1",
        "2",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "fell back to TCP: Decline (frame 50) 0x03030000 SMC_CLC_DECL_NOSMCDEV",
    ],
    [
        "-",
        "10.30.5.1:47005",
        "10.30.5.2:443",
        "TCP",
        "v1",
        "2",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "fell back to TCP: Decline (frame 56) 0x03070000 SMC_CLC_DECL_DIFFPREFIX",
    ],
    [
        "-",
        "10.30.6.1:47006",
        "10.30.6.2:5432",
        "SMC-R",
        "v1",
        "3",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        "SMC handshake only, no dump frames",
    ],
];

#[test]
fn conns_rows_are_the_generators_connections() {
    for t in support::targets() {
        let out = table(&t, "conns.pcap", false);
        let rows: Vec<Vec<String>> = out
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) || l.starts_with("- "))
            .map(|l| {
                // Cells are separated by two or more spaces; the last one (End) may hold single spaces.
                let cells: Vec<&str> = l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
                cells.iter().map(|c| c.to_string()).collect()
            })
            .collect();
        let want: Vec<Vec<String>> = CONNS.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(rows, want, "Wireshark {}:\n{out}", t.abi);
    }
}

/// Each SMC connection of conns.pcap is one conversation whose id is its `smcdump.stream` (the conversation table,
/// the Conversation Filter and Follow all name it so), and the filter built from it, the one Follow prints
/// (`smcdump.stream eq N`: Analyze › Conversation Filter › SMCDUMP and the Conversations dialog's Follow Stream…
/// build the same), selects exactly that connection's dump frames: as many as the generator wrote, every one
/// between its two endpoints, and every dump frame between them.
#[test]
fn each_connections_filter_selects_exactly_its_dump_frames() {
    for t in support::targets() {
        for row in CONNS.iter().filter(|r| r[0] != "-") {
            let (stream, frames) = (row[0], row[5]);
            let follow = stat(&t, "conns.pcap", &format!("follow,smcdump,ascii,{stream}"), true);
            let filter = format!("smcdump.stream eq {stream}");
            assert!(follow.lines().any(|l| l == format!("Filter: {filter}")), "Wireshark {}:\n{follow}", t.abi);
            let (a, b) = (row[1].split_once(':').unwrap(), row[2].split_once(':').unwrap());
            let between = format!(
                "smcdump && ((ip.src == {} && udp.srcport == {} && ip.dst == {} && udp.dstport == {}) || \
                 (ip.src == {} && udp.srcport == {} && ip.dst == {} && udp.dstport == {}))",
                a.0, a.1, b.0, b.1, b.0, b.1, a.0, a.1
            );
            let select = |f: &str| {
                let args = ["-2", "-r", "{pcap:conns.pcap}", "-Y", f, "-T", "fields", "-e", "frame.number"];
                t.tshark(&args).stdout.lines().map(String::from).collect::<Vec<_>>()
            };
            let chosen = select(&filter);
            assert_eq!(chosen.len().to_string(), frames, "Wireshark {}: {filter}: {chosen:?}", t.abi);
            assert_eq!(chosen, select(&between), "Wireshark {}: {filter} against the endpoints' dump frames", t.abi);
        }
    }
}

/// The rows of the table `tshark -z smcdump,connections[,filter]` prints (Wireshark's own layout, the GUI's
/// Statistics › SMC Connections): cells end with " |".
fn listener_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| l.ends_with(" |") && !l.starts_with("Stream |"))
        .map(|l| l.trim_end_matches(" |").split(" |").map(|c| c.trim_start().to_string()).collect())
        .collect()
}

/// A row of [`CONNS`] as the GUI's table holds it: counts (frames, CDCs) are numbers, 0 for none.
fn gui_row(row: &[&str; 14]) -> Vec<String> {
    let counts = 5..=7;
    row.iter().enumerate().map(|(i, c)| if counts.contains(&i) && *c == "-" { "0" } else { c }.to_string()).collect()
}

#[test]
fn the_gui_table_holds_the_generators_connections_and_counts_only_what_its_filter_lets_through() {
    for t in support::targets() {
        for two_pass in [false, true] {
            let out = stat(&t, "conns.pcap", "smcdump,connections", two_pass);
            let want: Vec<Vec<String>> = CONNS.iter().map(gui_row).collect();
            assert_eq!(listener_rows(&out), want, "Wireshark {} two passes: {two_pass}\n{out}", t.abi);
            // The aborted connection's dump frames and the first fallback's handshake, and nothing else.
            let z = "smcdump,connections,ip.addr==10.30.2.1 || ip.addr==10.30.4.1";
            let out = stat(&t, "conns.pcap", z, two_pass);
            let want = vec![gui_row(&CONNS[1]), gui_row(&CONNS[3])];
            assert_eq!(listener_rows(&out), want, "Wireshark {} two passes: {two_pass}\n{out}", t.abi);
            // Connection 0 up to frame 21: the client's closing CDC (frame 22) is left out, so one frame and one
            // CDC A>B fewer, and the connection is still open.
            let out = stat(&t, "conns.pcap", "smcdump,connections,frame.number<=21", two_pass);
            let mut first = gui_row(&CONNS[0]);
            for (i, v) in [(5, "14"), (6, "5"), (13, "open at capture end")] {
                first[i] = v.to_string();
            }
            assert_eq!(listener_rows(&out), vec![first], "Wireshark {} two passes: {two_pass}\n{out}", t.abi);
        }
    }
}

/// conns.pcap, connection 0: the client fills the server's 32 KiB RMB (frames 13, the CDC announcing the second
/// half, and 14, WriteBlocked with the same cursors); the server's consumer update (15) empties it. Each CDC's
/// unconsumed bytes: this side's producer cursor against the peer's latest consumer cursor (0:0 from the
/// handshake until the peer's first CDC).
const UNCONSUMED: [&str; 13] = [
    "10\t0\t16384\t32768",
    "13\t0\t32768\t32768",
    "14\t0\t32768\t32768",
    "15\t0\t0\t16384",
    "17\t0\t100\t32768",
    "19\t0\t5\t16384",
    "20\t0\t0\t32768",
    "21\t0\t0\t16384",
    "22\t0\t0\t32768",
    "34\t1\t300\t65536",
    "36\t1\t2000\t32768",
    "37\t1\t2000\t32768",
    // SMC-D without a handshake: known until the producer wraps (then the peer's consumer cursor, 0:0, lies more
    // than a ring behind).
    "42\t2\t10000\t",
];

#[test]
fn unconsumed_bytes_and_the_full_peer_buffer_on_exactly_the_right_cdcs() {
    for t in support::targets() {
        for two_pass in [false, true] {
            let mut args = vec![
                "-r",
                "{pcap:conns.pcap}",
                "-Y",
                "smcdump.analysis.unconsumed",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "smcdump.stream",
                "-e",
                "smcdump.analysis.unconsumed",
                "-e",
                "smcdump.analysis.ring_size",
            ];
            if two_pass {
                args.insert(0, "-2");
            }
            let out = t.tshark(&args).stdout;
            assert_eq!(out.lines().collect::<Vec<_>>(), UNCONSUMED, "Wireshark {} two passes: {two_pass}", t.abi);
            let filter = args.iter().position(|a| *a == "-Y").expect("a filter") + 1;
            args[filter] = "smcdump.analysis.peer_buffer_full";
            let out = t.tshark(&args[..args.len() - 6]).stdout;
            assert_eq!(out, "13\n14\n", "Wireshark {} two passes: {two_pass}", t.abi);
        }
    }
}
