//! Writes the release table for every build; for the plugin (`--features plugin`) also chooses the Wireshark ABI
//! to build for, generates its bindings from `wireshark-headers/<headers>/` and compiles the C shim.
//!
//! The supported releases are the rows of `wireshark-headers/releases.tsv`. The ABI comes from
//! `SMCDUMP_WIRESHARK_ABI` (e.g. `4.4`) when set, otherwise from the installed development files
//! (`pkg-config --modversion wireshark`). Our own declarations are used in both cases, so a packager can build for
//! any supported release without that release's headers. The table is also written out as Rust
//! (`smcdump::releases`), for the tests.
//!
//! `SMCDUMP_LINK_SYSROOT=DIR` links the plugin and smcdump2tcp against the C library of the system at DIR (a
//! Debian chroot) instead of the build host's: a program linked against a newer glibc than the one it runs on does
//! not load (`GLIBC_2.34 not found`), so building on Debian 12 for bullseye's Wireshark 3.4 needs it.

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
    println!("cargo:rerun-if-env-changed=SMCDUMP_LINK_SYSROOT");

    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let headers = dir.join("wireshark-headers");
    let releases = read_releases(&headers.join("releases.tsv")).unwrap_or_else(|e| fail(&e));
    let names: Vec<&str> = releases.iter().map(|r| r.release.as_str()).collect();
    let quoted: Vec<String> = names.iter().map(|r| format!("\"{r}\"")).collect();
    println!("cargo:rustc-check-cfg=cfg(ws_abi, values({}))", quoted.join(", "));

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = fs::write(out_dir.join("releases.rs"), releases_rs(&releases)) {
        fail(&format!("cannot write releases.rs: {e}"));
    }
    if let Some(root) = env::var_os("SMCDUMP_LINK_SYSROOT").filter(|r| !r.is_empty()) {
        let dir = out_dir.join("sysroot-libs");
        if let Err(e) = sysroot_libs(Path::new(&root), &dir) {
            fail(&format!("SMCDUMP_LINK_SYSROOT={}: {e}", Path::new(&root).display()));
        }
        // Searched before the compiler's own folders, so -lc, -lpthread, ... are the system's at `root`; and for
        // programs (smcdump2tcp) its start files too (-B), whose entry code names the C library's own version.
        println!("cargo:rustc-link-arg-cdylib=-L{}", dir.display());
        println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
        println!("cargo:rustc-link-arg-bins=-B{}", dir.display());
    }
    // The pure library (no `plugin` feature) needs no Wireshark release, bindings or C shim.
    if env::var_os("CARGO_FEATURE_PLUGIN").is_none() {
        return;
    }

    let abi = match select_abi(&names) {
        Ok(abi) => abi,
        Err(msg) => fail(&msg),
    };
    println!("cargo:rustc-cfg=ws_abi=\"{abi}\"");
    println!("cargo:rustc-env=SMCDUMP_WS_ABI={abi}");
    let folder = releases.iter().find(|r| r.release == abi).map_or(abi.as_str(), |r| r.headers.as_str());

    let entry = headers.join(folder).join("epan.h");
    // The C shim (src/epan/shim.h): every call into Wireshark that can throw, under a catcher of its exceptions
    // (catch.c), and the registrations whose callbacks differ between releases (tables.c).
    let shim = dir.join("src/epan");
    for file in ["catch.c", "tables.c", "shim.h"] {
        println!("cargo:rerun-if-changed=src/epan/{file}");
    }
    cc::Build::new()
        .file(shim.join("catch.c"))
        .file(shim.join("tables.c"))
        .include(headers.join(folder))
        .include(&shim)
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-Werror")
        // A callback's parameters differ between releases; some go unused in some.
        .flag_if_supported("-Wno-unused-parameter")
        .compile("smcdump_shim");
    let bindings = bindgen::Builder::default()
        .header(entry.to_string_lossy())
        .header(shim.join("shim.h").to_string_lossy())
        .clang_arg(format!("-I{}", headers.join(folder).display()))
        // Everything declared in our headers and the shim's, nothing from the C library they include.
        .allowlist_file(format!("{}/.*", regex_escape(&headers.to_string_lossy())))
        .allowlist_file(regex_escape(&shim.join("shim.h").to_string_lossy()))
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

    // Linux and macOS resolve Wireshark's symbols in the host process at load time. A Windows DLL must name the
    // DLL each imported function comes from: every function we declare is exported by libwireshark.dll (the epan
    // library), so the linker gets an import library for exactly those functions.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        let functions = extern_functions(&bindings.to_string());
        if let Err(e) = windows_import_library(&out_dir, &functions, &abi) {
            fail(&e);
        }
    }
}

