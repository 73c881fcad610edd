//! smcdump2tcp: rewrites an SMC dump capture as plain TCP, so that every TCP tool sees the SMC connections. The
//! conversion itself is `smcdump::export`; this reads and writes the files, prints progress and the summary.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriter};
use pcap_file::{DataLink, PcapError};
use smcdump::capture::layout::Learner;
use smcdump::export::{link, Converter, Emit, Input, Made, Summary};
use smcdump::wire::envelope::{find_dump, Link};
use smcdump::wire::Layout;

const HELP: &str = "\
smcdump2tcp: rewrite an SMC dump capture as plain TCP.

Usage: smcdump2tcp [options] <infile> <outfile>

Every SMC connection of <infile> (Ethernet, Linux cooked SLL or SLL2; pcap or pcapng) becomes the TCP
connection it replaced: its data dumped from shared memory as TCP segments at their stream positions, its CDC
messages as acknowledgements, windows, FINs (PeerDoneWriting, PeerConnClosed) and RSTs (PeerConnAbort). The
connection's own TCP segments (handshake, CLC) are kept; without them a handshake is synthesized (a pcapng
comment says so). Holes stay holes; bytes dumped twice (SMC-D loopback, merged captures) are written once.
Every other packet is copied unchanged.

Output:
  -F <format>   pcap (Ethernet; cooked packets get an Ethernet header) or pcapng (each interface kept; every
                packet made from a dump frame carries a comment naming it); default: pcapng when <outfile>
                ends in .pcapng, else pcap
  --only-smc    write the SMC connections only (their TCP segments and those of their handshakes)

Miscellaneous:
  -q            no progress and no summary on standard error
  -h, --help    this help, then exit
  -v, --version the version, then exit

The header layout of the dump frames is learned from <infile> first (as the plugin learns it), so <infile> is
read twice: it must be a file, not a pipe.";

/// The output's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pcap,
    PcapNg,
}

