//! The heuristic claims dump frames and nothing else: a datagram without the magic, one shorter than the header
//! and one whose length field is impossible stay plain UDP data, also when heuristics run first.

mod support;

#[test]
fn dump_frames_are_claimed() {
    for t in support::targets() {
        let out = t.tshark(&["-r", "{pcap:smcr.pcap}", "-T", "fields", "-e", "frame.protocols"]).stdout;
        assert_eq!(out.lines().count(), 27, "Wireshark {}", t.abi);
        for (n, line) in out.lines().enumerate() {
            assert_eq!(line, "eth:ethertype:ip:udp:smcdump", "Wireshark {}: frame {}", t.abi, n + 1);
        }
    }
}

#[test]
fn foreign_datagrams_stay_udp_data() {
    // not-smc.pcap: no magic, 3 of 4 magic bytes, shorter than the header, length below the header, length
    // beyond the datagram.
    for t in support::targets() {
        for extra in [&[][..], &["-o", "udp.try_heuristic_first:TRUE"][..]] {
            let mut args = vec!["-r", "{pcap:not-smc.pcap}", "-T", "fields", "-e", "frame.protocols"];
            args.extend_from_slice(extra);
            let out = t.tshark(&args).stdout;
            assert_eq!(out.lines().count(), 5, "Wireshark {} {extra:?}", t.abi);
            for (n, line) in out.lines().enumerate() {
                // Newer releases' own heuristics may take a datagram (4.4's hipercontracer takes one); what
                // matters is that smcdump does not. In 3.4 and 4.0 they all stay data.
                assert!(line.starts_with("eth:ethertype:ip:udp"), "Wireshark {} frame {}: {line}", t.abi, n + 1);
                assert!(!line.contains("smcdump"), "Wireshark {} {extra:?}: frame {} claimed: {line}", t.abi, n + 1);
                if t.older_than("4.4") {
                    assert_eq!(line, "eth:ethertype:ip:udp:data", "Wireshark {} {extra:?}: frame {}", t.abi, n + 1);
                }
            }
        }
    }
}

#[test]
fn ordinary_udp_traffic_is_never_claimed() {
    // other-udp.pcap: DNS, NTP, QUIC-like, RTP-like, random payloads, three of four magic bytes, impossible
    // lengths, and the dump device's envelope around payloads that are no consistent dump header.
    for t in support::targets() {
        for extra in [&[][..], &["-o", "udp.try_heuristic_first:TRUE"][..]] {
            let mut args = vec!["-r", "{pcap:other-udp.pcap}", "-T", "fields", "-e", "frame.protocols"];
            args.extend_from_slice(extra);
            let out = t.tshark(&args).stdout;
            assert_eq!(out.lines().count(), 18, "Wireshark {} {extra:?}", t.abi);
            let claimed: Vec<(usize, &str)> =
                out.lines().enumerate().filter(|(_, l)| l.contains("smcdump")).map(|(n, l)| (n + 1, l)).collect();
            assert!(claimed.is_empty(), "Wireshark {} {extra:?}: claimed {claimed:?}", t.abi);
            let first: Vec<&str> = out.lines().take(3).collect();
            assert_eq!(first, ["eth:ethertype:ip:udp:dns", "eth:ethertype:ip:udp:dns", "eth:ethertype:ip:udp:ntp"]);
        }
    }
}