/// The DLL that exports the functions of `wireshark-headers/common/functions.h` (Wireshark's epan library), but
/// for wmem's, which live in `libwsutil.dll` since Wireshark 3.6 (wsutil/wmem).
const WIRESHARK_DLL: &str = "libwireshark.dll";
const WSUTIL_DLL: &str = "libwsutil.dll";

/// The Wireshark DLL that exports `function` in release `abi`; `None` for the shim's own (smcdump_*), which the
/// plugin defines itself.
fn dll_of(function: &str, abi: &str) -> Option<&'static str> {
    match function {
        f if f.starts_with("smcdump_") => None,
        f if f.starts_with("wmem_") && abi != "3.4" => Some(WSUTIL_DLL),
        _ => Some(WIRESHARK_DLL),
    }
}

/// The names of the functions declared in the generated bindings' `extern "C"` blocks: each `pub fn NAME(...)`
/// that ends in `;` (a declaration, not a body). The text may be rustfmt's or one long line (no rustfmt).
fn extern_functions(bindings: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = bindings;
    while let Some(at) = rest.find("pub fn ") {
        rest = &rest[at + "pub fn ".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let declaration = match (rest.find(';'), rest.find('{')) {
            (Some(semi), Some(brace)) => semi < brace,
            (Some(_), None) => true,
            _ => false,
        };
        if declaration && !name.is_empty() {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Writes `libwireshark.def` (the functions, from `libwireshark.dll`) and turns it into the import library
/// `libwireshark.dll.a` with mingw-w64's dlltool, then tells the linker to use it. Only the GNU target (mingw-w64
/// linker) is supported: `scripts/build-windows` builds it.
fn windows_import_library(out_dir: &Path, functions: &[String], abi: &str) -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=SMCDUMP_DLLTOOL");
    let target = env::var("TARGET").unwrap_or_default();
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu") {
        return Err(format!(
            "building for {target} is not supported: only the GNU Windows target (x86_64-pc-windows-gnu, \
             scripts/build-windows) links against {WIRESHARK_DLL} without Wireshark's import library"
        ));
    }
    if functions.is_empty() {
        return Err("the generated bindings declare no function to import".into());
    }
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let (prefix, machine) = match arch.as_str() {
        "x86_64" => ("x86_64-w64-mingw32", "i386:x86-64"),
        "x86" => ("i686-w64-mingw32", "i386"),
        "aarch64" => ("aarch64-w64-mingw32", "arm64"),
        other => return Err(format!("no dlltool known for the Windows architecture {other}")),
    };
    let dlltool = env::var("SMCDUMP_DLLTOOL").unwrap_or_else(|_| format!("{prefix}-dlltool"));
    for dll in [WIRESHARK_DLL, WSUTIL_DLL] {
        let mine: Vec<&String> = functions.iter().filter(|f| dll_of(f, abi) == Some(dll)).collect();
        if mine.is_empty() {
            continue;
        }
        let stem = dll.trim_end_matches(".dll");
        let mut def = format!("LIBRARY {dll}\nEXPORTS\n");
        for f in mine {
            def.push_str(&format!("    {f}\n"));
        }
        let def_path = out_dir.join(format!("{stem}.def"));
        let lib_path = out_dir.join(format!("{stem}.dll.a"));
        fs::write(&def_path, def).map_err(|e| format!("cannot write {}: {e}", def_path.display()))?;
        // dlltool writes temporary files into its working directory: OUT_DIR, never the source tree.
        let status = Command::new(&dlltool)
            .current_dir(out_dir)
            .arg("--machine")
            .arg(machine)
            .arg("--input-def")
            .arg(&def_path)
            .arg("--dllname")
            .arg(dll)
            .arg("--output-lib")
            .arg(&lib_path)
            .status()
            .map_err(|e| format!("cannot run {dlltool} (Debian: binutils-mingw-w64-x86-64): {e}"))?;
        if !status.success() {
            return Err(format!("{dlltool} failed on {} ({status})", def_path.display()));
        }
        println!("cargo:rustc-link-lib=dylib={}", stem.trim_start_matches("lib"));
    }
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    Ok(())
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

/// The C libraries Rust's standard library links (`-lc`, `-lpthread`, ...).
const STD_LIBS: [&str; 6] = ["c", "m", "pthread", "dl", "rt", "util"];

/// The C library's start files a program is linked with (position-independent or not), and GCC's runtime library
/// (the unwinder), which Debian ships as the shared object alone (`libgcc_s.so.1`, linked as `-lgcc_s`): the
/// host's names newer C library symbols than the system at the root has.
const START_FILES: [&str; 4] = ["Scrt1.o", "crt1.o", "crti.o", "crtn.o"];
const GCC_RUNTIME: (&str, &str) = ("libgcc_s.so", "libgcc_s.so.1");

/// `path` (absolute, as the system at `root` sees it) resolved inside `root`: symbolic links are followed, and
/// absolute link targets (Debian's `/lib64/ld-linux-x86-64.so.2 -> /lib/...`) are taken relative to `root`, not
/// to the build host.
fn resolve_in(root: &Path, path: &Path) -> Result<PathBuf, String> {
    let mut inside = PathBuf::from("/");
    let mut pending: Vec<std::ffi::OsString> = path.components().rev().map(|c| c.as_os_str().to_os_string()).collect();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.to_str() {
            Some("/") | Some(".") => continue,
            Some("..") => {
                inside.pop();
                continue;
            }
            _ => {}
        }
        let candidate = inside.join(&part);
        let outside = root.join(candidate.strip_prefix("/").expect("absolute"));
        match fs::read_link(&outside) {
            Ok(target) => {
                links += 1;
                if links > 40 {
                    return Err(format!("too many symbolic links resolving {}", path.display()));
                }
                if target.is_absolute() {
                    inside = PathBuf::from("/");
                }
                pending.extend(target.components().rev().map(|c| c.as_os_str().to_os_string()));
            }
            Err(_) => inside = candidate,
        }
    }
    let outside = root.join(inside.strip_prefix("/").expect("absolute"));
    if outside.exists() {
        Ok(outside)
    } else {
        Err(format!("{} not found in {}", path.display(), root.display()))
    }
}

/// Writes into `dir` the start files, GCC's runtime and the libraries of [`STD_LIBS`] as found at `root`: a symbolic link to the
/// file, or the linker script with every absolute path resolved inside `root` (glibc's libc.so is one).
fn sysroot_libs(root: &Path, dir: &Path) -> Result<(), String> {
    let multiarch = Command::new("gcc")
        .arg("-print-multiarch")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "x86_64-linux-gnu".to_string());
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = START_FILES.iter().map(|&f| (f, f)).chain([GCC_RUNTIME]);
    for (name, file) in files {
        let found = resolve_in(root, &Path::new("/usr/lib").join(&multiarch).join(file))?;
        let dest = dir.join(name);
        std::os::unix::fs::symlink(&found, &dest).map_err(|e| format!("cannot link {}: {e}", dest.display()))?;
    }
    for lib in STD_LIBS {
        let name = format!("lib{lib}.so");
        let found = resolve_in(root, &Path::new("/usr/lib").join(&multiarch).join(&name))?;
        let bytes = fs::read(&found).map_err(|e| format!("cannot read {}: {e}", found.display()))?;
        let dest = dir.join(&name);
        if bytes.starts_with(b"\x7fELF") {
            std::os::unix::fs::symlink(&found, &dest).map_err(|e| format!("cannot link {}: {e}", dest.display()))?;
            continue;
        }
        // The script without its comments (`/* GNU ld script ... */`), whose words could look like paths.
        let mut script = String::from_utf8_lossy(&bytes).into_owned();
        while let Some(start) = script.find("/*") {
            let end = script[start..].find("*/").map_or(script.len(), |e| start + e + 2);
            script.replace_range(start..end, "");
        }
        let mut out = String::new();
        for token in script.split_inclusive(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            let word = token.trim_end_matches(|c: char| c.is_whitespace() || c == '(' || c == ')');
            if word.starts_with('/') {
                out.push_str(&resolve_in(root, Path::new(word))?.to_string_lossy());
                out.push_str(&token[word.len()..]);
            } else {
                out.push_str(token);
            }
        }
        fs::write(&dest, out).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    }
    Ok(())
}

fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}
