//! Writes the test captures of `test-pcaps/` and their README, deterministically: fixed timestamps, fixed
//! values, no randomness, so every run gives byte-identical files.
//!
//! ```text
//! cargo run --example gen_test_pcaps -- test-pcaps
//! ```
//!
//! Dump frames are built with `smcdump::wire::emit` and wrapped in the envelope of spec section 2: Ethernet II
//! with the dummy device's MAC as source and destination, IPv4 (ID 0, no DF, TTL 64, header checksum 0), UDP
//! (checksum 0) on the connection's TCP 4-tuple, local → peer for what the host sends and peer → local for what
//! it receives.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness};
use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use smcdump::wire::emit::{self, dump_frame_as_given, MODE_SMCD, MODE_SMCR};
use smcdump::wire::envelope::{self, Link, LinkSide};
use smcdump::wire::layout::HeaderRepr;
use smcdump::wire::net::{self, tcp_flags, Ipv4Repr, TcpRepr, IPPROTO_TCP};
use smcdump::wire::{ByteOrder, ConnState, Endpoint, Flow, Layout, ProdFlags, WireRepr};

/// Stand-in for the kernel's `SMC_DUMP_MAX_DATA_LEN` (unknown): the largest raw data chunk these captures hold.
const MAX_CHUNK: usize = 8192;
/// Dump header versions and modes.
const HDR_VER: u8 = 1;
/// First timestamp of every capture (2024-01-01 00:00:00 UTC) and the gap between frames.
const EPOCH: Duration = Duration::from_secs(1_704_067_200);
const STEP: Duration = Duration::from_micros(250);

// ---------------------------------------------------------------------------------------------------------------
// Captures and their README entries

/// One frame: what the file holds, how long it was on the wire, and a line for the README.
struct Frame {
    ts: Duration,
    data: Vec<u8>,
    orig_len: usize,
    note: String,
}

/// A capture being built.
struct Capture {
    name: &'static str,
    summary: &'static str,
    /// The link type of every frame: Ethernet for the dump device itself, SLL or SLL2 for `tcpdump -i any`.
    link: Link,
    frames: Vec<Frame>,
    next_ts: Duration,
}

impl Capture {
    fn new(name: &'static str, summary: &'static str) -> Self {
        Capture::on(Link::Ethernet, name, summary)
    }

    /// A capture of link type `link`; a name ending in `.pcapng` is written as pcapng.
    fn on(link: Link, name: &'static str, summary: &'static str) -> Self {
        Capture { name, summary, link, frames: Vec::new(), next_ts: EPOCH }
    }

    /// A frame of the real NIC carrying `ip` from `mac_src`, which the capturing host sent (`outgoing`) or
    /// received, in this capture's link type.
    fn nic(&self, mac_src: [u8; 6], mac_dst: [u8; 6], outgoing: bool, ip: &[u8]) -> Vec<u8> {
        nic_frame(self.link, mac_src, mac_dst, outgoing, ip)
    }

    /// Adds a whole frame.
    fn push(&mut self, data: Vec<u8>, note: impl Into<String>) {
        let len = data.len();
        self.push_cut(data, len, note);
    }

    /// Adds a frame of which the capture keeps only the first `caplen` bytes.
    fn push_cut(&mut self, mut data: Vec<u8>, caplen: usize, note: impl Into<String>) {
        let orig_len = data.len();
        data.truncate(caplen);
        self.frames.push(Frame { ts: self.next_ts, data, orig_len, note: note.into() });
        self.next_ts += STEP;
    }

    /// Lets `gap` pass before the next frame.
    fn pause(&mut self, gap: Duration) {
        self.next_ts += gap;
    }

    fn write(&self, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let datalink = match self.link {
            Link::Ethernet => DataLink::ETHERNET,
            Link::Sll => DataLink::LINUX_SLL,
            Link::Sll2 => DataLink::LINUX_SLL2,
        };
        if self.name.ends_with(".pcapng") {
            let file = BufWriter::new(File::create(dir.join(self.name))?);
            let mut w = PcapNgWriter::with_endianness(file, Endianness::Little)?;
            // pcap-file writes timestamps in nanoseconds: the interface says so (without it, readers take microseconds).
            let options = vec![InterfaceDescriptionOption::IfTsResol(9)];
            let idb = InterfaceDescriptionBlock { linktype: datalink, snaplen: 65535, options };
            w.write_pcapng_block(idb)?;
            for f in &self.frames {
                let packet = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: f.ts,
                    original_len: u32::try_from(f.orig_len)?,
                    data: f.data.as_slice().into(),
                    options: vec![],
                };
                w.write_pcapng_block(packet)?;
            }
            return Ok(());
        }
        let header = PcapHeader { datalink, endianness: Endianness::Little, snaplen: 65535, ..PcapHeader::default() };
        let file = BufWriter::new(File::create(dir.join(self.name))?);
        let mut w = PcapWriter::with_header(file, header)?;
        for f in &self.frames {
            let orig_len = u32::try_from(f.orig_len)?;
            w.write_packet(&PcapPacket::new(f.ts, orig_len, &f.data))?;
        }
        Ok(())
    }

    fn readme_section(&self, out: &mut String) {
        let _ = writeln!(out, "## {} ({} frames)\n", self.name, self.frames.len());
        let _ = writeln!(out, "{}\n", self.summary);
        let _ = writeln!(out, "| # | len | frame |");
        let _ = writeln!(out, "|---|-----|-------|");
        for (i, f) in self.frames.iter().enumerate() {
            let len = if f.data.len() == f.orig_len {
                f.orig_len.to_string()
            } else {
                format!("{}/{}", f.data.len(), f.orig_len)
            };
            let _ = writeln!(out, "| {} | {} | {} |", i + 1, len, f.note);
        }
        let _ = writeln!(out);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Link, network and transport layers

/// A frame of the real NIC carrying `ip` from `mac_src`, which the capturing host sent (`outgoing`) or received,
/// with the header of link type `link`.
fn nic_frame(link: Link, mac_src: [u8; 6], mac_dst: [u8; 6], outgoing: bool, ip: &[u8]) -> Vec<u8> {
    let mut h = link.header(&LinkSide { mac: mac_src, peer: mac_dst, outgoing, ifindex: NIC_IFINDEX });
    h.extend_from_slice(ip);
    h
}

/// The interface index of the real NIC in SLL2 headers.
const NIC_IFINDEX: u32 = 2;

/// The dump device's frame carrying `udp_payload` from `src` to `dst`, with the header of link type `link`.
fn dummy_on(link: Link, src: (Ip, u16), dst: (Ip, u16), udp_payload: &[u8]) -> Vec<u8> {
    envelope::emit_link(link, &flow(src, dst), udp_payload)
}

type Ip = [u8; 4];

/// The flow from `src` to `dst`.
fn flow(src: (Ip, u16), dst: (Ip, u16)) -> Flow {
    Flow::new(Endpoint::new(src.0, src.1), Endpoint::new(dst.0, dst.1))
}

/// An Ethernet frame of the dummy device carrying `udp_payload` from `src` to `dst`.
fn dummy_frame(src: (Ip, u16), dst: (Ip, u16), udp_payload: &[u8]) -> Vec<u8> {
    envelope::emit(&flow(src, dst), udp_payload)
}

// ---------------------------------------------------------------------------------------------------------------
// SMC connections as the dump sees them

/// A ring-buffer cursor.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    wrap: u16,
    count: u32,
}

impl Cursor {
    fn pair(self) -> (u16, u32) {
        (self.wrap, self.count)
    }

    /// Advances by `n` bytes in a ring of `size`; returns the runs (offset, length) the bytes occupy.
    fn advance(&mut self, n: usize, size: u32) -> Vec<(u32, usize)> {
        let mut runs = Vec::new();
        let mut left = n;
        while left > 0 {
            let room = (size - self.count) as usize;
            let take = left.min(room);
            runs.push((self.count, take));
            self.count += take as u32;
            left -= take;
            if self.count == size {
                self.count = 0;
                self.wrap = self.wrap.wrapping_add(1);
            }
        }
        runs
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// The host (local) sends.
    Sent,
    /// The host receives from the peer.
    Received,
}

impl Dir {
    fn arrow(self) -> &'static str {
        match self {
            Dir::Sent => "sent",
            Dir::Received => "recv",
        }
    }
}

/// Flags and extras of one CDC message.
#[derive(Clone, Copy, Default)]
struct CdcOpts {
    prod_flags: u8,
    conn_state: u8,
    credits: u8,
    /// SMC-R RDMA-write-with-immediate mode: the kernel rebuilds the message with seqno 0 and padding 0.
    rwwi: bool,
    /// Struct padding of an SMC-R message built on the stack (0 unless a frame wants garbage there).
    padding: [u8; 4],
}

impl CdcOpts {
    fn flags(prod_flags: u8, conn_state: u8) -> Self {
        CdcOpts { prod_flags, conn_state, ..CdcOpts::default() }
    }
}

/// Names of the flags set in a CDC, for the README.
fn flag_names(o: &CdcOpts) -> String {
    let mut names: Vec<&str> = ProdFlags::NAMES
        .iter()
        .filter(|(b, _)| o.prod_flags & b != 0)
        .chain(ConnState::NAMES.iter().filter(|(b, _)| o.conn_state & b != 0))
        .map(|(_, n)| *n)
        .collect();
    if o.rwwi {
        names.push("rwwi");
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(" [{}]", names.join(", "))
    }
}

/// One SMC connection seen from the dumping host.
///
/// `tx` is the host's producer cursor in the peer's receive buffer, `tx_cons` how far the peer has consumed it;
/// `rx` is the peer's producer cursor in the host's receive buffer, `rx_cons` how far the host has consumed it.
struct Conn {
    local: (Ip, u16),
    peer: (Ip, u16),
    mode: u8,
    smc_ver: u8,
    /// Size of the peer's receive buffer (what the host writes into) and of the host's.
    peer_rmb: u32,
    local_rmb: u32,
    tx: Cursor,
    tx_cons: Cursor,
    rx: Cursor,
    rx_cons: Cursor,
    /// SMC-R sequence numbers of the last CDC per direction.
    seq_tx: u16,
    seq_rx: u16,
    /// Alert token of the peer's connection (in CDCs the host sends) and of the host's (in those it receives).
    peer_token: u32,
    local_token: u32,
    /// SMC-D only: byte order of the cursors (the host's).
    smcd_order: ByteOrder,
    /// SMC-D only: counter that makes the uninitialised bytes of received CDCs differ from frame to frame.
    garbage: u8,
    /// The dump header layout the kernel writes.
    layout: Layout,
    /// The link type of the capture the frames go into.
    link: Link,
}

