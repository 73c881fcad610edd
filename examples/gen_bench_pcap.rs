//! Writes a large dump capture for scripts/bench: `cargo run --release --example gen_bench_pcap -- FRAMES OUT`.
//!
//! The mix of a busy SMC-R connection: each step the client writes a 1448-byte chunk and announces it with a
//! CDC, the server consumes it and answers with a CDC carrying its consumer cursor; cursors wrap around a
//! 64 KiB ring. Deterministic: the same file for the same frame count.

use std::fs::File;
use std::io::BufWriter;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use smcdump::wire::emit::{dump_frame, smcr_cdc, HeaderSpec, SmcrCdcSpec};
use smcdump::wire::envelope::{emit, Flow};
use smcdump::wire::Layout;

const RING: u32 = 64 * 1024;
const CHUNK: usize = 1448;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let frames: usize = args.next().as_deref().unwrap_or("200000").parse()?;
    let out = args.next().unwrap_or_else(|| "bench.pcap".into());
    let layout = Layout::default();
    let client = Flow { src: [10, 7, 0, 1], dst: [10, 7, 0, 2], sport: 41000, dport: 12345 };
    let server = Flow { src: client.dst, dst: client.src, sport: client.dport, dport: client.sport };
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..Default::default() };
    let mut w = PcapWriter::with_header(BufWriter::new(File::create(&out)?), header)?;
    let data: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let (mut wrap, mut count, mut seq) = (0u16, 0u32, 0u16);
    let mut n = 0;
    while n < frames {
        let before = (wrap, count);
        count += CHUNK as u32;
        if count >= RING {
            count -= RING;
            wrap = wrap.wrapping_add(1);
        }
        seq = seq.wrapping_add(1);
        let steps = [
            (client, dump_frame(&layout, &HeaderSpec::new(2, 1, layout.type_raw), &data)),
            (
                client,
                dump_frame(
                    &layout,
                    &HeaderSpec::new(2, 1, layout.type_cdc),
                    &smcr_cdc(&SmcrCdcSpec::new(seq, 0x101, (wrap, count), (0, 0))),
                ),
            ),
            (
                server,
                dump_frame(
                    &layout,
                    &HeaderSpec::new(2, 1, layout.type_cdc),
                    &smcr_cdc(&SmcrCdcSpec::new(seq, 0x201, (0, 0), before)),
                ),
            ),
        ];
        for (flow, payload) in steps.iter().take(frames - n) {
            let frame = emit(flow, payload);
            let ts = Duration::from_micros(1_704_067_200_000_000 + n as u64 * 10);
            w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))?;
            n += 1;
        }
    }
    println!("{out}: {n} frames");
    Ok(())
}
