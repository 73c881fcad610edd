//! Chooses the Wireshark ABI to build for and generates its bindings from `wireshark-headers/<abi>/`.
//!
//! The ABI comes from `SMCDUMP_WIRESHARK_ABI` (e.g. `4.4`) when set, otherwise from the installed development
//! files (`pkg-config --modversion wireshark`). Our own declarations are used in both cases, so a packager can
//! build for any supported release without that release's headers.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// The Wireshark releases (major.minor) whose epan ABI `wireshark-headers/` declares.
const SUPPORTED: [&str; 3] = ["4.0", "4.4", "4.6"];

fn main() {
    println!("cargo:rerun-if-env-changed=SMCDUMP_WIRESHARK_ABI");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=wireshark-headers");
    println!("cargo:rustc-check-cfg=cfg(ws_abi, values(\"4.0\", \"4.4\", \"4.6\"))");

    let abi = match select_abi() {
        Ok(abi) => abi,
        Err(msg) => {
            eprintln!("smcdump build: {msg}");
            std::process::exit(1);
        }
    };
    println!("cargo:rustc-cfg=ws_abi=\"{abi}\"");
    println!("cargo:rustc-env=SMCDUMP_WS_ABI={abi}");

    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let headers = dir.join("wireshark-headers");
    let entry = headers.join(&abi).join("epan.h");
    let bindings = bindgen::Builder::default()
        .header(entry.to_string_lossy())
        .clang_arg(format!("-I{}", headers.join(&abi).display()))
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
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("epan_bindings.rs");
    if let Err(e) = bindings.write_to_file(&out) {
        eprintln!("smcdump build: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}

/// The ABI named by the environment, or the one of the installed Wireshark development files.
fn select_abi() -> Result<String, String> {
    let supported = SUPPORTED.join(", ");
    if let Ok(v) = env::var("SMCDUMP_WIRESHARK_ABI") {
        let abi = major_minor(&v);
        return if SUPPORTED.contains(&abi.as_str()) {
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
            if SUPPORTED.contains(&abi.as_str()) {
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
