//! The application inside SMC: each direction's data, in stream order, goes to the dissector TCP would choose,
//! reassembled where a message spans frames; Follow SMC Stream prints the streams. Values are the generator's
//! (examples/gen_test_pcaps.rs), on every release, the same in one pass and in two.

mod support;

use smcdump::wire::envelope::find_dump;
use smcdump::wire::{DumpFrame, Layout, Payload};
use support::capture::read_frames;
use support::Target;

/// tshark's `fields` for the frames of `capture` matching `filter`, one line each.
fn fields(t: &Target, capture: &str, extra: &[&str], filter: &str, fields: &[&str]) -> Vec<String> {
    let pcap = format!("{{pcap:{capture}}}");
    let mut args = vec!["-r", pcap.as_str(), "-Y", filter];
    args.extend_from_slice(extra);
    args.extend(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for f in fields {
        args.extend(["-e", f]);
    }
    t.tshark(&args).stdout.lines().map(String::from).collect()
}

/// The same fields in one pass and in two, which must agree; returns them.
fn both_passes(t: &Target, capture: &str, filter: &str, names: &[&str]) -> Vec<String> {
    let one = fields(t, capture, &[], filter, names);
    let two = fields(t, capture, &["-2"], filter, names);
    assert_eq!(one, two, "Wireshark {}: {capture}: one pass and two differ", t.abi);
    two
}

/// Each direction's application bytes, as the capture's data frames carry them (smcdump's own parser): the
/// streams the generator wrote. Keyed by the sending port.
fn streams(capture: &str) -> Vec<(u16, Vec<u8>)> {
    let mut out: Vec<(u16, Vec<u8>)> = Vec::new();
    for (frame, len) in read_frames(&support::pcap(capture)) {
        let Some(found) = find_dump(&frame, len) else { continue };
        let payload = &frame[found.payload.clone()];
        let Ok(f) = DumpFrame::parse(payload, found.payload_len, &Layout::default()) else { continue };
        if let Payload::Raw(span) = f.payload {
            let sport = found.flow.src.port;
            match out.iter_mut().find(|(p, _)| *p == sport) {
                Some((_, bytes)) => bytes.extend_from_slice(&payload[span.range()]),
                None => out.push((sport, payload[span.range()].to_vec())),
            }
        }
    }
    out
}

#[test]
fn http_over_smcr_and_smcd() {
    for t in support::targets() {
        for capture in ["http-smcr.pcap", "http-smcd.pcap"] {
            let requests = both_passes(&t, capture, "http.request", &["http.request.method", "http.request.uri"]);
            assert_eq!(requests, ["GET\t/index.html", "POST\t/upload"], "Wireshark {}: {capture}", t.abi);
            let responses = both_passes(&t, capture, "http.response", &["http.response.code", "http.content_length"]);
            assert_eq!(responses, ["200\t20000", "201\t0"], "Wireshark {}: {capture}", t.abi);
            // The 200 OK: headers and the 20000-byte body, reassembled from the four data frames of the two
            // writes (the second crossing the ring's end), in the frame that completes it.
            let header = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20000\r\n\r\n".len();
            let names = ["frame.number", "smcdump.reassembled.length", "smcdump.reassembled.frame"];
            let got = both_passes(&t, capture, "http.response.code == 200", &names);
            assert_eq!(got, [format!("7\t{}\t3|4|6|7", header + 20000)], "Wireshark {}: {capture}", t.abi);
            // A single pass cannot know where a message will be completed (as TCP's "reassembled in").
            let parts = fields(&t, capture, &[], "smcdump.reassembled_in == 7", &["frame.number"]);
            assert!(parts.is_empty(), "Wireshark {}: {capture}: {parts:?}", t.abi);
            let parts = fields(&t, capture, &["-2"], "smcdump.reassembled_in == 7", &["frame.number"]);
            assert_eq!(parts, ["3", "4", "6"], "Wireshark {}: {capture}", t.abi);
        }
    }
}

#[test]
fn postgresql_messages_in_order() {
    // The generator's messages, by Wireshark's names of their type codes.
    let want = [
        "1\tStartup message",
        "3\tAuthentication request|Parameter status|Backend key data|Ready for query",
        "7\tSimple query",
        "9\tRow description|Data row|Command completion|Ready for query",
    ];
    for t in support::targets() {
        let got = both_passes(&t, "pgsql.pcap", "pgsql", &["frame.number", "pgsql.type"]);
        assert_eq!(got, want, "Wireshark {}", t.abi);
        let split = both_passes(&t, "pgsql.pcap", "pgsql.query", &["smcdump.reassembled.frame", "pgsql.length"]);
        // The generator's query: "SELECT '", 19980 bytes of text, "' AS t" and its NUL; the length counts itself.
        let len = 4 + 8 + 19980 + 7;
        assert_eq!(split, [format!("5|6|7\t{len}")], "Wireshark {}: the query over three data frames", t.abi);
    }
}

#[test]
fn tls_client_hello_over_two_frames() {
    for t in support::targets() {
        let names = ["frame.number", "tls.handshake.type", "tls.handshake.extensions_server_name"];
        let got = both_passes(&t, "tls.pcap", "tls.handshake", &names);
        assert_eq!(got, ["3\t1\tsmc.example.com"], "Wireshark {}", t.abi);
        // Since 4.2 TLS fingerprints the client (JA4), starting with its transport: 't' for TCP, which SMC stands
        // in for (the hand-off names TCP among the frame's layers), not 'q' (QUIC) or nothing; while the frame's
        // protocols stay smcdump's.
        if !t.older_than("4.2") {
            let got = both_passes(&t, "tls.pcap", "tls.handshake", &["tls.handshake.ja4", "frame.protocols"]);
            assert_eq!(
                got,
                ["t12d020200_c1929292aa6b_4298e3b3ed58\teth:ethertype:ip:udp:smcdump:tls"],
                "Wireshark {}",
                t.abi
            );
        }
    }
}

/// What Analyze › Decode As saves in the profile (`decode_as_entries`: table, value, default, chosen dissector by
/// its name) decodes the application with the dissector chosen, on every release: the GUI's path into smcdump's
/// table, without tshark's `-d`.
#[test]
fn a_saved_decode_as_entry_chooses_the_application() {
    let entries = "# What the Decode As dialog saves.\ndecode_as_entry: smcdump.port,80,(none),TELNET\n";
    for t in support::targets() {
        let args = ["-2", "-r", "{pcap:http-smcr.pcap}", "-Y", "smcdump.data", "-T", "fields", "-e", "frame.protocols"];
        let got = t.tshark_with_config(&[("decode_as_entries", entries)], &args).stdout;
        assert_eq!(got.lines().collect::<Vec<_>>(), ["eth:ethertype:ip:udp:smcdump:telnet"; 7], "Wireshark {}", t.abi);
        // Without the entry, the same frames are HTTP's (and segments of its reassembled messages).
        let got = t.tshark(&args).stdout;
        assert!(got.contains(":http") && !got.contains("telnet"), "Wireshark {}: {got}", t.abi);
    }
}

#[test]
fn unowned_ports_stay_data_and_the_preferences_switch() {
    for t in support::targets() {
        let all = "frame";
        let got = fields(&t, "unowned.pcap", &["-2"], all, &["frame.protocols"]);
        assert_eq!(got, ["eth:ethertype:ip:udp:smcdump"; 20], "Wireshark {}: data", t.abi);
        // The client's eighth data frame in a row no dissector took (frame 17) says smcdump stops asking.
        let given_up = "smcdump.handoff_given_up";
        let got = both_passes(&t, "unowned.pcap", given_up, &["frame.number", "_ws.expert.message"]);
        let message = "No dissector took this direction's data in smcdump.handoff_tries frames in a row: its later \
                       frames show as data (0 tries every frame)";
        assert_eq!(got, [format!("17\t{message}")], "Wireshark {}: given up", t.abi);
        let got = fields(&t, "unowned.pcap", &["-2", "-o", "smcdump.handoff_tries:2"], given_up, &["frame.number"]);
        assert_eq!(got, ["5"], "Wireshark {}: given up after two (frames 1 and 5)", t.abi);
        let got = fields(&t, "unowned.pcap", &["-2", "-o", "smcdump.handoff_tries:0"], given_up, &["frame.number"]);
        assert!(got.is_empty(), "Wireshark {}: 0 never gives up: {got:?}", t.abi);
        // Decode As takes every frame: nothing is refused, nothing given up.
        let telnet = ["-2", "-d", "smcdump.port==47999,telnet"];
        let got = fields(&t, "unowned.pcap", &telnet, "smcdump.data", &["frame.protocols", given_up]);
        assert_eq!(got, ["eth:ethertype:ip:udp:smcdump:telnet\t"; 10], "Wireshark {}: Decode As", t.abi);
        let off = ["-2", "-o", "smcdump.handoff:FALSE"];
        let got = fields(&t, "http-smcr.pcap", &off, "smcdump.data", &["frame.protocols"]);
        assert_eq!(got, ["eth:ethertype:ip:udp:smcdump"; 7], "Wireshark {}: hand-off off", t.abi);
    }
}

#[test]
fn a_throwing_dissector_is_contained() {
    for t in support::targets() {
        let names = ["frame.number", "smcdump.data.len", "smcdump.stream", "_ws.malformed", "_ws.expert.message"];
        let got = both_passes(&t, "throwing.pcap", "smcdump.data", &names);
        let want = "\t2\t0\t[Malformed Packet: LDAP]|_ws.malformed\tMalformed Packet (Exception occurred)";
        assert_eq!(got, [format!("1{want}"), format!("3{want}")], "Wireshark {}", t.abi);
        let shown = t.tshark(&["-r", "{pcap:throwing.pcap}", "-V"]).stdout;
        assert_eq!(shown.matches("[Malformed Packet: LDAP]").count(), 2, "Wireshark {}", t.abi);
    }
}

/// `tshark -z follow,smcdump,raw,N` prints stream N both ways, byte for byte as the generator wrote it.
#[test]
fn follow_prints_each_stream_byte_for_byte() {
    for t in support::targets() {
        for capture in ["http-smcr.pcap", "pgsql.pcap", "http-smcd.pcap"] {
            let want = streams(capture);
            let pcap = format!("{{pcap:{capture}}}");
            let out = t.tshark(&["-r", &pcap, "-q", "-z", "follow,smcdump,raw,0"]).stdout;
            let (mut node0, mut node1) = (String::new(), String::new());
            for line in out.lines().skip_while(|l| !l.starts_with("Node 1:")).skip(1) {
                if line.starts_with('=') {
                    break;
                }
                match line.strip_prefix('\t') {
                    Some(hex) => node1.push_str(hex),
                    None => node0.push_str(line),
                }
            }
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            // Node 0 is the client, which sent first.
            assert_eq!(want.len(), 2, "{capture}");
            assert_eq!(node0, hex(&want[0].1), "Wireshark {}: {capture}, client to server", t.abi);
            assert_eq!(node1, hex(&want[1].1), "Wireshark {}: {capture}, server to client", t.abi);
        }
    }
}
