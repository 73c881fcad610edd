//! The per-frame pipeline without Wireshark: every capture of test-pcaps/ replayed through `smcdump::capture` and
//! `smcdump::dissect` as Wireshark's callbacks feed them (tests/support/replay.rs), in milliseconds. What tshark
//! shows for smcdump's fields, columns and expert items (`test-pcaps/golden/*.tsv`, `tshark -2`, hand-off off) and
//! its connection table (`*.conn.txt`) must come out of the pure code alone; so must the reassembly decisions of
//! an application that frames HTTP messages.

mod support;

use std::fs;

use smcdump::capture::streams::{Need, Outcome};
use smcdump::capture::{Application, Handover, NoApplication, Settings};
use smcdump::dissect::fields::{FieldKind, FIELDS};
use smcdump::dissect::tree::{Entry, Value};
use support::replay::{replay, Shown};

/// A frame's value of golden column `column`, as `tshark -T fields -E occurrence=a -E aggregator=|` prints it
/// (Wireshark 4.2 and later).
fn value(shown: &Shown, column: &str) -> String {
    let entries = shown.tree.in_tree_order();
    match column {
        "frame.number" => shown.num.to_string(),
        "_ws.col.protocol" => shown.summary.protocol.to_str().unwrap().to_string(),
        "_ws.col.info" => {
            format!("{}{}", smcdump::dissect::info_tags(&shown.outcome), shown.summary.info)
        }
        "_ws.expert.message" => {
            let messages: Vec<&str> =
                entries.iter().filter_map(|e| if let Entry::Expert(_, m) = e { Some(*m) } else { None }).collect();
            messages.join("|")
        }
        abbrev => {
            let def = FIELDS.iter().position(|f| f.abbrev.to_str() == Ok(abbrev)).expect("a field of ours");
            let values: Vec<String> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Item(_, r) if r.hf as usize == def => Some(format_value(shown, r)),
                    _ => None,
                })
                .collect();
            values.join("|")
        }
    }
}

fn format_value(shown: &Shown, r: &smcdump::dissect::tree::Recorded) -> String {
    match (FIELDS[r.hf as usize].kind, r.value) {
        (FieldKind::Uint { hex: true, bytes, .. }, Value::Uint(v)) => format!("0x{v:0w$x}", w = 2 * usize::from(bytes)),
        (_, Value::Uint(v)) => v.to_string(),
        (_, Value::Uint64(v)) => v.to_string(),
        (FieldKind::Flag { mask }, Value::Flags(bits)) => (if bits & mask != 0 { "True" } else { "False" }).into(),
        (FieldKind::Label, _) => "1".into(),
        (_, Value::None) => shown.payload[r.span.range()].iter().map(|b| format!("{b:02x}")).collect(),
        (kind, value) => panic!("{kind:?} holding {value:?}"),
    }
}

#[test]
fn every_capture_shows_its_golden_fields_without_wireshark() {
    let settings = Settings { handoff: false, ..Settings::default() };
    for capture in support::CAPTURES {
        let stem = capture.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let golden = fs::read_to_string(support::pcap("golden").join(format!("{stem}.tsv"))).unwrap();
        let mut lines = golden.lines();
        let columns: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let replayed = replay(&support::pcap(capture), &settings, &mut NoApplication);
        let want: Vec<&str> = lines.collect();
        assert_eq!(replayed.shown.len(), want.len(), "{capture}: dump frames shown");
        for (shown, want) in replayed.shown.iter().zip(want) {
            for (column, want) in columns.iter().zip(want.split('\t')) {
                assert_eq!(value(shown, column), want, "{capture} frame {}: {column}", shown.num);
            }
        }
    }
}

#[test]
fn connection_tables_without_wireshark() {
    for stem in ["conns", "sample", "smcr"] {
        let capture = support::CAPTURES.iter().find(|c| c.starts_with(&format!("{stem}."))).unwrap();
        let replayed = replay(&support::pcap(capture), &Settings::default(), &mut NoApplication);
        let want = fs::read_to_string(support::pcap("golden").join(format!("{stem}.conn.txt"))).unwrap();
        assert_eq!(replayed.session.table().render(), want, "{capture}");
    }
}

