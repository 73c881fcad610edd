//! An independent oracle: Wireshark's built-in `smc` dissector decodes the same 44-byte SMC-R CDC message when it
//! rides on RoCEv2 (UDP 4791, InfiniBand BTH SEND, the message, the ICRC) as `smc.rmbe.ctrl.*`. The same random
//! messages, wrapped once as dump frames and once as RoCEv2 frames, must give equal values through smcdump and
//! through `smc` — and both must equal the values the messages were built from.

mod support;

use smcdump::wire::cdc::SmcrCdcRepr;
use smcdump::wire::emit::smcr_cdc_frame;
use smcdump::wire::{ByteOrder, ConnState, Layout, ProdFlags, WireRepr};
use support::capture::{udp_frame, write_pcap};
use support::rng::Rng;

/// Messages compared per release.
const MESSAGES: usize = 1000;

fn random_cdcs() -> Vec<SmcrCdcRepr> {
    let mut rng = Rng(0x5eed_0ac1_e5ee_d001);
    (0..MESSAGES)
        .map(|_| {
            let r = rng.next();
            let mut cdc = SmcrCdcRepr::new(
                r as u16,
                (r >> 16) as u32,
                ((r >> 48) as u16, rng.next() as u32),
                (rng.next() as u16, rng.next() as u32),
            );
            let f = rng.next();
            cdc.prod_flags = ProdFlags(f as u8);
            cdc.conn_state = ConnState((f >> 8) as u8);
            cdc.credits = (f >> 16) as u8;
            cdc
        })
        .collect()
}

/// One CDC's values as both dissectors report them: seqno, token, prod wrap, prod count, cons wrap, cons count,
/// then the 5 producer flag bits and the 3 connection state bits.
type Values = Vec<u64>;

fn truth(c: &SmcrCdcRepr) -> Values {
    let mut v = vec![
        u64::from(c.seqno),
        u64::from(c.token),
        u64::from(c.prod_wrap),
        u64::from(c.prod_count),
        u64::from(c.cons_wrap),
        u64::from(c.cons_count),
    ];
    v.extend([0x80u8, 0x40, 0x20, 0x10, 0x08].map(|m| u64::from(c.prod_flags.0 & m != 0)));
    v.extend([0x80u8, 0x40, 0x20].map(|m| u64::from(c.conn_state.0 & m != 0)));
    v
}

/// A number as tshark prints it: decimal, 0x-hex, or a boolean (1/0 before 4.2, True/False since).
fn number(s: &str) -> u64 {
    match s {
        "True" => 1,
        "False" => 0,
        _ => s.strip_prefix("0x").map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16)).unwrap_or_else(|_| {
            panic!("not a number: {s:?}");
        }),
    }
}

/// Runs tshark over `capture` and returns one [`Values`] per frame; fields with two occurrences are split.
fn decode(t: &support::Target, capture: &str, fields: &[&str]) -> Vec<Values> {
    let mut args = vec!["-r", capture, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = t.tshark(&args).stdout;
    out.lines().map(|l| l.split(['\t', ',']).map(number).collect()).collect()
}

#[test]
fn smcdump_agrees_with_wiresharks_smc_dissector() {
    let cdcs = random_cdcs();
    let layout = Layout::default();
    let dump: Vec<Vec<u8>> = cdcs
        .iter()
        .map(|c| {
            let payload = smcr_cdc_frame(&layout, 2, c);
            udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40001, 40002, &payload)
        })
        .collect();
    let roce: Vec<Vec<u8>> = cdcs
        .iter()
        .map(|c| {
            // BTH: RC SEND only (opcode 4), P_Key 0xffff, QP 0x11, PSN 1; then the message and a (zero) ICRC.
            let mut p = vec![0x04, 0x00, 0xff, 0xff, 0, 0, 0, 0x11, 0, 0, 0, 1];
            p.extend_from_slice(&c.emit(ByteOrder::Big)[..44]);
            p.extend_from_slice(&[0; 4]);
            udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 40003, 4791, &p)
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("smcdump-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_pcap(&dir.join("oracle-dump.pcap"), &dump);
    write_pcap(&dir.join("oracle-roce.pcap"), &roce);

    let ours = [
        "smcdump.cdc.seqno",
        "smcdump.cdc.token",
        "smcdump.cdc.prod.wrap",
        "smcdump.cdc.prod.count",
        "smcdump.cdc.cons.wrap",
        "smcdump.cdc.cons.count",
        "smcdump.cdc.prod_flags.write_blocked",
        "smcdump.cdc.prod_flags.urg_data_pending",
        "smcdump.cdc.prod_flags.urg_data_present",
        "smcdump.cdc.prod_flags.cons_curs_upd_req",
        "smcdump.cdc.prod_flags.failover_validation",
        "smcdump.cdc.conn_state.peer_done_writing",
        "smcdump.cdc.conn_state.peer_conn_closed",
        "smcdump.cdc.conn_state.peer_conn_abort",
    ];
    let theirs = [
        "smc.rmbe.ctrl.seqno",
        "smc.rmbe.ctrl.alert.token",
        "smc.rmbe.ctrl.prod.wrap.seq",
        "smc.rmbe.ctrl.peer.prod.curs",
        "smc.rmbe.ctrl.cons.wrap.seq",
        "smc.rmbe.ctrl.peer.cons.curs",
        "smc.rmbe.ctrl.write.blocked",
        "smc.rmbe.ctrl.urgent.pending",
        "smc.rmbe.ctrl.urgent.present",
        "smc.rmbe.ctrl.cons.update.requested",
        "smc.rmbe.ctrl.failover.validation",
        "smc.rmbe.ctrl.peer.sending.done",
        "smc.rmbe.ctrl.peer.closed.conn",
        "smc.rmbe.ctrl.peer.abnormal.close",
    ];
    for t in support::targets() {
        let ours_path = format!("{{file:{}}}", dir.join("oracle-dump.pcap").display());
        let theirs_path = format!("{{file:{}}}", dir.join("oracle-roce.pcap").display());
        let got = decode(&t, &ours_path, &ours);
        let oracle = if t.older_than("4.4") {
            // 3.4 and 4.0 register the consumer cursor under the producer cursor's names: each of those has two
            // occurrences, producer first, so the columns read seqno, token, prod wrap, cons wrap, prod count,
            // cons count.
            let mut fields = theirs.to_vec();
            fields.retain(|f| !f.contains(".cons.wrap.") && !f.contains(".cons.curs"));
            let mut rows = decode(&t, &theirs_path, &fields);
            for v in &mut rows {
                v.swap(3, 4);
            }
            rows
        } else {
            decode(&t, &theirs_path, &theirs)
        };
        assert_eq!(got.len(), MESSAGES, "Wireshark {}: smcdump decoded {} frames", t.abi, got.len());
        assert_eq!(oracle.len(), MESSAGES, "Wireshark {}: smc decoded {} frames", t.abi, oracle.len());
        for (i, c) in cdcs.iter().enumerate() {
            assert_eq!(oracle[i], truth(c), "Wireshark {}: smc's reading of message {i} differs from its bytes", t.abi);
            assert_eq!(got[i], oracle[i], "Wireshark {}: message {i}: smcdump vs smc", t.abi);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
