//! Captures as `smcdump-ex` writes them in the field, with default preferences: `tcpdump -i any` link types (SLL,
//! SLL2, in pcap and pcapng), and dump headers of another layout than the built-in one, which smcdump learns.

mod support;

use support::capture::read_frames;
use support::Target;

/// tshark's `fields` for every frame of `capture`, one line each.
fn fields(t: &Target, capture: &str, extra: &[&str], fields: &[&str]) -> Vec<String> {
    let pcap = format!("{{pcap:{capture}}}");
    let mut args = vec!["-r", pcap.as_str()];
    args.extend_from_slice(extra);
    args.extend(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for f in fields {
        args.extend(["-e", f]);
    }
    t.tshark(&args).stdout.lines().map(String::from).collect()
}

/// The frames (numbers from 1) of a capture that the dump device wrote, by smcdump's own envelope test.
fn dump_frames(capture: &str) -> Vec<usize> {
    let frames = read_frames(&support::pcap(capture));
    (1..=frames.len())
        .filter(|n| {
            let (data, len) = &frames[n - 1];
            smcdump::wire::envelope::find_dump(data, *len).is_some()
        })
        .collect()
}

const COOKED: [&str; 2] = ["sll.pcap", "sll2.pcapng"];
const OURS: &str = "sll:ethertype:ip:udp:smcdump";

#[test]
fn every_dump_frame_of_a_cooked_capture_decodes_in_two_passes() {
    for t in support::targets() {
        for capture in COOKED {
            let dumps = dump_frames(capture);
            assert_eq!(dumps.len(), 32, "{capture}: the generator wrote 8 connections of 4 dump frames");
            // The application dissection off: TCP port owners (ntp on 123 ...) would take the data's bytes.
            let protocols = fields(&t, capture, &["-2", "-o", "smcdump.handoff:FALSE"], &["frame.protocols"]);
            for (n, p) in protocols.iter().enumerate() {
                let want = if dumps.contains(&(n + 1)) { OURS } else { "sll:ethertype:ip:tcp" };
                assert_eq!(p, want, "Wireshark {}: {capture} frame {}", t.abi, n + 1);
            }
        }
    }
}

/// In one pass, a connection whose TCP SYN (with SMC's option) came first decodes from its first dump frame; one
/// without decodes from its second, its first going to the UDP dissector of the port where that one accepts it.
#[test]
fn single_pass_decodes_from_the_handshake_or_the_second_frame() {
    for t in support::targets() {
        for capture in COOKED {
            let off = ["-o", "smcdump.handoff:FALSE"];
            let protocols = fields(&t, capture, &off, &["frame.protocols", "udp.dstport"]);
            let dumps = dump_frames(capture);
            // Connections are 4 dump frames each; those with a handshake are preceded by its 2 TCP frames.
            let mut n = 0;
            while n < protocols.len() {
                let handshake = protocols[n].starts_with("sll:ethertype:ip:tcp");
                let first = if handshake { n + 2 } else { n };
                for (i, line) in protocols[first..first + 4].iter().enumerate() {
                    assert!(dumps.contains(&(first + i + 1)), "{capture}: frame {} is no dump frame", first + i + 1);
                    let ours = line.starts_with(&format!("{OURS}\t"));
                    if handshake || i > 0 {
                        assert!(ours, "Wireshark {}: {capture} frame {}: {line}", t.abi, first + i + 1);
                    }
                }
                n = first + 4;
            }
        }
    }
}

#[test]
fn ordinary_udp_in_cooked_captures_is_never_claimed() {
    for t in support::targets() {
        for capture in ["other-udp-sll.pcap", "other-udp-sll2.pcapng"] {
            for extra in [&[][..], &["-2"][..], &["-o", "udp.try_heuristic_first:TRUE"][..]] {
                let got = fields(&t, capture, extra, &["frame.protocols"]);
                assert_eq!(got.len(), 18, "Wireshark {} {capture} {extra:?}", t.abi);
                let claimed: Vec<&String> = got.iter().filter(|l| l.contains("smcdump")).collect();
                assert!(claimed.is_empty(), "Wireshark {} {capture} {extra:?}: claimed {claimed:?}", t.abi);
                assert_eq!(got[0], "sll:ethertype:ip:udp:dns", "Wireshark {} {capture}", t.abi);
            }
        }
    }
}

/// What smcdump shows of each frame, the learned layout's own items and notes aside.
const DECODED: [&str; 10] = [
    "frame.number",
    "smcdump.type",
    "smcdump.len",
    "smcdump.data.len",
    "smcdump.cdc.seqno",
    "smcdump.cdc.prod",
    "smcdump.cdc.prod.count",
    "smcdump.cdc.cons.count",
    "smcdump.cdc.conn_state",
    "smcdump.analysis.data_bytes",
];

/// Each layout variant, with default preferences in two passes, decodes as it does with its true layout forced by
/// the preferences; and the learned layout is shown on every frame, with a note on the frame it came from.
#[test]
fn learned_layouts_decode_as_the_forced_true_layout() {
    let variants: [(&str, [&str; 3]); 3] = [
        ("layout-12.pcap", ["12", "1", "2"]),
        ("layout-01.pcap", ["16", "0", "1"]),
        ("layout-21.pcap", ["16", "2", "1"]),
    ];
    for t in support::targets() {
        for (capture, [len, raw, cdc]) in variants {
            let forced = [
                "-o",
                &format!("smcdump.header_len:{len}"),
                "-o",
                &format!("smcdump.type_raw:{raw}"),
                "-o",
                &format!("smcdump.type_cdc:{cdc}"),
                "-o",
                "smcdump.learn_layout:FALSE",
            ]
            .map(|s| s.to_string());
            let forced: Vec<&str> = forced.iter().map(String::as_str).collect();
            let want = fields(&t, capture, &forced, &DECODED);
            let got = fields(&t, capture, &["-2"], &DECODED);
            assert_eq!(got, want, "Wireshark {}: {capture}", t.abi);
            assert_eq!(got.len(), 14);
            assert!(got.iter().all(|l| l.split('\t').nth(2).is_some_and(|v| !v.is_empty())), "{capture}: {got:?}");
            let layout = ["smcdump.layout.header_len", "smcdump.layout.type_raw", "smcdump.layout.type_cdc"];
            let shown = fields(&t, capture, &["-2"], &layout);
            assert!(
                shown.iter().all(|l| *l == [len, raw, cdc].join("\t")),
                "Wireshark {}: {capture}: {shown:?}",
                t.abi
            );
            let notes = fields(&t, capture, &["-2", "-Y", "smcdump.layout_learned"], &["frame.number"]);
            // The first CDC implies the layout, the second one too: there it wins.
            assert_eq!(notes, ["4"], "Wireshark {}: {capture}: learned at the second CDC", t.abi);
        }
    }
}

/// With learning off, or a layout preference set to another value than its default, the built-in (or forced)
/// layout applies: frame 1 of layout-12.pcap, 100 bytes of data behind a 12-byte header, reads as 96 bytes
/// behind a 16-byte one.
#[test]
fn learning_off_or_forced_keeps_the_preferences_layout() {
    for t in support::targets() {
        let got = fields(&t, "layout-12.pcap", &["-2", "-o", "smcdump.learn_layout:FALSE"], &["smcdump.data.len"]);
        assert_eq!(got[0], "96", "Wireshark {}: learning off", t.abi);
        let got = fields(&t, "layout-12.pcap", &["-2", "-o", "smcdump.header_len:20"], &["smcdump.data.len"]);
        assert_eq!(got[0], "92", "Wireshark {}: a forced header length", t.abi);
        // A forced raw data code: frame 1's type 1 is then an unknown type, nothing learned.
        let got =
            fields(&t, "layout-12.pcap", &["-2", "-o", "smcdump.type_raw:5"], &["smcdump.type", "smcdump.layout"]);
        assert_eq!(got[0], "1\t", "Wireshark {}: a forced type code", t.abi);
    }
}

/// Evidence for another layout than the learned one is a warning on exactly the frames that carry it; a capture
/// with nothing to learn from shows nothing about layouts at all.
#[test]
fn conflicts_are_warned_and_raw_data_says_nothing() {
    for t in support::targets() {
        let warned = fields(&t, "layout-conflict.pcap", &["-2", "-Y", "smcdump.layout_conflict"], &["frame.number"]);
        assert_eq!(warned, ["5", "6"], "Wireshark {}", t.abi);
        let filter = "smcdump.layout || smcdump.layout_learned || smcdump.layout_conflict || _ws.expert";
        let said = fields(&t, "raw-only.pcap", &["-2", "-Y", filter], &["frame.number"]);
        assert!(said.is_empty(), "Wireshark {}: raw-only.pcap: {said:?}", t.abi);
        let data = fields(&t, "raw-only.pcap", &["-2"], &["smcdump.data.len"]);
        assert_eq!(data, ["48", "500", "32"], "Wireshark {}", t.abi);
    }
}
