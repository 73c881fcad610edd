//! The Windows build: `scripts/build-windows` cross-builds `target/windows-X.Y/smcdump.dll` for every supported
//! release, and this test reads each DLL's PE export and import tables (with its own small PE reader, below):
//!
//! - it is an x86-64 DLL that exports exactly what Wireshark's plugin loader looks up — `plugin_version`,
//!   `plugin_want_major`, `plugin_want_minor`, `plugin_register`, `plugin_describe` — and nothing else; the two
//!   `plugin_want_*` ints hold the release's major and minor, `plugin_version` the crate's version;
//! - it imports from `libwireshark.dll` exactly the functions of `wireshark-headers/common/functions.h` that
//!   `src/` calls (a declared function nobody calls is not imported, and is named in the output), by name;
//! - it imports from no other Wireshark DLL (libwsutil, libwiretap, GLib …) and from no DLL outside the list of
//!   Windows system and C-runtime DLLs below: a new one fails the test until it is reviewed and added.
//!
//! As root the test runs `scripts/build-windows` (which creates its chroot when missing) and a build failure fails
//! it. Not as root it checks the DLLs a root run left, and skips, saying so, when there are none.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use smcdump::releases::RELEASES;

/// The DLL that exports the epan API (Wireshark's `epan` library target, file name libwireshark.dll).
const WIRESHARK_DLL: &str = "libwireshark.dll";
/// wmem's functions live in wsutil since Wireshark 3.6.
const WSUTIL_DLL: &str = "libwsutil.dll";

/// The DLL each declared function of release `release` is imported from.
fn dll_of(function: &str, release: &str) -> &'static str {
    if function.starts_with("wmem_") && release != "3.4" {
        WSUTIL_DLL
    } else {
        WIRESHARK_DLL
    }
}

/// A function name of functions.h as release `release` spells it: a name that is a macro of the release's abi.h
/// (`WS_TRY_UINT`: dissector_try_uint_new, or dissector_try_uint_with_data since 4.6; `WS_ADD_ENDPOINT_TABLE_DATA`:
/// add_hostlist_table_data in 3.4) is what the macro says.
fn real_name(name: &str, release: &str) -> String {
    let headers = RELEASES.iter().find(|r| r.release == release).map_or(release, |r| r.headers);
    let abi = support::repo().join(format!("wireshark-headers/{headers}/abi.h"));
    let text = fs::read_to_string(&abi).unwrap_or_else(|e| panic!("cannot read {}: {e}", abi.display()));
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("#define "))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(macro_name, _)| *macro_name == name)
        .map_or_else(|| name.to_string(), |(_, value)| value.trim().to_string())
}

/// What Wireshark's plugin loader looks up in a plugin (`plugin_describe` since 4.4; 4.0 ignores it).
const PLUGIN_EXPORTS: [&str; 5] =
    ["plugin_describe", "plugin_register", "plugin_version", "plugin_want_major", "plugin_want_minor"];

/// The DLLs besides libwireshark.dll the plugin may import from, lower case: Windows itself and the C runtime
/// mingw-w64 links (msvcrt.dll; Rust's std brings the rest).
const SYSTEM_DLLS: [&str; 7] = [
    "kernel32.dll",
    "ntdll.dll",
    "msvcrt.dll",
    "userenv.dll",
    "ws2_32.dll",
    "bcryptprimitives.dll",
    "api-ms-win-core-synch-l1-2-0.dll",
];