struct Options {
    input: PathBuf,
    output: PathBuf,
    format: Format,
    only_smc: bool,
    quiet: bool,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut args = std::env::args_os().skip(1);
    let (mut format, mut only_smc, mut quiet, mut files) = (None, false, false, Vec::new());
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("-h" | "--help") => {
                println!("{HELP}");
                return Ok(None);
            }
            Some("-v" | "--version") => {
                println!("smcdump2tcp {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            Some("-q") => quiet = true,
            Some("--only-smc") => only_smc = true,
            Some("-F") => {
                format = match args.next().as_ref().and_then(|f| f.to_str()) {
                    Some("pcap") => Some(Format::Pcap),
                    Some("pcapng") => Some(Format::PcapNg),
                    other => return Err(format!("-F takes pcap or pcapng, not {}", other.unwrap_or("nothing"))),
                }
            }
            Some(s) if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s} (see --help)")),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let [input, output]: [PathBuf; 2] =
        files.try_into().map_err(|_| "needs <infile> and <outfile> (see --help)".to_string())?;
    let format =
        format.unwrap_or(if output.extension().is_some_and(|e| e == "pcapng") { Format::PcapNg } else { Format::Pcap });
    Ok(Some(Options { input, output, format, only_smc, quiet }))
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smcdump2tcp: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smcdump2tcp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A packet read from the input.
struct Packet<'a> {
    link: Link,
    data: &'a [u8],
    orig_len: usize,
    /// Its timestamp as the file holds it (pcapng: in its interface's units) and as a time.
    raw_ts: u64,
    time: Duration,
    interface: u32,
}

/// What the input holds besides packets, for a pcapng output: its interfaces, and blocks to copy.
enum Event<'a> {
    Packet(Packet<'a>),
    Interface(InterfaceDescriptionBlock<'static>),
    /// A block other than a packet or an interface, copied as it is.
    Other(Block<'static>),
}

fn link_of(d: DataLink) -> Result<Link, String> {
    match d {
        DataLink::ETHERNET => Ok(Link::Ethernet),
        DataLink::LINUX_SLL => Ok(Link::Sll),
        DataLink::LINUX_SLL2 => Ok(Link::Sll2),
        other => Err(format!("link type {other:?} is not one smcdump2tcp reads (Ethernet, SLL, SLL2)")),
    }
}

fn datalink(l: Link) -> DataLink {
    match l {
        Link::Ethernet => DataLink::ETHERNET,
        Link::Sll => DataLink::LINUX_SLL,
        Link::Sll2 => DataLink::LINUX_SLL2,
    }
}

/// How the input ended: wholly read, or cut short (a truncated capture) after some packets.
enum End {
    Complete,
    Truncated(String),
}

/// Reads `path` (pcap or pcapng), calling `f` for each event in file order.
fn read(path: &Path, mut f: impl FnMut(Event) -> Result<(), String>) -> Result<End, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic).map_err(|e| format!("{}: not a capture file ({e})", path.display()))?;
    let chained = std::io::Cursor::new(magic).chain(reader);
    let cut = |e: PcapError| End::Truncated(e.to_string());
    if magic == [0x0A, 0x0D, 0x0D, 0x0A] {
        let mut r = PcapNgReader::new(chained).map_err(|e| format!("{}: {e}", path.display()))?;
        // Each interface's link type and time resolution (units a second).
        let mut interfaces: Vec<(Link, u64)> = Vec::new();
        while let Some(block) = r.next_block() {
            let block = match block {
                Ok(b) => b,
                Err(e) => return Ok(cut(e)),
            };
            match block {
                Block::InterfaceDescription(idb) => {
                    let link = link_of(idb.linktype)?;
                    interfaces.push((link, units_per_second(&idb)));
                    f(Event::Interface(idb.into_owned()))?;
                }
                Block::EnhancedPacket(p) => {
                    let &(link, units) = interfaces
                        .get(p.interface_id as usize)
                        .ok_or_else(|| format!("{}: a packet of an undeclared interface", path.display()))?;
                    // pcap-file reads the timestamp as nanoseconds whatever the interface's resolution.
                    let raw_ts = u64::try_from(p.timestamp.as_nanos()).unwrap_or(u64::MAX);
                    let time = Duration::from_nanos((u128::from(raw_ts) * 1_000_000_000 / u128::from(units)) as u64);
                    f(Event::Packet(Packet {
                        link,
                        data: &p.data,
                        orig_len: p.original_len as usize,
                        raw_ts,
                        time,
                        interface: p.interface_id,
                    }))?;
                }
                Block::SectionHeader(_) => {}
                other => f(Event::Other(other.into_owned()))?,
            }
        }
    } else {
        let mut r = PcapReader::new(chained).map_err(|e| format!("{}: {e}", path.display()))?;
        let link = link_of(r.header().datalink)?;
        let idb = InterfaceDescriptionBlock { linktype: datalink(link), snaplen: r.header().snaplen, options: vec![] };
        f(Event::Interface(idb))?;
        while let Some(p) = r.next_packet() {
            let p = match p {
                Ok(p) => p,
                Err(e) => return Ok(cut(e)),
            };
            let raw_ts = u64::try_from(p.timestamp.as_nanos()).unwrap_or(u64::MAX);
            f(Event::Packet(Packet {
                link,
                data: &p.data,
                orig_len: p.orig_len as usize,
                raw_ts,
                time: p.timestamp,
                interface: 0,
            }))?;
        }
    }
    Ok(End::Complete)
}

/// Timestamp units a second of an interface (its if_tsresol; microseconds by default).
fn units_per_second(idb: &InterfaceDescriptionBlock) -> u64 {
    let resol = idb.options.iter().find_map(|o| match o {
        InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
        _ => None,
    });
    match resol {
        Some(r) if r & 0x80 != 0 => 1u64.checked_shl(u32::from(r & 0x7F)).unwrap_or(1_000_000),
        Some(r) => 10u64.checked_pow(u32::from(r)).unwrap_or(1_000_000),
        None => 1_000_000,
    }
}

/// The output file.
enum Writer {
    Pcap(PcapWriter<BufWriter<File>>),
    PcapNg {
        w: PcapNgWriter<BufWriter<File>>,
        /// Interfaces written for a pcap input (whose timestamps are then written in nanoseconds).
        from_pcap: bool,
    },
}

impl Writer {
    fn create(path: &Path, format: Format, input_is_pcap: bool) -> Result<Writer, String> {
        let file =
            BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
        let err = |e: PcapError| format!("{}: {e}", path.display());
        Ok(match format {
            Format::Pcap => {
                let header = PcapHeader { datalink: DataLink::ETHERNET, snaplen: 262_144, ..PcapHeader::default() };
                Writer::Pcap(PcapWriter::with_header(file, header).map_err(err)?)
            }
            Format::PcapNg => Writer::PcapNg { w: PcapNgWriter::new(file).map_err(err)?, from_pcap: input_is_pcap },
        })
    }

    fn interface(&mut self, mut idb: InterfaceDescriptionBlock<'static>) -> Result<(), PcapError> {
        if let Writer::PcapNg { w, from_pcap } = self {
            if *from_pcap {
                idb.options.push(InterfaceDescriptionOption::IfTsResol(9));
            }
            w.write_pcapng_block(idb)?;
        }
        Ok(())
    }

    fn other(&mut self, block: &Block) -> Result<(), PcapError> {
        if let Writer::PcapNg { w, .. } = self {
            w.write_block(block)?;
        }
        Ok(())
    }

