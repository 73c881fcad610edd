//! The CLC handshake decodes as SMC (Wireshark's own `smc` dissector) on ports other TCP dissectors own, out of the
//! box; after a Decline the application's traffic over TCP still decodes as the application.

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

#[test]
fn clc_decodes_as_smc_on_any_port() {
    for t in support::targets() {
        let out = t
            .tshark(&[
                "-r",
                "{pcap:clc-ports.pcap}",
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
        assert_eq!(got, CLC_FRAMES, "Wireshark {}", t.abi);
    }
}

#[test]
fn application_after_a_decline_decodes_as_the_application() {
    for t in support::targets() {
        let out = t
            .tshark(&[
                "-r",
                "{pcap:clc-ports.pcap}",
                "-Y",
                "frame.number >= 27",
                "-T",
                "fields",
                "-e",
                "frame.protocols",
            ])
            .stdout;
        let got: Vec<&str> = out.lines().collect();
        // Wireshark 3.4 has no RESP dissector: the PING and PONG are TCP data there, and still not SMC.
        let app = if t.older_than("4.0") { "eth:ethertype:ip:tcp:data" } else { "eth:ethertype:ip:tcp:resp" };
        assert_eq!(got, [app, app], "Wireshark {}", t.abi);
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