impl Conn {
    /// The host shuts down writing, the peer closes, the host closes: the three CDCs of an orderly close.
    fn orderly_close(&mut self, cap: &mut Capture) {
        use Dir::{Received as R, Sent as S};
        self.cdc(cap, S, CdcOpts::flags(0, ConnState::PEER_DONE_WRITING), ", shutdown(SHUT_WR)");
        let closing = ConnState::PEER_DONE_WRITING | ConnState::PEER_CONN_CLOSED;
        self.cdc(cap, R, CdcOpts::flags(0, closing), ", peer closes");
        self.cdc(cap, S, CdcOpts::flags(0, ConnState::PEER_CONN_CLOSED), ", close()");
    }

    /// A connection between `local` and `peer` with 16 KiB buffers, cursors at 0, SMCv1, little-endian SMC-D.
    fn new(mode: u8, local: (Ip, u16), peer: (Ip, u16), peer_token: u32, local_token: u32) -> Self {
        Conn {
            local,
            peer,
            mode,
            smc_ver: 1,
            peer_rmb: 16384,
            local_rmb: 16384,
            tx: Cursor::default(),
            tx_cons: Cursor::default(),
            rx: Cursor::default(),
            rx_cons: Cursor::default(),
            seq_tx: 0,
            seq_rx: 0,
            peer_token,
            local_token,
            smcd_order: ByteOrder::Little,
            garbage: 0,
            layout: Layout::default(),
            link: Link::Ethernet,
        }
    }

    fn endpoints(&self, dir: Dir) -> ((Ip, u16), (Ip, u16)) {
        match dir {
            Dir::Sent => (self.local, self.peer),
            Dir::Received => (self.peer, self.local),
        }
    }

    fn frame(&self, dir: Dir, type_code: u8, payload: &[u8]) -> Vec<u8> {
        let h = HeaderRepr { hdr_ver: HDR_VER, ..HeaderRepr::new(self.smc_ver, self.mode, type_code) };
        let udp_payload = emit::dump_frame(&self.layout, &h, payload);
        let (src, dst) = self.endpoints(dir);
        envelope::emit_link(self.link, &flow(src, dst), &udp_payload)
    }

    /// Dumps `data` written into a ring: split at the ring's end and into chunks of at most [`MAX_CHUNK`].
    fn data(&mut self, cap: &mut Capture, dir: Dir, data: &[u8], what: &str) {
        let (cursor, size) = match dir {
            Dir::Sent => (&mut self.tx, self.peer_rmb),
            Dir::Received => (&mut self.rx, self.local_rmb),
        };
        let runs = cursor.advance(data.len(), size);
        let mut done = 0;
        let nruns = runs.len();
        for (ri, (off, len)) in runs.into_iter().enumerate() {
            let mut at = 0;
            while at < len {
                let n = (len - at).min(MAX_CHUNK);
                let chunk = &data[done + at..done + at + n];
                let mut note =
                    format!("{} raw data, {} bytes at ring offset {}{}", dir.arrow(), n, off as usize + at, what);
                if nruns > 1 {
                    let part = if ri + 1 < nruns { "up to the ring end" } else { "after wrapping" };
                    let _ = write!(note, ", {part}");
                }
                if n == MAX_CHUNK {
                    note.push_str(", maximum chunk size");
                }
                let frame = self.frame(dir, self.layout.type_raw, chunk);
                cap.push(frame, note);
                at += n;
            }
            done += len;
        }
    }

    /// Consumes `n` received bytes (moves the host's consumer cursor; nothing is dumped).
    fn consume_rx(&mut self, n: usize) {
        self.rx_cons.advance(n, self.local_rmb);
    }

    /// The peer consumes `n` bytes the host sent.
    fn consume_tx(&mut self, n: usize) {
        self.tx_cons.advance(n, self.peer_rmb);
    }

    /// Dumps a CDC message in direction `dir`, carrying the current cursors.
    fn cdc(&mut self, cap: &mut Capture, dir: Dir, o: CdcOpts, what: &str) {
        let (prod, cons) = match dir {
            Dir::Sent => (self.tx, self.rx_cons),
            Dir::Received => (self.rx, self.tx_cons),
        };
        let (payload, detail) = if self.mode == MODE_SMCR {
            let seq = match dir {
                Dir::Sent => &mut self.seq_tx,
                Dir::Received => &mut self.seq_rx,
            };
            let seqno = if o.rwwi {
                0
            } else {
                *seq = seq.wrapping_add(1);
                *seq
            };
            let token = match dir {
                Dir::Sent => self.peer_token,
                Dir::Received => self.local_token,
            };
            let cdc = SmcrCdcRepr {
                prod_flags: ProdFlags(o.prod_flags),
                conn_state: ConnState(o.conn_state),
                credits: o.credits,
                padding: if o.rwwi { [0; 4] } else { o.padding },
                ..SmcrCdcRepr::new(seqno, token, prod.pair(), cons.pair())
            };
            (cdc.emit(ByteOrder::Big), format!("seqno {seqno}, token 0x{token:08x}, "))
        } else {
            let mut spec = SmcdCdcRepr {
                prod_flags: ProdFlags(o.prod_flags),
                conn_state: ConnState(o.conn_state),
                ..SmcdCdcRepr::sent(prod.pair(), cons.pair())
            };
            let detail = if dir == Dir::Received {
                // Only the cursors of a received SMC-D message are copied; the rest is stale stack memory.
                self.garbage = self.garbage.wrapping_add(0x11);
                let g = self.garbage;
                spec.ty = 0x5A ^ g;
                spec.head = [0xFF, 0x88, 0x81, 0x0C, g ^ 0x3C, 0x7F, 0x00];
                spec.tail = [0xC0, 0xFF, 0xEE, g, 0x00, 0x00, 0x7F, 0x55];
                "garbage in bytes 0-7 and 24-31, "
            } else {
                ""
            };
            (spec.emit(self.smcd_order), detail.to_string())
        };
        let note = format!(
            "{} CDC, {}prod {}:{}, cons {}:{}{}{}",
            dir.arrow(),
            detail,
            prod.wrap,
            prod.count,
            cons.wrap,
            cons.count,
            flag_names(&o),
            what
        );
        let frame = self.frame(dir, self.layout.type_cdc, &payload);
        cap.push(frame, note);
    }
}

