//! The CLC handshake decodes as SMC (Wireshark's own `smc` dissector) on ports other TCP dissectors own, out of the
//! box, on the NIC (Ethernet) and in `tcpdump -i any`'s cooked captures; after a Decline the application's traffic
//! over TCP still decodes as the application.

mod support;

/// clc-ports.pcap (examples/gen_test_pcaps.rs): the CLC messages' frames, their CLC type and a Decline's
/// diagnosis code, as Wireshark's smc dissector reads them.
const CLC_FRAMES: [&str; 11] = [
    "4\t1\t",
    "5\t2\t",
    "6\t3\t", // 6379 (RESP)
    "11\t1\t",
    "12\t2\t",
    "13\t3\t", // 3306 (MySQL)
    "18\t1\t",
    "19\t2\t",
    "20\t3\t", // 80 (HTTP)
    "25\t1\t",
    "26\t4\t0x03030000", // 6379, declined
];

/// The handshakes on the NIC (Ethernet) and as `tcpdump -i any` records them (Linux cooked capture v2), and the
/// start of each frame's `frame.protocols`.
const CAPTURES: [(&str, &str); 2] = [("clc-ports.pcap", "eth"), ("clc-ports-sll2.pcapng", "sll")];

#[test]
fn clc_decodes_as_smc_on_any_port() {
    for t in support::targets() {
        for (capture, _) in CAPTURES {
            let pcap = format!("{{pcap:{capture}}}");
            let out = t
                .tshark(&[
                    "-r",
                    &pcap,
                    "-Y",
                    "smc",
                    "-T",
                    "fields",
                    "-e",
                    "frame.number",
                    "-e",
                    "smc.clc_msg",
                    "-e",
                    "smc.peer.diag.info",
                ])
                .stdout;
            let got: Vec<&str> = out.lines().collect();
            assert_eq!(got, CLC_FRAMES, "Wireshark {} {capture}", t.abi);
        }
    }
}

#[test]
fn application_after_a_decline_decodes_as_the_application() {
    for t in support::targets() {
        for (capture, link) in CAPTURES {
            let pcap = format!("{{pcap:{capture}}}");
            let args = ["-r", &pcap, "-Y", "frame.number >= 27", "-T", "fields", "-e", "frame.protocols"];
            let out = t.tshark(&args).stdout;
            let got: Vec<&str> = out.lines().collect();
            // Wireshark 3.4 has no RESP dissector: the PING and PONG are TCP data there, and still not SMC.
            let app = format!("{link}:ethertype:ip:tcp:{}", if t.older_than("4.0") { "data" } else { "resp" });
            assert_eq!(got, [app.as_str(), app.as_str()], "Wireshark {} {capture}", t.abi);
        }
    }
}

#[test]
fn without_smcdump_the_handshake_is_not_smc() {
    // The trap this fixes, measured on the same capture: Wireshark alone decodes none of it as SMC.
    for t in support::targets() {
        let mut plain = t.clone();
        plain.plugin = support::NO_PLUGIN.into();
        let out = plain.tshark(&["-r", "{pcap:clc-ports.pcap}", "-Y", "smc", "-T", "fields", "-e", "frame.number"]);
        // 3.4 has no RESP dissector, so only the handshakes on 6379 reach the smc heuristic there.
        let want = if t.older_than("4.0") { "4\n5\n6\n25\n26\n" } else { "" };
        assert_eq!(out.stdout, want, "Wireshark {}", t.abi);
    }
}

/// The dump frames of a connection whose handshake (SYN included) is in the capture name the handshake's TCP
/// stream: Wireshark's own `tcp.stream` of the Accept and Confirm frames they link to, in one pass and two.
#[test]
fn dump_frames_name_their_handshakes_tcp_stream() {
    // conns.pcap: connections 0 and 1 (15 and 5 dump frames) have handshakes, TCP streams 0 and 1; connection 2
    // has none.
    // sample.pcap: one connection, TCP stream 0.
    let want = [("conns.pcap", &[(0u32, 0u32), (1, 1)][..], 20usize), ("sample.pcap", &[(0, 0)][..], 12)];
    for t in support::targets() {
        for (capture, streams, frames) in want {
            let pcap = format!("{{pcap:{capture}}}");
            for two_pass in [false, true] {
                let mut args = vec!["-r", pcap.as_str(), "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"];
                args.extend(["-e", "smcdump.stream", "-e", "smcdump.clc.frame", "-e", "smcdump.clc.tcp_stream"]);
                if two_pass {
                    args.insert(0, "-2");
                }
                let out = t.tshark(&args).stdout;
                let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
                let tcp_stream_of = |frame: &str| rows.iter().find(|r| r[0] == frame).map(|r| r[1]);
                let mut seen = std::collections::BTreeSet::new();
                let mut shown = 0;
                for r in rows.iter().filter(|r| !r[4].is_empty()) {
                    shown += 1;
                    for clc in r[3].split(',') {
                        assert_eq!(tcp_stream_of(clc), Some(r[4]), "Wireshark {} {capture} frame {}", t.abi, r[0]);
                    }
                    seen.insert((r[2].parse::<u32>().unwrap(), r[4].parse::<u32>().unwrap()));
                }
                let seen: Vec<(u32, u32)> = seen.into_iter().collect();
                assert_eq!(seen, streams, "Wireshark {} {capture}, two passes: {two_pass}", t.abi);
                assert_eq!(shown, frames, "Wireshark {} {capture}, two passes: {two_pass}:\n{out}", t.abi);
            }
        }
    }
}
