//! The preferences that override the inferred layout facts, and the conversation preference, change the
//! decoding as documented when set with `tshark -o`.

mod support;

use std::path::{Path, PathBuf};

use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use smcdump::wire::emit::{data_frame, dump_frame, dump_frame_as_given, smcd_cdc_frame, smcr_cdc_frame};
use smcdump::wire::layout::HeaderRepr;
use smcdump::wire::{ByteOrder, Layout, WireRepr};
use support::capture::{udp_frame, write_pcap};

/// Writes `payloads` as dump frames of one UDP flow into a fresh temporary capture.
fn capture(name: &str, payloads: &[Vec<u8>]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smcdump-prefs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let frames: Vec<Vec<u8>> =
        payloads.iter().map(|p| udp_frame([10, 9, 0, 1], [10, 9, 0, 2], 42001, 42002, p)).collect();
    let path = dir.join(name);
    write_pcap(&path, &frames);
    path
}

fn fields(t: &support::Target, path: &Path, prefs: &[&str], fields: &[&str]) -> Vec<String> {
    run_fields(t, path, false, prefs, fields)
}

/// [`fields`] in two passes (`tshark -2`).
fn fields_2(t: &support::Target, path: &Path, prefs: &[&str], fields: &[&str]) -> Vec<String> {
    run_fields(t, path, true, prefs, fields)
}

fn run_fields(t: &support::Target, path: &Path, two: bool, prefs: &[&str], fields: &[&str]) -> Vec<String> {
    let file = format!("{{file:{}}}", path.display());
    let mut args = vec!["-r", file.as_str(), "-T", "fields"];
    if two {
        args.push("-2");
    }
    for p in prefs {
        args.extend(["-o", p]);
    }
    for f in fields {
        args.extend(["-e", f]);
    }
    t.tshark(&args).stdout.lines().map(String::from).collect()
}

/// The Info column's field: `_ws.col.Info` before 4.2, `_ws.col.info` since.
fn info(abi: &str) -> &'static str {
    if support::older_than(abi, "4.2") {
        "_ws.col.Info"
    } else {
        "_ws.col.info"
    }
}

#[test]
fn header_len_follows_the_preference() {
    let twelve = Layout { header_len: 12, ..Layout::default() };
    let cdc = |seqno| smcr_cdc_frame(&twelve, 1, &SmcrCdcRepr::new(seqno, 0x0102_0304, (1, 2), (3, 4)));
    let path = capture("hdr12.pcap", &[cdc(77), cdc(78)]);
    let one = capture("hdr12-one.pcap", &[cdc(77)]);
    for t in support::targets() {
        let got =
            fields(&t, &path, &["smcdump.header_len:12"], &["smcdump.cdc.seqno", "smcdump.cdc.token", info(&t.abi)]);
        let want = ["77\t0x01020304\tCDC seq=77 prod=1:2 cons=3:4", "78\t0x01020304\tCDC seq=78 prod=1:2 cons=3:4"];
        assert_eq!(got, want, "Wireshark {}", t.abi);
        // Read with the built-in 16-byte header, the record starts 4 bytes late: the type byte is the token's.
        let got = fields(&t, &path, &["smcdump.learn_layout:FALSE"], &["smcdump.cdc.type"]);
        let got: Vec<String> = got.iter().map(|v| support::hex_as_since_4_0(&t.abi, 1, v)).collect();
        assert_eq!(got, ["0x01", "0x01"], "Wireshark {}", t.abi);
        // With default preferences, the CDCs themselves say their header is 12 bytes long: from the second on in
        // a single pass, for both in two.
        let names = ["smcdump.cdc.seqno", "smcdump.layout.header_len"];
        assert_eq!(fields(&t, &path, &[], &names)[1], "78\t12", "Wireshark {}", t.abi);
        assert_eq!(fields_2(&t, &path, &[], &names), ["77\t12", "78\t12"], "Wireshark {}", t.abi);
        // One such frame alone is not enough: the built-in layout stays.
        let got = fields_2(&t, &one, &[], &["smcdump.layout.header_len", "smcdump.layout_conflict"]);
        assert_eq!(got.len(), 1, "Wireshark {}", t.abi);
        assert!(got[0].starts_with('\t') && got[0].len() > 1, "Wireshark {}: {got:?}", t.abi);
    }
}