/// `n` bytes of recognisable text: a repeated sentence, so a reader can spot where a chunk starts.
fn text(n: usize, seed: &str) -> Vec<u8> {
    seed.bytes().cycle().take(n).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// The captures

fn smcr() -> Capture {
    let mut cap = Capture::new(
        "smcr.pcap",
        "SMC-R, both directions, as seen by the host 10.1.0.1. Connection 1 (10.1.0.1:47120 <-> 10.1.0.2:15201, \
         SMCv1, 16 KiB receive buffers on both sides) exercises every producer flag and every connection state \
         flag, a full ring, a cursor wrap, a write split over the ring end and chunks of the maximum size \
         (8192 bytes, the stand-in for `SMC_DUMP_MAX_DATA_LEN`). Connection 2 (10.1.0.1:47122 <-> \
         10.1.0.2:15201, SMCv2 header) uses RDMA-write-with-immediate mode: seqno 0, padding 0, credits only on \
         credit-carrying messages; it ends with an abort.",
    );
    let mut c = Conn::new(MODE_SMCR, ([10, 1, 0, 1], 47120), ([10, 1, 0, 2], 15201), 0x0000_0a01, 0x0000_0b01);
    use Dir::{Received as R, Sent as S};
    let request = text(100, "PUT /object/42 HTTP/1.1\r\n");
    c.data(&mut cap, S, &request, ", a request");
    c.cdc(&mut cap, S, CdcOpts { credits: 16, ..CdcOpts::default() }, ", announces the request");
    c.consume_tx(100);
    c.cdc(&mut cap, R, CdcOpts { credits: 16, ..CdcOpts::default() }, ", peer consumed the request");
    let reply = text(16000, "response body of connection one; ");
    c.data(&mut cap, R, &reply, ", a large reply");
    c.cdc(&mut cap, R, CdcOpts::flags(ProdFlags::CONS_CURS_UPD_REQ, 0), ", announces 16000 bytes, buffer nearly full");
    c.consume_rx(16000);
    c.cdc(&mut cap, S, CdcOpts::default(), ", consumer cursor update on request");
    let tail = text(1000, "second reply, written over the ring end; ");
    c.data(&mut cap, R, &tail, ", a reply crossing the ring end");
    c.cdc(&mut cap, R, CdcOpts::default(), ", producer wrapped: wrap 0 -> 1, count restarts");
    c.consume_rx(1000);
    c.cdc(&mut cap, S, CdcOpts::default(), ", consumer cursor wrapped too");
    c.data(&mut cap, S, b"!", ", one urgent (out-of-band) byte");
    c.cdc(
        &mut cap,
        S,
        CdcOpts {
            padding: [0xDE, 0xAD, 0xBE, 0xEF],
            ..CdcOpts::flags(ProdFlags::URG_DATA_PENDING | ProdFlags::URG_DATA_PRESENT, 0)
        },
        ", urgent data; stale bytes in the struct padding",
    );
    // Fill the peer's buffer completely (the urgent byte is still unconsumed): 16283 bytes to the ring end,
    // 100 after wrapping.
    let bulk = text(16383, "bulk upload filling the peer's buffer; ");
    c.data(&mut cap, S, &bulk, ", a bulk write");
    c.cdc(
        &mut cap,
        S,
        CdcOpts::flags(ProdFlags::WRITE_BLOCKED | ProdFlags::CONS_CURS_UPD_REQ, 0),
        ", peer buffer full",
    );
    c.consume_tx(16384);
    c.cdc(&mut cap, R, CdcOpts::default(), ", peer consumed everything");
    c.cdc(&mut cap, R, CdcOpts::flags(ProdFlags::FAILOVER_VALIDATION, 0), ", after a link failover");
    c.orderly_close(&mut cap);

    // Connection 2: SMCv2, RDMA write with immediate data.
    cap.pause(Duration::from_millis(5));
    let mut c = Conn {
        local: ([10, 1, 0, 1], 47122),
        smc_ver: 2,
        tx: Cursor::default(),
        tx_cons: Cursor::default(),
        rx: Cursor::default(),
        rx_cons: Cursor::default(),
        seq_tx: 0,
        seq_rx: 0,
        peer_token: 0x0000_0a02,
        local_token: 0x0000_0b02,
        ..c
    };
    let rwwi = CdcOpts { rwwi: true, ..CdcOpts::default() };
    c.data(&mut cap, S, &text(64, "rwwi request "), ", SMCv2");
    c.cdc(&mut cap, S, rwwi, ", data opcode carries no credits");
    c.consume_tx(64);
    c.data(&mut cap, R, &text(32, "rwwi reply "), ", SMCv2");
    c.cdc(&mut cap, R, CdcOpts { credits: 8, ..rwwi }, ", credit-carrying opcode");
    c.consume_rx(32);
    c.cdc(&mut cap, R, CdcOpts { conn_state: ConnState::PEER_CONN_ABORT, ..rwwi }, ", peer aborts");
    cap
}

fn smcd_conn(order: ByteOrder, local: (Ip, u16), peer: (Ip, u16)) -> Conn {
    Conn { smcd_order: order, ..Conn::new(MODE_SMCD, local, peer, 0, 0) }
}

fn smcd() -> Capture {
    let mut cap = Capture::new(
        "smcd.pcap",
        "SMC-D (SMCv1), both directions, as seen by the x86-64 host 10.2.0.1 (little-endian cursors), \
         connection 10.2.0.1:39000 <-> 10.2.0.2:8080, 16 KiB buffers. Sent CDCs are type 0xFE with zeroed \
         reserved bytes; received CDCs carry uninitialised memory in bytes 0-7 and 24-31.",
    );
    let mut c = smcd_conn(ByteOrder::Little, ([10, 2, 0, 1], 39000), ([10, 2, 0, 2], 8080));
    use Dir::{Received as R, Sent as S};
    let req = text(78, "GET /index.html HTTP/1.1\r\nHost: b\r\n\r\n");
    c.data(&mut cap, S, &req, ", a request");
    c.cdc(&mut cap, S, CdcOpts::default(), ", announces the request");
    c.consume_tx(78);
    let body = text(12000, "<p>SMC-D page body</p>\n");
    c.data(&mut cap, R, &body, ", the reply");
    c.cdc(&mut cap, R, CdcOpts::flags(ProdFlags::CONS_CURS_UPD_REQ, 0), ", announces the reply");
    c.consume_rx(12000);
    c.cdc(&mut cap, S, CdcOpts::default(), ", consumer cursor update");
    let more = text(6000, "<p>second page, over the ring end</p>\n");
    c.data(&mut cap, R, &more, ", crossing the ring end");
    c.cdc(&mut cap, R, CdcOpts::default(), ", producer wrapped");
    c.consume_rx(6000);
    c.orderly_close(&mut cap);
    cap
}

fn smcd_be() -> Capture {
    let mut cap = Capture::new(
        "smcd-be.pcap",
        "SMC-D from an s390x host: cursors big-endian. One sent CDC, 10.3.0.1:39001 -> 10.3.0.2:8080; \
         read little-endian the counts would be implausible (> 1 MiB).",
    );
    let mut c = smcd_conn(ByteOrder::Big, ([10, 3, 0, 1], 39001), ([10, 3, 0, 2], 8080));
    c.tx = Cursor { wrap: 3, count: 0x1234 };
    c.rx_cons = Cursor { wrap: 2, count: 0x0800 };
    c.cdc(&mut cap, Dir::Sent, CdcOpts::flags(ProdFlags::CONS_CURS_UPD_REQ, 0), ", big-endian cursors");
    cap
}

/// A dump frame on the dummy device between two addresses picked for one problem frame.
fn lone_frame(n: u8, udp_payload: &[u8]) -> Vec<u8> {
    let n16 = u16::from(n);
    dummy_frame(([10, 9, 0, 1], 45000 + n16), ([10, 9, n, 2], 41000 + n16), udp_payload)
}

fn bad_input() -> Capture {
    let mut cap = Capture::new(
        "bad-input.pcap",
        "Dump frames with one problem each (all pass the heuristic: magic present, length field possible). \
         Each frame has its own UDP 4-tuple: 10.9.0.1:(45000+n) -> 10.9.n.2:(41000+n) for frame n, so no \
         frame joins another's conversation.",
    );
    let l = Layout::default();
    let cdc_hdr = HeaderRepr::new(1, MODE_SMCR, l.type_cdc);
    let raw_hdr = HeaderRepr::new(1, MODE_SMCR, l.type_raw);
    let good = SmcrCdcRepr::new(7, 0x0000_0c01, (0, 4096), (0, 512));
    let frame = |n: u8, h: &HeaderRepr, payload: &[u8]| lone_frame(n, &emit::dump_frame(&l, h, payload));
    // A header written as given (a length that lies, reserved bytes set).
    let as_given = |n: u8, h: &HeaderRepr, reserved: &[u8], payload: &[u8]| {
        lone_frame(n, &dump_frame_as_given(&l, h, reserved, payload))
    };
    let smcr_cdc = |c: &SmcrCdcRepr| c.emit(ByteOrder::Big);
    let mut n = 0u8;
    let mut next = || {
        n += 1;
        n
    };

    let i = next();
    let h = HeaderRepr { len: 16 + 20, ..raw_hdr };
    cap.push(
        as_given(i, &h, &[], &text(30, "0123456789")),
        "raw data, len field 36 but UDP payload 46 bytes: 10 trailing bytes",
    );
    let i = next();
    let h = HeaderRepr { len: 16 + 48, ..cdc_hdr };
    let reserved = [0, 0, 0x01, 0, 0, 0x80];
    cap.push(as_given(i, &h, &reserved, &smcr_cdc(&good)), "SMC-R CDC, header reserved bytes 00 00 01 00 00 80");
    let i = next();
    let h = HeaderRepr::new(1, MODE_SMCR, 7);
    cap.push(frame(i, &h, &text(16, "type seven body!")), "unknown type 7, 16-byte payload");
    let i = next();
    let h = HeaderRepr::new(1, 9, l.type_cdc);
    cap.push(frame(i, &h, &smcr_cdc(&good)), "unknown mode 9, CDC type, 48-byte payload");
    let i = next();
    cap.push(frame(i, &cdc_hdr, &smcr_cdc(&good)[..30]), "SMC-R CDC payload of 30 bytes (< 44), len consistent");
    let i = next();
    let s = SmcrCdcRepr { ty: 0xAB, ..good };
    cap.push(frame(i, &cdc_hdr, &smcr_cdc(&s)), "SMC-R CDC with message type 0xAB");
    let i = next();
    let s = SmcrCdcRepr { len: 40, ..good };
    cap.push(frame(i, &cdc_hdr, &smcr_cdc(&s)), "SMC-R CDC with length 40");
    for (flags, conn_state, what) in [
        (0, ConnState::PEER_CONN_ABORT, "peer_conn_abort"),
        (0, ConnState::PEER_CONN_CLOSED, "peer_conn_closed"),
        (0, ConnState::PEER_DONE_WRITING, "peer_done_writing"),
        (ProdFlags::WRITE_BLOCKED, 0, "write_blocked"),
    ] {
        let i = next();
        let s = SmcrCdcRepr { prod_flags: ProdFlags(flags), conn_state: ConnState(conn_state), ..good };
        cap.push(frame(i, &cdc_hdr, &smcr_cdc(&s)), format!("SMC-R CDC with {what} set"));
    }
    let i = next();
    let f = frame(i, &cdc_hdr, &smcr_cdc(&good));
    cap.push_cut(
        f,
        14 + 20 + 8 + 16 + 20,
        "SMC-R CDC frame cut by the snap length 20 bytes into the CDC (in the consumer cursor)",
    );
    let i = next();
    let f = frame(i, &raw_hdr, &text(1000, "truncated raw data "));
    cap.push_cut(f, 14 + 20 + 8 + 16 + 100, "raw data frame of 1000 bytes, only 100 captured");
    let i = next();
    let mut s = good;
    s.reserved[0] = 0x01;
    s.reserved[16] = 0xFF;
    cap.push(frame(i, &cdc_hdr, &smcr_cdc(&s)), "SMC-R CDC with non-zero reserved bytes (first and last of the 17)");
    let i = next();
    cap.push(frame(i, &cdc_hdr, &smcr_cdc(&good)[..44]), "SMC-R CDC of exactly 44 bytes: no struct padding");
    let i = next();
    let mut long = smcr_cdc(&good);
    long.extend_from_slice(&[0xEE; 8]);
    cap.push(frame(i, &cdc_hdr, &long), "SMC-R CDC followed by 8 extra payload bytes (payload 56, len consistent)");
    cap
}

fn not_smc() -> Capture {
    let mut cap = Capture::new(
        "not-smc.pcap",
        "UDP datagrams the heuristic must NOT claim. Distinct 4-tuples 10.8.0.1:(40100+n) -> \
         10.8.0.2:(40000+n), ports no Wireshark dissector owns.",
    );
    let l = Layout::default();
    let frame = |n: u16, payload: &[u8]| dummy_frame(([10, 8, 0, 1], 40100 + n), ([10, 8, 0, 2], 40000 + n), payload);
    let good = emit::smcr_cdc_frame(&l, 1, &SmcrCdcRepr::new(1, 0x0d01, (0, 10), (0, 0)));

    let mut b = good.clone();
    b[..4].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    cap.push(frame(1, &b), "first four bytes 12 34 56 78, not the magic");
    cap.push(frame(2, &good[..12]), "12-byte payload starting with the magic (shorter than the 16-byte header)");
    let mut b = good.clone();
    b[8..10].copy_from_slice(&5u16.to_be_bytes());
    cap.push(frame(3, &b), "magic, len field 5 (< header length)");
    let mut b = good.clone();
    b[8..10].copy_from_slice(&100u16.to_be_bytes());
    cap.push(frame(4, &b), "magic, len field 100 but UDP payload 64 bytes");
    let mut b = good;
    b[3] = 0xA4;
    cap.push(frame(5, &b), "three of four magic bytes: CF D3 E7 A4");
    cap
}

// ---- sample.pcap: CLC handshake on the real NIC, then the dump of the connection ----

const CLIENT_NIC_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x01];
const SERVER_NIC_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x02];
const CLIENT_ROCE_MAC: [u8; 6] = [0x98, 0x03, 0x9b, 0xab, 0xcd, 0x01];
const SERVER_ROCE_MAC: [u8; 6] = [0x98, 0x03, 0x9b, 0xab, 0xcd, 0x02];
/// The SMC CLC eyecatcher, EBCDIC "SMCR"; also the TCP experimental option's ExID.
const SMCR_EYECATCHER: [u8; 4] = [0xE2, 0xD4, 0xC3, 0xD9];
const CLC_PROPOSAL: u8 = 1;
const CLC_ACCEPT: u8 = 2;
const CLC_CONFIRM: u8 = 3;
/// SMC alert tokens of the two ends (from the Accept and the Confirm).
const SERVER_TOKEN: u32 = 0x0000_0101;
const CLIENT_TOKEN: u32 = 0x0000_0201;

