//! Writes the messy captures of tests/messy.rs into a folder, to look at them in Wireshark: for each case, the dump
//! capture, its TCP twin (`-tcp`) and the clean dump capture of the same connections (`-clean`).
//!
//! ```text
//! cargo run --example gen_messy -- DIR
//! ```

#[path = "../tests/support/messy.rs"]
mod messy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os().nth(1).ok_or("usage: gen_messy DIR")?;
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let apps = messy::apps();
    for case in messy::Case::ALL {
        let b = messy::build(case, &apps);
        let name = case.name();
        messy::write(&dir.join(format!("{name}.pcap")), b.link, &b.smc);
        messy::write(&dir.join(format!("{name}-tcp.pcap")), b.link, &b.tcp);
        messy::write(&dir.join(format!("{name}-clean.pcap")), b.link, &b.clean);
        println!("{name}: {} dump frames, {} in the TCP twin", b.smc.len(), b.tcp.len());
    }
    Ok(())
}
