//! Messy dump captures and their TCP twins, with the ground truth of what smcdump must say about them.
//!
//! Application conversations (HTTP, PostgreSQL, MQTT, memcache, DNS over TCP, iPerf3) are played over SMC
//! connections between a client host A and a server host B. Every write is dumped as the kernel dumps it (spec
//! section 8): by the sending host, its data (split at the ring's end and into chunks of at most [`MAX_CHUNK`]) and
//! then the CDC it sends; by the receiving host, the same data read from its ring and then the CDC it received (an
//! SMC-D CDC received has uninitialised head and tail bytes). The TCP twin carries the same bytes as plain TCP, one
//! segment per data frame, as a capture on the same hosts would hold them.
//!
//! A [`Case`] chooses which copies a capture holds (host A's, both hosts' merged, one loopback host's) and what goes
//! wrong (a lost frame, a duplicated one, a late start, a stray frame), and applies it to both captures alike.
//! [`Built::truth`] says, per frame of the dump capture, what smcdump's analysis must show.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use smcdump::wire::cdc::{SmcdCdcRepr, SmcrCdcRepr};
use smcdump::wire::emit::{self, MODE_SMCD, MODE_SMCR};
use smcdump::wire::envelope::{self, Link, LinkSide};
use smcdump::wire::layout::HeaderRepr;
use smcdump::wire::net::{self, tcp_flags, Ipv4Repr, TcpRepr, IPPROTO_TCP, IPPROTO_UDP};
use smcdump::wire::{ByteOrder, ConnState, Endpoint, Flow, Layout, WireRepr};

/// The largest data chunk one dump frame holds (a stand-in for the kernel's limit).
pub const MAX_CHUNK: usize = 8192;
const CLIENT: [u8; 4] = [10, 40, 0, 1];
const SERVER: [u8; 4] = [10, 40, 0, 2];
/// The dump device of each host (both MAC fields of its frames), and their real NICs.
pub const DEVICE_A: [u8; 6] = [0x02, 0x5a, 0, 0, 0, 0x0a];
pub const DEVICE_B: [u8; 6] = [0x02, 0x5a, 0, 0, 0, 0x0b];
const NIC_A: [u8; 6] = [0x52, 0x54, 0, 0, 0, 0x0a];
const NIC_B: [u8; 6] = [0x52, 0x54, 0, 0, 0, 0x0b];
const EPOCH: Duration = Duration::from_secs(1_735_689_600);
const STEP: Duration = Duration::from_micros(100);

/// An application conversation: which port the server listens on, what each side writes, in order, and the
/// Wireshark protocol that decodes it.
pub struct App {
    pub proto: &'static str,
    pub server_port: u16,
    pub client_port: u16,
    /// (the client writes, the bytes of one write).
    pub writes: Vec<(bool, Vec<u8>)>,
}

fn http() -> App {
    let mut writes = Vec::new();
    for i in 0..12 {
        // The last response runs to the connection's end (no length): HTTP asks TCP for everything up to the
        // server's FIN, and smcdump for everything up to the server's CDC saying it is done writing.
        let last = i == 11;
        let close = if last { "Connection: close\r\n" } else { "" };
        let req = format!("GET /item/{i} HTTP/1.1\r\nHost: smc.example\r\nUser-Agent: messy\r\n{close}\r\n");
        writes.push((true, req.into_bytes()));
        let body: Vec<u8> = format!("item {i} ").bytes().cycle().take(600 + 700 * (i % 4)).collect();
        let length = if last { String::new() } else { format!("Content-Length: {}\r\n", body.len()) };
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{length}{close}\r\n");
        writes.push((false, [head.into_bytes(), body].concat()));
    }
    App { proto: "http", server_port: 80, client_port: 40080, writes }
}

/// A PostgreSQL message: type byte, length, body.
fn pg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn pgsql() -> App {
    let mut startup = Vec::new();
    let params = b"user\0smc\0database\0messy\0\0";
    startup.extend_from_slice(&u32::try_from(8 + params.len()).unwrap().to_be_bytes());
    startup.extend_from_slice(&196_608u32.to_be_bytes());
    startup.extend_from_slice(params);
    let ready = pg(b'Z', b"I");
    let mut writes = vec![
        (true, startup),
        (false, [pg(b'R', &0u32.to_be_bytes()), pg(b'S', b"server_version\x0016\0"), ready.clone()].concat()),
    ];
    for q in 0..8 {
        let query = format!("SELECT id, name FROM t{q}\0");
        writes.push((true, pg(b'Q', query.as_bytes())));
        let mut field = b"name\0".to_vec();
        field.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
        let mut result = pg(b'T', &[&[0u8, 1][..], &field].concat());
        let rows = 20 + 60 * (q % 3);
        for r in 0..rows {
            let value = format!("row {r} of query {q}");
            let mut body = vec![0, 1];
            body.extend_from_slice(&u32::try_from(value.len()).unwrap().to_be_bytes());
            body.extend_from_slice(value.as_bytes());
            result.extend_from_slice(&pg(b'D', &body));
        }
        result.extend_from_slice(&pg(b'C', format!("SELECT {rows}\0").as_bytes()));
        result.extend_from_slice(&ready);
        writes.push((false, result));
    }
    App { proto: "pgsql", server_port: 5432, client_port: 45432, writes }
}