/// A RoCE v1 link-local GID built from a MAC (EUI-64).
fn gid(mac: [u8; 6]) -> [u8; 16] {
    let mut g = [0u8; 16];
    g[0] = 0xfe;
    g[1] = 0x80;
    g[8] = mac[0] ^ 0x02;
    g[9] = mac[1];
    g[10] = mac[2];
    g[11] = 0xff;
    g[12] = 0xfe;
    g[13..16].copy_from_slice(&mac[3..6]);
    g
}

/// `struct smc_clc_msg_hdr`: eyecatcher, type, length, flags (version in the high nibble).
fn clc_header(ty: u8, len: u16, flags: u8) -> Vec<u8> {
    let mut v = SMCR_EYECATCHER.to_vec();
    v.push(ty);
    v.extend_from_slice(&len.to_be_bytes());
    v.push(flags);
    v
}

/// `struct smc_clc_msg_local`: peer id (2 random bytes + MAC), GID, MAC.
fn clc_local(instance: u16, mac: [u8; 6]) -> Vec<u8> {
    let mut v = instance.to_be_bytes().to_vec();
    v.extend_from_slice(&mac);
    v.extend_from_slice(&gid(mac));
    v.extend_from_slice(&mac);
    v
}

/// SMC-R v1 Proposal as Linux 5.11+ (and ANCK 5.10 with the SMCv2 backport) writes it, 92 bytes:
/// `struct smc_clc_msg_proposal` (header, local, iparea offset), the always-present `struct smc_clc_msg_smcd`
/// (ISM GID 8, CHID 2, v2 extension offset 2, reserved 28; all zero for SMC-R only), the IPv4 prefix area
/// (`smc_clc_msg_proposal_prefix`, which the iparea offset points to: 40 bytes after the offset field's end),
/// and the trailer.
fn clc_proposal() -> Vec<u8> {
    let mut v = clc_header(CLC_PROPOSAL, 92, 0x10); // v1, SMC-R
    v.extend(clc_local(0x1a2b, CLIENT_ROCE_MAC));
    v.extend_from_slice(&40u16.to_be_bytes()); // iparea_offset = sizeof(struct smc_clc_msg_smcd)
    v.extend_from_slice(&[0; 40]); // struct smc_clc_msg_smcd
    v.extend_from_slice(&[10, 0, 0, 0]); // outgoing subnet
    v.push(24); // prefix length
    v.extend_from_slice(&[0, 0]); // reserved
    v.push(0); // IPv6 prefix count
    v.extend_from_slice(&SMCR_EYECATCHER);
    assert_eq!(v.len(), 92);
    v
}

/// SMC-R v1 Accept or Confirm, 68 bytes (`struct smc_clc_msg_accept_confirm`).
#[allow(clippy::too_many_arguments)]
fn clc_accept_confirm(
    ty: u8,
    flags: u8,
    size_code: u8,
    instance: u16,
    mac: [u8; 6],
    qpn: u32,
    rkey: u32,
    token: u32,
    dma_addr: u64,
    psn: u32,
) -> Vec<u8> {
    let mut v = clc_header(ty, 68, flags);
    v.extend(clc_local(instance, mac));
    v.extend_from_slice(&qpn.to_be_bytes()[1..]);
    v.extend_from_slice(&rkey.to_be_bytes());
    v.push(1); // RMBE index
    v.extend_from_slice(&token.to_be_bytes());
    v.push(size_code << 4 | 0x03); // RMBE size (16 KiB << code), QP MTU 3 (1024)
    v.push(0); // reserved
    v.extend_from_slice(&dma_addr.to_be_bytes());
    v.push(0); // reserved
    v.extend_from_slice(&psn.to_be_bytes()[1..]);
    v.extend_from_slice(&SMCR_EYECATCHER);
    assert_eq!(v.len(), 68);
    v
}

/// The TCP side of the sample connection, with sequence numbers.
struct TcpConn {
    client: (Ip, u16),
    server: (Ip, u16),
    client_seq: u32,
    server_seq: u32,
    ip_id: [u16; 2],
    ts: u32,
}

impl TcpConn {
    fn segment(&mut self, cap: &mut Capture, from_client: bool, flags: u8, options: &[u8], payload: &[u8], note: &str) {
        let (src, dst, mac_src, mac_dst) = if from_client {
            (self.client, self.server, CLIENT_NIC_MAC, SERVER_NIC_MAC)
        } else {
            (self.server, self.client, SERVER_NIC_MAC, CLIENT_NIC_MAC)
        };
        let (seq, ack) =
            if from_client { (self.client_seq, self.server_seq) } else { (self.server_seq, self.client_seq) };
        let mut opts = options.to_vec();
        if options.is_empty() {
            // NOP, NOP, timestamps: what Linux puts on every segment after the handshake.
            self.ts += 1;
            opts.extend_from_slice(&[1, 1, 8, 10]);
            opts.extend_from_slice(&self.ts.to_be_bytes());
            opts.extend_from_slice(&(self.ts - 1).to_be_bytes());
        }
        let t = TcpRepr {
            sport: src.1,
            dport: dst.1,
            seq,
            ack: if flags & tcp_flags::ACK != 0 { ack } else { 0 },
            flags,
            window: if flags & tcp_flags::SYN != 0 { 64240 } else { 502 },
            ..TcpRepr::default()
        };
        let seg = net::tcp_segment(src.0, dst.0, &t, &opts, payload);
        let side = usize::from(!from_client);
        let ip = Ipv4Repr { id: self.ip_id[side], ..Ipv4Repr::new(src.0, dst.0, IPPROTO_TCP) };
        self.ip_id[side] = self.ip_id[side].wrapping_add(1);
        let frame = cap.nic(mac_src, mac_dst, from_client, &net::ipv4_datagram(&ip, &seg, true));
        let advance = payload.len() as u32 + u32::from(flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
        if from_client {
            self.client_seq = self.client_seq.wrapping_add(advance);
        } else {
            self.server_seq = self.server_seq.wrapping_add(advance);
        }
        let dir = if from_client { "client -> server" } else { "server -> client" };
        cap.push(frame, format!("NIC, TCP {dir}: {note}"));
    }
}

/// SYN options as Linux writes them, with the SMC experimental option (kind 254, length 6, ExID E2D4C3D9).
fn syn_options(ts_val: u32, ts_ecr: u32) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0xb4]; // MSS 1460
    o.extend_from_slice(&[4, 2, 8, 10]); // SACK permitted, timestamps
    o.extend_from_slice(&ts_val.to_be_bytes());
    o.extend_from_slice(&ts_ecr.to_be_bytes());
    o.extend_from_slice(&[1, 3, 3, 7]); // NOP, window scale 7
    o.extend_from_slice(&[1, 1, 254, 6]); // NOP, NOP, experimental option, length 6
    o.extend_from_slice(&SMCR_EYECATCHER);
    o
}

