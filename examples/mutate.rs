//! The one mutation driver: writes a capture of mutated frames for the robustness checks that run tshark with the
//! plugin (tests/mutation.rs, scripts/mutate, scripts/valgrind-check).
//!
//! ```text
//! cargo run --release --example mutate -- OUT.pcapng [--seed S] [--frames N]
//! ```
//!
//! Every capture of test-pcaps/ (Ethernet, SLL and SLL2 alike) is written in five variants: random byte errors
//! from the UDP payload on, from the UDP header on, from the IPv4 header on, or over the whole frame, one variant
//! also cut short by a snap length; the places come from each frame's link type and smcdump's own header
//! declarations (`smcdump::wire::net`), not from fixed offsets. Random UDP datagrams that start with the SMC dump
//! magic and lie about their length (mode, type and length field mostly plausible) are added. Rounds with the
//! following seeds are appended until the file holds at least N frames (default: one round). The same seed gives
//! the same file. The output is pcapng, one interface per link type, each frame keeping its own.

#[path = "common/captures.rs"]
mod captures;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Duration;

use captures::{datalink, test_captures, Frame};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::Endianness;
use smcdump::wire::envelope::{emit, Link};
use smcdump::wire::layout::header_field;
use smcdump::wire::net::{IPV4_LEN, UDP_LEN};
use smcdump::wire::{Endpoint, Flow, MAGIC};

/// Where a variant's errors start: a header of the frame, found from its link type.
#[derive(Clone, Copy)]
enum From {
    UdpPayload,
    UdpHeader,
    IpHeader,
    Frame,
}

/// The variants: error probability per byte (in 1/1000), where errors start, snap length.
const VARIANTS: [(u64, From, Option<usize>); 5] = [
    (10, From::UdpPayload, None),
    (30, From::UdpPayload, Some(70)),
    (20, From::UdpHeader, None),
    (5, From::IpHeader, None),
    (2, From::Frame, None),
];

/// Datagrams of magic-prefixed garbage a round.
const PLANTED: usize = 100;

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Where `from` starts in a frame of link type `link` (an IPv4 header without options is assumed: a frame with
/// options gets its errors a little earlier, which mutates it all the same).
fn start(link: Link, from: From) -> usize {
    match from {
        From::Frame => 0,
        From::IpHeader => link.ip(),
        From::UdpHeader => link.ip() + IPV4_LEN,
        From::UdpPayload => link.ip() + IPV4_LEN + UDP_LEN,
    }
}

/// Random errors in `data` from `at` on, each byte with probability `rate` in 1000: a random byte, or one bit
/// flipped.
fn mutate(r: &mut Rng, data: &mut [u8], at: usize, rate: u64) {
    for b in data.iter_mut().skip(at) {
        if r.below(1000) < rate {
            *b = if r.below(2) == 0 { r.next() as u8 } else { *b ^ (1 << r.below(8)) };
        }
    }
}

/// A UDP datagram of the dump device that starts with the magic and lies about much of the rest.
fn planted(r: &mut Rng, i: usize) -> Frame {
    let len = 4 + r.below(80) as usize;
    let mut payload: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
    payload[..4].copy_from_slice(&MAGIC.to_be_bytes());
    if len >= header_field::SIZE {
        payload[header_field::MODE.start] = [1, 2, r.next() as u8][i % 3];
        payload[header_field::TYPE.start] = [1, 2, 2, r.next() as u8][i % 4];
        let lies = [len, len - 1, len + 1, 16, 0, 0xFFFF, r.next() as u16 as usize];
        let field = lies[i % lies.len()].min(0xFFFF) as u16;
        payload[header_field::LEN].copy_from_slice(&field.to_be_bytes());
    }
    let flow = Flow::new(Endpoint::new([10, 0, 0, 1], 40000 + i as u16), Endpoint::new([10, 0, 0, 2], 50000));
    let data = emit(&flow, &payload);
    Frame { link: Link::Ethernet, orig_len: data.len(), data }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut out, mut seed, mut frames) = (None, 1u64, 0usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().ok_or("--seed needs a value")?.parse()?,
            "--frames" => frames = args.next().ok_or("--frames needs a value")?.parse()?,
            _ if out.is_none() => out = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a}").into()),
        }
    }
    let out = out.ok_or("usage: mutate OUT.pcapng [--seed S] [--frames N]")?;
    let captures: Vec<Vec<Frame>> = test_captures()?.into_iter().map(|(_, frames)| frames).collect();

    let mut w = PcapNgWriter::with_endianness(BufWriter::new(File::create(&out)?), Endianness::Little)?;
    let mut interfaces: Vec<Link> = Vec::new();
    let mut written = 0usize;
    let mut round = 0;
    while round == 0 || written < frames {
        let mut r = Rng(seed.wrapping_add(round).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut batch = Vec::new();
        for capture in &captures {
            for &(rate, from, snap) in &VARIANTS {
                for f in capture {
                    let mut data = f.data.clone();
                    mutate(&mut r, &mut data, start(f.link, from), rate);
                    if let Some(snap) = snap {
                        data.truncate(snap);
                    }
                    batch.push(Frame { link: f.link, orig_len: f.orig_len.max(data.len()), data });
                }
            }
        }
        batch.extend((0..PLANTED).map(|i| planted(&mut r, i)));
        for f in batch {
            let interface = match interfaces.iter().position(|&l| l == f.link) {
                Some(i) => i,
                None => {
                    let options = vec![InterfaceDescriptionOption::IfTsResol(9)];
                    let idb = InterfaceDescriptionBlock { linktype: datalink(f.link), snaplen: 262_144, options };
                    w.write_pcapng_block(idb)?;
                    interfaces.push(f.link);
                    interfaces.len() - 1
                }
            };
            let timestamp = Duration::from_secs(1_704_067_200) + Duration::from_micros(written as u64);
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: interface as u32,
                timestamp,
                original_len: u32::try_from(f.orig_len)?,
                data: f.data.into(),
                options: vec![],
            })?;
            written += 1;
        }
        round += 1;
    }
    println!("{}: {written} frames", out.display());
    Ok(())
}