#[test]
fn windows_dll_tables() {
    let dlls: Vec<(&str, PathBuf)> = RELEASES
        .iter()
        .map(|r| (r.release, support::repo().join(format!("target/windows-{}/smcdump.dll", r.release))))
        .collect();
    if support::is_root() {
        let status = Command::new(support::repo().join("scripts/build-windows"))
            .status()
            .expect("cannot run scripts/build-windows");
        assert!(status.success(), "scripts/build-windows failed ({status})");
    } else if dlls.iter().any(|(_, p)| !p.exists()) {
        return support::skip(
            "windows_dll: not root, so scripts/build-windows cannot run (debootstrap, chroot), and no earlier root \
             run left target/windows-X.Y/smcdump.dll for every release",
        );
    }

    let declared_names = declared_functions(&support::repo().join("wireshark-headers/common/functions.h"));
    let called_names = called_functions(&declared_names, &support::repo().join("src"));
    let uncalled: Vec<&String> = declared_names.difference(&called_names).collect();
    assert!(!called_names.is_empty(), "no function of functions.h is called from src/");

    for (release, path) in &dlls {
        let declared: BTreeSet<String> = declared_names.iter().map(|n| real_name(n, release)).collect();
        let called: BTreeSet<String> = called_names.iter().map(|n| real_name(n, release)).collect();
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let pe = Pe::parse(&bytes).unwrap_or_else(|e| panic!("{}: not a PE file we can read: {e}", path.display()));
        let what = format!("smcdump.dll for {release}");
        assert_eq!(pe.machine, 0x8664, "{what}: machine is not x86-64");
        assert!(pe.is_dll, "{what}: the DLL flag is not set");

        // Exports.
        let exports = pe.exports().unwrap_or_else(|e| panic!("{what}: export table: {e}"));
        assert_eq!(exports.dll_name, "smcdump.dll", "{what}: export table's DLL name");
        let names: BTreeSet<&str> = exports.symbols.iter().map(|(n, _)| n.as_str()).collect();
        let expected: BTreeSet<&str> = PLUGIN_EXPORTS.into_iter().collect();
        assert_eq!(names, expected, "{what}: exports other than the plugin loader's symbols");
        let (major, minor) = release.split_once('.').expect("releases are major.minor");
        for (name, want) in [("plugin_want_major", major), ("plugin_want_minor", minor)] {
            let value = i32::from_le_bytes(pe.read_export(&exports, name, 4).try_into().expect("4 bytes"));
            assert_eq!(value.to_string(), want, "{what}: {name}");
        }
        let version = pe.read_export(&exports, "plugin_version", env!("CARGO_PKG_VERSION").len() + 1);
        assert_eq!(version, format!("{}\0", env!("CARGO_PKG_VERSION")).as_bytes(), "{what}: plugin_version");

        // Imports.
        let imports = pe.imports().unwrap_or_else(|e| panic!("{what}: import table: {e}"));
        let mut from_wireshark = BTreeSet::new();
        let mut others = Vec::new();
        for (dll, functions) in &imports {
            let lower = dll.to_ascii_lowercase();
            if lower == WIRESHARK_DLL || lower == WSUTIL_DLL {
                for f in functions {
                    assert_eq!(dll_of(f, release), lower, "{release}: {f} imported from {dll}");
                }
                from_wireshark.extend(functions.iter().cloned());
            } else {
                assert!(
                    SYSTEM_DLLS.contains(&lower.as_str()),
                    "{what}: imports from {dll} ({}), which is neither {WIRESHARK_DLL} nor a reviewed Windows system \
                     DLL",
                    functions.join(", ")
                );
                others.push(format!("{dll} ({})", functions.len()));
            }
        }
        let stray: Vec<&String> = from_wireshark.difference(&declared).collect();
        assert!(
            stray.is_empty(),
            "{what}: imports from {WIRESHARK_DLL} functions functions.h does not declare: {stray:?}"
        );
        let missing: Vec<&String> = called.difference(&from_wireshark).collect();
        assert!(
            missing.is_empty(),
            "{what}: functions src/ calls that are not imported from {WIRESHARK_DLL}: {missing:?}"
        );
        let unused: Vec<&String> = from_wireshark.difference(&called).collect();
        assert!(unused.is_empty(), "{what}: imports src/ never calls: {unused:?}");
        println!(
            "windows_dll: CHECKED {what}: exports {}; imports {} functions from {WIRESHARK_DLL}; system: {}",
            PLUGIN_EXPORTS.join(", "),
            from_wireshark.len(),
            others.join(", ")
        );
    }
    if !uncalled.is_empty() {
        println!("windows_dll: declared in functions.h but never called (so not imported): {uncalled:?}");
    }
}