/// An MQTT packet: fixed header byte, remaining length (variable-length integer), body.
fn mqtt_packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![first];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        m.push(b);
        if n == 0 {
            break;
        }
    }
    m.extend_from_slice(body);
    m
}

fn mqtt_string(s: &str) -> Vec<u8> {
    [&u16::try_from(s.len()).unwrap().to_be_bytes()[..], s.as_bytes()].concat()
}

fn mqtt() -> App {
    let connect = [&mqtt_string("MQTT")[..], &[4, 2, 0, 60], &mqtt_string("messy")].concat();
    let mut writes = vec![(true, mqtt_packet(0x10, &connect)), (false, mqtt_packet(0x20, &[0, 0]))];
    for i in 0..10u16 {
        let payload: Vec<u8> = format!("reading {i};").bytes().cycle().take(200 + 300 * usize::from(i % 3)).collect();
        let publish = [&mqtt_string(&format!("sensors/{i}"))[..], &(i + 1).to_be_bytes(), &payload].concat();
        writes.push((true, mqtt_packet(0x32, &publish)));
        writes.push((false, mqtt_packet(0x40, &(i + 1).to_be_bytes())));
    }
    App { proto: "mqtt", server_port: 1883, client_port: 41883, writes }
}

fn memcache() -> App {
    let mut writes = Vec::new();
    for i in 0..10 {
        let value: String = format!("value-{i}-").chars().cycle().take(100 + 150 * (i % 3)).collect();
        writes.push((true, format!("set key{i} 0 0 {}\r\n{value}\r\n", value.len()).into_bytes()));
        writes.push((false, b"STORED\r\n".to_vec()));
        writes.push((true, format!("get key{i}\r\n").into_bytes()));
        writes.push((false, format!("VALUE key{i} 0 {}\r\n{value}\r\nEND\r\n", value.len()).into_bytes()));
    }
    App { proto: "memcache", server_port: 11211, client_port: 41211, writes }
}

/// A DNS name in wire form.
fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(u8::try_from(label.len()).unwrap());
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn dns() -> App {
    let mut writes = Vec::new();
    for i in 0..12u16 {
        let name = dns_name(&format!("host{i}.smc.example"));
        let question = [&name[..], &[0, 1, 0, 1]].concat();
        let query = [&i.to_be_bytes()[..], &[1, 0, 0, 1, 0, 0, 0, 0, 0, 0], &question].concat();
        let answer = [&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4][..], &[192, 0, 2, i as u8]].concat();
        let response = [&i.to_be_bytes()[..], &[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0], &question, &answer].concat();
        for (client, m) in [(true, query), (false, response)] {
            writes.push((client, [&u16::try_from(m.len()).unwrap().to_be_bytes()[..], &m].concat()));
        }
    }
    App { proto: "dns", server_port: 53, client_port: 40053, writes }
}

/// iPerf3's control connection: the cookie, the parameters exchange (a length, then JSON), state bytes.
pub fn iperf3() -> App {
    let cookie = b"smcdumpmessyiperf3cookie0123456789ab\0".to_vec();
    let json = br#"{"tcp":true,"omit":0,"time":10,"parallel":1,"len":131072,"client_version":"3.12"}"#;
    let params = [&u32::try_from(json.len()).unwrap().to_be_bytes()[..], json].concat();
    let writes =
        vec![(true, cookie), (false, vec![9]), (true, params), (false, vec![10]), (false, vec![1]), (false, vec![2])];
    App { proto: "iperf3", server_port: 5201, client_port: 45201, writes }
}

/// The applications every case plays, one connection each.
pub fn apps() -> Vec<App> {
    vec![http(), pgsql(), mqtt(), memcache(), dns()]
}

/// Which host dumped, or captured, a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    A,
    B,
}

/// What an item of a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Data: where its first byte lies in its direction's stream, its length, whether it is its write's last chunk
    /// and whether it lies after the ring's end was crossed within its write.
    Data {
        pos: u64,
        len: usize,
        last: bool,
        after_wrap: bool,
    },
    Cdc,
    /// A TCP segment with no data (handshake, pure ACK, FIN): in the twin only.
    Control,
}

