//! The Wireshark GUI with the plugin: on the host's release (4.0 on Debian 12) and on 4.6 (its forky chroot), each
//! capture of test-pcaps/ opens in Wireshark under a virtual X screen (Xvfb) with `-z smcdump,connections`; its
//! main window and the SMC Connections dialog must come up, and Wireshark must quit cleanly when asked (Ctrl+Q, so
//! the plugin's cleanup runs too). A run fails on a window that never appears, on a crash or any exit status but 0
//! (a dissector bug aborts: WIRESHARK_ABORT_ON_DISSECTOR_BUG), and on any line of Wireshark's log (its stderr) that
//! is a warning, critical or error message naming smcdump, or any critical or error message at all.
//!
//! Wireshark runs as in the tshark tests: as uid 65534 when root, with a throwaway HOME whose personal plugin folder
//! holds the plugin under test and an empty global plugin folder. The host needs wireshark, xvfb, xdotool and
//! fonts-dejavu-core (`scripts/setup --test`); the chroot gets them with apt when they are missing (as root), and
//! its /proc and /dev/shm, which Qt needs, are mounted for the run and unmounted after it if this test mounted them
//! (one GUI run per chroot at a time, with scripts/screenshot: an flock on `<chroot>.gui.lock`). A release that
//! cannot be tested is skipped, saying why, or fails the test with SMCDUMP_REQUIRE_ALL_ABIS=1 (as root in CI).

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The releases whose GUI is tested: the host's, and the newest (the first with plugin followers in its menus).
const GUI_RELEASES: [&str; 2] = ["4.0", "4.6"];

/// What the GUI run needs: command, Debian package. A font Qt can find, else it draws empty boxes.
const NEEDED: [(&str, &str); 3] = [("wireshark", "wireshark"), ("Xvfb", "xvfb"), ("xdotool", "xdotool")];
const FONT_PACKAGE: &str = "fonts-dejavu-core";

/// The statistic opened at start, and the title of its dialog.
const STAT: &str = "smcdump,connections";
const STAT_TITLE: &str = "SMC Connections";

/// The longest wait for Xvfb, for a window, for Wireshark to quit.
const WAIT_UP: Duration = Duration::from_secs(60);
const WAIT_QUIT: Duration = Duration::from_secs(30);

