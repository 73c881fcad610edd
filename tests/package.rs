//! The Debian packages of scripts/package: each installs with apt on its own release (the host's, or its chroot's),
//! tshark then lists the plugin and decodes the sample with it, and `apt-get purge` leaves nothing behind; apt
//! refuses a package on a release it was not built for.
//!
//! Installing needs root, so without root only the refusal is checked. The chroots are shared with the other
//! tests, which bring their own plugin in a throwaway HOME and an empty global plugin folder: a package installed
//! here does not disturb them. What is installed is purged again even when a check fails (a guard's Drop), and
//! the release's global plugin folder is held (support's flock) against scripts/install's test, which writes the
//! same file.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// One apt at a time within this binary; across processes apt waits for dpkg's lock (`DPkg::Lock::Timeout`).
static APT: Mutex<()> = Mutex::new(());

/// Builds the packages of `abis` with scripts/package into a fresh folder; returns release -> .deb path.
fn package(abis: &[&str], out: &Path) -> Vec<(String, PathBuf)> {
    let mut cmd = Command::new(support::repo().join("scripts/package"));
    for a in abis {
        cmd.args(["--abi", a]);
    }
    let run = cmd.arg("-o").arg(out).current_dir(support::repo()).output().expect("run scripts/package");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "scripts/package {abis:?} failed:\n{stdout}{}", String::from_utf8_lossy(&run.stderr));
    let debs: Vec<PathBuf> = stdout.lines().map(PathBuf::from).collect();
    assert_eq!(debs.len(), abis.len(), "one package per release: {stdout}");
    let version = format!("{}-1", env!("CARGO_PKG_VERSION"));
    abis.iter()
        .zip(debs)
        .map(|(abi, deb)| {
            let name = deb.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                name.starts_with(&format!("wireshark-smcdump-{abi}_{version}_")) && name.ends_with(".deb"),
                "{name}"
            );
            assert!(deb.is_file(), "{}", deb.display());
            (abi.to_string(), deb)
        })
        .collect()
}