/// One frame of a connection: dumped (or, for the twin, captured) by `host`, as the sender or the receiver of the
/// write `write` (index into the app's writes; `usize::MAX` for handshake and close).
#[derive(Clone, Debug)]
pub struct Item {
    pub host: Host,
    pub sender: bool,
    pub write: usize,
    pub client_sends: bool,
    pub kind: Kind,
    /// The dump frame's UDP payload (empty for a twin-only item).
    pub dump: Vec<u8>,
    /// The twin's TCP segment as an IPv4 datagram, when the item has one.
    pub tcp: Option<Vec<u8>>,
    /// The TCP handshake's segment as the dump capture holds it (`smcdump-ex -m all` captures the NIC too): with
    /// SMC's option in the SYN and SYN-ACK.
    pub handshake: Option<Vec<u8>>,
}

/// How the SMC connection is set up.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub mode: u8,
    /// The ring each side writes into (the peer's receive buffer).
    pub ring: u32,
    /// Both ends share one address (an SMC-D loopback connection).
    pub loopback: bool,
}

/// A ring cursor.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    wrap: u16,
    count: u32,
}

impl Cursor {
    fn pair(self) -> (u16, u32) {
        (self.wrap, self.count)
    }

    /// Advances `n` bytes in a ring of `size`; the runs the bytes occupy.
    fn advance(&mut self, n: usize, size: u32) -> Vec<usize> {
        let mut runs = Vec::new();
        let mut left = n;
        while left > 0 {
            let take = left.min((size - self.count) as usize);
            runs.push(take);
            self.count += take as u32;
            left -= take;
            if self.count == size {
                (self.count, self.wrap) = (0, self.wrap.wrapping_add(1));
            }
        }
        runs
    }
}

/// One direction's state: its producer cursor, the stream position, TCP's next sequence number, SMC-R's CDC
/// sequence number.
#[derive(Clone, Copy, Debug, Default)]
struct Side {
    prod: Cursor,
    pos: u64,
    seq: u32,
    cdc_seq: u16,
}