/// A command inside `root` (chroot, as root), or on the host.
fn in_root(root: Option<&Path>, program: &str) -> Command {
    match root {
        Some(r) => {
            let mut c = Command::new("chroot");
            c.arg(r).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Whether `root` (or the host) has every command and the font the GUI run needs.
fn missing_packages(root: Option<&Path>) -> Vec<&'static str> {
    let mut missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(cmd, _)| {
            !in_root(root, "sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
        })
        .map(|(_, package)| *package)
        .collect();
    let fonts = in_root(root, "sh").args(["-c", "fc-list 2>/dev/null"]).output();
    if !fonts.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("DejaVu Sans")) {
        missing.push(FONT_PACKAGE);
    }
    missing
}

/// Installs `packages` into the chroot `root` with apt, non-interactively (wireshark-common's question, may
/// non-root users capture, answered no); waits for another apt's lock (tests/package.rs installs there too), and
/// accepts a testing suite's Release file past its Valid-Until on a machine whose clock is ahead.
fn apt_install(root: &Path, packages: &[&str]) -> Result<(), String> {
    let path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    let mut preseed = in_root(Some(root), "env")
        .args([path, "debconf-set-selections"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("debconf-set-selections: {e}"))?;
    preseed
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"wireshark-common wireshark-common/install-setuid boolean false\n")
        .map_err(|e| format!("debconf-set-selections: {e}"))?;
    preseed.wait().map_err(|e| format!("debconf-set-selections: {e}"))?;
    let apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-o", "Acquire::Check-Valid-Until=false"];
    for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "--no-install-recommends"][..]] {
        let mut cmd = in_root(Some(root), "env");
        cmd.args([path, "DEBIAN_FRONTEND=noninteractive"]).args(apt).args(args);
        if args[0] == "install" {
            cmd.args(packages);
        }
        let out = cmd.output().map_err(|e| format!("apt-get: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "apt-get {} in {} failed:\n{}{}",
                args[0],
                root.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// An exclusive hold on a chroot's GUI runs (its mounts), shared with scripts/screenshot; released when dropped.
struct GuiLock(#[allow(dead_code)] fs::File);

impl GuiLock {
    fn take(root: &Path) -> GuiLock {
        GuiLock(support::exclusive_lock(&root.with_extension("gui.lock")))
    }
}

/// The chroot's /proc and /dev/shm, mounted when they were not; unmounted when dropped, those mounted here only.
struct Mounts(Vec<PathBuf>);

impl Mounts {
    fn ensure(root: &Path) -> Mounts {
        let mut mounted = Vec::new();
        for (dir, fs_type, options) in [("proc", "proc", "defaults"), ("dev/shm", "tmpfs", "mode=1777")] {
            let path = root.join(dir);
            fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
            let is_mount = Command::new("mountpoint").arg("-q").arg(&path).status().is_ok_and(|s| s.success());
            if !is_mount {
                let status = Command::new("mount")
                    .args(["-t", fs_type, "-o", options, fs_type])
                    .arg(&path)
                    .status()
                    .expect("run mount");
                assert!(status.success(), "mount -t {fs_type} {}", path.display());
                mounted.push(path);
            }
        }
        Mounts(mounted)
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for path in self.0.iter().rev() {
            let ok = Command::new("umount").arg(path).status().is_ok_and(|s| s.success());
            if !ok {
                eprintln!("gui: could not unmount {} (in use?); left mounted", path.display());
            }
        }
    }
}

/// A child process killed (if still running) and reaped when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One release's GUI session: its Xvfb and the throwaway HOME, as the host sees it (`dir`) and as Wireshark does
/// (`inner`: the same folder inside the chroot). Field order is drop order: Xvfb ends before the folder goes, the
/// mounts go after every process, the lock last.
struct Session {
    target: support::Target,
    display: String,
    xvfb: Reaped,
    dir: PathBuf,
    inner: PathBuf,
    _mounts: Option<Mounts>,
    _lock: Option<GuiLock>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.xvfb.0.kill();
        let _ = self.xvfb.0.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Session {
    /// Starts the session of `target`, or says why it cannot run here.
    fn start(target: support::Target) -> Result<Session, String> {
        let root = target.chroot.clone();
        let lock = root.as_deref().map(GuiLock::take);
        let mounts = root.as_deref().map(Mounts::ensure);
        let missing = missing_packages(root.as_deref());
        if !missing.is_empty() {
            match root.as_deref() {
                Some(r) => apt_install(r, &missing)?,
                None => {
                    return Err(format!(
                        "Wireshark {}: the GUI test needs {} on the host (scripts/setup --test installs them)",
                        target.abi,
                        missing.join(" ")
                    ))
                }
            }
        }

        // Not named after smcdump: the log is searched for that name.
        let name = format!("gui-test-{}-{}", target.abi, std::process::id());
        let (dir, inner) = match &root {
            Some(r) => (r.join("tmp").join(&name), PathBuf::from("/tmp").join(&name)),
            None => {
                let p = std::env::temp_dir().join(&name);
                (p.clone(), p)
            }
        };
        let home = dir.join("home");
        let plugin_dir = home.join(".local/lib/wireshark/plugins").join(&target.abi).join("epan");
        let conf = home.join(".config/wireshark");
        for d in [&plugin_dir, &conf, &home.join("no-global-plugins"), &dir.join("run")] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
        }
        fs::copy(&target.plugin, plugin_dir.join("smcdump.so"))
            .unwrap_or_else(|e| panic!("copy plugin {}: {e}", target.plugin.display()));
        // No start-up questions: not elevated, no capture interfaces.
        fs::write(conf.join("recent_common"), "privs.warn_if_elevated: FALSE\nsys.warn_if_no_capture: FALSE\n")
            .expect("write recent_common");
        set_mode(&dir.join("run"), 0o700);
        if support::is_root() {
            let status = Command::new("chown").args(["-R", "65534:65534"]).arg(&dir).status().expect("chown");
            assert!(status.success(), "chown {}", dir.display());
        }

        // Xvfb picks a free display itself and writes its number to the file (-displayfd).
        let display_file = inner.join("display");
        let xvfb_log = fs::File::create(dir.join("xvfb.log")).expect("create xvfb.log");
        let xvfb = in_root(root.as_deref(), "sh")
            .arg("-c")
            .arg("exec Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>\"$0\"")
            .arg(&display_file)
            .stdout(Stdio::null())
            .stderr(Stdio::from(xvfb_log))
            .spawn();
        let gave_up = |why: String| {
            let log = fs::read_to_string(dir.join("xvfb.log")).unwrap_or_default();
            let _ = fs::remove_dir_all(&dir);
            Err(format!("Wireshark {}: {why}\n{log}", target.abi))
        };
        let mut xvfb = match xvfb {
            Ok(child) => Reaped(child),
            Err(e) => return gave_up(format!("cannot start Xvfb: {e}")),
        };
        let started = Instant::now();
        let display = loop {
            let text = fs::read_to_string(dir.join("display")).unwrap_or_default();
            if text.ends_with('\n') {
                break format!(":{}", text.trim());
            }
            if let Ok(Some(status)) = xvfb.0.try_wait() {
                return gave_up(format!("Xvfb ended ({status})"));
            }
            if started.elapsed() > WAIT_UP {
                return gave_up(format!("Xvfb did not start within {WAIT_UP:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(Session { target, display, xvfb, dir, inner, _mounts: mounts, _lock: lock })
    }

    fn root(&self) -> Option<&Path> {
        self.target.chroot.as_deref()
    }

    /// An X client on the session's display (xdotool), inside the root.
    fn x(&self, args: &[&str]) -> Option<String> {
        let out = in_root(self.root(), "env").arg(format!("DISPLAY={}", self.display)).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The id of a visible window whose title matches `regex`, if there is one.
    fn window(&self, regex: &str) -> Option<String> {
        let ids = self.x(&["xdotool", "search", "--onlyvisible", "--name", regex])?;
        ids.lines().next().map(str::to_string)
    }

    /// Opens `capture` (test-pcaps/) with the statistic's dialog, waits for both windows, quits; the problems
    /// found, none when all went well.
    fn open(&self, capture: &str) -> Vec<String> {
        let what = format!("Wireshark {} on {capture}", self.target.abi);
        let opened = Instant::now();
        fs::copy(support::pcap(capture), self.dir.join(capture)).unwrap_or_else(|e| panic!("copy {capture}: {e}"));
        set_mode(&self.dir.join(capture), 0o644);
        let log_path = self.dir.join(format!("{capture}.log"));
        let log = fs::File::create(&log_path).expect("create the log");
        let home = self.inner.join("home");
        let env = [
            format!("HOME={}", home.display()),
            format!("XDG_CONFIG_HOME={}/.config", home.display()),
            format!("WIRESHARK_PLUGIN_DIR={}/no-global-plugins", home.display()),
            format!("XDG_RUNTIME_DIR={}", self.inner.join("run").display()),
            format!("DISPLAY={}", self.display),
            "PATH=/usr/bin:/bin".to_string(),
            "LANG=C.UTF-8".to_string(),
            "QT_QPA_PLATFORM=xcb".to_string(),
            "WIRESHARK_ABORT_ON_DISSECTOR_BUG=1".to_string(),
        ];
        let mut cmd = support::as_nobody(self.root());
        let capture_inner = self.inner.join(capture);
        cmd.args(&env)
            .arg("wireshark")
            .arg("-r")
            .arg(&capture_inner)
            .args(["-z", STAT])
            .stdout(Stdio::from(log.try_clone().expect("clone the log")))
            .stderr(Stdio::from(log));
        let mut wireshark = Reaped(cmd.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}")));

        let mut problems = Vec::new();
        // The main window is named after the capture file once the file is open; the statistic's dialog
        // "Wireshark · SMC Connections · <file>".
        let main_title = format!("^{}$", capture.replace('.', "\\."));
        let mut main = None;
        let mut exited: Option<ExitStatus> = None;
        for (title, regex) in [("main window", main_title.as_str()), ("SMC Connections dialog", STAT_TITLE)] {
            let started = Instant::now();
            let found = loop {
                if let Some(id) = self.window(regex) {
                    break Some(id);
                }
                if let Ok(Some(status)) = wireshark.0.try_wait() {
                    exited = Some(status);
                    break None;
                }
                if started.elapsed() > WAIT_UP {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            match found {
                Some(id) if main.is_none() => main = Some(id),
                Some(_) => {}
                None => {
                    problems.push(match exited {
                        Some(status) => format!("{what}: ended ({status}) before its {title} appeared"),
                        None => format!("{what}: no {title} within {WAIT_UP:?}"),
                    });
                    break;
                }
            }
        }

        // Quit as a user does (Ctrl+Q in the main window), so that Wireshark's and the plugin's cleanup run. While it
        // still reads the file (the dialog may come up first), Wireshark refuses to close it: ask again each second.
        if exited.is_none() {
            let started = Instant::now();
            let mut asked = None;
            exited = loop {
                if let Ok(Some(status)) = wireshark.0.try_wait() {
                    break Some(status);
                }
                if started.elapsed() > WAIT_QUIT {
                    break None;
                }
                if asked.map_or(true, |t: Instant| t.elapsed() > Duration::from_secs(1)) {
                    if let Some(id) = &main {
                        let _ = self.x(&["xdotool", "windowfocus", "--sync", id, "key", "--clearmodifiers", "ctrl+q"]);
                    }
                    asked = Some(Instant::now());
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            match exited {
                Some(status) if !status.success() => problems.push(format!("{what}: ended with {status}")),
                Some(_) => {}
                None => problems.push(format!("{what}: did not quit within {WAIT_QUIT:?} of Ctrl+Q")),
            }
        }
        drop(wireshark);

        let text = fs::read_to_string(&log_path).unwrap_or_default();
        let bad: Vec<&str> = text.lines().filter(|l| is_bad_log_line(l)).collect();
        if !bad.is_empty() {
            problems.push(format!("{what}: its log says:\n  {}", bad.join("\n  ")));
        }
        if !problems.is_empty() {
            problems.push(format!("{what}: the whole log:\n{text}"));
        }
        eprintln!("{what}: {:.1}s", opened.elapsed().as_secs_f64());
        problems
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Whether a line of Wireshark's log fails the run: a warning, critical or error message naming smcdump (its
/// plugin not loading, a field or preference it registers refused …), or any critical or error message (Wireshark's
/// log levels: `[Epan CRITICAL]`, `[GUI ERROR]` …; GLib's `CRITICAL **`), or a dissector bug.
fn is_bad_log_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let severe = lower.contains("critical") || lower.contains(" error]") || lower.contains("error **");
    let warning = severe || lower.contains("warning") || lower.contains("error");
    (lower.contains("smcdump") && warning) || severe || lower.contains("dissector bug")
}

/// A release's run: the problems found and how long it took, or why it could not run.
type Outcome = Result<(Vec<String>, Duration), String>;

#[test]
fn every_capture_opens_in_the_gui_with_the_connections_dialog() {
    let targets: Vec<support::Target> =
        support::targets().into_iter().filter(|t| GUI_RELEASES.contains(&t.abi.as_str())).collect();
    for abi in GUI_RELEASES {
        if !targets.iter().any(|t| t.abi == abi) {
            support::skip(&format!("the GUI of Wireshark {abi}: needs root and its chroot (see above)"));
        }
    }
    // One thread per release: each has its own X screen.
    let results: Vec<(String, Outcome)> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .into_iter()
            .map(|t| {
                let abi = t.abi.clone();
                let handle = s.spawn(move || {
                    let started = Instant::now();
                    let session = Session::start(t)?;
                    let problems: Vec<String> = support::CAPTURES.iter().flat_map(|c| session.open(c)).collect();
                    Ok((problems, started.elapsed()))
                });
                (abi, handle)
            })
            .collect();
        handles.into_iter().map(|(abi, h)| (abi, h.join().expect("a GUI thread panicked"))).collect()
    });
    let mut problems = Vec::new();
    for (abi, result) in results {
        match result {
            Ok((found, took)) => {
                eprintln!(
                    "Wireshark {abi}: {} captures opened in the GUI in {:.1}s, {} problem(s)",
                    support::CAPTURES.len(),
                    took.as_secs_f64(),
                    found.len()
                );
                problems.extend(found);
            }
            Err(why) => support::skip(&why),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Conversations dialog's SMCDUMP tab gives each row its connection's `smcdump.stream` as conversation id. On
/// 4.6 (4.4 and later follow a row from that dialog), Follow Stream… on conns.pcap's second row (10.30.2.1:47002,
/// stream 1 of tests/stats.rs's rows) opens "Follow SMCDUMP Stream (smcdump.stream eq 1)": the scene of
/// scripts/screenshot waits for that window and fails when another (or none) opens.
#[test]
fn conversations_follow_a_row_by_its_stream() {
    if !support::targets().iter().any(|t| t.abi == "4.6") {
        return support::skip("the GUI of Wireshark 4.6: needs root and its chroot (see above)");
    }
    let out = std::env::temp_dir().join(format!("smcdump-gui-follow-{}.png", std::process::id()));
    let run = Command::new(support::repo().join("scripts/screenshot"))
        .args(["--abi", "4.6", "--scene", "conversations-follow", "--out"])
        .arg(&out)
        .current_dir(support::repo())
        .output()
        .expect("run scripts/screenshot");
    let _ = fs::remove_file(&out);
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "Follow Stream… on the SMCDUMP tab's second row:\n{said}");
}
