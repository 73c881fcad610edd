//! Chooses the Wireshark ABI to build for and generates its bindings from `wireshark-headers/<headers>/`.
//!
//! The supported releases are the rows of `wireshark-headers/releases.tsv`. The ABI comes from
//! `SMCDUMP_WIRESHARK_ABI` (e.g. `4.4`) when set, otherwise from the installed development files
//! (`pkg-config --modversion wireshark`). Our own declarations are used in both cases, so a packager can build for
//! any supported release without that release's headers. The table is also written out as Rust
//! (`smcdump::releases`), for the tests.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One row of `wireshark-headers/releases.tsv`.
struct Release {
    /// major.minor.
    release: String,
    /// The Debian suite that ships it.
    suite: String,
    /// Its folder under wireshark-headers/.
    headers: String,
    /// The suite's libwireshark shared-library package (libwireshark16, ...), which scripts/package depends on.
    libwireshark: String,
}

/// The rows of the release table; comment lines (`#`) and blank lines are skipped.
fn read_releases(path: &Path) -> Result<Vec<Release>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        match cols[..] {
            [release, suite, headers, _script, _extra, libwireshark] => rows.push(Release {
                release: release.to_string(),
                suite: suite.to_string(),
                headers: headers.to_string(),
                libwireshark: libwireshark.to_string(),
            }),
            _ => {
                return Err(format!(
                    "{}:{}: expected 6 tab-separated columns (release suite headers script extra libwireshark)",
                    path.display(),
                    n + 1
                ))
            }
        }
    }
    Ok(rows)
}

fn fail(msg: &str) -> ! {
    eprintln!("smcdump build: {msg}");
    std::process::exit(1);
}

fn main() {
    println!("cargo:rerun-if-env-changed=SMCDUMP_WIRESHARK_ABI");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=wireshark-headers");

    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let headers = dir.join("wireshark-headers");
    let releases = read_releases(&headers.join("releases.tsv")).unwrap_or_else(|e| fail(&e));
    let names: Vec<&str> = releases.iter().map(|r| r.release.as_str()).collect();
    let quoted: Vec<String> = names.iter().map(|r| format!("\"{r}\"")).collect();
    println!("cargo:rustc-check-cfg=cfg(ws_abi, values({}))", quoted.join(", "));

    let abi = match select_abi(&names) {
        Ok(abi) => abi,
        Err(msg) => fail(&msg),
    };
    println!("cargo:rustc-cfg=ws_abi=\"{abi}\"");
    println!("cargo:rustc-env=SMCDUMP_WS_ABI={abi}");
    let folder = releases.iter().find(|r| r.release == abi).map_or(abi.as_str(), |r| r.headers.as_str());
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = fs::write(out_dir.join("releases.rs"), releases_rs(&releases)) {
        fail(&format!("cannot write releases.rs: {e}"));
    }

    let entry = headers.join(folder).join("epan.h");
    let bindings = bindgen::Builder::default()
        .header(entry.to_string_lossy())
        .clang_arg(format!("-I{}", headers.join(folder).display()))
        // Everything declared in our headers, nothing from the C library they include.
        .allowlist_file(format!("{}/.*", regex_escape(&headers.to_string_lossy())))
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(true)
        .derive_default(false)
        .generate_comments(false)
        .generate()
        .unwrap_or_else(|e| {
            eprintln!("smcdump build: bindgen failed on {}: {e}", entry.display());
            std::process::exit(1);
        });
    let out = out_dir.join("epan_bindings.rs");
    if let Err(e) = bindings.write_to_file(&out) {
        eprintln!("smcdump build: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}

/// The release table as Rust source, for `src/releases.rs`.
fn releases_rs(releases: &[Release]) -> String {
    let mut out =
        String::from("/// The rows of wireshark-headers/releases.tsv.\npub const RELEASES: &[Release] = &[\n");
    for r in releases {
        out.push_str(&format!(
            "    Release {{ release: {:?}, suite: {:?}, headers: {:?}, libwireshark: {:?} }},\n",
            r.release, r.suite, r.headers, r.libwireshark
        ));
    }
    out.push_str("];\n");
    out
}

/// The ABI named by the environment, or the one of the installed Wireshark development files.
fn select_abi(supported_list: &[&str]) -> Result<String, String> {
    let supported = supported_list.join(", ");
    if let Ok(v) = env::var("SMCDUMP_WIRESHARK_ABI") {
        let abi = major_minor(&v);
        return if supported_list.contains(&abi.as_str()) {
            Ok(abi)
        } else {
            Err(format!("SMCDUMP_WIRESHARK_ABI={v} is not a supported Wireshark release (supported: {supported})"))
        };
    }
    let out = Command::new("pkg-config").args(["--modversion", "wireshark"]).output();
    match out {
        Ok(o) if o.status.success() => {
            let version = String::from_utf8_lossy(&o.stdout).trim().to_string();
            let abi = major_minor(&version);
            if supported_list.contains(&abi.as_str()) {
                Ok(abi)
            } else {
                Err(format!(
                    "the installed Wireshark is {version}, which smcdump does not support (supported: {supported}); \
                     set SMCDUMP_WIRESHARK_ABI to one of them to build for that release"
                ))
            }
        }
        _ => Err(format!(
            "cannot tell which Wireshark to build for: `pkg-config --modversion wireshark` found no \
             development files; install them (Debian: libwireshark-dev) or set SMCDUMP_WIRESHARK_ABI to one of: \
             {supported}"
        )),
    }
}

/// "4.0.17" -> "4.0"; anything else is returned as it is.
fn major_minor(version: &str) -> String {
    let mut parts = version.trim().split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => version.trim().to_string(),
    }
}

fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}