/// Plays `app` over one SMC connection: every item both hosts dump, and the twin's segments, in time order.
pub fn connection(app: &App, setup: Setup) -> Vec<Item> {
    let server_addr = if setup.loopback { CLIENT } else { SERVER };
    let client = Endpoint::new(CLIENT, app.client_port);
    let server = Endpoint::new(server_addr, app.server_port);
    // [client -> server, server -> client]
    let mut sides = [Side { seq: 1_000, ..Side::default() }, Side { seq: 50_000, ..Side::default() }];
    let mut garbage = 0u8;
    let mut items = Vec::new();
    let dump =
        |mode: u8, ty: u8, payload: &[u8]| emit::dump_frame(&Layout::default(), &HeaderRepr::new(1, mode, ty), payload);
    let layout = Layout::default();
    // The twin's handshake, captured by both hosts.
    let flows = [Flow::new(client, server), Flow::new(server, client)];
    let control = |host, d: usize, flags: u8, sides: &[Side; 2], seq_off: u32| {
        let f = flows[d];
        let tcp = TcpRepr {
            sport: f.src.port,
            dport: f.dst.port,
            seq: sides[d].seq.wrapping_sub(seq_off),
            ack: if flags & tcp_flags::ACK != 0 { sides[1 - d].seq } else { 0 },
            flags,
            window: 65_000,
            ..TcpRepr::default()
        };
        Item {
            host,
            sender: true,
            write: usize::MAX,
            client_sends: d == 0,
            kind: Kind::Control,
            dump: Vec::new(),
            tcp: Some(segment(&f, &tcp, &[])),
            handshake: None,
        }
    };
    for (d, flags, off) in [(0, tcp_flags::SYN, 1), (1, tcp_flags::SYN | tcp_flags::ACK, 1), (0, tcp_flags::ACK, 0)] {
        for host in [Host::A, Host::B] {
            let mut it = control(host, d, flags, &sides, off);
            let f = flows[d];
            let tcp = TcpRepr {
                sport: f.src.port,
                dport: f.dst.port,
                seq: sides[d].seq.wrapping_sub(off),
                ack: if flags & tcp_flags::ACK != 0 { sides[1 - d].seq } else { 0 },
                flags,
                window: 65_000,
                ..TcpRepr::default()
            };
            // NOP, NOP, the experimental option (kind 254, length 6) with SMC's ExID.
            let smc: &[u8] = if flags & tcp_flags::SYN != 0 { &[1, 1, 254, 6, 0xE2, 0xD4, 0xC3, 0xD9] } else { &[] };
            let seg = net::tcp_segment(f.src.addr, f.dst.addr, &tcp, smc, &[]);
            it.handshake = Some(net::ipv4_datagram(&Ipv4Repr::new(f.src.addr, f.dst.addr, IPPROTO_TCP), &seg, true));
            items.push(it);
        }
    }
    for (w, (client_sends, bytes)) in app.writes.iter().enumerate() {
        let d = usize::from(!client_sends);
        let (sender, receiver) = if *client_sends { (Host::A, Host::B) } else { (Host::B, Host::A) };
        let flow = flows[d];
        let before = sides[d];
        let runs = sides[d].prod.advance(bytes.len(), setup.ring);
        let mut chunks = Vec::new();
        let mut at = 0;
        for (r, run) in runs.iter().enumerate() {
            let mut done = 0;
            while done < *run {
                let n = (run - done).min(MAX_CHUNK);
                chunks.push((at, n, r > 0));
                done += n;
                at += n;
            }
        }
        let consumed = sides[1 - d].prod;
        sides[d].cdc_seq = sides[d].cdc_seq.wrapping_add(1);
        let (prod, cons) = (sides[d].prod.pair(), consumed.pair());
        let cdc_sent = if setup.mode == MODE_SMCR {
            let token = if *client_sends { 0x0000_0201 } else { 0x0000_0101 };
            dump(
                MODE_SMCR,
                layout.type_cdc,
                &SmcrCdcRepr::new(sides[d].cdc_seq, token, prod, cons).emit(ByteOrder::Big),
            )
        } else {
            dump(MODE_SMCD, layout.type_cdc, &SmcdCdcRepr::sent(prod, cons).emit(ByteOrder::Little))
        };
        for (host, is_sender) in [(sender, true), (receiver, false)] {
            for (i, &(off, n, after_wrap)) in chunks.iter().enumerate() {
                let data = &bytes[off..off + n];
                let tcp = TcpRepr {
                    sport: flow.src.port,
                    dport: flow.dst.port,
                    seq: before.seq.wrapping_add(off as u32),
                    ack: sides[1 - d].seq,
                    flags: tcp_flags::ACK | tcp_flags::PSH,
                    window: 65_000,
                    ..TcpRepr::default()
                };
                items.push(Item {
                    host,
                    sender: is_sender,
                    write: w,
                    client_sends: *client_sends,
                    kind: Kind::Data { pos: before.pos + off as u64, len: n, last: i + 1 == chunks.len(), after_wrap },
                    dump: dump(setup.mode, layout.type_raw, data),
                    tcp: Some(segment(&flow, &tcp, data)),
                    handshake: None,
                });
            }
            let cdc = if is_sender || setup.mode == MODE_SMCR {
                cdc_sent.clone()
            } else {
                // Only the cursors and flags of a received SMC-D CDC are copied; the rest is stale memory.
                garbage = garbage.wrapping_add(0x13);
                let mut c = SmcdCdcRepr::sent(prod, cons);
                (c.ty, c.head, c.tail) = (
                    0x5A ^ garbage,
                    [0xFF, 0x88, garbage, 0x0C, 0, 0x7F, 1],
                    [0xC0, garbage, 0xEE, 1, 0, 0, 0x7F, 0x55],
                );
                dump(MODE_SMCD, layout.type_cdc, &c.emit(ByteOrder::Little))
            };
            let (write, client_sends, kind) = (w, *client_sends, Kind::Cdc);
            items.push(Item {
                host,
                sender: is_sender,
                write,
                client_sends,
                kind,
                dump: cdc,
                tcp: None,
                handshake: None,
            });
        }
        sides[d].seq = before.seq.wrapping_add(bytes.len() as u32);
        sides[d].pos = before.pos + bytes.len() as u64;
        // The receiver's ACK, captured by both hosts.
        for host in [receiver, sender] {
            items.push(control(host, 1 - d, tcp_flags::ACK, &sides, 0));
        }
    }
    // The orderly close: each side's CDC with PeerConnClosed (dumped by both ends) and its FIN.
    for d in [0usize, 1] {
        let (sender, receiver) = if d == 0 { (Host::A, Host::B) } else { (Host::B, Host::A) };
        sides[d].cdc_seq = sides[d].cdc_seq.wrapping_add(1);
        let closed = ConnState::PEER_DONE_WRITING | ConnState::PEER_CONN_CLOSED;
        let (prod, cons) = (sides[d].prod.pair(), sides[1 - d].prod.pair());
        let payload = if setup.mode == MODE_SMCR {
            let token = if d == 0 { 0x0000_0201 } else { 0x0000_0101 };
            let c =
                SmcrCdcRepr { conn_state: ConnState(closed), ..SmcrCdcRepr::new(sides[d].cdc_seq, token, prod, cons) };
            dump(MODE_SMCR, layout.type_cdc, &c.emit(ByteOrder::Big))
        } else {
            let c = SmcdCdcRepr { conn_state: ConnState(closed), ..SmcdCdcRepr::sent(prod, cons) };
            dump(MODE_SMCD, layout.type_cdc, &c.emit(ByteOrder::Little))
        };
        for (host, is_sender) in [(sender, true), (receiver, false)] {
            let (dump, write, client_sends) = (payload.clone(), usize::MAX, d == 0);
            let kind = Kind::Cdc;
            items.push(Item { host, sender: is_sender, write, client_sends, kind, dump, tcp: None, handshake: None });
        }
        for host in [sender, receiver] {
            let mut fin = control(host, d, tcp_flags::FIN | tcp_flags::ACK, &sides, 0);
            fin.sender = host == sender;
            items.push(fin);
        }
        sides[d].seq = sides[d].seq.wrapping_add(1);
    }
    items
}