/// An application that frames HTTP/1.1 messages: headers up to the blank line, then a body of Content-Length
/// bytes. It asks for more (exactly how much once it knows) while a message is incomplete, as Wireshark's HTTP
/// dissector does, and refuses what does not start like HTTP.
#[derive(Default)]
struct Http {
    /// Each call: whether it may ask for more (the first pass), whether its bytes were a reassembled buffer,
    /// their stream offset and the messages taken.
    calls: Vec<(bool, bool, u64, Vec<usize>)>,
}

impl Application for Http {
    fn dissect(&mut self, h: &Handover<'_>) -> Outcome {
        let b = h.bytes;
        if !(b.starts_with(b"HTTP/") || b.starts_with(b"GET ") || b.starts_with(b"POST ")) {
            return Outcome::Refused;
        }
        let mut at = 0;
        let mut taken = Vec::new();
        let outcome = loop {
            if at == b.len() {
                break Outcome::Consumed;
            }
            let Some(end) = b[at..].windows(4).position(|w| w == b"\r\n\r\n") else {
                break Outcome::NeedMore { offset: at, need: Need::NextData };
            };
            let head = std::str::from_utf8(&b[at..at + end]).unwrap_or("");
            let body = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |n| n.trim().parse::<usize>().unwrap());
            let len = end + 4 + body;
            if at + len > b.len() {
                break Outcome::NeedMore { offset: at, need: Need::Bytes(at + len - b.len()) };
            }
            taken.push(len);
            at += len;
        };
        self.calls.push((h.may_ask_more, h.own_at.is_none(), h.stream_offset, taken));
        outcome
    }
}

/// The response of http-smcr.pcap and http-smcd.pcap, headers and a 20,000-byte body, is reassembled from frames
/// 3, 4, 6 and 7 in frame 7; every later visit replays the same buffers.
#[test]
fn http_messages_are_reassembled_in_the_frame_that_completes_them() {
    let header = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20000\r\n\r\n".len();
    for capture in ["http-smcr.pcap", "http-smcd.pcap"] {
        let mut http = Http::default();
        let replayed = replay(&support::pcap(capture), &Settings::default(), &mut http);
        let frame7 = replayed.shown.iter().find(|s| s.num == 7).unwrap();
        let h = frame7.outcome.stream.as_ref().unwrap().handoff.as_ref().unwrap();
        let r = h.reassembled.as_ref().expect("frame 7 completes the response");
        let frames: Vec<u32> = r.parts.iter().map(|p| p.0).collect();
        assert_eq!((frames, r.bytes.len()), (vec![3, 4, 6, 7], header + 20000), "{capture}");
        for n in [3, 4, 6] {
            let shown = replayed.shown.iter().find(|s| s.num == n).unwrap();
            assert!(shown.outcome.only_continues_a_message(), "{capture} frame {n}");
            let h = shown.outcome.stream.as_ref().unwrap().handoff.as_ref().unwrap();
            assert_eq!(h.rest_in, Some(7), "{capture} frame {n}");
        }
        // The first pass took the request, the response (once, in frame 7), the second request and response; the
        // second pass replayed exactly the buffers that were taken.
        let taken = |first: bool| -> Vec<(bool, u64, Vec<usize>)> {
            let calls = http.calls.iter().filter(|c| c.0 == first && !c.3.is_empty());
            calls.map(|c| (c.1, c.2, c.3.clone())).collect()
        };
        let request = "GET /index.html HTTP/1.1\r\nHost: smc.example\r\nUser-Agent: smcdump-test\r\n\r\n".len();
        assert_eq!(taken(true)[..2], [(false, 0, vec![request]), (true, 0, vec![header + 20000])], "{capture}");
        assert_eq!(taken(true).len(), 4, "{capture}: {:?}", http.calls);
        assert_eq!(taken(false), taken(true), "{capture}");
    }
}