fn sample() -> Capture {
    let mut cap = Capture::new(
        "sample.pcap",
        "A Redis client (10.0.0.1:45678) talking to a server on port 12345 (10.0.0.2) over SMC-R v1, recorded on the \
         client as `smcdump-ex -m all` would: the TCP handshake with the SMC experimental option and the CLC \
         Proposal/Accept/Confirm on the real NIC (checksums computed), then the dump frames of the connection \
         on the dummy device (client = local), then the close. Alert tokens: server 0x00000101 (in the \
         Accept, carried by CDCs the client sends), client 0x00000201 (in the Confirm, carried by CDCs it \
         receives). The server does not use Redis's port 6379 because Wireshark maps that TCP port to its RESP \
         dissector, and then the CLC messages decode as `smc` only with `-o tcp.try_heuristic_first:TRUE`.",
    );
    let client: (Ip, u16) = ([10, 0, 0, 1], 45678);
    let server: (Ip, u16) = ([10, 0, 0, 2], 12345);
    let mut t = TcpConn {
        client,
        server,
        client_seq: 0x1a2b_3c4d,
        server_seq: 0x5e6f_7081,
        ip_id: [0x3a10, 0x0000],
        ts: 1_000_000,
    };
    t.segment(&mut cap, true, tcp_flags::SYN, &syn_options(1_000_000, 0), &[], "SYN with SMC option");
    t.segment(
        &mut cap,
        false,
        tcp_flags::SYN | tcp_flags::ACK,
        &syn_options(2_000_000, 1_000_000),
        &[],
        "SYN-ACK with SMC option",
    );
    t.segment(&mut cap, true, tcp_flags::ACK, &[], &[], "ACK");
    t.segment(
        &mut cap,
        true,
        tcp_flags::PSH | tcp_flags::ACK,
        &[],
        &clc_proposal(),
        "SMC CLC Proposal (SMC-R v1, 92 bytes)",
    );
    let accept = clc_accept_confirm(
        CLC_ACCEPT,
        0x18, // v1, first contact
        0,
        0x5c6d,
        SERVER_ROCE_MAC,
        0x000123,
        0x0000_1a2b,
        SERVER_TOKEN,
        0x0000_0008_1234_0000,
        0x00ab_cdef,
    );
    t.segment(
        &mut cap,
        false,
        tcp_flags::PSH | tcp_flags::ACK,
        &[],
        &accept,
        "SMC CLC Accept (68 bytes, first contact)",
    );
    let confirm = clc_accept_confirm(
        CLC_CONFIRM,
        0x10,
        0,
        0x1a2b,
        CLIENT_ROCE_MAC,
        0x000456,
        0x0000_3c4d,
        CLIENT_TOKEN,
        0x0000_0009_5678_0000,
        0x0012_3456,
    );
    t.segment(&mut cap, true, tcp_flags::PSH | tcp_flags::ACK, &[], &confirm, "SMC CLC Confirm (68 bytes)");
    t.segment(&mut cap, false, tcp_flags::ACK, &[], &[], "ACK");

    cap.pause(Duration::from_millis(2));
    let mut c = Conn::new(MODE_SMCR, client, server, SERVER_TOKEN, CLIENT_TOKEN);
    use Dir::{Received as R, Sent as S};
    let credits = CdcOpts { credits: 16, ..CdcOpts::default() };
    let exchanges: [(&[u8], &[u8], &str); 2] = [
        (b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", b"+OK\r\n", "SET"),
        (b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n", b"$5\r\nvalue\r\n", "GET"),
    ];
    for (req, resp, cmd) in exchanges {
        c.data(&mut cap, S, req, &format!(", Redis {cmd} request"));
        c.cdc(&mut cap, S, credits, &format!(", announces the {cmd}"));
        c.consume_tx(req.len());
        cap.pause(Duration::from_micros(40));
        c.data(&mut cap, R, resp, &format!(", Redis {cmd} reply"));
        c.cdc(&mut cap, R, credits, ", announces the reply");
        c.consume_rx(resp.len());
    }
    c.cdc(&mut cap, S, CdcOpts::default(), ", consumer cursor update");
    cap.pause(Duration::from_millis(1));
    c.cdc(&mut cap, S, CdcOpts::flags(0, ConnState::PEER_DONE_WRITING), ", client shuts down writing");
    c.cdc(
        &mut cap,
        R,
        CdcOpts::flags(0, ConnState::PEER_DONE_WRITING | ConnState::PEER_CONN_CLOSED),
        ", server closes",
    );
    c.cdc(&mut cap, S, CdcOpts::flags(0, ConnState::PEER_CONN_CLOSED), ", client closes");
    t.segment(&mut cap, true, tcp_flags::FIN | tcp_flags::ACK, &[], &[], "FIN, ACK");
    t.segment(&mut cap, false, tcp_flags::FIN | tcp_flags::ACK, &[], &[], "FIN, ACK");
    t.segment(&mut cap, true, tcp_flags::ACK, &[], &[], "ACK");
    cap
}

const CLC_DECLINE: u8 = 4;

/// SMC CLC Decline v1, 28 bytes (`struct smc_clc_msg_decline`): header, sender peer id, diagnosis code, OS type
/// (2 = Linux) in the high nibble, reserved, trailer.
fn clc_decline(instance: u16, mac: [u8; 6], diagnosis: u32) -> Vec<u8> {
    let mut v = clc_header(CLC_DECLINE, 28, 0x10);
    v.extend_from_slice(&instance.to_be_bytes());
    v.extend_from_slice(&mac);
    v.extend_from_slice(&diagnosis.to_be_bytes());
    v.extend_from_slice(&[0x20, 0, 0, 0]);
    v.extend_from_slice(&SMCR_EYECATCHER);
    assert_eq!(v.len(), 28);
    v
}

/// One SMC handshake on the NIC: SYN and SYN-ACK with SMC's option, ACK, CLC Proposal, then the server's Accept
/// and the client's Confirm, or the server's Decline with `decline` as diagnosis code.
fn handshake(cap: &mut Capture, client: (Ip, u16), server: (Ip, u16), decline: Option<u32>, what: &str) -> TcpConn {
    handshake_sized(cap, client, server, decline, (0, 0), what)
}

/// [`handshake`] whose Accept and Confirm announce RMBs of `16384 << codes.0` (server) and `<< codes.1` (client).
fn handshake_sized(
    cap: &mut Capture,
    client: (Ip, u16),
    server: (Ip, u16),
    decline: Option<u32>,
    codes: (u8, u8),
    what: &str,
) -> TcpConn {
    let mut t = TcpConn {
        client,
        server,
        client_seq: 0x1000_0000 + u32::from(client.1),
        server_seq: 0x2000_0000 + u32::from(server.1),
        ip_id: [0x4000, 0x0000],
        ts: 3_000_000,
    };
    t.segment(cap, true, tcp_flags::SYN, &syn_options(3_000_000, 0), &[], &format!("{what}: SYN with SMC option"));
    t.segment(
        cap,
        false,
        tcp_flags::SYN | tcp_flags::ACK,
        &syn_options(4_000_000, 3_000_000),
        &[],
        "SYN-ACK with SMC option",
    );
    t.segment(cap, true, tcp_flags::ACK, &[], &[], "ACK");
    t.segment(cap, true, tcp_flags::PSH | tcp_flags::ACK, &[], &clc_proposal(), "SMC CLC Proposal (SMC-R v1)");
    if let Some(diagnosis) = decline {
        let d = clc_decline(0x5c6d, SERVER_ROCE_MAC, diagnosis);
        t.segment(
            cap,
            false,
            tcp_flags::PSH | tcp_flags::ACK,
            &[],
            &d,
            &format!("SMC CLC Decline, diagnosis {diagnosis:#010x}"),
        );
        return t;
    }
    let accept = clc_accept_confirm(
        CLC_ACCEPT,
        0x18,
        codes.0,
        0x5c6d,
        SERVER_ROCE_MAC,
        0x000123,
        0x0000_1a2b,
        SERVER_TOKEN,
        0x0000_0008_1234_0000,
        0x00ab_cdef,
    );
    t.segment(cap, false, tcp_flags::PSH | tcp_flags::ACK, &[], &accept, "SMC CLC Accept (SMC-R v1)");
    let confirm = clc_accept_confirm(
        CLC_CONFIRM,
        0x10,
        codes.1,
        0x1a2b,
        CLIENT_ROCE_MAC,
        0x000456,
        0x0000_3c4d,
        CLIENT_TOKEN,
        0x0000_0009_5678_0000,
        0x0012_3456,
    );
    t.segment(cap, true, tcp_flags::PSH | tcp_flags::ACK, &[], &confirm, "SMC CLC Confirm (SMC-R v1)");
    t.segment(cap, false, tcp_flags::ACK, &[], &[], "ACK");
    t
}

fn clc_ports() -> Capture {
    clc_ports_on(Capture::new(
        "clc-ports.pcap",
        "SMC handshakes on ports that TCP dissectors own, as `smcdump-ex -m all` records them on the NIC: \
         10.20.n.1:(47000+n) -> 10.20.n.2:port, SMC-R v1 Proposal/Accept/Confirm on 6379 (RESP, n=1), 3306 \
         (MySQL, n=2) and 80 (HTTP, n=3); then a connection to 6379 (n=4) whose server declines \
         (SMC_CLC_DECL_NOSMCDEV, 0x03030000) and whose Redis PING and PONG then run over TCP (fallback). Frames \
         1-7, 8-14 and 15-21 are the three handshakes, 22-26 the declined one, 27 the PING, 28 the PONG.",
    ))
}

/// The frames of clc-ports.pcap, in `cap`'s link type.
fn clc_ports_on(mut cap: Capture) -> Capture {
    for (n, port, what) in [(1u8, 6379u16, "Redis"), (2, 3306, "MySQL"), (3, 80, "HTTP")] {
        handshake(&mut cap, ([10, 20, n, 1], 47000 + u16::from(n)), ([10, 20, n, 2], port), None, what);
    }
    let mut t = handshake(&mut cap, ([10, 20, 4, 1], 47004), ([10, 20, 4, 2], 6379), Some(0x0303_0000), "Redis");
    t.segment(
        &mut cap,
        true,
        tcp_flags::PSH | tcp_flags::ACK,
        &[],
        b"*1\r\n$4\r\nPING\r\n",
        "Redis PING over TCP (fallback)",
    );
    t.segment(&mut cap, false, tcp_flags::PSH | tcp_flags::ACK, &[], b"+PONG\r\n", "Redis PONG over TCP (fallback)");
    cap
}

/// The host (client) closes a connection with the TCP FIN exchange of its handshake.
fn tcp_close(t: &mut TcpConn, cap: &mut Capture) {
    t.segment(cap, true, tcp_flags::FIN | tcp_flags::ACK, &[], &[], "FIN, ACK");
    t.segment(cap, false, tcp_flags::FIN | tcp_flags::ACK, &[], &[], "FIN, ACK");
    t.segment(cap, true, tcp_flags::ACK, &[], &[], "ACK");
}

fn conns() -> Capture {
    let mut cap = Capture::new(
        "conns.pcap",
        "Several connections, as `smcdump-ex -m all` records them on the client 10.30.n.1 (n = 1..6, port          47000+n): (1) SMC-R to 10.30.1.2:6379 with its handshake, server RMB 32 KiB (Accept size code 1),          client RMB 16 KiB (Confirm code 0); the client fills the server's buffer (32768 bytes unconsumed), the          server consumes, orderly close. (2) SMC-R to 10.30.2.2:3306 with its handshake, server RMB 64 KiB          (code 2), client 32 KiB (code 1): a request, a reply, then the server aborts. (3) SMC-D to          10.30.3.2:8080 without a handshake, 16 KiB DMBs less 32 bytes (16352): the server's reply wraps its          producer cursor; still open at the end. (4) 10.30.4.2:80 declined with SMC_CLC_DECL_NOSMCDEV          (0x03030000), then HTTP over TCP. (5) 10.30.5.2:443 declined with SMC_CLC_DECL_DIFFPREFIX          (0x03070000). (6) SMC-R to 10.30.6.2:5432, handshake only: no dump frames.",
    );
    use Dir::{Received as R, Sent as S};
    let ep = |n: u8, port: u16| (([10, 30, n, 1], 47000 + u16::from(n)), ([10, 30, n, 2], port));

    // (1) The client fills the server's 32 KiB RMB: two writes of 16384 bytes, then WriteBlocked.
    let (client, server) = ep(1, 6379);
    let mut t = handshake_sized(&mut cap, client, server, None, (1, 0), "conn 1");
    let mut c = Conn::new(MODE_SMCR, client, server, SERVER_TOKEN, CLIENT_TOKEN);
    (c.peer_rmb, c.local_rmb) = (32768, 16384);
    for half in ["first", "second"] {
        c.data(&mut cap, S, &text(16384, "bulk upload into a 32 KiB RMB; "), &format!(", {half} half"));
        c.cdc(&mut cap, S, CdcOpts::default(), &format!(", announces the {half} half"));
    }
    c.cdc(&mut cap, S, CdcOpts::flags(ProdFlags::WRITE_BLOCKED, 0), ", peer buffer full: 32768 unconsumed");
    c.consume_tx(32768);
    c.cdc(&mut cap, R, CdcOpts::default(), ", server consumed everything");
    c.data(&mut cap, S, &text(100, "after the wrap "), ", after the producer wrapped");
    c.cdc(&mut cap, S, CdcOpts::default(), ", producer wrap 1");
    c.consume_tx(100);
    c.data(&mut cap, R, b"+OK\r\n", ", reply");
    c.cdc(&mut cap, R, CdcOpts::default(), ", announces the reply");
    c.consume_rx(5);
    c.orderly_close(&mut cap);
    tcp_close(&mut t, &mut cap);

    // (2) Aborted by the server.
    let (client, server) = ep(2, 3306);
    handshake_sized(&mut cap, client, server, None, (2, 1), "conn 2");
    let mut c = Conn::new(MODE_SMCR, client, server, SERVER_TOKEN, CLIENT_TOKEN);
    (c.peer_rmb, c.local_rmb) = (65536, 32768);
    write(&mut c, &mut cap, S, &text(300, "SELECT * FROM t; "), ", a query");
    write(&mut c, &mut cap, R, &text(2000, "row data "), ", rows");
    c.cdc(&mut cap, R, CdcOpts::flags(0, ConnState::PEER_CONN_ABORT), ", server aborts");

    // (3) SMC-D without a handshake: the ring size only shows in the wrap.
    let (client, server) = ep(3, 8080);
    let mut c = smcd_conn(ByteOrder::Little, client, server);
    (c.peer_rmb, c.local_rmb) = (16352, 16352);
    write(&mut c, &mut cap, S, &text(80, "GET / HTTP/1.1\r\n"), ", a request");
    write(&mut c, &mut cap, R, &text(10000, "first reply "), ", first reply");
    write(&mut c, &mut cap, R, &text(10000, "second reply, over the ring end "), ", second reply, wraps");

    // (4), (5) Declined: the connections run over TCP.
    let (client, server) = ep(4, 80);
    let mut t = handshake(&mut cap, client, server, Some(0x0303_0000), "conn 4");
    t.segment(
        &mut cap,
        true,
        tcp_flags::PSH | tcp_flags::ACK,
        &[],
        b"GET / HTTP/1.1\r\nHost: d\r\n\r\n",
        "HTTP over TCP (fallback)",
    );
    let (client, server) = ep(5, 443);
    handshake(&mut cap, client, server, Some(0x0307_0000), "conn 5");
    // (6) Accepted and confirmed, but the dump holds none of it.
    let (client, server) = ep(6, 5432);
    handshake(&mut cap, client, server, None, "conn 6");
    cap
}

// ---------------------------------------------------------------------------------------------------------------

fn readme(captures: &[Capture]) -> String {
    let mut out = String::from(
        "# Test captures\n\n\
         Generated by `cargo run --example gen_test_pcaps -- test-pcaps` (examples/gen_test_pcaps.rs), which \
         rewrites every file here, this README included, byte-identically on every run: do not edit by hand.\n\n\
         Dump frames use the layout of `shared/spec/smc-dump-format.md` with the parser's defaults: 16-byte \
         header, hdr_ver 1, type 1 = raw data, type 2 = CDC. The envelope is that of spec section 2: Ethernet \
         II with source = destination = 02:00:00:00:00:01 (the dummy device), IPv4 with ID 0, no DF, TTL 64, \
         header checksum 0, UDP checksum 0, ports those of the connection (local -> peer for sent data, \
         peer -> local for received). Raw data is cut into chunks of at most 8192 bytes (stand-in for the \
         unknown `SMC_DUMP_MAX_DATA_LEN`) and split where a write crosses the ring end; received chunks come \
         before the CDC that announces them. Timestamps start at 2024-01-01 00:00:00 UTC, 250 us apart.\n\n\
         In the tables, `len` is the frame length (captured/original when truncated); `prod w:c` and \
         `cons w:c` are cursor wrap:count.\n\n",
    );
    for c in captures {
        c.readme_section(&mut out);
    }
    out
}

/// Ordinary UDP traffic on a real NIC (own MACs, IP checksums computed), none of it SMC dump.
fn other_udp() -> Capture {
    other_udp_on(Capture::new(
        "other-udp.pcap",
        "UDP traffic that is not SMC dump, none of which smcdump may claim (also with heuristics first): DNS, \
         NTP, QUIC-like and RTP-like datagrams, seeded random payloads, payloads starting with three of the \
         four magic bytes, the magic with impossible lengths; and two frames in the dump device's envelope \
         whose payload is not a consistent dump header.",
    ))
}

/// The frames of other-udp.pcap, in `cap`'s link type.
fn other_udp_on(mut cap: Capture) -> Capture {
    let link = cap.link;
    let dummy_frame = |src, dst, payload: &[u8]| dummy_on(link, src, dst, payload);
    let nic = |src: (Ip, u16), dst: (Ip, u16), payload: &[u8]| {
        let mut u = (src.1.to_be_bytes().iter().chain(&dst.1.to_be_bytes())).copied().collect::<Vec<u8>>();
        u.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap_or(u16::MAX).to_be_bytes());
        u.extend_from_slice(&[0, 0]); // UDP checksum: optional over IPv4
        u.extend_from_slice(payload);
        let ip = Ipv4Repr { id: 0x1234, ttl: 63, ..Ipv4Repr::new(src.0, dst.0, net::IPPROTO_UDP) };
        nic_frame(link, CLIENT_NIC_MAC, SERVER_NIC_MAC, true, &net::ipv4_datagram(&ip, &u, true))
    };
    let (a, b) = ([192, 168, 7, 1], [192, 168, 7, 2]);
    // DNS: query and answer for example.com, A record.
    let mut q = vec![0x4d, 0x2a, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7];
    q.extend_from_slice(b"example\x03com\x00\x00\x01\x00\x01");
    cap.push(nic((a, 40053), (b, 53), &q), "DNS query example.com A");
    let mut r = q.clone();
    r[2..8].copy_from_slice(&[0x81, 0x80, 0, 1, 0, 1]);
    r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34]);
    cap.push(nic((b, 53), (a, 40053), &r), "DNS answer");
    // NTP v4 client request: LI 0, VN 4, mode 3, then zeros and a transmit time stamp.
    let mut ntp = vec![0x23, 0, 6, 0xec];
    ntp.resize(40, 0);
    ntp.extend_from_slice(&[0xe9, 0x5b, 0x2c, 0x80, 0x12, 0x34, 0x56, 0x78]);
    cap.push(nic((a, 40123), (b, 123), &ntp), "NTP v4 client request");
    // QUIC-like long header: Initial, version 1, 8-byte connection IDs, padded to 1200 bytes.
    let mut quic = vec![0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0];
    quic.extend(text(1200 - quic.len(), "quic").iter());
    cap.push(nic((a, 40443), (b, 443), &quic), "QUIC-like Initial, 1200 bytes");
    // RTP-like: version 2, payload type 0, sequence, time stamp, SSRC, 160 bytes of audio.
    let mut rtp = vec![0x80, 0x00, 0x12, 0x34, 0, 0, 0x0f, 0xa0, 0xde, 0xad, 0xbe, 0xef];
    rtp.extend_from_slice(&[0xd5; 160]);
    cap.push(nic((a, 45004), (b, 5004), &rtp), "RTP-like, PT 0");
    // Seeded random payloads of assorted sizes.
    let mut x: u64 = 0x0dd5_eed5_0f0f_1234;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (i, len) in [1usize, 15, 16, 17, 64, 333, 1400].into_iter().enumerate() {
        let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let port = 47000 + i as u16;
        cap.push(nic((a, port), (b, port + 100), &payload), format!("random payload, {len} bytes"));
    }
    let l = Layout::default();
    let good = emit::data_frame(&l, 1, MODE_SMCR, &text(48, "not a dump, really"));
    let mut three = good.clone();
    three[3] = 0x00;
    cap.push(nic((a, 48001), (b, 48101), &three), "CF D3 E7 00: three of the four magic bytes");
    for (n, len) in [(2u16, 0u16), (3, 15), (4, 0xFFFF)] {
        let mut lie = good.clone();
        lie[8..10].copy_from_slice(&len.to_be_bytes());
        cap.push(nic((a, 48000 + n), (b, 48100 + n), &lie), format!("magic, impossible length field {len}"));
    }
    // The dump device's envelope around payloads the heuristics must still refuse.
    let mut lie = good.clone();
    lie[8..10].copy_from_slice(&500u16.to_be_bytes());
    cap.push(dummy_frame((a, 48010), (b, 48110), &lie), "dump envelope, magic, length field beyond the datagram");
    cap.push(dummy_frame((a, 48011), (b, 48111), &text(40, "plain")), "dump envelope, no magic");
    cap
}