/// A TCP segment of `flow` as an IPv4 datagram.
fn segment(flow: &Flow, tcp: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let seg = net::tcp_segment(flow.src.addr, flow.dst.addr, tcp, &[], payload);
    net::ipv4_datagram(&Ipv4Repr::new(flow.src.addr, flow.dst.addr, IPPROTO_TCP), &seg, true)
}

/// What goes wrong in a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// Host A's capture lost one data frame of each direction (the last chunk of a write), as tcpdump drops
    /// frames; SMC-R.
    HoleEachDirection,
    /// Host A's capture, SMC-D with small rings, lost the chunk after the ring's end of a write in each direction.
    HoleAcrossWrap,
    /// One host, SMC-D loopback: every byte and CDC dumped by both ends.
    Loopback,
    /// Both hosts' captures merged (SMC-R, SLL): every byte twice, told apart by the dump devices; host A's capture
    /// lost one data frame of its own, which host B's holds.
    Merged,
    /// Host A's capture with a data frame and a CDC duplicated (an overlapping merge); SMC-R.
    Duplicated,
    /// Host A's capture, SMC-D, starting in the middle of the connections.
    MidConnection,
    /// Host A's capture, SMC-R, whose first frame is a stray datagram implying another header layout.
    StrayFirst,
}

impl Case {
    pub const ALL: [Case; 7] = [
        Case::HoleEachDirection,
        Case::HoleAcrossWrap,
        Case::Loopback,
        Case::Merged,
        Case::Duplicated,
        Case::MidConnection,
        Case::StrayFirst,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::HoleEachDirection => "hole",
            Case::HoleAcrossWrap => "hole-wrap",
            Case::Loopback => "loopback",
            Case::Merged => "merged",
            Case::Duplicated => "duplicated",
            Case::MidConnection => "mid-connection",
            Case::StrayFirst => "stray-first",
        }
    }

    fn setup(self) -> Setup {
        match self {
            Case::HoleAcrossWrap => Setup { mode: MODE_SMCD, ring: 4096, loopback: false },
            Case::Loopback => Setup { mode: MODE_SMCD, ring: 65536, loopback: true },
            Case::MidConnection => Setup { mode: MODE_SMCD, ring: 65536, loopback: false },
            _ => Setup { mode: MODE_SMCR, ring: 65536, loopback: false },
        }
    }

    pub fn link(self) -> Link {
        match self {
            Case::Merged => Link::Sll,
            _ => Link::Ethernet,
        }
    }

    /// Nothing lost: the capture holds every byte of every stream, once or more.
    pub fn copies_only(self) -> bool {
        matches!(self, Case::Loopback | Case::Merged | Case::Duplicated | Case::StrayFirst)
    }

    /// Every PDU decodes exactly as in the clean capture (in a merged capture, a DNS response whose query comes
    /// late is "unsolicited").
    pub fn as_clean(self) -> bool {
        self.copies_only() && self != Case::Merged
    }
}

/// What smcdump must show for one frame of a dump capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    /// The frame repeats this earlier frame (1-based frame number).
    pub copy_of: Option<u32>,
    /// Bytes found missing here: (stream offset, length).
    pub hole: Option<(u64, u64)>,
    /// The frame brings bytes of an earlier hole (out of order).
    pub fills: bool,
}

/// A frame of a built capture.
#[derive(Clone, Debug)]
pub struct Frame {
    pub ts: Duration,
    pub data: Vec<u8>,
}

/// A case's dump capture with its truth, its TCP twin, and the clean dump capture of the same connections.
pub struct Built {
    pub case: Case,
    pub link: Link,
    pub smc: Vec<Frame>,
    pub truth: Vec<Truth>,
    pub tcp: Vec<Frame>,
    pub clean: Vec<Frame>,
    /// Where the capture's first data of each direction (by sending and receiving port) lies in the stream: 0 but
    /// for a capture that starts mid-connection, whose stream offsets count from there.
    pub starts: Vec<((u16, u16), u64)>,
}

/// One item placed in a capture: which connection, which item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placed {
    conn: usize,
    item: usize,
}