/// The function names `functions.h` declares: the identifier before the first `(` of each declaration.
fn declared_functions(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut code = String::new();
    let mut rest = text.as_str();
    // Without comments and preprocessor lines.
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        rest = rest[start..].split_once("*/").map_or("", |(_, after)| after);
    }
    code.push_str(rest);
    let code: String = code.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
    let mut names = BTreeSet::new();
    for declaration in code.split(';') {
        if let Some((head, _)) = declaration.split_once('(') {
            let name: String =
                head.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
            let name: String = name.chars().rev().collect();
            assert!(!name.is_empty(), "functions.h: no name before '(' in {declaration:?}");
            names.insert(name);
        }
    }
    assert!(names.len() > 20, "functions.h: only {} declarations found", names.len());
    names
}

/// The declared functions the sources under `src` use: a Rust source's `NAME(`, or a C source's `NAME` (the C
/// shim also hands functions over as pointers), not inside another identifier.
fn called_functions(declared: &BTreeSet<String>, src: &Path) -> BTreeSet<String> {
    let (mut rust, mut c) = (String::new(), String::new());
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            let into = match path.extension().and_then(|e| e.to_str()) {
                _ if path.is_dir() => {
                    dirs.push(path);
                    continue;
                }
                Some("rs") => &mut rust,
                Some("c") => &mut c,
                _ => continue,
            };
            into.push_str(&fs::read_to_string(&path).expect("read a source file"));
            into.push('\n');
        }
    }
    let ident = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    let used = |text: &str, needle: &str, whole: bool| {
        text.match_indices(needle).any(|(at, _)| {
            let before = text[..at].chars().next_back().is_some_and(ident);
            let after = text[at + needle.len()..].chars().next().is_some_and(ident);
            !before && (!whole || !after)
        })
    };
    declared.iter().filter(|name| used(&rust, &format!("{name}("), false) || used(&c, name, true)).cloned().collect()
}

/// The parts of a PE32+ image this test reads.
struct Pe<'a> {
    bytes: &'a [u8],
    machine: u16,
    is_dll: bool,
    /// (virtual address, virtual size, file offset, raw size) of each section.
    sections: Vec<(u32, u32, u32, u32)>,
    /// (RVA, size) of the export and import directories.
    export_dir: (u32, u32),
    import_dir: (u32, u32),
}

struct Exports {
    dll_name: String,
    /// Name and RVA of each exported symbol.
    symbols: Vec<(String, u32)>,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or_else(|| format!("offset {at:#x} out of file"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| format!("offset {at:#x} out of file"))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| format!("offset {at:#x} out of file"))
}

