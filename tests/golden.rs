//! Golden tshark output: every capture in test-pcaps/ decoded through the plugin on every Wireshark release under
//! test, compared field by field with test-pcaps/golden/<capture>.tsv.
//!
//! Regenerate deliberately with `scripts/regen-goldens` (SMCDUMP_REGEN_GOLDEN=1): it rewrites the files from the
//! host's tshark, after which every other release must still match them.

mod support;

use std::fs;
use std::path::PathBuf;

use smcdump::dissect::fields::{FieldKind, FIELDS};

use support::CAPTURES;

/// The columns of a golden file, under the names Wireshark 4.2 and later use.
fn columns() -> Vec<String> {
    let mut cols: Vec<String> = ["frame.number", "_ws.col.protocol", "_ws.col.info"].map(String::from).to_vec();
    cols.extend(FIELDS.iter().map(|f| f.abbrev.to_str().unwrap().to_string()));
    cols.push("_ws.expert.message".into());
    cols
}

/// A column's name as release `abi` spells it: before 4.2 the column fields were `_ws.col.Protocol` and
/// `_ws.col.Info`; 4.2 lower-cased them. Golden files use the new spelling.
fn field_name(abi: &str, col: &str) -> String {
    if support::older_than(abi, "4.2") {
        match col {
            "_ws.col.protocol" => return "_ws.col.Protocol".into(),
            "_ws.col.info" => return "_ws.col.Info".into(),
            _ => {}
        }
    }
    col.to_string()
}

/// tshark's field output for `capture`, only frames smcdump decoded, header row normalised to the golden names.
fn decode(t: &support::Target, capture: &str) -> String {
    let cols = columns();
    let mut args: Vec<String> =
        ["-r", &format!("{{pcap:{capture}}}"), "-Y", "smcdump", "-T", "fields"].map(String::from).to_vec();
    args.extend(["-E", "header=n", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "quote=n"].map(String::from));
    for c in &cols {
        args.push("-e".into());
        args.push(field_name(&t.abi, c));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = t.tshark(&argv).stdout;
    let mut text = cols.join("\t");
    for line in out.lines() {
        text.push('\n');
        let values: Vec<String> = line.split('\t').zip(&cols).map(|(v, c)| normalise(&t.abi, c, v)).collect();
        text.push_str(&values.join("\t"));
    }
    text.push('\n');
    text
}

/// A value as release 4.2 and later print it. Before 4.2 (3.4, 4.0) booleans print as 1/0; 4.2 changed that to
/// True/False. 3.4 pads hexadecimal integers to 8 digits.
fn normalise(abi: &str, col: &str, value: &str) -> String {
    let kind = FIELDS.iter().find(|f| f.abbrev.to_str() == Ok(col)).map(|f| f.kind);
    if let Some(FieldKind::Uint { bytes, hex: true, .. }) = kind {
        return support::hex_as_since_4_0(abi, bytes.into(), value);
    }
    let boolean = matches!(kind, Some(FieldKind::Flag { .. }));
    if !support::older_than(abi, "4.2") || !boolean {
        return value.to_string();
    }
    let words: Vec<&str> = value
        .split('|')
        .map(|b| match b {
            "1" => "True",
            "0" => "False",
            other => other,
        })
        .collect();
    words.join("|")
}

fn golden_path(capture: &str) -> PathBuf {
    support::pcap("golden").join(capture.replace(".pcap", ".tsv"))
}

#[test]
fn every_capture_matches_its_golden_file_on_every_release() {
    let regen = std::env::var_os("SMCDUMP_REGEN_GOLDEN").is_some();
    for (i, t) in support::targets().iter().enumerate() {
        for capture in CAPTURES {
            let got = decode(t, capture);
            let path = golden_path(capture);
            if regen && i == 0 {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, &got).unwrap();
                continue;
            }
            let want = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (scripts/regen-goldens writes it)", path.display()));
            let cols = columns();
            for (n, (g, w)) in got.lines().zip(want.lines()).enumerate() {
                for (c, (gv, wv)) in g.split('\t').zip(w.split('\t')).enumerate() {
                    assert_eq!(
                        gv,
                        wv,
                        "Wireshark {}: {capture} line {} field {}",
                        t.abi,
                        n + 1,
                        cols.get(c).map_or("?", String::as_str)
                    );
                }
                assert_eq!(g, w, "Wireshark {}: {capture} line {}", t.abi, n + 1);
            }
            assert_eq!(got.lines().count(), want.lines().count(), "Wireshark {}: {capture} frame count", t.abi);
        }
    }
}

/// The UDP payload of an Ethernet/IPv4/UDP frame, and its length on the wire.
fn udp_payload(frame: &[u8], orig_len: usize) -> Option<(&[u8], usize)> {
    if frame.get(12..14)? != [0x08, 0x00] || frame.get(23)? != &17 {
        return None;
    }
    let ihl = usize::from(frame.get(14)? & 0x0f) * 4;
    let start = 14 + ihl + 8;
    Some((frame.get(start..)?, orig_len.checked_sub(start)?))
}

/// Frame numbers of `capture` whose dump frame satisfies `pred`, by smcdump's own parser.
fn frames_where(capture: &str, pred: impl Fn(&smcdump::wire::DumpFrame) -> bool) -> Vec<String> {
    use pcap_file::pcap::PcapReader;
    use smcdump::wire::{header::claims, DumpFrame, Layout};
    let layout = Layout::default();
    let mut reader = PcapReader::new(fs::File::open(support::pcap(capture)).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap();
        n += 1;
        let Some((payload, reported)) = udp_payload(&packet.data, packet.orig_len as usize) else { continue };
        if !claims(payload, reported, &layout) {
            continue;
        }
        if DumpFrame::parse(payload, reported, &layout).is_ok_and(|f| pred(&f)) {
            out.push(n.to_string());
        }
    }
    out
}

#[test]
fn display_filters_select_exactly_the_expected_frames() {
    use smcdump::wire::{ConnState, Mode, Payload};
    let abort = |f: &smcdump::wire::DumpFrame| matches!(f.payload, Payload::Cdc { cdc, .. } if cdc.conn_state.value.has(ConnState::PEER_CONN_ABORT));
    let smcd_moving = |f: &smcdump::wire::DumpFrame| {
        f.header.mode.value == Mode::SmcD && matches!(f.payload, Payload::Cdc { cdc, .. } if cdc.prod.count.value > 0)
    };
    type Predicate<'a> = &'a dyn Fn(&smcdump::wire::DumpFrame) -> bool;
    let cases: [(&str, Predicate); 2] = [
        ("smcdump.cdc.conn_state.peer_conn_abort == 1", &abort),
        ("smcdump.mode == 2 && smcdump.cdc.prod.count > 0", &smcd_moving),
    ];
    for t in support::targets() {
        for (filter, pred) in cases {
            let mut total = 0;
            for capture in CAPTURES {
                let want = frames_where(capture, pred);
                total += want.len();
                let pcap = format!("{{pcap:{capture}}}");
                let got = t.tshark(&["-r", &pcap, "-Y", filter, "-T", "fields", "-e", "frame.number"]).stdout;
                let got: Vec<&str> = got.lines().collect();
                assert_eq!(got, want, "Wireshark {}: {filter} on {capture}", t.abi);
            }
            assert!(total > 0, "{filter} selects nothing in any capture: the test would prove nothing");
        }
    }
}