/// The frame of `item` (of a connection between the hosts) in a capture of `link`: the dump device's envelope for
/// a dump frame, the NIC's for a TCP segment.
fn link_frame(link: Link, item: &Item, tcp: bool, loopback: bool, flow: Flow) -> Vec<u8> {
    let device = if loopback || item.host == Host::A { DEVICE_A } else { DEVICE_B };
    if !tcp && !item.dump.is_empty() {
        return envelope::emit_device(link, device, &flow, &item.dump);
    }
    let ip = if tcp { &item.tcp } else { &item.handshake };
    let ip = ip.as_ref().expect("a segment");
    let from_a = item.client_sends;
    let (mac, peer) = if from_a { (NIC_A, NIC_B) } else { (NIC_B, NIC_A) };
    let outgoing = (item.host == Host::A) == from_a;
    let mut f = link.header(&LinkSide { mac, peer, outgoing, ifindex: 2 });
    f.extend_from_slice(ip);
    f
}

/// A datagram to a dump host's port that starts like a dump frame and implies another header layout: 16-byte
/// header, CDC type code 7, over an SMC-R CDC record.
pub fn stray_payload() -> Vec<u8> {
    let stray = Layout { header_len: 16, type_raw: 1, type_cdc: 7, ..Layout::default() };
    emit::smcr_cdc_frame(&stray, 1, &SmcrCdcRepr::new(1, 0x77, (0, 3), (0, 4)))
}

