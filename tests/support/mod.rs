//! Runs tshark with the plugin under test, the way an analyst's Wireshark would load it, without touching any
//! system or personal plugin folder.
//!
//! tshark ignores the personal plugin folder and `WIRESHARK_PLUGIN_DIR` when run as root, so as root the harness
//! runs it as `nobody` (uid 65534) with a throwaway HOME holding the plugin; otherwise as the current user with the
//! same throwaway HOME. Releases other than the host's run inside their Debian chroot (scripts/ensure-chroot),
//! again as an unprivileged user. Every run fails on any stderr output: a plugin that does not load, or complains,
//! shows up there, while tshark's exit code stays 0.
#![allow(dead_code)]

pub mod capture;
pub mod messy;
pub mod pdml;
pub mod replay;
pub mod rng;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where the chroots of other Debian releases live.
pub fn chroot_dir() -> PathBuf {
    std::env::var_os("SMCDUMP_CHROOT_DIR").map_or_else(|| PathBuf::from("/var/tmp/smcdump-chroots"), PathBuf::from)
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The captures in test-pcaps/ (written by `cargo run --example gen_test_pcaps -- test-pcaps`).
pub const CAPTURES: [&str; 27] = [
    "smcr.pcap",
    "smcd.pcap",
    "smcd-be.pcap",
    "bad-input.pcap",
    "sample.pcap",
    "not-smc.pcap",
    "other-udp.pcap",
    "ports.pcap",
    "analysis.pcap",
    "sll.pcap",
    "sll2.pcapng",
    "other-udp-sll.pcap",
    "other-udp-sll2.pcapng",
    "layout-12.pcap",
    "layout-01.pcap",
    "layout-21.pcap",
    "layout-conflict.pcap",
    "raw-only.pcap",
    "clc-ports.pcap",
    "clc-ports-sll2.pcapng",
    "http-smcr.pcap",
    "http-smcd.pcap",
    "pgsql.pcap",
    "tls.pcap",
    "unowned.pcap",
    "throwing.pcap",
    "conns.pcap",
];

/// A capture under test-pcaps/.
pub fn pcap(name: &str) -> PathBuf {
    repo().join("test-pcaps").join(name)
}

/// Whether the tests run as root (chroots, apt, package installs).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `env -i`, run as the unprivileged user (uid 65534) when root — inside `chroot` when given — so that Wireshark
/// reads the personal plugin folder of the HOME the caller passes (it ignores it as root).
pub fn as_nobody(chroot: Option<&Path>) -> Command {
    let mut c = match (chroot, is_root()) {
        (Some(root), _) => {
            let mut c = Command::new("chroot");
            c.arg("--userspec=65534:65534").arg(root).arg("env");
            c
        }
        (None, true) => {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "env"]);
            c
        }
        (None, false) => Command::new("env"),
    };
    c.arg("-i");
    c
}

/// Whether every check must run: `SMCDUMP_REQUIRE_ALL_ABIS=1`, which scripts/test sets as root (and so CI).
pub fn all_required() -> bool {
    std::env::var("SMCDUMP_REQUIRE_ALL_ABIS").is_ok_and(|v| v == "1")
}

/// Skips a check that cannot run here, saying why; when every check is required, fails instead.
pub fn skip(why: &str) {
    assert!(!all_required(), "SMCDUMP_REQUIRE_ALL_ABIS=1, but a check cannot run: {why}");
    eprintln!("SKIPPED: {why}");
}

/// A Wireshark release to test on.
#[derive(Clone, Debug)]
pub struct Target {
    /// "3.4", "4.0", "4.4", "4.6".
    pub abi: String,
    /// The chroot holding that release, or None for the host's tshark.
    pub chroot: Option<PathBuf>,
    /// The plugin built for that release.
    pub plugin: PathBuf,
}

/// glibc's version on the host, or in the chroot `root`, as (major, minor).
fn glibc_version(root: Option<&Path>) -> Option<(u32, u32)> {
    let out = match root {
        Some(r) => Command::new("chroot").arg(r).args(["getconf", "GNU_LIBC_VERSION"]).output(),
        None => Command::new("getconf").arg("GNU_LIBC_VERSION").output(),
    }
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (major, minor) = text.split_whitespace().nth(1)?.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The chroot to link a plugin for it against (`SMCDUMP_LINK_SYSROOT`, see build.rs): the chroot itself when its
/// glibc is older than the host's, since a plugin linked against the host's newer glibc would not load there.
fn link_sysroot(chroot: &Path) -> Option<PathBuf> {
    match (glibc_version(Some(chroot)), glibc_version(None)) {
        (Some(inside), Some(host)) if inside < host => Some(chroot.to_path_buf()),
        _ => None,
    }
}

/// The plugin built for Wireshark `abi`, in its own target folder (`target/plugin-<abi>`) so that builds for
/// different releases do not invalidate each other; linked against the C library of `chroot` when that is older
/// than the host's. Built once per test binary; cargo makes it a no-op when fresh.
fn plugin_for(abi: &str, chroot: Option<&Path>) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(abi) {
        return p.clone();
    }
    let target_dir = repo().join("target").join(format!("plugin-{abi}"));
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(["build", "--release", "--lib", "--features", "plugin", "--quiet"])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("SMCDUMP_WIRESHARK_ABI", abi)
        .env_remove("SMCDUMP_LINK_SYSROOT");
    if let Some(root) = chroot.and_then(link_sysroot) {
        cargo.env("SMCDUMP_LINK_SYSROOT", root);
    }
    let status = cargo.status().expect("run cargo build");
    assert!(status.success(), "building the plugin for Wireshark {abi} failed");
    let path = target_dir.join("release/libsmcdump.so");
    built.insert(abi.to_string(), path.clone());
    path
}

