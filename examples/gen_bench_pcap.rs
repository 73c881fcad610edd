//! Writes a large dump capture for scripts/bench: `cargo run --release --example gen_bench_pcap -- FRAMES OUT`.
//!
//! A realistic shape: 64 connections at once (half SMC-R, half SMC-D, on ports of their own), about 60 % CDC
//! messages, data of mixed sizes up to 64 KiB (most small, some of a few KiB, a few near the datagram limit),
//! cursors wrapping around 1 MiB rings. Each step picks a connection and a direction; the writer dumps its data
//! (one frame) and announces it with a CDC, and now and then the reader answers with a CDC carrying its consumer
//! cursor. Deterministic: the same file for the same frame count.

use std::fs::File;
use std::io::BufWriter;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use smcdump::wire::emit::{data_frame, smcd_cdc_frame, smcr_cdc_frame, MODE_SMCD, MODE_SMCR};
use smcdump::wire::envelope::emit;
use smcdump::wire::{ByteOrder, Endpoint, Flow, Layout};

const RING: u32 = 1 << 20;
const CONNECTIONS: usize = 64;
/// The largest data block that fits a datagram with the dump header (IPv4 total length 65535).
const MAX_DATA: usize = 65535 - 20 - 8 - 16;

/// xorshift64: deterministic choices without a crate for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Default)]
struct Cursor {
    wrap: u16,
    count: u32,
}

impl Cursor {
    fn advance(&mut self, n: usize) {
        let c = self.count as usize + n;
        self.wrap = self.wrap.wrapping_add((c / RING as usize) as u16);
        self.count = (c % RING as usize) as u32;
    }
    fn pair(self) -> (u16, u32) {
        (self.wrap, self.count)
    }
}

struct Conn {
    smcr: bool,
    flows: [Flow; 2],
    prod: [Cursor; 2],
    seq: [u16; 2],
}

/// A data size: 90 % up to one MTU, 9 % up to 16 KiB, 1 % up to the datagram limit.
fn data_size(r: &mut Rng) -> usize {
    match r.below(100) {
        0 => 16384 + r.below((MAX_DATA - 16384) as u64) as usize,
        1..=9 => 1448 + r.below(16384 - 1448) as usize,
        _ => 64 + r.below(1448 - 64) as usize,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let frames: usize = args.next().as_deref().unwrap_or("1000000").parse()?;
    let out = args.next().unwrap_or_else(|| "bench.pcap".into());
    let layout = Layout::default();
    let mut conns: Vec<Conn> = (0..CONNECTIONS)
        .map(|i| {
            let client = Flow::new(
                Endpoint::new([10, 7, (i / 250) as u8, (i % 250) as u8 + 1], 40000 + i as u16),
                Endpoint::new([10, 8, 0, 1], 20000 + i as u16),
            );
            let server = client.reverse();
            Conn { smcr: i % 2 == 0, flows: [client, server], prod: Default::default(), seq: [0; 2] }
        })
        .collect();
    // tcpdump's default snap length: the largest datagram plus its Ethernet header exceeds 65,535.
    let header = PcapHeader { datalink: DataLink::ETHERNET, snaplen: 262_144, ..Default::default() };
    let mut w = PcapWriter::with_header(BufWriter::new(File::create(&out)?), header)?;
    let payload: Vec<u8> = (0..MAX_DATA).map(|i| (i % 251) as u8).collect();
    let mut r = Rng(0x5eed_be4c);
    let mut n = 0;
    let push = |w: &mut PcapWriter<_>, flow: &Flow, udp: &[u8], n: &mut usize| -> Result<(), pcap_file::PcapError> {
        let frame = emit(flow, udp);
        let ts = Duration::from_micros(1_704_067_200_000_000 + *n as u64 * 10);
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))?;
        *n += 1;
        Ok(())
    };
    while n < frames {
        let c = &mut conns[r.below(CONNECTIONS as u64) as usize];
        let d = r.below(2) as usize;
        let mode = if c.smcr { MODE_SMCR } else { MODE_SMCD };
        let size = data_size(&mut r);
        // The writer's data, then its CDC.
        let data = data_frame(&layout, 2, mode, &payload[..size]);
        push(&mut w, &c.flows[d], &data, &mut n)?;
        c.prod[d].advance(size);
        let cdc = |c: &mut Conn, from: usize| -> Vec<u8> {
            let (prod, cons) = (c.prod[from].pair(), c.prod[1 - from].pair());
            if c.smcr {
                c.seq[from] = c.seq[from].wrapping_add(1);
                smcr_cdc_frame(&layout, 2, &SmcrCdcRepr::new(c.seq[from], 0x1000 + from as u32, prod, cons))
            } else {
                smcd_cdc_frame(&layout, 2, &SmcdCdcRepr::sent(prod, cons), ByteOrder::Little)
            }
        };
        if n < frames {
            let m = cdc(c, d);
            push(&mut w, &c.flows[d], &m, &mut n)?;
        }
        // Half the time the reader reports its consumer cursor: about 60 % of the frames are CDCs.
        if n < frames && r.below(2) == 0 {
            let m = cdc(c, 1 - d);
            push(&mut w, &c.flows[1 - d], &m, &mut n)?;
        }
    }
    println!("{out}: {n} frames");
    // The UDP ports the dump frames use, for a baseline that decodes exactly these as data (scripts/bench).
    let last = CONNECTIONS as u16 - 1;
    println!("ports: {}-{} {}-{}", 20000, 20000 + last, 40000, 40000 + last);
    Ok(())
}