/// A folder of this test's, removed on drop (also when a check panicked).
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        Scratch(std::env::temp_dir().join(format!("smcdump-{what}-{}", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `argv` on the target's system: the host, or inside its chroot (as root), with a clean environment.
fn run_in(t: &support::Target, argv: &[&str]) -> Output {
    let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"];
    let mut cmd = match &t.chroot {
        Some(root) => {
            let mut c = Command::new("chroot");
            c.arg(root).arg("env").arg("-i");
            c
        }
        None => {
            let mut c = Command::new("env");
            c.arg("-i");
            c
        }
    };
    cmd.args(env).args(argv).output().unwrap_or_else(|e| panic!("run {argv:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// apt-get with `args`, waiting up to 10 minutes for dpkg's lock if another apt holds it.
fn apt(t: &support::Target, args: &[&str]) -> Output {
    let _apt = APT.lock().unwrap_or_else(|e| e.into_inner());
    let mut argv = vec!["apt-get", "-o", "DPkg::Lock::Timeout=600"];
    argv.extend_from_slice(args);
    run_in(t, &argv)
}

/// A path of the target's system, as seen from here.
fn outside(t: &support::Target, path: &str) -> PathBuf {
    match &t.chroot {
        Some(root) => root.join(path.trim_start_matches('/')),
        None => PathBuf::from(path),
    }
}

/// A plugin installed by hand where the package puts its own, moved aside (a name Wireshark does not load: no
/// `.so` suffix) while the package is tested, and put back on drop.
struct Aside {
    path: PathBuf,
    moved: PathBuf,
}

impl Aside {
    fn new(path: PathBuf) -> Option<Aside> {
        if !path.exists() {
            return None;
        }
        let mut moved = path.clone().into_os_string();
        moved.push(".aside-by-package-test");
        let moved = PathBuf::from(moved);
        fs::rename(&path, &moved).unwrap_or_else(|e| panic!("cannot move {} aside: {e}", path.display()));
        Some(Aside { path, moved })
    }
}

impl Drop for Aside {
    fn drop(&mut self) {
        if let Err(e) = fs::rename(&self.moved, &self.path) {
            eprintln!("package: cannot put {} back from {}: {e}", self.path.display(), self.moved.display());
        }
    }
}

/// A file (a .deb, a capture) copied where the target's programs can read it (a chroot cannot see the host's files):
/// `inside` names it there; the folder is removed on drop.
struct Copied {
    outside: PathBuf,
    inside: String,
}

impl Copied {
    fn new(t: &support::Target, deb: &Path) -> Copied {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = format!("/tmp/smcdump-package-{}-{}-{n}", t.abi, std::process::id());
        let outside_dir = outside(t, &dir);
        fs::create_dir_all(&outside_dir).unwrap();
        // Readable by apt's unprivileged download user (_apt), which otherwise complains on stderr.
        fs::set_permissions(&outside_dir, fs::Permissions::from_mode(0o755)).unwrap();
        let name = deb.file_name().unwrap().to_string_lossy().into_owned();
        fs::copy(deb, outside_dir.join(&name)).unwrap();
        Copied { outside: outside_dir, inside: format!("{dir}/{name}") }
    }
}

impl Drop for Copied {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.outside);
    }
}

/// An installed package, purged when dropped (also when a check panicked).
struct Installed<'a> {
    target: &'a support::Target,
    name: String,
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        if dpkg_status(self.target, &self.name).is_empty() {
            return; // never installed
        }
        let out = apt(self.target, &["purge", "-y", &self.name]);
        if !out.status.success() {
            eprintln!("Wireshark {}: apt-get purge {} failed:\n{}", self.target.abi, self.name, text(&out));
        }
    }
}

/// Every path under `dirs` (of the target's system), to compare before installing and after purging.
fn snapshot(t: &support::Target, dirs: &[String]) -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                out.insert(e.path().display().to_string());
                if e.file_type().is_ok_and(|f| f.is_dir()) {
                    walk(&e.path(), out);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for d in dirs {
        walk(&outside(t, d), &mut out);
    }
    out
}

fn dpkg_status(t: &support::Target, name: &str) -> String {
    let o = run_in(t, &["dpkg-query", "-W", "-f", "${Status}", name]);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The global plugin folder of the target's tshark (`.../wireshark/plugins/X.Y`).
fn global_plugin_folder(t: &support::Target) -> String {
    let runner = support::Target { plugin: support::NO_PLUGIN.into(), ..t.clone() };
    let run = runner.tshark_with_home(None, true, &["-G", "folders"]);
    let line = run.stdout.lines().find(|l| l.starts_with("Global Plugins:")).expect(&run.stdout);
    line.split_once(':').unwrap().1.trim().to_string()
}

#[test]
fn packages_install_decode_and_purge_on_their_release() {
    if !support::is_root() {
        return support::skip("installing the packages: apt-get install needs root");
    }
    let targets = support::targets();
    let out = Scratch::new("debs");
    let abis: Vec<&str> = targets.iter().map(|t| t.abi.as_str()).collect();
    let debs = package(&abis, &out.0);
    let want: Vec<String> = (8..=19).map(|n| n.to_string()).collect();
    for (t, (_, deb)) in targets.iter().zip(&debs) {
        let release = smcdump::releases::find(&t.abi).expect("a row of releases.tsv");
        let name = format!("wireshark-smcdump-{}", t.abi);
        assert!(
            dpkg_status(t, release.libwireshark).starts_with("install ok installed"),
            "Wireshark {}: releases.tsv names {}, which is not installed there",
            t.abi,
            release.libwireshark
        );
        let folder = global_plugin_folder(t);
        assert!(folder.ends_with(&format!("/wireshark/plugins/{}", t.abi)), "{folder}");
        let plugin = format!("{folder}/epan/smcdump.so");
        let doc = format!("/usr/share/doc/{name}");

        let _lock = t.lock_global_plugins();
        assert!(
            dpkg_status(t, &name).is_empty(),
            "Wireshark {}: the package {name} is already installed; remove it before running this test",
            t.abi
        );
        // A plugin installed by hand (scripts/install, which scripts/decode runs as root) waits aside meanwhile.
        let _aside = Aside::new(outside(t, &plugin));
        let before = snapshot(t, &[folder.clone(), doc.clone()]);
        let copied = Copied::new(t, deb);
        {
            let installed = Installed { target: t, name: name.clone() };
            let o = apt(t, &["install", "-y", "--no-install-recommends", &copied.inside]);
            assert!(o.status.success(), "Wireshark {}: apt-get install {} failed:\n{}", t.abi, copied.inside, text(&o));
            assert!(dpkg_status(t, &name).starts_with("install ok installed"), "{name}");

            let listed = run_in(t, &["dpkg", "-L", &name]);
            let files: Vec<String> = String::from_utf8_lossy(&listed.stdout).lines().map(String::from).collect();
            assert!(files.contains(&plugin), "Wireshark {}: dpkg -L {name} lacks {plugin}:\n{files:?}", t.abi);
            for f in ["copyright", "changelog.Debian.gz"] {
                assert!(files.contains(&format!("{doc}/{f}")), "dpkg -L {name} lacks {doc}/{f}: {files:?}");
            }
            for f in ["/usr/bin/smcdump2tcp", "/usr/share/man/man1/smcdump2tcp.1.gz"] {
                assert!(files.contains(&f.to_string()), "Wireshark {}: dpkg -L {name} lacks {f}: {files:?}", t.abi);
            }
            // The converter runs on the release's system (linked against its C library) and converts.
            let o = run_in(t, &["smcdump2tcp", "--version"]);
            assert_eq!(text(&o).trim(), format!("smcdump2tcp {}", env!("CARGO_PKG_VERSION")), "Wireshark {}", t.abi);
            let sample = Copied::new(t, &support::pcap("sample.pcap"));
            let converted = format!("{}-tcp.pcap", sample.inside);
            let o = run_in(t, &["smcdump2tcp", &sample.inside, &converted]);
            assert!(o.status.success(), "Wireshark {}: smcdump2tcp failed:\n{}", t.abi, text(&o));
            assert!(
                text(&o).contains("; 1 SMC connection as TCP (0 with a synthesized handshake)"),
                "Wireshark {}: {}",
                t.abi,
                text(&o)
            );
            drop(sample);

            // What an analyst's tshark sees: no plugin in HOME, the global folders on.
            let runner = support::Target { plugin: support::NO_PLUGIN.into(), ..t.clone() };
            let plugins = runner.tshark_with_home(None, true, &["-G", "plugins"]).stdout;
            let line = plugins.lines().find(|l| l.starts_with("smcdump.so")).unwrap_or_else(|| {
                panic!("Wireshark {}: smcdump.so not in tshark -G plugins after installing:\n{plugins}", t.abi)
            });
            let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
            assert_eq!(cols.get(1), Some(&env!("CARGO_PKG_VERSION")), "{line}");
            assert_eq!(cols.last(), Some(&plugin.as_str()), "{line}");
            let args = ["-r", "{pcap:sample.pcap}", "-Y", "smcdump", "-T", "fields", "-e", "frame.number"];
            let frames: Vec<String> =
                runner.tshark_with_home(None, true, &args).stdout.lines().map(String::from).collect();
            assert_eq!(frames, want, "Wireshark {}: frames the installed package decodes", t.abi);

            drop(installed); // apt-get purge
            assert!(dpkg_status(t, &name).is_empty(), "Wireshark {}: {name} still known to dpkg after purge", t.abi);
            for f in &files {
                let p = outside(t, f);
                assert!(p.is_dir() || !p.exists(), "Wireshark {}: {f} left behind by purge", t.abi);
            }
        }
        let after = snapshot(t, &[folder, doc]);
        assert_eq!(before, after, "Wireshark {}: files before installing and after purging differ", t.abi);
        drop(copied);
    }
}

#[test]
fn apt_refuses_a_package_of_another_release() {
    let targets = support::targets();
    let rows = smcdump::releases::RELEASES;
    if rows.len() < 2 {
        return support::skip("releases.tsv has one release, so there is no other to refuse");
    }
    // For each release under test, the package of the next row (cyclically): every row gets refused somewhere
    // once there are as many targets as rows.
    let others: Vec<&str> = targets
        .iter()
        .map(|t| {
            let i = rows.iter().position(|r| r.release == t.abi).expect("a row of releases.tsv");
            rows[(i + 1) % rows.len()].release
        })
        .collect();
    let mut unique = others.clone();
    unique.sort_unstable();
    unique.dedup();
    let out = Scratch::new("debs-refused");
    let debs = package(&unique, &out.0);
    for (t, other) in targets.iter().zip(&others) {
        let deb = &debs.iter().find(|(abi, _)| abi == other).unwrap().1;
        let libws = smcdump::releases::find(other).unwrap().libwireshark;
        let copied = Copied::new(t, deb);
        let o = apt(t, &["install", "--simulate", &copied.inside]);
        let said = text(&o);
        assert!(!o.status.success(), "Wireshark {}: apt would install the {other} package:\n{said}", t.abi);
        assert!(
            said.contains("unmet dependencies") && said.contains(libws),
            "Wireshark {}: apt refused the {other} package, but not for its {libws} dependency:\n{said}",
            t.abi
        );
        eprintln!("Wireshark {}: apt refuses wireshark-smcdump-{other} (needs {libws})", t.abi);
    }
}

/// The lintian tags README.md's packager section explains; any other tag fails.
const EXPLAINED_TAGS: [&str; 2] = ["initial-upload-closes-no-bugs", "hardening-no-fortify-functions"];

#[test]
fn lintian_reports_only_the_explained_tags() {
    let targets = support::targets();
    let abis: Vec<&str> = targets.iter().map(|t| t.abi.as_str()).collect();
    let out = Scratch::new("debs-lintian");
    let debs = package(&abis, &out.0);
    let o = Command::new("lintian")
        .args(["--display-info", "--display-experimental", "--pedantic"])
        .args(debs.iter().map(|(_, d)| d))
        .output()
        .expect("run lintian (scripts/setup --test installs it)");
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut tags = BTreeSet::new();
    for line in said.lines() {
        // "W: wireshark-smcdump-4.0: initial-upload-closes-no-bugs [usr/share/doc/...]"
        let tag = line.split(": ").nth(2).and_then(|rest| rest.split_whitespace().next());
        if let Some(tag) = tag {
            tags.insert(tag.to_string());
        }
    }
    let unexplained: Vec<&String> = tags.iter().filter(|t| !EXPLAINED_TAGS.contains(&t.as_str())).collect();
    assert!(unexplained.is_empty(), "lintian tags README.md does not explain: {unexplained:?}\n{said}");
    // lintian fails on error tags only; none of the explained ones is an error.
    assert!(o.status.success(), "lintian failed:\n{said}{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("lintian {abis:?}:\n{said}");
}
