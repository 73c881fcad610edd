//! scripts/install puts a working plugin in place: for the host's Wireshark into a personal plugin folder, and,
//! named explicitly, for each other release into its chroot's global folder; each then decodes the sample.

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
    for t in support::targets() {
        let home = std::env::temp_dir().join(format!("smcdump-install-{}-{}", t.abi, std::process::id()));
        fs::create_dir_all(&home).unwrap();
        match &t.chroot {
            None => {
                let printed = install(&home, &["--personal"]);
                let dest = home.join(format!(".local/lib/wireshark/plugins/{}/epan/smcdump.so", t.abi));
                assert!(printed.contains(&dest.display().to_string()), "install said: {printed}");
                assert_eq!(smcdump_frames(&t, Some(&home), false), want, "Wireshark {} (personal)", t.abi);
            }
            Some(root) => {
                // The .deb test (tests/package.rs) installs into the same folder.
                let _lock = t.lock_global_plugins();
                let printed = install(&home, &["--abi", &t.abi, "--chroot", &root.display().to_string()]);
                let dest = printed.lines().last().and_then(|l| l.split(" installed as ").nth(1)).expect(&printed);
                let result = smcdump_frames(&t, None, true);
                // The chroot is shared with the other tests, which bring their own plugin: take this one out.
                fs::remove_file(dest).unwrap();
                assert!(dest.starts_with(&root.display().to_string()), "{dest}");
                assert_eq!(result, want, "Wireshark {} (global, in the chroot)", t.abi);
            }
        }
        let _ = fs::remove_dir_all(&home);
    }
}