    /// Writes a packet: frame `data` of link type `link`, `orig_len` long on the wire, at the time of `p`.
    fn packet(&mut self, p: &Packet, m: Option<&Made>) -> Result<(), PcapError> {
        let (link, data, orig_len, interface) = match m {
            Some(m) => (m.link, &m.frame[..], m.orig_len, m.interface),
            None => (p.link, p.data, p.orig_len, p.interface),
        };
        match self {
            Writer::Pcap(w) => {
                let Some(eth) = link::to_ethernet(link, data) else { return Ok(()) };
                let orig_len = orig_len + eth.len() - data.len();
                w.write_packet(&PcapPacket::new(p.time, orig_len as u32, &eth))?;
            }
            Writer::PcapNg { w, .. } => {
                let options = m
                    .and_then(|m| m.comment.clone())
                    .map(|c| vec![EnhancedPacketOption::Comment(c.into())])
                    .unwrap_or_default();
                let epb = EnhancedPacketBlock {
                    interface_id: interface,
                    timestamp: Duration::from_nanos(p.raw_ts),
                    original_len: orig_len as u32,
                    data: data.into(),
                    options,
                };
                w.write_pcapng_block(epb)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Writer::Pcap(w) => w.into_writer().flush(),
            Writer::PcapNg { w, .. } => w.into_inner().flush(),
        }
    }
}

/// The layout the dump frames of `path` imply, learned as the plugin learns it, over the whole file.
fn learn_layout(path: &Path) -> Result<Layout, String> {
    let base = Layout::default();
    let mut learner = Learner::default();
    let mut num = 0u32;
    read(path, |e| {
        if let Event::Packet(p) = e {
            num += 1;
            if let Some(found) = find_dump(p.data, p.orig_len) {
                let payload = p.data.get(found.payload.clone()).unwrap_or(&[]);
                learner.observe(num, payload, found.payload_len, &base);
            }
        }
        Ok(())
    })?;
    Ok(learner.layout(&base))
}

/// Progress on standard error, at most once a second.
struct Progress {
    on: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn tick(&mut self, packets: u64, bytes: u64) {
        if !self.on || packets % 4096 != 0 || self.last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\rsmcdump2tcp: {packets} packets, {:.1} MB, {:.0} packets/s",
            bytes as f64 / 1e6,
            packets as f64 / secs
        );
    }

    fn done(&self) {
        if self.on && self.last != self.start {
            eprintln!();
        }
    }
}

fn run(o: &Options) -> Result<(), String> {
    let layout = learn_layout(&o.input)?;
    let input_is_pcap = {
        let mut magic = [0u8; 4];
        File::open(&o.input).and_then(|mut f| f.read_exact(&mut magic)).map_err(|e| e.to_string())?;
        magic != [0x0A, 0x0D, 0x0D, 0x0A]
    };
    let mut writer = Writer::create(&o.output, o.format, input_is_pcap)?;
    let mut converter = Converter::new(layout, o.only_smc);
    let (mut num, mut bytes, mut written) = (0u32, 0u64, 0u64);
    let now = Instant::now();
    let mut progress = Progress { on: !o.quiet && std::io::stderr().is_terminal(), start: now, last: now };
    let mut emits = Vec::new();
    let out_err = |e: PcapError| format!("{}: {e}", o.output.display());
    let end = read(&o.input, |e| {
        match e {
            Event::Interface(idb) => writer.interface(idb).map_err(out_err)?,
            Event::Other(block) => writer.other(&block).map_err(out_err)?,
            Event::Packet(p) => {
                num += 1;
                bytes += p.data.len() as u64;
                let input = Input {
                    num,
                    link: p.link,
                    data: p.data,
                    orig_len: p.orig_len,
                    ts: p.raw_ts,
                    interface: p.interface,
                };
                emits.clear();
                converter.packet(&input, &mut emits);
                for emit in &emits {
                    match emit {
                        Emit::Original => writer.packet(&p, None),
                        Emit::Made(m) => {
                            // A held packet keeps its own time.
                            let own = Packet { raw_ts: m.ts, time: time_of(&p, m.ts), ..p };
                            writer.packet(&own, Some(m))
                        }
                    }
                    .map_err(out_err)?;
                    written += 1;
                }
                progress.tick(u64::from(num), bytes);
            }
        }
        Ok(())
    })?;
    progress.done();
    writer.finish().map_err(|e| format!("{}: {e}", o.output.display()))?;
    if !o.quiet {
        summary(&converter.summary, written);
    }
    if let End::Truncated(why) = end {
        eprintln!("smcdump2tcp: {}: cut short after {num} packets ({why}); converted what is there", o.input.display());
    }
    Ok(())
}

/// The time of a packet whose raw timestamp is `raw`, in the units of `p`'s (the same interface's).
fn time_of(p: &Packet, raw: u64) -> Duration {
    if raw == p.raw_ts || p.raw_ts == 0 {
        return p.time;
    }
    let scale = p.time.as_nanos() as f64 / p.raw_ts as f64;
    Duration::from_nanos((raw as f64 * scale) as u64)
}

/// `n` and its noun, `one` or `many` as `n` asks.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary(s: &Summary, written: u64) {
    eprintln!(
        "smcdump2tcp: {} read ({}), {written} written; {} as TCP ({} with a synthesized handshake), {} client to \
         server, {} back; {} ({} not in the capture); {} written once; {} of the connections replaced",
        counted(s.packets, "packet", "packets"),
        counted(s.dump_frames, "dump frame", "dump frames"),
        counted(s.connections, "SMC connection", "SMC connections"),
        s.synthesized,
        counted(s.bytes[0], "byte", "bytes"),
        counted(s.bytes[1], "byte", "bytes"),
        counted(s.holes, "hole", "holes"),
        counted(s.missing, "byte", "bytes"),
        counted(s.copies, "copy", "copies"),
        counted(s.replaced, "TCP segment", "TCP segments"),
    );
}
