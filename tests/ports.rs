//! Dump frames keep the application's ports, so UDP dissectors that own those ports (dns on 53, memcache on
//! 11211, oicq on 8000) would take them first. ports.pcap decodes as smcdump in each documented way: out of the
//! box (the Ethernet heuristic hands the flow to smcdump), with `udp.try_heuristic_first`, and with Decode As;
//! without the Ethernet heuristic the postdissector hands the flow over after its first frame; and the port owners
//! that accept them win when the flow hand-over is off.

mod support;

const OURS: &str = "eth:ethertype:ip:udp:smcdump";

fn protocols(t: &support::Target, extra: &[&str]) -> Vec<String> {
    // The application dissection off: the TCP dissectors of these ports would take the data's bytes.
    let mut args =
        vec!["-r", "{pcap:ports.pcap}", "-o", "smcdump.handoff:FALSE", "-T", "fields", "-e", "frame.protocols"];
    args.extend_from_slice(extra);
    t.tshark(&args).stdout.lines().map(String::from).collect()
}

#[test]
fn out_of_the_box() {
    for t in support::targets() {
        assert_eq!(protocols(&t, &[]), [OURS; 12], "Wireshark {}", t.abi);
    }
}

#[test]
fn with_heuristics_first_or_decode_as() {
    let no_eth = ["--disable-heuristic", "smcdump_eth"];
    let heuristics_first = ["-o", "udp.try_heuristic_first:TRUE"];
    let decode_as = ["-d", "udp.port==53,smcdump", "-d", "udp.port==11211,smcdump", "-d", "udp.port==8000,smcdump"];
    for t in support::targets() {
        let args: Vec<&str> = no_eth.iter().chain(&heuristics_first).copied().collect();
        assert_eq!(protocols(&t, &args), [OURS; 12], "Wireshark {} {args:?}", t.abi);
        let args: Vec<&str> = no_eth.iter().chain(&decode_as).copied().collect();
        assert_eq!(protocols(&t, &args), [OURS; 12], "Wireshark {} {args:?}", t.abi);
    }
}

/// Without the Ethernet heuristic, a single pass gives a connection's first frame to the port owner; the
/// postdissector then hands the flow over, and the frames after it decode as smcdump.
#[test]
fn without_the_ethernet_heuristic_the_postdissector_takes_over_after_the_first_frame() {
    for t in support::targets() {
        let got = protocols(&t, &["--disable-heuristic", "smcdump_eth"]);
        assert_eq!(got.len(), 12, "Wireshark {}", t.abi);
        // Frames 1-4 are on port 53, 5-8 on 11211.
        for (i, owner) in [(0, ":dns"), (4, ":memcache")] {
            assert!(got[i].contains(owner) && !got[i].contains("smcdump"), "Wireshark {}: {}", t.abi, got[i]);
            assert_eq!(got[i + 1..i + 4], [OURS; 3], "Wireshark {}", t.abi);
        }
        let two_pass: Vec<&str> = ["--disable-heuristic", "smcdump_eth", "-2"].to_vec();
        assert_eq!(protocols(&t, &two_pass), [OURS; 12], "Wireshark {} {two_pass:?}", t.abi);
    }
}

#[test]
fn port_owners_win_without_the_flow_hand_over() {
    for t in support::targets() {
        let got = protocols(&t, &["--disable-heuristic", "smcdump_eth", "-o", "smcdump.follow_conversations:FALSE"]);
        assert_eq!(got.len(), 12, "Wireshark {}", t.abi);
        // Frames 1-4 are on port 53, 5-8 on 11211. (oicq, on 8000, refuses them, and a datagram its port owner
        // refuses goes to the heuristics, smcdump's among them.)
        for (i, owner) in [(0, ":dns"), (4, ":memcache")] {
            for line in &got[i..i + 4] {
                assert!(line.contains(owner) && !line.contains("smcdump"), "Wireshark {}: {line}", t.abi);
            }
        }
    }
}