#[test]
fn type_codes_follow_the_preferences() {
    let layout = Layout::default();
    let cdc = SmcrCdcRepr::new(5, 9, (0, 10), (0, 20)).emit(ByteOrder::Big);
    let frame = dump_frame(&layout, &HeaderRepr::new(1, 1, 7), &cdc);
    let path = capture("types.pcap", &[frame.clone(), frame]);
    for t in support::targets() {
        let col = info(&t.abi);
        let off = ["smcdump.learn_layout:FALSE"];
        let unknown = "Unknown type 7, 48 bytes";
        assert_eq!(fields(&t, &path, &off, &[col]), [unknown, unknown], "Wireshark {}", t.abi);
        // With default preferences, the frames identify themselves as SMC-R CDCs of type 7 (the second is a
        // duplicate of the first).
        let cdc = "CDC seq=5 prod=0:10 cons=0:20";
        assert_eq!(
            fields_2(&t, &path, &[], &[col]),
            [cdc.to_string(), format!("[SMC copy] {cdc}")],
            "Wireshark {}",
            t.abi
        );
        let got = fields(&t, &path, &["smcdump.type_cdc:7"], &[col]);
        assert_eq!(got, [cdc.to_string(), format!("[SMC copy] {cdc}")], "Wireshark {}", t.abi);
        let got = fields(&t, &path, &["smcdump.type_raw:7", "smcdump.type_cdc:1"], &[col, "smcdump.data.len"]);
        assert_eq!(got[0], "Data len=48\t48", "Wireshark {}", t.abi);
    }
}

#[test]
fn smcd_byte_order_follows_the_preference() {
    let layout = Layout::default();
    let be = SmcdCdcRepr::sent((3, 0x1234), (1, 0x20));
    let path = capture("smcd-order.pcap", &[smcd_cdc_frame(&layout, 1, &be, ByteOrder::Big)]);
    let cursors =
        ["smcdump.cdc.prod.wrap", "smcdump.cdc.prod.count", "smcdump.cdc.cons.wrap", "smcdump.cdc.cons.count"];
    for t in support::targets() {
        for pref in ["smcdump.smcd_byte_order:auto", "smcdump.smcd_byte_order:big"] {
            assert_eq!(fields(&t, &path, &[pref], &cursors), ["3\t4660\t1\t32"], "Wireshark {} {pref}", t.abi);
        }
        let got = fields(&t, &path, &["smcdump.smcd_byte_order:little"], &cursors);
        assert_eq!(got, ["768\t873594880\t256\t536870912"], "Wireshark {}", t.abi);
    }
}

#[test]
fn recognised_flows_follow_the_preference() {
    let layout = Layout::default();
    let good = data_frame(&layout, 1, 1, b"hello");
    // The heuristic refuses this one (its length field is below the header) but a recognised flow takes it.
    let lying = dump_frame_as_given(&layout, &HeaderRepr { len: 5, ..HeaderRepr::new(1, 1, 1) }, &[], b"world");
    let foreign = b"not a dump frame at all".to_vec();
    let path = capture("flow.pcap", &[good, lying, foreign]);
    let data = "eth:ethertype:ip:udp:data";
    let ours = "eth:ethertype:ip:udp:smcdump";
    for t in support::targets() {
        // Datagrams smcdump leaves alone may still be taken by a release's own heuristics (4.4 has more; in 3.4
        // and 4.0 they stay data).
        let not_ours = |line: &str| !line.contains("smcdump") && (!t.older_than("4.4") || line.starts_with(data));
        let got = fields(&t, &path, &[], &["frame.protocols", "_ws.expert.message"]);
        let lying = format!("{ours}\tLength field is 5, UDP payload is 21 bytes");
        assert_eq!(got[..2], [format!("{ours}\t"), lying], "Wireshark {}", t.abi);
        assert!(got.len() == 3 && not_ours(&got[2]), "Wireshark {}: {got:?}", t.abi);
        let got = fields(&t, &path, &["smcdump.follow_conversations:FALSE"], &["frame.protocols"]);
        assert_eq!(got[0], ours, "Wireshark {}", t.abi);
        assert!(got.len() == 3 && not_ours(&got[1]) && not_ours(&got[2]), "Wireshark {}: {got:?}", t.abi);
    }
}

#[test]
fn analysis_follows_the_preference() {
    let path = support::pcap("analysis.pcap");
    let fields_of = ["frame.number", "smcdump.analysis.prev_cdc", "_ws.expert.message"];
    for t in support::targets() {
        let on = fields(&t, &path, &[], &fields_of);
        assert_eq!(on[6], "7\t6\tProducer cursor went back from 0:160 (frame 6)", "Wireshark {}", t.abi);
        let off = fields(&t, &path, &["smcdump.analyze:FALSE"], &fields_of);
        let want: Vec<String> = (1..=9).map(|n| format!("{n}\t\t")).collect();
        assert_eq!(off, want, "Wireshark {}", t.abi);
    }
}