fn ports() -> Capture {
    let mut cap = Capture::new(
        "ports.pcap",
        "SMC-R connections whose server ports other UDP dissectors own: 53 (dns), 11211 (memcache), 8000 \
         (oicq). Dump frames keep the application's ports, so without help those dissectors take them first. \
         Per connection 10.5.n.1:(50000+n) -> 10.5.n.2:port: request data, its CDC, reply data, its CDC.",
    );
    let l = Layout::default();
    for (n, port, what) in [(1u8, 53u16, "DNS"), (2, 11211, "memcache"), (3, 8000, "oicq")] {
        let client = ([10, 5, n, 1], 50000 + u16::from(n));
        let server = ([10, 5, n, 2], port);
        let request = text(24, what);
        let reply = text(40, what);
        let raw = |payload: &[u8]| emit::data_frame(&l, 1, MODE_SMCR, payload);
        let cdc = |seqno: u16, prod: u32, cons: u32| {
            let spec = SmcrCdcRepr::new(seqno, 0x0500 + u32::from(n), (0, prod), (0, cons));
            emit::smcr_cdc_frame(&l, 1, &spec)
        };
        cap.push(dummy_frame(client, server, &raw(&request)), format!("{what}: request data, sent"));
        cap.push(dummy_frame(client, server, &cdc(1, 24, 0)), format!("{what}: CDC announcing it, sent"));
        cap.push(dummy_frame(server, client, &raw(&reply)), format!("{what}: reply data, received"));
        cap.push(dummy_frame(server, client, &cdc(1, 40, 24)), format!("{what}: CDC announcing it, received"));
    }
    cap
}

