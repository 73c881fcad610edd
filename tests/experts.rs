//! Every expert item is produced by at least one test capture (test-pcaps/, and the messy captures of
//! tests/support/messy.rs for holes and copies), and Decode As forces smcdump onto datagrams the heuristic
//! refuses, flagging what is wrong with them.

mod support;

use std::collections::BTreeSet;

use smcdump::dissect::fields::EXPERTS;

/// The not-smc.pcap frames (UDP ports 40001-40005) decoded as smcdump through Decode As.
fn decode_as_args() -> Vec<String> {
    let mut args: Vec<String> = ["-r", "{pcap:not-smc.pcap}"].map(String::from).to_vec();
    for port in 40001..=40005 {
        args.push("-d".into());
        args.push(format!("udp.port=={port},smcdump"));
    }
    args
}

fn run(t: &support::Target, args: &[String], extra: &[&str]) -> String {
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.extend_from_slice(extra);
    t.tshark(&argv).stdout
}

#[test]
fn decode_as_flags_what_the_heuristic_refused() {
    let want = [
        "1\tSMCDUMP\tMagic is 0x12345678, not 0xcfd3e7a5",
        "2\tSMCDUMP\t12 bytes, an SMC dump header needs 16",
        "3\tSMC-R\tLength field is 5, UDP payload is 64 bytes",
        "4\tSMC-R\tLength field is 100, UDP payload is 64 bytes",
        "5\tSMCDUMP\tMagic is 0xcfd3e7a4, not 0xcfd3e7a5",
    ];
    for t in support::targets() {
        let col = if t.older_than("4.2") { "_ws.col.Protocol" } else { "_ws.col.protocol" };
        let out =
            run(&t, &decode_as_args(), &["-T", "fields", "-e", "frame.number", "-e", col, "-e", "_ws.expert.message"]);
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got, want, "Wireshark {}", t.abi);
    }
}

#[test]
fn every_expert_item_is_produced_by_a_test_capture() {
    let names: Vec<&str> = EXPERTS.iter().map(|e| e.name.to_str().unwrap()).collect();
    let dir = std::env::temp_dir().join(format!("smcdump-experts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let apps = support::messy::apps();
    let messy: Vec<String> = support::messy::Case::ALL
        .iter()
        .map(|&case| {
            let b = support::messy::build(case, &apps);
            let path = dir.join(format!("{}.pcap", case.name()));
            support::messy::write(&path, b.link, &b.smc);
            format!("{{file:{}}}", path.display())
        })
        .collect();
    for t in support::targets() {
        let mut seen = BTreeSet::new();
        let mut runs: Vec<Vec<String>> =
            support::CAPTURES.iter().map(|c| vec!["-r".to_string(), format!("{{pcap:{c}}}")]).collect();
        runs.extend(messy.iter().map(|m| vec!["-r".to_string(), m.clone()]));
        runs.push(decode_as_args());
        for args in runs {
            let mut extra = vec!["-T", "fields"];
            for n in &names {
                extra.extend(["-e", n]);
            }
            for line in run(&t, &args, &extra).lines() {
                for (n, v) in names.iter().zip(line.split('\t')) {
                    if !v.is_empty() {
                        seen.insert(*n);
                    }
                }
            }
        }
        let missing: Vec<&&str> = names.iter().filter(|n| !seen.contains(*n)).collect();
        assert!(missing.is_empty(), "Wireshark {}: no capture produces {missing:?}", t.abi);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
