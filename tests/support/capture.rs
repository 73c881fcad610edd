//! Writes small pcap files for tests: the dump envelope of the kernel (Ethernet, IPv4 without checksum, UDP
//! without checksum; spec section 2) around any UDP payload.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

/// The MAC address of the dummy device; the kernel uses it as source and destination.
const DUMMY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// An Ethernet/IPv4/UDP frame carrying `payload` from `src`:`sport` to `dst`:`dport`, as the dump device emits it.
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut f = Vec::with_capacity(14 + ip_len);
    f.extend_from_slice(&DUMMY_MAC);
    f.extend_from_slice(&DUMMY_MAC);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    // IPv4: version/IHL, TOS, total length, ID 0, no DF, TTL 64, UDP, checksum left 0 as the kernel leaves it.
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(ip_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&(udp_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
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
