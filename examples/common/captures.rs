//! The captures of test-pcaps/, read frame by frame with their link types: what the examples that derive inputs
//! from them share (examples/mutate.rs, examples/fuzz_seeds.rs; included with `#[path]`, so each uses a part).
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use smcdump::wire::envelope::Link;

/// A captured frame: its link type, bytes and length on the wire.
pub struct Frame {
    pub link: Link,
    pub data: Vec<u8>,
    pub orig_len: usize,
}

pub fn link_of(d: DataLink) -> Option<Link> {
    match d {
        DataLink::ETHERNET => Some(Link::Ethernet),
        DataLink::LINUX_SLL => Some(Link::Sll),
        DataLink::LINUX_SLL2 => Some(Link::Sll2),
        _ => None,
    }
}

pub fn datalink(l: Link) -> DataLink {
    match l {
        Link::Ethernet => DataLink::ETHERNET,
        Link::Sll => DataLink::LINUX_SLL,
        Link::Sll2 => DataLink::LINUX_SLL2,
    }
}

/// The frames of a capture in test-pcaps/.
pub fn read(path: &Path) -> Result<Vec<Frame>, Box<dyn std::error::Error>> {
    let file = File::open(path)?;
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "pcapng") {
        let mut r = PcapNgReader::new(file)?;
        let mut link = None;
        while let Some(block) = r.next_block() {
            match block? {
                Block::InterfaceDescription(i) => link = link_of(i.linktype),
                Block::EnhancedPacket(p) => {
                    let link = link.ok_or("a packet before its interface")?;
                    out.push(Frame { link, data: p.data.into_owned(), orig_len: p.original_len as usize });
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(file)?;
        let link = link_of(r.header().datalink).ok_or("an unknown link type")?;
        while let Some(p) = r.next_packet() {
            let p = p?;
            out.push(Frame { link, data: p.data.into_owned(), orig_len: p.orig_len as usize });
        }
    }
    Ok(out)
}

/// A capture file's path and frames.
pub type Capture = (PathBuf, Vec<Frame>);

/// Every capture of test-pcaps/, in name order.
pub fn test_captures() -> Result<Vec<Capture>, Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-pcaps");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    names.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    names.sort();
    names.into_iter().map(|p| read(&p).map(|f| (p, f))).collect()
}