/// major.minor of the host's tshark.
fn host_abi() -> String {
    let out = Command::new("tshark").arg("--version").output().expect("tshark is installed (scripts/setup)");
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(2).unwrap_or_default();
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A [`Target::plugin`] that means "copy no plugin into the throwaway HOME".
pub const NO_PLUGIN: &str = "";

/// The releases the suite can test here: the host's, and each other release of wireshark-headers/releases.tsv
/// whose chroot exists (scripts/ensure-chroot) when running as root. Prints what runs and what is skipped; with
/// SMCDUMP_REQUIRE_ALL_ABIS set, a skip fails.
pub fn targets() -> Vec<Target> {
    let host = host_abi();
    let mut out = vec![Target { plugin: plugin_for(&host, None), abi: host.clone(), chroot: None }];
    for r in smcdump::releases::RELEASES.iter().filter(|r| r.release != host) {
        let (abi, suite) = (r.release, r.suite);
        let dir = chroot_dir().join(suite);
        if dir.join("usr/bin/tshark").exists() && is_root() {
            out.push(Target { abi: abi.into(), plugin: plugin_for(abi, Some(&dir)), chroot: Some(dir) });
        } else {
            skip(&format!("Wireshark {abi}: needs root and the {suite} chroot (scripts/ensure-chroot {suite})"));
        }
    }
    let names: Vec<&str> = out.iter().map(|t| t.abi.as_str()).collect();
    eprintln!("Wireshark releases under test: {}", names.join(", "));
    out
}

/// Whether release `abi` (major.minor) is older than `release`: output formats changed between releases (column
/// field names and boolean values in 4.2, for example), and tests normalise what older releases print.
pub fn older_than(abi: &str, release: &str) -> bool {
    fn parse(v: &str) -> (u32, u32) {
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or_else(|_| panic!("not major.minor: {v}")));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    }
    parse(abi) < parse(release)
}

/// A `-T fields` value of a hexadecimal integer field `bytes` wide, as 4.0 and later print it: 3.4 pads every
/// such value to 8 digits (`0x000000fe`), 4.0 to the field's width (`0xfe`). Other values are returned as they are.
pub fn hex_as_since_4_0(abi: &str, bytes: usize, value: &str) -> String {
    let digits = bytes * 2;
    let narrow = |v: &str| match v.strip_prefix("0x") {
        Some(hex)
            if older_than(abi, "4.0") && hex.len() > digits && hex[..hex.len() - digits].bytes().all(|b| b == b'0') =>
        {
            format!("0x{}", &hex[hex.len() - digits..])
        }
        _ => v.to_string(),
    };
    value.split('|').map(narrow).collect::<Vec<_>>().join("|")
}