/// Builds case `case` over the connections of `apps`.
pub fn build(case: Case, apps: &[App]) -> Built {
    let setup = case.setup();
    let conns: Vec<Vec<Item>> = apps.iter().map(|a| connection(a, setup)).collect();
    let link = case.link();
    // Which items each capture holds, in order: (conn, item), and for the twin whether the item is there.
    let mut smc: Vec<Placed> = Vec::new();
    let mut tcp: Vec<Placed> = Vec::new();
    for (c, items) in conns.iter().enumerate() {
        for (i, it) in items.iter().enumerate() {
            let p = Placed { conn: c, item: i };
            let on_a = it.host == Host::A;
            let dumped = !it.dump.is_empty() || it.handshake.is_some();
            let (in_smc, in_tcp) = match case {
                Case::Merged => (dumped, it.tcp.is_some()),
                // Loopback: one host dumps both ends; its interface shows each segment once.
                Case::Loopback => {
                    let once = if it.kind == Kind::Control { on_a } else { it.sender };
                    (!it.dump.is_empty() || (it.handshake.is_some() && on_a), it.tcp.is_some() && once)
                }
                _ => (on_a && dumped, on_a && it.tcp.is_some()),
            };
            if in_smc {
                smc.push(p);
            }
            if in_tcp {
                tcp.push(p);
            }
        }
    }
    let item = |p: &Placed| &conns[p.conn][p.item];
    let is_data = |p: &Placed, sender: bool, client: bool| {
        let it = item(p);
        matches!(it.kind, Kind::Data { .. }) && it.sender == sender && it.client_sends == client
    };
    let mut drop: Vec<Placed> = Vec::new();
    let mut dup: Vec<Placed> = Vec::new();
    // Host B's copy of (connection, write) goes after host A's next data of the connection.
    let mut late: Option<(usize, usize)> = None;
    match case {
        Case::HoleEachDirection => {
            // Per connection, the last chunk of the third write of each direction.
            for (c, items) in conns.iter().enumerate() {
                for client in [true, false] {
                    let writes: Vec<usize> =
                        apps[c].writes.iter().enumerate().filter(|(_, w)| w.0 == client).map(|(i, _)| i).collect();
                    let w = writes[2.min(writes.len() - 1)];
                    let last = items.iter().position(|it| {
                        it.host == Host::A && it.write == w && matches!(it.kind, Kind::Data { last: true, .. })
                    });
                    drop.extend(last.map(|i| Placed { conn: c, item: i }));
                }
            }
        }
        Case::HoleAcrossWrap => {
            // Per connection and direction, the chunk after the ring's end of the second write that crosses it.
            for (c, items) in conns.iter().enumerate() {
                for client in [true, false] {
                    let wrapped: Vec<usize> = items
                        .iter()
                        .enumerate()
                        .filter(|(_, it)| {
                            it.host == Host::A
                                && it.client_sends == client
                                && matches!(it.kind, Kind::Data { after_wrap: true, .. })
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let writes: Vec<usize> = {
                        let mut w: Vec<usize> = wrapped.iter().map(|&i| items[i].write).collect();
                        w.dedup();
                        w
                    };
                    if let Some(&w) = writes.get(1) {
                        let i = wrapped.iter().copied().find(|&i| items[i].write == w).unwrap();
                        drop.push(Placed { conn: c, item: i });
                    }
                }
            }
        }
        Case::Merged => {
            // Host A's own copy of one of its data frames, per connection: host B's copy brings it. In the last
            // connection host B's copy of that write comes late (the hosts' clocks differ), after host A's next
            // data: out of order.
            for (c, items) in conns.iter().enumerate() {
                let mut own = items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| it.host == Host::A && it.sender && matches!(it.kind, Kind::Data { .. }));
                if let Some((i, _)) = own.nth(2) {
                    drop.push(Placed { conn: c, item: i });
                    if c + 1 == conns.len() {
                        late = Some((c, items[i].write));
                    }
                }
            }
        }
        Case::Duplicated => {
            for c in 0..conns.len() {
                let data = smc.iter().copied().filter(|p| p.conn == c && is_data(p, true, true)).nth(1);
                let cdc = smc.iter().copied().filter(|p| p.conn == c && matches!(item(p).kind, Kind::Cdc)).nth(3);
                dup.extend(data.into_iter().chain(cdc));
            }
        }
        Case::MidConnection => {
            // Everything of each connection before its fourth write.
            for (c, items) in conns.iter().enumerate() {
                for (i, it) in items.iter().enumerate() {
                    if it.write < 3 || (it.write == usize::MAX && it.kind == Kind::Control && i < 6) {
                        drop.push(Placed { conn: c, item: i });
                    }
                }
            }
        }
        Case::Loopback | Case::StrayFirst => {}
    }
    let keep = |list: &mut Vec<Placed>| list.retain(|p| !drop.contains(p));
    keep(&mut smc);
    keep(&mut tcp);
    let twice = |list: &[Placed]| -> Vec<Placed> {
        let mut out = Vec::new();
        for p in list {
            out.push(*p);
            if dup.contains(p) {
                out.push(*p);
            }
        }
        out
    };
    let delay = |list: &mut Vec<Placed>| {
        let Some((c, w)) = late else { return };
        let is_late = |p: &Placed| p.conn == c && item(p).write == w && item(p).host == Host::B && !item(p).sender;
        let moved: Vec<Placed> = list.iter().copied().filter(|p| is_late(p) && item(p).kind != Kind::Control).collect();
        list.retain(|p| !moved.contains(p));
        let next = list.iter().position(|p| {
            let it = item(p);
            p.conn == c && it.write > w && it.write != usize::MAX && it.host == Host::A && it.sender
        });
        let at = next.map_or(list.len(), |i| i + 1);
        list.splice(at..at, moved);
    };
    delay(&mut smc);
    delay(&mut tcp);
    let smc = twice(&smc);
    let tcp = twice(&tcp);
    let flow_of = |it: &Item, conn: usize| {
        let app = &apps[conn];
        let server = if setup.loopback { CLIENT } else { SERVER };
        let (c, s) = (Endpoint::new(CLIENT, app.client_port), Endpoint::new(server, app.server_port));
        if it.client_sends {
            Flow::new(c, s)
        } else {
            Flow::new(s, c)
        }
    };
    let frames = |list: &[Placed], tcp: bool| -> Vec<Frame> {
        let mut out: Vec<Frame> = Vec::new();
        if case == Case::StrayFirst {
            let flow = Flow::new(Endpoint::new(CLIENT, 40999), Endpoint::new(SERVER, 40998));
            let data = if tcp {
                let udp =
                    net::UdpRepr { sport: 40999, dport: 40998, len: (8 + stray_payload().len()) as u16, checksum: 0 };
                let ip = net::ipv4_datagram(
                    &Ipv4Repr::new(flow.src.addr, flow.dst.addr, IPPROTO_UDP),
                    &[udp.emit(net::NET), stray_payload()].concat(),
                    true,
                );
                [link.header(&LinkSide { mac: NIC_A, peer: NIC_B, outgoing: true, ifindex: 2 }), ip].concat()
            } else {
                envelope::emit_device(link, DEVICE_A, &flow, &stray_payload())
            };
            out.push(Frame { ts: EPOCH, data });
        }
        for p in list {
            let it = item(p);
            let ts = EPOCH + STEP * u32::try_from(out.len() + 1).unwrap();
            out.push(Frame { ts, data: link_frame(link, it, tcp, setup.loopback, flow_of(it, p.conn)) });
        }
        out
    };
    // The truth: the first frame that carried each data position or CDC, and where holes are found.
    let mut truth = Vec::new();
    if case == Case::StrayFirst {
        truth.push(Truth::default());
    }
    let offset = u32::from(case == Case::StrayFirst);
    let mut first_data: Vec<(usize, bool, u64, u64, u32)> = Vec::new();
    let mut first_cdc: Vec<(usize, bool, Vec<u8>, u32)> = Vec::new();
    for (n, p) in smc.iter().enumerate() {
        let num = u32::try_from(n).unwrap() + 1 + offset;
        let it = item(p);
        let mut t = Truth::default();
        match it.kind {
            Kind::Data { pos, len, .. } => {
                let same = |d: &&(usize, bool, u64, u64, u32)| d.0 == p.conn && d.1 == it.client_sends;
                match first_data.iter().find(|d| same(d) && d.2 <= pos && pos < d.3) {
                    Some(d) => t.copy_of = Some(d.4),
                    None => {
                        // Data past what was seen leaves a hole before it; data before it fills one.
                        let end = first_data.iter().filter(same).map(|d| d.3).max().unwrap_or(0);
                        if case == Case::Merged && pos > end {
                            t.hole = Some((end, pos - end));
                        }
                        t.fills = case == Case::Merged && pos < end;
                        first_data.push((p.conn, it.client_sends, pos, pos + len as u64, num));
                    }
                }
            }
            Kind::Cdc => {
                // A CDC carried before: the same cursors and flags (an SMC-D CDC received differs in stale bytes).
                let key = cdc_key(&it.dump);
                match first_cdc.iter().find(|d| d.0 == p.conn && d.1 == it.client_sends && d.2 == key) {
                    Some(d) => t.copy_of = Some(d.3),
                    None => first_cdc.push((p.conn, it.client_sends, key, num)),
                }
            }
            Kind::Control => {}
        }
        truth.push(t);
    }
    // Holes: a dropped data frame is found missing at the CDC of its write that the capture holds.
    for d in &drop {
        let it = item(d);
        let Kind::Data { pos, len, .. } = it.kind else { continue };
        if case == Case::Merged || case == Case::MidConnection {
            continue;
        }
        let at = smc.iter().position(|p| {
            let o = item(p);
            p.conn == d.conn && o.write == it.write && o.kind == Kind::Cdc && o.host == it.host
        });
        if let Some(at) = at {
            truth[at + offset as usize].hole = Some((pos, len as u64));
        }
    }
    let mut starts: Vec<((u16, u16), u64)> = Vec::new();
    for p in &smc {
        let it = item(p);
        if let Kind::Data { pos, .. } = it.kind {
            let f = flow_of(it, p.conn);
            let key = (f.src.port, f.dst.port);
            if !starts.iter().any(|s| s.0 == key) {
                starts.push((key, pos));
            }
        }
    }
    Built {
        case,
        link,
        starts,
        smc: frames(&smc, false),
        truth,
        tcp: frames(&tcp, true),
        clean: host_capture(apps, Setup { loopback: false, ..setup }, link, true),
    }
}

/// Host A's clean dump capture of `apps`' connections (between two hosts, unless `setup` says loopback), of link
/// type `link`, with the TCP handshakes (SMC's option in the SYNs) or without.
pub fn host_capture(apps: &[App], setup: Setup, link: Link, handshake: bool) -> Vec<Frame> {
    let mut out = Vec::new();
    for app in apps {
        let server = if setup.loopback { CLIENT } else { SERVER };
        let (c, s) = (Endpoint::new(CLIENT, app.client_port), Endpoint::new(server, app.server_port));
        for it in connection(app, setup) {
            let wanted = it.host == Host::A && (!it.dump.is_empty() || (handshake && it.handshake.is_some()));
            if wanted {
                let flow = if it.client_sends { Flow::new(c, s) } else { Flow::new(s, c) };
                let ts = EPOCH + STEP * u32::try_from(out.len() + 1).unwrap();
                out.push(Frame { ts, data: link_frame(link, &it, false, setup.loopback, flow) });
            }
        }
    }
    out
}

/// What identifies a CDC message across its copies: its cursors and flags (and SMC-R's sequence number), not an
/// SMC-D CDC's stale head and tail.
fn cdc_key(dump: &[u8]) -> Vec<u8> {
    let payload = &dump[Layout::default().header_len..];
    match dump[6] {
        MODE_SMCD => payload[8..24].to_vec(),
        _ => payload.to_vec(),
    }
}

/// Writes `frames` of link type `link` as a pcap file at `path`.
pub fn write(path: &Path, link: Link, frames: &[Frame]) {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::DataLink;
    let datalink = match link {
        Link::Ethernet => DataLink::ETHERNET,
        Link::Sll => DataLink::LINUX_SLL,
        Link::Sll2 => DataLink::LINUX_SLL2,
    };
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let header = PcapHeader { datalink, ..PcapHeader::default() };
    let mut w = PcapWriter::with_header(std::io::BufWriter::new(file), header).expect("pcap header");
    for f in frames {
        let len = u32::try_from(f.data.len()).unwrap();
        w.write_packet(&PcapPacket::new(f.ts, len, &f.data)).expect("write packet");
    }
}
