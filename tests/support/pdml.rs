//! Application PDUs as tshark decodes them (`-T pdml`), as comparable text: each PDU (a protocol layer of a packet)
//! the list of its fields' names and shown values, without the fields that describe its place among other frames
//! (links to frames, times, counters, expert items, valueless marks). Two captures of the same application data,
//! however carried (SMC dump frames, plain TCP), give the same PDUs.

use std::collections::HashMap;
use std::path::Path;

use super::Target;

/// Which protocol layers count as PDUs.
pub enum Layers<'a> {
    /// These protocols only.
    Only(&'a [&'a str]),
    /// Every layer above the link, network and transport ones (and smcdump's, and undissected data).
    Applications,
}

/// What carries application data rather than being one.
const CARRIERS: [&str; 12] = [
    "geninfo",
    "frame",
    "eth",
    "sll",
    "ip",
    "udp",
    "tcp",
    "smcdump",
    "data",
    "fake-field-wrapper",
    "_ws.malformed",
    "_ws.expert",
];

impl Layers<'_> {
    fn counts(&self, proto: &str) -> bool {
        match self {
            Layers::Only(names) => names.contains(&proto),
            Layers::Applications => !CARRIERS.contains(&proto),
        }
    }
}

/// What TCP marks a segment it has seen before with.
const RETRANSMITTED: [&str; 3] =
    ["tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission"];

/// A PDU's fields that do not describe the PDU itself but its place among the others: links to other frames,
/// timings, counters over the conversation, expert items, valueless marks ("response missing"), whether a DNS
/// message answers a query seen before; and smcdump's own.
fn about_other_frames(name: &str, showname: &str, show: &str) -> bool {
    name.starts_with("_ws.")
        || name.starts_with("smcdump.")
        || showname.to_ascii_lowercase().contains("frame")
        || ["_in", "_to", "_number", "time"].iter().any(|s| name.ends_with(s))
        || (!name.is_empty() && show.is_empty())
        || name == "dns.unsolicited"
}

/// The value of attribute `attr` in one PDML line.
fn attribute<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {attr}=\""))? + attr.len() + 3;
    line[at..].split('"').next()
}

/// The PDUs of a capture, counted: all of them, and those but of segments TCP marks as retransmitted (it decodes a
/// fast retransmission's data again); and the packets where a dissector threw (a malformed packet mark at the top
/// of the tree, not one a dissector put in its own layer).
pub struct Pdus {
    pub all: HashMap<String, usize>,
    pub unmarked: HashMap<String, usize>,
    pub thrown: usize,
}

/// Every PDU (a layer of `layers` with at least one field) tshark decodes from `capture` with `args` (for
/// example `-2` and a display filter).
pub fn pdus(t: &Target, capture: &Path, args: &[&str], layers: &Layers) -> Pdus {
    let file = format!("{{file:{}}}", capture.display());
    let mut argv = vec!["-r", file.as_str(), "-T", "pdml"];
    argv.extend_from_slice(args);
    let out = t.tshark(&argv).stdout;
    let (mut all, mut unmarked) = (HashMap::new(), HashMap::new());
    let mut pdu: Option<(usize, String, bool)> = None;
    let mut retransmitted = false;
    let mut thrown = 0;
    for line in out.lines() {
        // PDML indents a packet's own layers by two spaces.
        thrown += usize::from(line.starts_with("  <proto name=\"_ws.malformed\""));
        let trimmed = line.trim_start();
        if trimmed.starts_with("<packet>") {
            retransmitted = false;
        }
        let empty = trimmed.ends_with("/>");
        if let Some((depth, text, fields)) = &mut pdu {
            if trimmed.starts_with("<proto ") {
                *depth += usize::from(!empty);
            } else if trimmed.starts_with("</proto>") {
                *depth -= 1;
                if *depth == 0 {
                    if *fields {
                        let text = std::mem::take(text);
                        if !retransmitted {
                            *unmarked.entry(text.clone()).or_insert(0) += 1;
                        }
                        *all.entry(text).or_insert(0) += 1;
                    }
                    pdu = None;
                }
            } else if trimmed.starts_with("<field ") {
                let name = attribute(trimmed, "name").unwrap_or("");
                let show = attribute(trimmed, "show").unwrap_or("");
                if !about_other_frames(name, attribute(trimmed, "showname").unwrap_or(""), show) {
                    text.push_str(&format!("|{name}={show}"));
                    *fields = true;
                }
            }
        } else if let Some(name) = trimmed.strip_prefix("<proto name=\"").and_then(|r| r.split('"').next()) {
            // A layer without fields (an element closed at once) is no PDU.
            if layers.counts(name) && !empty {
                pdu = Some((1, name.to_string(), false));
            }
        } else if trimmed.starts_with("<field ") {
            retransmitted |= attribute(trimmed, "name").is_some_and(|n| RETRANSMITTED.contains(&n));
        }
    }
    Pdus { all, unmarked, thrown }
}

/// The PDUs of `a` that `b` lacks, with how many: a multiset difference.
pub fn missing_from(a: &HashMap<String, usize>, b: &HashMap<String, usize>) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = a
        .iter()
        .filter_map(|(k, &n)| n.checked_sub(b.get(k).copied().unwrap_or(0)).filter(|&d| d > 0).map(|d| (d, k.clone())))
        .collect();
    out.sort();
    out
}