/// The result of one tshark run.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Target {
    /// Whether this release is older than `release` (see [`older_than`]).
    pub fn older_than(&self, release: &str) -> bool {
        older_than(&self.abi, release)
    }

    /// Runs tshark with `args`; each `{pcap:NAME}` argument (a capture in test-pcaps/) or `{file:PATH}` argument
    /// is replaced by a copy of that file that tshark's user can read.
    /// Panics (fails the test) on a non-UTF-8 output or any stderr text.
    pub fn tshark(&self, args: &[&str]) -> Run {
        let run = self.tshark_allow_stderr(args);
        assert!(run.stderr.is_empty(), "tshark {} ({args:?}) wrote to stderr:\n{}", self.abi, run.stderr);
        run
    }

    /// Like [`Target::tshark`], but with `home` (a host folder, for the host's tshark) as HOME instead of a
    /// throwaway one, into which no plugin is copied (`None`: a throwaway HOME without a plugin); and, with
    /// `global_plugins`, the release's global plugin folder too: what an installed plugin sees.
    pub fn tshark_with_home(&self, home: Option<&Path>, global_plugins: bool, args: &[&str]) -> Run {
        let run = self.run(home, !global_plugins, &[], args);
        assert!(run.stderr.is_empty(), "tshark {} ({args:?}) wrote to stderr:\n{}", self.abi, run.stderr);
        run
    }

    /// Like [`Target::tshark`], but returns stderr instead of failing on it.
    pub fn tshark_allow_stderr(&self, args: &[&str]) -> Run {
        self.run(None, true, &[], args)
    }

    /// Like [`Target::tshark`], with `files` (name, content) in the throwaway HOME's personal configuration folder
    /// (`~/.config/wireshark`): what the GUI saves there, such as `decode_as_entries`.
    pub fn tshark_with_config(&self, files: &[(&str, &str)], args: &[&str]) -> Run {
        let run = self.run(None, true, files, args);
        assert!(run.stderr.is_empty(), "tshark {} ({args:?}) wrote to stderr:\n{}", self.abi, run.stderr);
        run
    }

    fn run(&self, given_home: Option<&Path>, isolate: bool, config: &[(&str, &str)], args: &[&str]) -> Run {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("smcdump-home-{}-{n}", std::process::id());
        // The HOME, as seen from outside (`host`) and by tshark (`inner`).
        let (host, inner) = match (&self.chroot, given_home) {
            (None, Some(h)) => (h.to_path_buf(), h.to_path_buf()),
            (Some(root), _) => (root.join("tmp").join(&name), PathBuf::from("/tmp").join(&name)),
            (None, None) => {
                let p = std::env::temp_dir().join(&name);
                (p.clone(), p)
            }
        };
        fs::create_dir_all(&host).expect("create HOME");
        if given_home.is_none() && !self.plugin.as_os_str().is_empty() {
            let plugin_dir = host.join(".local/lib/wireshark/plugins").join(&self.abi).join("epan");
            fs::create_dir_all(&plugin_dir).expect("create plugin folder");
            fs::copy(&self.plugin, plugin_dir.join("smcdump.so"))
                .unwrap_or_else(|e| panic!("copy plugin {}: {e}", self.plugin.display()));
        }
        if !config.is_empty() {
            let dir = host.join(".config/wireshark");
            fs::create_dir_all(&dir).expect("create the configuration folder");
            for (name, content) in config {
                fs::write(dir.join(name), content).unwrap_or_else(|e| panic!("write {name}: {e}"));
            }
        }
        let mut argv: Vec<String> = Vec::new();
        for a in args {
            let file = a.strip_suffix('}').and_then(|a| {
                a.strip_prefix("{pcap:").map(pcap).or_else(|| a.strip_prefix("{file:").map(PathBuf::from))
            });
            if let Some(path) = file {
                let name = path.file_name().expect("a file name").to_owned();
                fs::copy(&path, host.join(&name)).unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
                argv.push(inner.join(&name).to_string_lossy().into_owned());
            } else {
                argv.push((*a).to_string());
            }
        }
        let home = inner.to_string_lossy().into_owned();
        let mut env = vec![
            format!("HOME={home}"),
            format!("XDG_CONFIG_HOME={home}/.config"),
            "LC_ALL=C.UTF-8".to_string(),
            "PATH=/usr/bin:/bin".to_string(),
        ];
        if isolate {
            // An empty global plugin folder: a smcdump.so installed system-wide (scripts/install as root) would
            // otherwise load too, and tshark would complain that the plugin was found twice.
            env.push(format!("WIRESHARK_PLUGIN_DIR={home}/no-global-plugins"));
        }
        let mut cmd = as_nobody(self.chroot.as_deref());
        if is_root() {
            chown_tree(&host);
        }
        let out = cmd.args(&env).arg("tshark").args(&argv).output().expect("run tshark");
        if given_home.is_none() {
            let _ = fs::remove_dir_all(&host);
        }
        Run {
            stdout: String::from_utf8(out.stdout).expect("tshark stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("tshark stderr is UTF-8"),
        }
    }
}

/// An exclusive hold on a release's global plugin folder, for the tests that put a smcdump.so there
/// (`scripts/install --chroot`, the packages of `scripts/package`): the same path, so without it one test would
/// overwrite or delete the other's file. An flock, so it holds across test binaries and concurrent runs of the
/// suite; released when dropped.
pub struct GlobalPluginLock(fs::File);

impl Target {
    /// Waits for, then takes, the hold on this release's global plugin folder.
    pub fn lock_global_plugins(&self) -> GlobalPluginLock {
        let path = match &self.chroot {
            Some(root) => root.with_extension("global-plugins.lock"),
            None => std::env::temp_dir().join("smcdump-host-global-plugins.lock"),
        };
        GlobalPluginLock(exclusive_lock(&path))
    }
}

/// Waits for, then takes, an exclusive flock on the file at `path` (created when missing): it holds across test
/// binaries and concurrent runs of the suite until the returned file is dropped.
pub fn exclusive_lock(path: &Path) -> fs::File {
    use std::os::fd::AsRawFd;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    // SAFETY: flock on a descriptor this File owns and keeps open; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}: {}", path.display(), std::io::Error::last_os_error());
    file
}

/// Hands a throwaway folder to uid/gid 65534 so tshark, run as that user, can read and write it.
fn chown_tree(dir: &Path) {
    let status = Command::new("chown").args(["-R", "65534:65534"]).arg(dir).status().expect("chown");
    assert!(status.success(), "chown {}", dir.display());
}