fn analysis() -> Capture {
    let mut cap = Capture::new(
        "analysis.pcap",
        "One SMC-R direction, 10.4.0.1:46000 -> 10.4.0.2:12345, whose frames contradict each other where the \
         connection analysis must notice: a sequence number skipped, a producer cursor that advances by other \
         than the data dumped, cursors that go back, a producer cursor two wraps on; and the reverse direction, \
         which is consistent.",
    );
    let l = Layout::default();
    let (a, b) = (([10, 4, 0, 1], 46000), ([10, 4, 0, 2], 12345));
    let raw = |n: usize| emit::data_frame(&l, 1, MODE_SMCR, &text(n, "analysis"));
    let cdc = |seqno: u16, prod: (u16, u32), cons: (u16, u32)| {
        let spec = SmcrCdcRepr::new(seqno, 0x0401, prod, cons);
        emit::smcr_cdc_frame(&l, 1, &spec)
    };
    cap.push(dummy_frame(a, b, &cdc(1, (0, 0), (0, 0))), "CDC seq 1, cursors 0:0");
    cap.push(dummy_frame(a, b, &raw(100)), "100 bytes of data");
    cap.push(dummy_frame(a, b, &cdc(2, (0, 100), (0, 0))), "CDC seq 2, prod 0:100: advance matches the data");
    cap.push(dummy_frame(b, a, &cdc(1, (0, 0), (0, 100))), "reverse direction: CDC seq 1, cons 0:100");
    cap.push(dummy_frame(a, b, &raw(50)), "50 bytes of data");
    cap.push(dummy_frame(a, b, &cdc(4, (0, 160), (0, 0))), "CDC seq 4 (3 skipped), prod 0:160: advance 60, data 50");
    cap.push(dummy_frame(a, b, &cdc(5, (0, 120), (0, 0))), "CDC seq 5, prod 0:120: producer cursor went back");
    cap.push(dummy_frame(b, a, &cdc(2, (0, 0), (0, 90))), "reverse direction: CDC seq 2, cons 0:90: went back");
    cap.push(dummy_frame(a, b, &cdc(6, (2, 40), (0, 0))), "CDC seq 6, prod 2:40: two wraps on, a wrap skipped data");
    cap
}

/// The server ports of the cooked captures' connections, each owned by a UDP dissector that takes dump frames
/// before smcdump's UDP heuristic can, and whether the capture holds the connection's TCP SYN and SYN-ACK with
/// SMC's option before its dump frames (as `smcdump-ex -m all` records a connection it saw open).
const OWNED_PORTS: [(u16, &str, bool); 8] = [
    (53, "dns", true),
    (67, "bootp", false),
    (123, "ntp", true),
    (514, "syslog", false),
    (4789, "vxlan", true),
    (11211, "memcache", false),
    (161, "snmp", true),
    (5060, "sip", false),
];

/// SMC-R connections on [`OWNED_PORTS`] as `tcpdump -i any` records them, in link type `link`: per connection
/// 10.`net`.n.1:(52000+n) -> 10.`net`.n.2:port (n from 1), the handshake's SYN and SYN-ACK where the table says
/// so, then request data, its CDC, reply data, its CDC.
fn cooked(link: Link, name: &'static str, summary: &'static str, net: u8) -> Capture {
    let mut cap = Capture::on(link, name, summary);
    use Dir::{Received as R, Sent as S};
    for (i, &(port, what, handshake)) in OWNED_PORTS.iter().enumerate() {
        let n = i as u8 + 1;
        let client: (Ip, u16) = ([10, net, n, 1], 52000 + u16::from(n));
        let server: (Ip, u16) = ([10, net, n, 2], port);
        if handshake {
            let mut t = TcpConn {
                client,
                server,
                client_seq: 0x0100_0000 * u32::from(n),
                server_seq: 0x0200_0000 * u32::from(n),
                ip_id: [0x2000 + u16::from(n), 0],
                ts: 3_000_000,
            };
            t.segment(&mut cap, true, tcp_flags::SYN, &syn_options(3_000_000, 0), &[], "SYN with SMC option");
            let synack = syn_options(4_000_000, 3_000_000);
            t.segment(&mut cap, false, tcp_flags::SYN | tcp_flags::ACK, &synack, &[], "SYN-ACK with SMC option");
        }
        let token = u32::from(net) << 8 | u32::from(n);
        let mut c = Conn { link, ..Conn::new(MODE_SMCR, client, server, 0x0001_0000 | token, 0x0002_0000 | token) };
        let credits = CdcOpts { credits: 4, ..CdcOpts::default() };
        c.data(&mut cap, S, &text(40, what), &format!(", {what} port, request"));
        c.cdc(&mut cap, S, credits, ", announces the request");
        c.consume_tx(40);
        c.data(&mut cap, R, &text(60, what), &format!(", {what} port, reply"));
        c.cdc(&mut cap, R, credits, ", announces the reply");
    }
    cap
}

/// Two connections (SMC-R, then SMC-D) whose kernel writes the dump header with `layout`: per connection, sent
/// data, its CDC, received data, its CDC, and the orderly close. The data comes first, as the kernel dumps it.
fn layout_variant(name: &'static str, summary: &'static str, layout: Layout, net: u8) -> Capture {
    let mut cap = Capture::new(name, summary);
    use Dir::{Received as R, Sent as S};
    let smcr = Conn::new(MODE_SMCR, ([10, net, 1, 1], 46100), ([10, net, 1, 2], 12345), 0x0c01, 0x0c02);
    let smcd = smcd_conn(ByteOrder::Little, ([10, net, 2, 1], 46200), ([10, net, 2, 2], 12346));
    for mut c in [Conn { layout, ..smcr }, Conn { layout, ..smcd }] {
        c.data(&mut cap, S, &text(100, "request under another header layout; "), ", a request");
        c.cdc(&mut cap, S, CdcOpts::default(), ", announces the request");
        c.consume_tx(100);
        c.data(&mut cap, R, &text(300, "reply under another header layout; "), ", a reply");
        c.cdc(&mut cap, R, CdcOpts::default(), ", announces the reply");
        c.consume_rx(300);
        c.orderly_close(&mut cap);
    }
    cap
}

/// A connection with a 12-byte header, then one with the built-in 16-byte header: evidence for two layouts.
fn layout_conflict() -> Capture {
    let mut cap = Capture::new(
        "layout-conflict.pcap",
        "Two SMC-R connections whose CDC frames imply different header layouts: 10.15.1.1:46100 <-> \
         10.15.1.2:12345 with a 12-byte header (type codes 1 raw, 2 CDC), learned from its first CDC, then \
         10.15.2.1:46300 <-> 10.15.2.2:12347 with the built-in 16-byte header, whose CDCs conflict with it.",
    );
    use Dir::{Received as R, Sent as S};
    let twelve = Layout { header_len: 12, ..Layout::default() };
    let first = Conn::new(MODE_SMCR, ([10, 15, 1, 1], 46100), ([10, 15, 1, 2], 12345), 0x0f01, 0x0f02);
    let second = Conn::new(MODE_SMCR, ([10, 15, 2, 1], 46300), ([10, 15, 2, 2], 12347), 0x0f03, 0x0f04);
    for mut c in [Conn { layout: twelve, ..first }, second] {
        c.data(&mut cap, S, &text(64, "conflict "), ", a request");
        c.cdc(&mut cap, S, CdcOpts::default(), ", announces the request");
        c.consume_tx(64);
        c.cdc(&mut cap, R, CdcOpts::default(), ", peer consumed it");
    }
    cap
}

/// `data` written by the `dir` side and announced with a CDC; the peer consumes it.
fn write(c: &mut Conn, cap: &mut Capture, dir: Dir, data: &[u8], what: &str) {
    c.data(cap, dir, data, what);
    c.cdc(cap, dir, CdcOpts::default(), &format!(", announces {what}"));
    match dir {
        Dir::Sent => c.consume_tx(data.len()),
        Dir::Received => c.consume_rx(data.len()),
    }
}

