//! scripts/install puts a working plugin in place: for the host's Wireshark into a personal plugin folder, and,
//! named explicitly, for each other release into its chroot's global folder; each then decodes the sample. The
//! converter smcdump2tcp goes beside it (~/.local/bin; the chroot's /usr/local/bin) and runs there.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs scripts/install with `args` and HOME=`home`; returns what it printed.
fn install(home: &Path, args: &[&str]) -> String {
    let out = Command::new(support::repo().join("scripts/install"))
        .args(args)
        .env("HOME", home)
        .current_dir(support::repo())
        .output()
        .expect("run scripts/install");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "scripts/install {args:?} failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// The line of scripts/install's output that says where `what` went: the path.
fn installed_as<'a>(printed: &'a str, what: &str) -> &'a str {
    let line = printed.lines().find(|l| l.starts_with(&format!("install: {what} "))).expect(printed);
    line.split(" installed as ").nth(1).expect(line)
}

/// What `smcdump2tcp --version` prints, run as `argv` (the program's path, in a chroot or not).
fn converter_version(argv: &[&str]) -> String {
    let out = Command::new(argv[0]).args(&argv[1..]).arg("--version").output().expect("run smcdump2tcp");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The numbers of the sample's frames smcdump decodes with `target`'s tshark, with `home` (or an empty HOME) and,
/// with `global_plugins`, the global plugin folder: only the installed plugin can decode them.
fn smcdump_frames(target: &support::Target, home: Option<&Path>, global_plugins: bool) -> Vec<String> {
    let runner = support::Target { plugin: support::NO_PLUGIN.into(), ..target.clone() };
    let args = ["-r", "{pcap:sample.pcap}", "-Y", "smcdump", "-T", "fields", "-e", "frame.number"];
    let run = runner.tshark_with_home(home, global_plugins, &args);
    run.stdout.lines().map(String::from).collect()
}

#[test]
fn installed_plugins_decode_the_sample() {
    let want: Vec<String> = (8..=19).map(|n| n.to_string()).collect();
    let version = format!("smcdump2tcp {}", env!("CARGO_PKG_VERSION"));
    for t in support::targets() {
        let home = std::env::temp_dir().join(format!("smcdump-install-{}-{}", t.abi, std::process::id()));
        fs::create_dir_all(&home).unwrap();
        match &t.chroot {
            None => {
                let printed = install(&home, &["--personal"]);
                let dest = home.join(format!(".local/lib/wireshark/plugins/{}/epan/smcdump.so", t.abi));
                assert!(printed.contains(&dest.display().to_string()), "install said: {printed}");
                assert_eq!(smcdump_frames(&t, Some(&home), false), want, "Wireshark {} (personal)", t.abi);
                let bin = home.join(".local/bin/smcdump2tcp");
                assert_eq!(installed_as(&printed, "smcdump2tcp"), bin.display().to_string());
                assert_eq!(converter_version(&[bin.to_str().unwrap()]), version);
            }
            Some(root) => {
                // The .deb test (tests/package.rs) installs into the same folder.
                let _lock = t.lock_global_plugins();
                let printed = install(&home, &["--abi", &t.abi, "--chroot", &root.display().to_string()]);
                let dest = installed_as(&printed, "smcdump");
                let result = smcdump_frames(&t, None, true);
                // The chroot is shared with the other tests, which bring their own plugin: take this one out.
                fs::remove_file(dest).unwrap();
                assert!(dest.starts_with(&root.display().to_string()), "{dest}");
                assert_eq!(result, want, "Wireshark {} (global, in the chroot)", t.abi);
                // The converter, linked against the chroot's C library, runs there; then it goes too.
                let bin = installed_as(&printed, "smcdump2tcp");
                assert_eq!(bin, root.join("usr/local/bin/smcdump2tcp").display().to_string());
                let got = converter_version(&["chroot", &root.display().to_string(), "/usr/local/bin/smcdump2tcp"]);
                fs::remove_file(bin).unwrap();
                fs::remove_file(root.join("usr/local/share/man/man1/smcdump2tcp.1.gz")).unwrap();
                assert_eq!(got, version, "Wireshark {} (in the chroot)", t.abi);
            }
        }
        let _ = fs::remove_dir_all(&home);
    }
}
