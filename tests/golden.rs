//! Golden tshark output: every capture in test-pcaps/ decoded through the plugin on every Wireshark release under
//! test, in two passes (`tshark -2`, what the GUI shows too), compared field by field with
//! test-pcaps/golden/<capture>.tsv; and the single pass, which must equal it but where documented. The
//! application dissection is off here (smcdump.handoff): tests/application.rs checks it.
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

/// tshark's field output for `capture` in two passes (`-2`) or one, only frames smcdump
/// decoded, header row normalised to the golden names.
fn decode(t: &support::Target, capture: &str, two_pass: bool) -> String {
    let cols = columns();
    let filter: &[&str] = if two_pass { &["-2", "-Y", "smcdump"] } else { &["-Y", "smcdump"] };
    // smcdump's own output: the application dissectors' (whose fields, columns and expert items differ between
    // releases) is tested in tests/application.rs.
    let filter: Vec<&str> = ["-o", "smcdump.handoff:FALSE"].iter().chain(filter).copied().collect();
    let mut args: Vec<String> = ["-r", &format!("{{pcap:{capture}}}")].map(String::from).to_vec();
    args.extend(filter.iter().map(|a| a.to_string()));
    args.extend(["-T", "fields"].map(String::from));
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
    let stem = capture.trim_end_matches(".pcapng").trim_end_matches(".pcap");
    support::pcap("golden").join(format!("{stem}.tsv"))
}

#[test]
fn every_capture_matches_its_golden_file_on_every_release() {
    let regen = std::env::var_os("SMCDUMP_REGEN_GOLDEN").is_some();
    for (i, t) in support::targets().iter().enumerate() {
        for capture in CAPTURES {
            let got = decode(t, capture, true);
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

/// Frame numbers of `capture` whose dump frame satisfies `pred`, by smcdump's own parser.
fn frames_where(capture: &str, pred: impl Fn(&smcdump::wire::DumpFrame) -> bool) -> Vec<String> {
    use smcdump::wire::{header::claims, DumpFrame, Layout};
    let layout = Layout::default();
    let mut out = Vec::new();
    let mut n = 0;
    for (data, orig_len) in support::capture::read_frames(&support::pcap(capture)) {
        n += 1;
        let Some(found) = smcdump::wire::envelope::find_dump(&data, orig_len) else { continue };
        let (payload, reported) = (&data[found.payload.clone()], found.payload_len);
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
    let abort = |f: &smcdump::wire::DumpFrame| matches!(f.payload, Payload::Cdc { cdc, .. } if cdc.conn_state().is_some_and(|s| s.value.has(ConnState::PEER_CONN_ABORT)));
    let smcd_moving = |f: &smcdump::wire::DumpFrame| {
        f.header.mode == Mode::SmcD
            && matches!(f.payload, Payload::Cdc { cdc, .. } if cdc.prod().count.is_some_and(|c| c.value > 0))
    };
    type Predicate<'a> = &'a dyn Fn(&smcdump::wire::DumpFrame) -> bool;
    let cases: [(&str, Predicate); 2] = [
        ("smcdump.cdc.conn_state.peer_conn_abort == 1", &abort),
        ("smcdump.mode == 2 && smcdump.cdc.prod.count > 0", &smcd_moving),
    ];
    for t in support::targets() {
        for (filter, pred) in cases {
            let mut total = 0;
            // The captures of other header layouts decode as tshark learns them, which this parse does not.
            for capture in CAPTURES.iter().filter(|c| !c.starts_with("layout-")) {
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

/// Items smcdump computes rather than reads (the data length, the connection analysis) are marked as generated,
/// which Wireshark shows in brackets; items read from the packet are not.
#[test]
fn generated_items_are_shown_in_brackets() {
    for t in support::targets() {
        let out =
            t.tshark(&["-r", "{pcap:analysis.pcap}", "-V", "-Y", "frame.number == 2 || frame.number == 3"]).stdout;
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        for want in [
            "[Data length: 100]",
            "[SMC connection analysis]",
            "[Previous CDC in this direction: 1]",
            "[Data bytes since the previous CDC: 100]",
            "[Producer cursor advance: 100]",
            "Sequence number: 2",
        ] {
            assert!(lines.contains(&want), "Wireshark {}: no line {want:?} in:\n{out}", t.abi);
        }
        assert!(!lines.iter().any(|l| l.starts_with("[Sequence number")), "Wireshark {}: wire field bracketed", t.abi);
    }
}

/// The frames a single pass may show differently from two passes, per capture (the README says why):
/// - in a cooked capture (SLL, SLL2), the first dump frame of a connection whose TCP handshake the capture does
///   not hold, when the UDP dissector of its port accepts it: smcdump's flow hand-over comes from the
///   postdissector, which sees the frame only after it was dissected;
/// - before the frame a header layout is learned at (smcdump's learner decides from the frames seen so far), the
///   built-in layout.
fn single_pass_may_differ(capture: &str) -> Vec<usize> {
    match capture {
        // Frame numbers from test-pcaps/README.md: connections without a handshake start at these frames.
        "sll.pcap" | "sll2.pcapng" => vec![7, 17, 27, 37],
        c if c.starts_with("layout-") => (1..learned_at(c)).collect(),
        _ => vec![],
    }
}

/// The frame of `capture` at which a single pass changes to the header layout it learns.
fn learned_at(capture: &str) -> usize {
    use smcdump::capture::layout::Learner;
    use smcdump::wire::Layout;
    let mut learner = Learner::default();
    for (n, (data, len)) in (1..).zip(support::capture::read_frames(&support::pcap(capture))) {
        let Some(found) = smcdump::wire::envelope::find_dump(&data, len) else { continue };
        if learner.observe(n, &data[found.payload.clone()], found.payload_len, &Layout::default()) {
            return n as usize;
        }
    }
    panic!("{capture}: no layout learned")
}

/// A single pass (`tshark -r`) shows what two passes show, frame by frame, but for the documented exceptions.
#[test]
fn single_pass_equals_two_passes_but_where_documented() {
    let lines = |text: String| -> Vec<(usize, String)> {
        text.lines().skip(1).map(|l| (l.split('\t').next().unwrap().parse().unwrap(), l.to_string())).collect()
    };
    for t in support::targets() {
        for capture in CAPTURES {
            let one = lines(decode(&t, capture, false));
            let two = lines(decode(&t, capture, true));
            let may_differ = single_pass_may_differ(capture);
            for (n, line) in &two {
                match one.iter().find(|(m, _)| m == n) {
                    Some((_, l)) if l == line => {}
                    _ if may_differ.contains(n) => {}
                    Some((_, l)) => panic!("Wireshark {}: {capture} frame {n}, single pass:\n{l}\ntwo:\n{line}", t.abi),
                    None => panic!("Wireshark {}: {capture} frame {n} is not smcdump in a single pass", t.abi),
                }
            }
            assert!(one.iter().all(|(n, _)| two.iter().any(|(m, _)| m == n)), "{capture}: extra frames");
        }
    }
}