/// The HTTP exchanges of http-smcr.pcap and http-smcd.pcap, on `c` (the host is the client).
fn http_exchanges(c: &mut Conn, cap: &mut Capture) {
    use Dir::{Received as R, Sent as S};
    write(c, cap, S, HTTP_GET, ", GET /index.html");
    // A 20000-byte body: more than a data chunk and than the 16 KiB ring, so the server writes it in two parts;
    // the second crosses the ring's end.
    let mut response =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {HTTP_BODY}\r\n\r\n").into_bytes();
    response.extend(text(HTTP_BODY, "<p>a page served over SMC</p>\n"));
    let (first, second) = response.split_at(10000);
    write(c, cap, R, first, ", 200 OK, first part");
    write(c, cap, R, second, ", 200 OK, second part");
    write(c, cap, S, HTTP_POST, ", POST /upload");
    write(c, cap, R, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", ", 201 Created");
    c.orderly_close(cap);
}

/// HTTP request 1 and 2 of the HTTP captures, and the body length of response 1.
const HTTP_GET: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: smc.example\r\nUser-Agent: smcdump-test\r\n\r\n";
const HTTP_POST: &[u8] = b"POST /upload HTTP/1.1\r\nHost: smc.example\r\nContent-Length: 11\r\n\r\nhello world";
const HTTP_BODY: usize = 20000;

fn http(mode: u8) -> Capture {
    let (name, summary, net) = if mode == MODE_SMCR {
        (
            "http-smcr.pcap",
            "HTTP/1.1 on port 80 over SMC-R, 10.20.0.1:40080 (client, the host) -> 10.20.0.2:80, 16 KiB \
          rings: GET /index.html answered 200 OK with a 20000-byte body (Content-Length), written in two parts of \
          10000 bytes, cut into chunks of at most 8192 bytes, the second part crossing the ring end; then POST \
          /upload (11-byte body) answered 201 Created; then the orderly close.",
            20,
        )
    } else {
        ("http-smcd.pcap", "The exchanges of http-smcr.pcap over SMC-D: 10.21.0.1:40080 -> 10.21.0.2:80.", 21)
    };
    let mut cap = Capture::new(name, summary);
    let mut c = Conn::new(mode, ([10, net, 0, 1], 40080), ([10, net, 0, 2], 80), 0x2001, 0x2002);
    http_exchanges(&mut c, &mut cap);
    cap
}

/// A PostgreSQL message: type byte, then a length that counts itself and the body.
fn pg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend_from_slice(&(4 + body.len() as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn pgsql() -> Capture {
    let mut cap = Capture::new(
        "pgsql.pcap",
        "PostgreSQL on port 5432 over SMC-R, 10.22.0.1:40432 (client, the host) -> 10.22.0.2:5432: the startup \
         message; four server messages in one write (AuthenticationOk, ParameterStatus, BackendKeyData, \
         ReadyForQuery); a 20000-byte simple query, cut into three data frames; the answer (RowDescription, \
         DataRow, CommandComplete, ReadyForQuery) in one write.",
    );
    use Dir::{Received as R, Sent as S};
    let mut c = Conn::new(MODE_SMCR, ([10, 22, 0, 1], 40432), ([10, 22, 0, 2], 5432), 0x2201, 0x2202);
    c.peer_rmb = 65536;
    c.local_rmb = 65536;
    let params = b"user\0smc\0database\0test\0\0";
    let mut startup = (8 + params.len() as u32).to_be_bytes().to_vec();
    startup.extend_from_slice(&196608u32.to_be_bytes()); // protocol 3.0
    startup.extend_from_slice(params);
    write(&mut c, &mut cap, S, &startup, ", startup message");
    let mut hello = pg(b'R', &0u32.to_be_bytes());
    hello.extend(pg(b'S', b"server_version\x0015.0\0"));
    hello.extend(pg(b'K', &[0, 0, 0x30, 0x39, 0x12, 0x34, 0x56, 0x78]));
    hello.extend(pg(b'Z', b"I"));
    write(&mut c, &mut cap, R, &hello, ", four messages");
    let mut sql = b"SELECT '".to_vec();
    sql.extend(text(19980, "shared memory "));
    sql.extend_from_slice(b"' AS t\0");
    write(&mut c, &mut cap, S, &pg(b'Q', &sql), ", a 20000-byte query");
    let mut row = 1u16.to_be_bytes().to_vec();
    row.extend_from_slice(b"t\0");
    row.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    let mut answer = pg(b'T', &row);
    let mut data = 1u16.to_be_bytes().to_vec();
    data.extend_from_slice(&2u32.to_be_bytes());
    data.extend_from_slice(b"ok");
    answer.extend(pg(b'D', &data));
    answer.extend(pg(b'C', b"SELECT 1\0"));
    answer.extend(pg(b'Z', b"I"));
    write(&mut c, &mut cap, R, &answer, ", the answer");
    cap
}

/// A TLS 1.2 ClientHello naming `sni`, padded to about 600 bytes.
fn client_hello(sni: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    let mut sni_ext = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    sni_ext.push(0);
    sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni_ext.extend_from_slice(name);
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
    ext.extend(sni_ext);
    ext.extend_from_slice(&[0, 0x15, 0x01, 0x90]); // padding, 400 bytes
    ext.extend(std::iter::repeat(0).take(0x190));
    let mut body = vec![0x03, 0x03];
    body.extend((0..32u8).map(|i| i.wrapping_mul(7)));
    body.push(32);
    body.extend((0..32u8).map(|i| i ^ 0x5a));
    body.extend_from_slice(&[0, 4, 0x13, 0x01, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

fn tls() -> Capture {
    let mut cap = Capture::new(
        "tls.pcap",
        "TLS on port 443 over SMC-R, 10.23.0.1:40443 (client, the host) -> 10.23.0.2:443: a ClientHello naming \
         smc.example.com, written in two parts (two data frames, each with its CDC).",
    );
    let mut c = Conn::new(MODE_SMCR, ([10, 23, 0, 1], 40443), ([10, 23, 0, 2], 443), 0x2301, 0x2302);
    let hello = client_hello("smc.example.com");
    let (a, b) = hello.split_at(300);
    write(&mut c, &mut cap, Dir::Sent, a, ", ClientHello, first part");
    write(&mut c, &mut cap, Dir::Sent, b, ", ClientHello, second part");
    cap
}

/// Text on a port no TCP dissector owns.
fn unowned() -> Capture {
    let mut cap = Capture::new(
        "unowned.pcap",
        "Application data on a port no dissector owns, 10.24.0.1:40999 -> 10.24.0.2:47999: a line of text \
         each way, which no heuristic takes: it stays data unless Decode As (smcdump.port) says otherwise; then \
         eight more lines from the client, the last of which is the eighth in a row no dissector took: smcdump \
         stops asking for that direction (smcdump.handoff_tries), and its ninth line is not offered.",
    );
    let mut c = Conn::new(MODE_SMCR, ([10, 24, 0, 1], 40999), ([10, 24, 0, 2], 47999), 0x2401, 0x2402);
    write(&mut c, &mut cap, Dir::Sent, b"hello over shared memory\n", ", a line");
    write(&mut c, &mut cap, Dir::Received, b"and hello back\n", ", its answer");
    for n in 2..=9 {
        let line = format!("line {n} of a chat no dissector knows\n");
        write(&mut c, &mut cap, Dir::Sent, line.as_bytes(), &format!(", line {n}"));
    }
    cap
}

/// Data that makes the application dissector throw: two bytes to LDAP (port 389), a BER element cut short.
fn throwing() -> Capture {
    let mut cap = Capture::new(
        "throwing.pcap",
        "Two bytes of data to port 389 (LDAP) over SMC-R, 10.25.0.1:40389 -> 10.25.0.2:389: Wireshark's LDAP \
         dissector reads past them and throws; the answer, likewise. smcdump's items stay, the exception is \
         shown as TCP shows it.",
    );
    let mut c = Conn::new(MODE_SMCR, ([10, 25, 0, 1], 40389), ([10, 25, 0, 2], 389), 0x2501, 0x2502);
    write(&mut c, &mut cap, Dir::Sent, b"\x00\x01", ", two bytes");
    write(&mut c, &mut cap, Dir::Received, b"\x00\x01", ", two bytes");
    cap
}

/// Raw data only: nothing identifies a layout, so the built-in one stays and nothing is said about it.
fn raw_only() -> Capture {
    let mut cap = Capture::new(
        "raw-only.pcap",
        "Raw data frames only, built-in layout, 10.16.0.1:46400 <-> 10.16.0.2:12348: no CDC frame identifies a \
         layout, so nothing is learned and nothing is said about it.",
    );
    use Dir::{Received as R, Sent as S};
    let mut c = Conn::new(MODE_SMCR, ([10, 16, 0, 1], 46400), ([10, 16, 0, 2], 12348), 0x1001, 0x1002);
    c.data(&mut cap, S, &text(48, "raw only, exactly one CDC long "), ", 48 bytes, the size of an SMC-R CDC");
    c.data(&mut cap, R, &text(500, "raw only "), ", a reply");
    c.data(&mut cap, S, &text(32, "raw only, SMC-D CDC long "), ", 32 bytes");
    cap
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "test-pcaps".into()));
    std::fs::create_dir_all(&dir)?;
    let captures = [
        smcr(),
        smcd(),
        smcd_be(),
        bad_input(),
        not_smc(),
        other_udp(),
        ports(),
        analysis(),
        sample(),
        cooked(
            Link::Sll,
            "sll.pcap",
            "`tcpdump -i any` with older libpcap: Linux cooked capture (SLL, linktype 113). SMC-R connections \
             whose server ports UDP dissectors own: 53 dns, 67 bootp, 123 ntp, 514 syslog, 4789 vxlan, 11211 \
             memcache, 161 snmp, 5060 sip; 10.6.n.1:(52000+n) -> 10.6.n.2:port. The connections on 53, 123, 4789 \
             and 161 start with the TCP SYN and SYN-ACK carrying SMC's option, as `smcdump-ex -m all` records a \
             connection it saw open; the others start with their first dump frame.",
            6,
        ),
        cooked(
            Link::Sll2,
            "sll2.pcapng",
            "`tcpdump -i any` with libpcap 1.10 and later, in a pcapng file: Linux cooked capture v2 (SLL2, \
             linktype 276). The connections of sll.pcap, on 10.7.n.1:(52000+n) -> 10.7.n.2:port.",
            7,
        ),
        other_udp_on(Capture::on(
            Link::Sll,
            "other-udp-sll.pcap",
            "The frames of other-udp.pcap in a Linux cooked capture (SLL): none is SMC dump.",
        )),
        other_udp_on(Capture::on(
            Link::Sll2,
            "other-udp-sll2.pcapng",
            "The frames of other-udp.pcap in a Linux cooked capture v2 (SLL2), pcapng: none is SMC dump.",
        )),
        layout_variant(
            "layout-12.pcap",
            "A kernel whose dump header is 12 bytes long (type codes 1 raw, 2 CDC). SMC-R 10.12.1.1:46100 <-> \
             10.12.1.2:12345, then SMC-D 10.12.2.1:46200 <-> 10.12.2.2:12346.",
            Layout { header_len: 12, ..Layout::default() },
            12,
        ),
        layout_variant(
            "layout-01.pcap",
            "A kernel whose type codes are 0 for raw data and 1 for a CDC (16-byte header). SMC-R \
             10.13.1.1:46100 <-> 10.13.1.2:12345, then SMC-D 10.13.2.1:46200 <-> 10.13.2.2:12346.",
            Layout { type_raw: 0, type_cdc: 1, ..Layout::default() },
            13,
        ),
        layout_variant(
            "layout-21.pcap",
            "A kernel whose type codes are 2 for raw data and 1 for a CDC (16-byte header): the built-in codes \
             swapped. SMC-R 10.14.1.1:46100 <-> 10.14.1.2:12345, then SMC-D 10.14.2.1:46200 <-> \
             10.14.2.2:12346.",
            Layout { type_raw: 2, type_cdc: 1, ..Layout::default() },
            14,
        ),
        layout_conflict(),
        raw_only(),
        http(MODE_SMCR),
        http(MODE_SMCD),
        pgsql(),
        tls(),
        unowned(),
        throwing(),
        clc_ports(),
        clc_ports_on(Capture::on(
            Link::Sll2,
            "clc-ports-sll2.pcapng",
            "The frames of clc-ports.pcap as `tcpdump -i any` records them with libpcap 1.10 and later: Linux \
             cooked capture v2 (SLL2), pcapng.",
        )),
        conns(),
    ];
    for c in &captures {
        c.write(&dir)?;
        println!("{}: {} frames", dir.join(c.name).display(), c.frames.len());
    }
    std::fs::write(dir.join("README.md"), readme(&captures))?;
    Ok(())
}
