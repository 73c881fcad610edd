//! Writes small pcap files for tests: the dump envelope of the kernel (Ethernet, IPv4 without checksum, UDP
//! without checksum; spec section 2) around any UDP payload.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use smcdump::wire::envelope::{self, Link};
use smcdump::wire::{Endpoint, Flow};

/// An Ethernet/IPv4/UDP frame carrying `payload` from `src`:`sport` to `dst`:`dport`, as the dump device emits it.
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    envelope::emit(&Flow::new(Endpoint::new(src, sport), Endpoint::new(dst, dport)), payload)
}

/// Writes `frames` (whole frames, captured in full) to an Ethernet pcap at `path`, one second apart.
pub fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let file = File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..Default::default() };
    let mut w = PcapWriter::with_header(file, header).expect("pcap header");
    for (i, f) in frames.iter().enumerate() {
        let packet = PcapPacket::new(Duration::from_secs(1_700_000_000 + i as u64), f.len() as u32, f);
        w.write_packet(&packet).expect("write packet");
    }
}

/// Every frame of the capture file at `path` (pcap or pcapng): its captured bytes and its length on the wire.
pub fn read_frames(path: &Path) -> Vec<(Vec<u8>, usize)> {
    read_capture(path).1
}

/// The link type of the capture file at `path` (pcap, or pcapng with one interface) and its frames.
pub fn read_capture(path: &Path) -> (Link, Vec<(Vec<u8>, usize)>) {
    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let link = |d: DataLink| match d {
        DataLink::ETHERNET => Link::Ethernet,
        DataLink::LINUX_SLL => Link::Sll,
        DataLink::LINUX_SLL2 => Link::Sll2,
        other => panic!("{}: link type {other:?}", path.display()),
    };
    let file = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut linktype = None;
    if path.extension().is_some_and(|e| e == "pcapng") {
        let mut reader = PcapNgReader::new(file).expect("a pcapng file");
        while let Some(block) = reader.next_block() {
            match block.expect("a readable block") {
                Block::InterfaceDescription(i) => linktype = Some(link(i.linktype)),
                Block::EnhancedPacket(p) => out.push((p.data.into_owned(), p.original_len as usize)),
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(file).expect("a pcap file");
        linktype = Some(link(reader.header().datalink));
        while let Some(packet) = reader.next_packet() {
            let p = packet.expect("a readable packet");
            out.push((p.data.into_owned(), p.orig_len as usize));
        }
    }
    (linktype.expect("a link type"), out)
}
