//! Writes small pcap files for tests: the dump envelope of the kernel (Ethernet, IPv4 without checksum, UDP
//! without checksum; spec section 2) around any UDP payload.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use smcdump::wire::envelope::{self, Flow};

/// An Ethernet/IPv4/UDP frame carrying `payload` from `src`:`sport` to `dst`:`dport`, as the dump device emits it.
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    envelope::emit(&Flow { src, dst, sport, dport }, payload)
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
