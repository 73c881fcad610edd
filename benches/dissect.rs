//! Per-packet cost of the parts smcdump adds to a tshark run, without Wireshark: the heuristic's test, the
//! parse, and the whole dissection into a tree writer that only counts (the FFI calls are Wireshark's cost).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smcdump::dissect::{dissect, Ei, Ett, Hf, TreeWriter, Value};
use smcdump::wire::emit::{dump_frame, smcd_cdc, smcr_cdc, HeaderSpec, SmcdCdcSpec, SmcrCdcSpec};
use smcdump::wire::frame::DumpFrame;
use smcdump::wire::header::claims;
use smcdump::wire::{ByteOrder, Layout, Span};

/// A tree writer that counts items: the dissection's own work, with no tree to build.
struct Counting(usize);

impl TreeWriter for Counting {
    type Node = ();
    fn add(&mut self, _: (), _: Hf, _: Span, _: Value) {
        self.0 += 1;
    }
    fn subtree(&mut self, _: (), _: Ett) {}
    fn append_text(&mut self, _: (), text: &str) {
        self.0 += text.len();
    }
    fn generated(&mut self, _: ()) {}
    fn expert(&mut self, _: (), _: Ei, message: &str) {
        self.0 += message.len();
    }
    fn expert_at(&mut self, _: (), _: Ei, _: Span, message: &str) {
        self.0 += message.len();
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let l = Layout::default();
    let mut r = SmcrCdcSpec::new(7, 0x0101, (1, 4096), (0, 512));
    r.prod_flags = 0x90;
    let d = SmcdCdcSpec::sent(ByteOrder::Little, (2, 8192), (1, 100));
    vec![
        ("smcr_cdc", dump_frame(&l, &HeaderSpec::new(2, 1, l.type_cdc), &smcr_cdc(&r))),
        ("smcd_cdc", dump_frame(&l, &HeaderSpec::new(1, 2, l.type_cdc), &smcd_cdc(&d))),
        ("raw_8k", dump_frame(&l, &HeaderSpec::new(1, 1, l.type_raw), &[0x5a; 8192])),
    ]
}

fn bench(c: &mut Criterion) {
    let layout = Layout::default();
    let mut g = c.benchmark_group("per_packet");
    g.throughput(Throughput::Elements(1));
    for (name, frame) in frames() {
        g.bench_function(format!("claims/{name}"), |b| b.iter(|| claims(black_box(&frame), frame.len(), &layout)));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| DumpFrame::parse(black_box(&frame), frame.len(), &layout).is_ok())
        });
        g.bench_function(format!("dissect/{name}"), |b| {
            b.iter(|| {
                let mut w = Counting(0);
                let summary = dissect(&mut w, (), black_box(&frame), frame.len(), &layout);
                (w.0, summary.info.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
