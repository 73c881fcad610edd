//! Per-packet cost of the parts smcdump adds to a tshark run, without Wireshark: the heuristic's test, the
//! parse, and the whole dissection into a tree writer that only counts (the FFI calls are Wireshark's cost).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smcdump::dissect::{dissect, Ei, Ett, Hf, TreeWriter, Value};
use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use smcdump::wire::emit::{data_frame, smcd_cdc_frame, smcr_cdc_frame};
use smcdump::wire::frame::DumpFrame;
use smcdump::wire::header::claims;
use smcdump::wire::{ByteOrder, Layout, ProdFlags, Span};

/// A tree writer that counts items: the dissection's own work, with no tree to build.
struct Counting(usize);

impl TreeWriter for Counting {
    type Node = ();
    const NO_ITEM: () = ();
    fn add(&mut self, _: (), _: Hf, _: Span, _: Value) {
        self.0 += 1;
    }
    fn subtree(&mut self, _: (), _: Ett) {}
    fn append_text(&mut self, _: (), text: &str) {
        self.0 += text.len();
    }
    fn expert(&mut self, _: (), _: Ei, message: &str) {
        self.0 += message.len();
    }
    fn expert_at(&mut self, _: (), _: Ei, _: Span, message: &str) {
        self.0 += message.len();
    }
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let l = Layout::default();
    let mut r = SmcrCdcRepr::new(7, 0x0101, (1, 4096), (0, 512));
    r.prod_flags = ProdFlags(0x90);
    let d = SmcdCdcRepr::sent((2, 8192), (1, 100));
    vec![
        ("smcr_cdc", smcr_cdc_frame(&l, 2, &r)),
        ("smcd_cdc", smcd_cdc_frame(&l, 1, &d, ByteOrder::Little)),
        ("raw_8k", data_frame(&l, 1, 1, &[0x5a; 8192])),
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