impl<'a> Pe<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.get(..2) != Some(b"MZ") {
            return Err("no MZ header".into());
        }
        let pe = u32_at(bytes, 0x3c)? as usize;
        if bytes.get(pe..pe + 4) != Some(b"PE\0\0") {
            return Err("no PE signature".into());
        }
        let coff = pe + 4;
        let machine = u16_at(bytes, coff)?;
        let nsections = u16_at(bytes, coff + 2)? as usize;
        let optional_size = u16_at(bytes, coff + 16)? as usize;
        let characteristics = u16_at(bytes, coff + 18)?;
        let optional = coff + 20;
        if u16_at(bytes, optional)? != 0x20b {
            return Err("not PE32+".into());
        }
        let ndirs = u32_at(bytes, optional + 108)?;
        if ndirs < 2 {
            return Err("no import directory entry".into());
        }
        let dir = |i: usize| -> Result<(u32, u32), String> {
            Ok((u32_at(bytes, optional + 112 + 8 * i)?, u32_at(bytes, optional + 116 + 8 * i)?))
        };
        let mut sections = Vec::new();
        for i in 0..nsections {
            let s = optional + optional_size + 40 * i;
            sections.push((
                u32_at(bytes, s + 12)?,
                u32_at(bytes, s + 8)?,
                u32_at(bytes, s + 20)?,
                u32_at(bytes, s + 16)?,
            ));
        }
        Ok(Pe {
            bytes,
            machine,
            is_dll: characteristics & 0x2000 != 0,
            sections,
            export_dir: dir(0)?,
            import_dir: dir(1)?,
        })
    }

    /// The file offset of an RVA.
    fn offset(&self, rva: u32) -> Result<usize, String> {
        for &(va, vsize, raw, raw_size) in &self.sections {
            if rva >= va && rva < va + vsize.max(raw_size) {
                return Ok((raw + (rva - va)) as usize);
            }
        }
        Err(format!("RVA {rva:#x} is in no section"))
    }

    fn c_string(&self, rva: u32) -> Result<String, String> {
        let at = self.offset(rva)?;
        let len = self.bytes[at..].iter().position(|&b| b == 0).ok_or("unterminated string")?;
        String::from_utf8(self.bytes[at..at + len].to_vec()).map_err(|e| e.to_string())
    }

    fn exports(&self) -> Result<Exports, String> {
        let (rva, _) = self.export_dir;
        if rva == 0 {
            return Err("no export directory".into());
        }
        let d = self.offset(rva)?;
        let b = self.bytes;
        let dll_name = self.c_string(u32_at(b, d + 12)?)?;
        let nfunctions = u32_at(b, d + 20)? as usize;
        let nnames = u32_at(b, d + 24)? as usize;
        let functions = self.offset(u32_at(b, d + 28)?)?;
        let names = self.offset(u32_at(b, d + 32)?)?;
        let ordinals = self.offset(u32_at(b, d + 36)?)?;
        if nnames != nfunctions {
            return Err(format!("{nfunctions} exported addresses but {nnames} names: some export has no name"));
        }
        let mut symbols = Vec::new();
        for i in 0..nnames {
            let name = self.c_string(u32_at(b, names + 4 * i)?)?;
            let index = u16_at(b, ordinals + 2 * i)? as usize;
            symbols.push((name, u32_at(b, functions + 4 * index)?));
        }
        Ok(Exports { dll_name, symbols })
    }

    /// `len` bytes at the exported symbol `name`.
    fn read_export(&self, exports: &Exports, name: &str, len: usize) -> &'a [u8] {
        let rva = exports.symbols.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} not exported")).1;
        let at = self.offset(rva).unwrap_or_else(|e| panic!("{name}: {e}"));
        &self.bytes[at..at + len]
    }

    /// Each imported DLL with the names of the functions imported from it (`#N` for an import by ordinal).
    fn imports(&self) -> Result<Vec<(String, Vec<String>)>, String> {
        let (rva, _) = self.import_dir;
        if rva == 0 {
            return Err("no import directory".into());
        }
        let b = self.bytes;
        let mut d = self.offset(rva)?;
        let mut out = Vec::new();
        loop {
            let lookup = u32_at(b, d)?;
            let name = u32_at(b, d + 12)?;
            let iat = u32_at(b, d + 16)?;
            if lookup == 0 && name == 0 && iat == 0 {
                break;
            }
            let dll = self.c_string(name)?;
            let mut thunk = self.offset(if lookup != 0 { lookup } else { iat })?;
            let mut functions = Vec::new();
            loop {
                let entry = u64_at(b, thunk)?;
                if entry == 0 {
                    break;
                }
                if entry & (1 << 63) != 0 {
                    functions.push(format!("#{}", entry & 0xffff));
                } else {
                    functions.push(self.c_string(entry as u32 + 2)?); // after the 2-byte hint
                }
                thunk += 8;
            }
            out.push((dll, functions));
            d += 20;
        }
        Ok(out)
    }
}
