//! Conformance of our Wireshark declarations (`wireshark-headers/`) with the real installed Wireshark headers.
//!
//! For every ABI folder `wireshark-headers/<abi>/` the test finds a Wireshark of that release — the host's own
//! development files, or else the Debian chroot made by `scripts/ensure-chroot` — and checks three kinds of facts:
//!
//! 1. Functions and typedefs: a probe includes the real headers, then `common/types.h` and `common/functions.h`
//!    (with the typedefs and `WS_*` macros of `<abi>/abi.h`). C rejects a redeclaration of a function or a typedef
//!    with a different type, so `gcc -fsyntax-only -Werror` failing is a mismatch. Before our files the probe also
//!    names every function and typedef we declare, so one the real headers lack is an error too (a redeclaration
//!    alone would not catch it).
//! 2. Struct layouts: `sizeof` of every struct in `common/structs.h` and `offsetof`/`sizeof` of every member we
//!    declare (and of the declared prefix of `struct _packet_info` in `<abi>/packet_info.h`).
//! 3. Constants: every enum member and every `#define` of a value in `common/constants.h` and `<abi>/abi.h`;
//!    `SMCDUMP_WS_MAJOR`/`MINOR` against `WIRESHARK_VERSION_MAJOR`/`MINOR`.
//!
//! 2 and 3 are one generated probe compiled twice — against our `<abi>/epan.h` and against the real headers —
//! whose two outputs must be equal. Declarations are read from our header files (one member per line, but the
//! parser works on tokens, so layout does not matter).
//!
//! ABIs without a Wireshark to compare with are reported as SKIPPED, or fail the test when
//! `SMCDUMP_REQUIRE_ALL_ABIS=1`. Chroots need root.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Structs declared as a prefix of the real one: no `sizeof` comparison for them.
const PREFIX_ONLY: [&str; 2] = ["struct _packet_info", "struct field_info"];

/// Constants of ours that the real headers spell differently.
const REAL_ALIASES: [(&str, &str); 2] =
    [("SMCDUMP_WS_MAJOR", "WIRESHARK_VERSION_MAJOR"), ("SMCDUMP_WS_MINOR", "WIRESHARK_VERSION_MINOR")];

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn our_headers() -> PathBuf {
    manifest_dir().join("wireshark-headers")
}

/// Prints past the test harness's output capture, so the summary is shown for passing tests as well.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------------------------------------------
// Reading our headers.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(String),
    Punct(char),
}

impl Tok {
    fn is(&self, c: char) -> bool {
        *self == Tok::Punct(c)
    }
    fn ident(&self) -> Option<&str> {
        match self {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Num(s) => s.clone(),
            Tok::Punct(c) => c.to_string(),
        }
    }
}

/// Removes `/* */` and `//` comments, keeping line breaks.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Splits a comment-free header into preprocessor directives (continuations joined) and the remaining code.
fn split_directives(src: &str) -> (Vec<String>, String) {
    let mut directives = Vec::new();
    let mut code = String::new();
    let mut pending: Option<String> = None;
    for line in src.lines() {
        if let Some(mut d) = pending.take() {
            d.push(' ');
            d.push_str(line.trim_end_matches('\\'));
            if line.ends_with('\\') {
                pending = Some(d);
            } else {
                directives.push(d);
            }
        } else if line.trim_start().starts_with('#') {
            let d = line.trim().trim_end_matches('\\').to_string();
            if line.ends_with('\\') {
                pending = Some(d);
            } else {
                directives.push(d);
            }
        } else {
            code.push_str(line);
            code.push('\n');
        }
    }
    directives.extend(pending);
    (directives, code)
}

fn tokenize(code: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let cs: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Ident(cs[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '.') {
                i += 1;
            }
            toks.push(Tok::Num(cs[start..i].iter().collect()));
        } else if c == '.' && cs.get(i + 1) == Some(&'.') && cs.get(i + 2) == Some(&'.') {
            toks.push(Tok::Ident("...".into()));
            i += 3;
        } else if "{}()[];,*=<>|&~^+-/%:!?".contains(c) {
            toks.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?} in C declarations"));
        }
    }
    Ok(toks)
}

/// Splits `toks` at `sep` where no bracket is open; drops empty pieces.
fn split_top(toks: &[Tok], sep: char) -> Vec<Vec<Tok>> {
    let mut parts = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        match t {
            Tok::Punct('{' | '(' | '[') => depth += 1,
            Tok::Punct('}' | ')' | ']') => depth -= 1,
            _ => {}
        }
        if depth == 0 && t.is(sep) {
            parts.push(Vec::new());
        } else {
            parts.last_mut().expect("never empty").push(t.clone());
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// The name a declarator declares: `x`, `*x`, `x[4]`, `x : 3`, `(*x)(int)`, `(* const x)(void)`.
fn declarator_name(toks: &[Tok]) -> Option<String> {
    if let Some(i) = toks.windows(2).position(|w| w[0].is('(') && w[1].is('*')) {
        return toks[i + 1..]
            .iter()
            .filter_map(Tok::ident)
            .find(|s| !matches!(*s, "const" | "volatile" | "restrict"))
            .map(str::to_string);
    }
    let end = toks.iter().position(|t| t.is('[') || t.is(':')).unwrap_or(toks.len());
    toks[..end].iter().rev().find_map(Tok::ident).map(str::to_string)
}

/// A struct we declare, with the members in declaration order.
#[derive(Debug, Clone, PartialEq)]
struct StructDecl {
    /// How C names it: `struct tag`, or the typedef name of an anonymous struct.
    c_name: String,
    members: Vec<String>,
}

/// What one ABI's declarations (common/ plus <abi>/abi.h) declare.
#[derive(Debug, Default)]
struct Decls {
    structs: Vec<StructDecl>,
    /// Enum members and value macros, in file order.
    constants: Vec<String>,
    functions: Vec<String>,
    /// Typedef names of common/, which the real headers must declare too.
    typedefs: Vec<String>,
    /// From abi.h: its `#include <…>`s, typedefs and `WS_*` macros, for the function probe.
    abi_prelude: Vec<String>,
}

/// Whether a macro body is a value: numbers, parentheses and operators only.
fn is_value(body: &str) -> bool {
    match tokenize(body) {
        Ok(toks) => {
            toks.iter().any(|t| matches!(t, Tok::Num(_)))
                && toks.iter().all(|t| match t {
                    Tok::Num(n) => n
                        .trim_end_matches(['u', 'U', 'l', 'L'])
                        .strip_prefix("0x")
                        .or_else(|| n.trim_end_matches(['u', 'U', 'l', 'L']).strip_prefix("0X"))
                        .map_or_else(
                            || n.trim_end_matches(['u', 'U', 'l', 'L']).chars().all(|c| c.is_ascii_digit()),
                            |h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()),
                        ),
                    Tok::Punct(c) => "()<>|&~^+-*/%".contains(*c),
                    Tok::Ident(_) => false,
                })
        }
        Err(_) => false,
    }
}

/// Reads one of our header files into `decls`. `is_abi` marks `<abi>/abi.h`.
fn parse_file(path: &Path, is_abi: bool, decls: &mut Decls) -> Result<(), String> {
    let src = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (directives, code) = split_directives(&strip_comments(&src));
    let what = |msg: String| format!("{}: {msg}", path.display());

    for d in &directives {
        let body = d.trim_start_matches('#').trim_start();
        if let Some(def) = body.strip_prefix("define") {
            let def = def.trim();
            let name_end = def.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(def.len());
            let (name, value) = def.split_at(name_end);
            if value.starts_with('(') {
                continue; // a function-like macro
            }
            if is_value(value) {
                decls.constants.push(name.to_string());
            } else if is_abi && name.starts_with("WS_") {
                decls.abi_prelude.push(format!("#define {name} {}", value.trim()));
            }
        } else if is_abi && body.starts_with("include") && body.contains('<') {
            decls.abi_prelude.push(format!("#{body}"));
        }
    }

    let toks = tokenize(&code).map_err(what)?;
    for stmt in split_top(&toks, ';') {
        let brace = stmt.iter().position(|t| t.is('{'));
        let is_typedef = stmt.first().is_some_and(|t| t.ident() == Some("typedef"));
        match brace {
            Some(open) => {
                let close = stmt.iter().rposition(|t| t.is('}')).ok_or_else(|| what("unbalanced braces".into()))?;
                let head: Vec<&str> = stmt[..open].iter().filter_map(Tok::ident).collect();
                let body = &stmt[open + 1..close];
                let after = stmt[close + 1..].iter().find_map(Tok::ident).map(str::to_string);
                let kind = head
                    .iter()
                    .position(|s| matches!(*s, "struct" | "union" | "enum"))
                    .ok_or_else(|| what(format!("cannot read the definition {:?}", head)))?;
                let tag = head.get(kind + 1).map(|s| s.to_string());
                if is_typedef {
                    if let Some(name) = &after {
                        if !is_abi {
                            decls.typedefs.push(name.clone());
                        }
                    }
                }
                match head[kind] {
                    "enum" => {
                        for item in split_top(body, ',') {
                            let name = item
                                .first()
                                .and_then(Tok::ident)
                                .ok_or_else(|| what("cannot read an enum member".into()))?;
                            decls.constants.push(name.to_string());
                        }
                    }
                    keyword => {
                        let c_name = match (&tag, &after) {
                            (Some(tag), _) => format!("{keyword} {tag}"),
                            (None, Some(name)) if is_typedef => name.clone(),
                            _ => return Err(what(format!("an anonymous {keyword} without a typedef name"))),
                        };
                        if body.iter().any(|t| t.is('{')) {
                            return Err(what(format!(
                                "{c_name} has a nested struct or union, which this checker does not read"
                            )));
                        }
                        let mut members = Vec::new();
                        for member in split_top(body, ';') {
                            for (i, declarator) in split_top(&member, ',').iter().enumerate() {
                                let name = declarator_name(declarator).ok_or_else(|| {
                                    what(format!("cannot read member {} of {c_name}", members.len() + i + 1))
                                })?;
                                members.push(name);
                            }
                        }
                        if members.is_empty() {
                            return Err(what(format!("{c_name} declares no members")));
                        }
                        decls.structs.push(StructDecl { c_name, members });
                    }
                }
            }
            None if is_typedef => {
                let name = split_top(&stmt[1..], ',')
                    .iter()
                    .map(|d| declarator_name(d))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| what("cannot read a typedef".into()))?;
                if is_abi {
                    let text: Vec<String> = stmt.iter().map(Tok::text).collect();
                    decls.abi_prelude.push(format!("{};", text.join(" ")));
                } else {
                    decls.typedefs.extend(name);
                }
            }
            None => {
                // A function declaration: the name is the identifier before the first top-level '('.
                let open = stmt.iter().position(|t| t.is('('));
                let name = open.and_then(|i| i.checked_sub(1)).and_then(|i| stmt[i].ident());
                match name {
                    Some(name) => decls.functions.push(name.to_string()),
                    None => {
                        let text: Vec<String> = stmt.iter().map(Tok::text).collect();
                        return Err(what(format!("cannot read the declaration `{}`", text.join(" "))));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Reads the declarations of one ABI from a `wireshark-headers`-shaped folder.
fn parse_abi(headers: &Path, abi: &str) -> Result<Decls, String> {
    let mut decls = Decls::default();
    for file in ["constants.h", "types.h", "structs.h", "functions.h"] {
        parse_file(&headers.join("common").join(file), false, &mut decls)?;
    }
    parse_file(&headers.join(abi).join("abi.h"), true, &mut decls)?;
    // The release's packet_info prefix and tree node: layout-checked like common/structs.h.
    for file in ["packet_info.h", "proto_node.h", "tcpinfo.h", "conv_hash.h"] {
        let path = headers.join(abi).join(file);
        if path.is_file() {
            parse_file(&path, false, &mut decls)?;
        }
    }
    Ok(decls)
}

// ---------------------------------------------------------------------------------------------------------------
// Generating the probes.
// ---------------------------------------------------------------------------------------------------------------

/// The function/typedef probe: real headers, proof each name exists there, then our declarations on top.
fn function_probe(decls: &Decls) -> String {
    let mut c =
        String::from("/* Generated by tests/conformance.rs: our functions and typedefs over the real ones. */\n");
    c.push_str("#include \"real_includes.h\"\n");
    c.push_str("\n/* From abi.h: only its typedefs and WS_* macros (a function's name may be one). */\n");
    for line in &decls.abi_prelude {
        c.push_str(line);
        c.push('\n');
    }
    c.push_str("\n/* Each name we declare must be declared by the real headers. */\n");
    for t in &decls.typedefs {
        c.push_str(&format!("typedef {t} smcdump_probe_typedef_{t};\n"));
    }
    for f in &decls.functions {
        c.push_str(&format!("typedef __typeof__({f}) smcdump_probe_function_{f};\n"));
    }
    c.push_str("\n/* Our declarations: any difference from the real ones is a conflicting redeclaration. */\n");
    c.push_str("#include \"common/types.h\"\n#include \"common/functions.h\"\n");
    c
}

/// The layout and constant probe; see tests/conformance/layout_probe.h.
fn layout_probe(decls: &Decls) -> String {
    let mut c = String::from("/* Generated by tests/conformance.rs: layouts and constants. */\n");
    c.push_str("#include \"layout_probe.h\"\n\nint main(void)\n{\n");
    for s in &decls.structs {
        if !PREFIX_ONLY.contains(&s.c_name.as_str()) {
            c.push_str(&format!("    PROBE_SIZEOF({});\n", s.c_name));
        }
        for m in &s.members {
            c.push_str(&format!("    PROBE_MEMBER({}, {m});\n", s.c_name));
        }
    }
    for k in &decls.constants {
        c.push_str(&format!("    PROBE_CONST({k});\n"));
    }
    c.push_str("    return 0;\n}\n");
    c
}

// ---------------------------------------------------------------------------------------------------------------
// Where a release's headers are: the host, or a chroot.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Toolchain {
    Host,
    Chroot(PathBuf),
}

impl Toolchain {
    fn describe(&self) -> String {
        match self {
            Toolchain::Host => "host".into(),
            Toolchain::Chroot(dir) => format!("chroot {}", dir.display()),
        }
    }

    /// A fresh work folder: (path from here, path as the toolchain sees it).
    fn work_dir(&self) -> Result<(PathBuf, String), String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("smcdump-conformance-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let (outside, inside) = match self {
            Toolchain::Host => {
                let p = std::env::temp_dir().join(&name);
                let s = p.to_string_lossy().into_owned();
                (p, s)
            }
            Toolchain::Chroot(dir) => (dir.join("tmp").join(&name), format!("/tmp/{name}")),
        };
        let _ = fs::remove_dir_all(&outside);
        fs::create_dir_all(&outside).map_err(|e| format!("cannot create {}: {e}", outside.display()))?;
        Ok((outside, inside))
    }

    /// Runs a shell script in `dir` (the toolchain's view of it), in the C locale.
    fn sh(&self, dir: &str, script: &str) -> Result<Output, String> {
        let script = format!("cd '{dir}' && {script}");
        let mut cmd = match self {
            Toolchain::Host => {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", &script]);
                cmd
            }
            Toolchain::Chroot(root) => {
                let mut cmd = Command::new("chroot");
                cmd.arg(root).args(["/bin/sh", "-c", &script]);
                cmd.env_clear().env("PATH", PATH).env("HOME", "/root");
                cmd
            }
        };
        cmd.env("LC_ALL", "C").output().map_err(|e| format!("cannot run `{script}` on the {}: {e}", self.describe()))
    }

    /// The `pkg-config --modversion wireshark` of this toolchain.
    fn wireshark_version(&self) -> Option<String> {
        let out = self.sh("/", "pkg-config --modversion wireshark").ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !v.is_empty()).then_some(v)
    }
}

fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The toolchain holding Wireshark `abi`, or why there is none.
fn toolchain_for(abi: &str) -> Result<Toolchain, String> {
    if Toolchain::Host.wireshark_version().is_some_and(|v| major_minor(&v) == abi) {
        return Ok(Toolchain::Host);
    }
    let name = smcdump::releases::find(abi)
        .map(|r| r.suite)
        .unwrap_or_else(|| panic!("Wireshark {abi} is not in wireshark-headers/releases.tsv"));
    let dir = support::chroot_dir().join(name);
    if !dir.is_dir() {
        return Err(format!("chroot {} missing (run scripts/ensure-chroot {name})", dir.display()));
    }
    if !support::is_root() {
        return Err(format!("chroot {} needs root (run the test as root or with sudo)", dir.display()));
    }
    Ok(Toolchain::Chroot(dir))
}

// ---------------------------------------------------------------------------------------------------------------
// The check.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Summary {
    version: String,
    functions: usize,
    typedefs: usize,
    structs: usize,
    members: usize,
    constants: usize,
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| format!("cannot copy {} to {}: {e}", entry.path().display(), target.display()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The compiler's error lines (with their notes), or all of stderr when it has none.
fn compiler_errors(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error") || l.contains("note:")).collect();
    let text = if lines.is_empty() { stderr.trim().to_string() } else { lines.join("\n") };
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// `key = value` lines of a probe's output.
fn parse_probe_output(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(|l| {
            l.rsplit_once(" = ")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("unexpected probe output line {l:?}"))
        })
        .collect()
}

/// Every difference between the two probe outputs, one line each.
fn compare_outputs(ours: &[(String, String)], real: &[(String, String)]) -> Vec<String> {
    let real_map: BTreeMap<&str, &str> = real.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut problems = Vec::new();
    for (k, v) in ours {
        match real_map.get(k.as_str()) {
            Some(r) if r == v => {}
            Some(r) => problems.push(format!("{k}: ours {v}, real {r}")),
            None => problems.push(format!("{k}: ours {v}, real (not printed)")),
        }
    }
    if ours.len() != real.len() {
        problems.push(format!("the probes printed {} lines (ours) and {} (real)", ours.len(), real.len()));
    }
    problems
}

/// Checks the declarations of `abi` in `headers` (a `wireshark-headers`-shaped folder) against `toolchain`'s
/// real Wireshark headers. Err lists every mismatch found.
fn check_abi(headers: &Path, abi: &str, toolchain: &Toolchain) -> Result<Summary, String> {
    let decls = parse_abi(headers, abi)?;
    for (ours, _) in REAL_ALIASES {
        if !decls.constants.iter().any(|c| c == ours) {
            return Err(format!("{abi}/abi.h does not define {ours}"));
        }
    }
    if let Some(c) =
        decls.constants.iter().find(|c| c.starts_with("SMCDUMP_") && !REAL_ALIASES.iter().any(|(o, _)| o == c))
    {
        return Err(format!("{c} has no counterpart in the real headers known to the checker (REAL_ALIASES)"));
    }

    let (outside, inside) = toolchain.work_dir()?;
    let result = run_probes(headers, abi, toolchain, &decls, &outside, &inside);
    if std::env::var_os("SMCDUMP_CONFORMANCE_KEEP").is_none() {
        let _ = fs::remove_dir_all(&outside);
    }
    let version = result?;
    Ok(Summary {
        version,
        functions: decls.functions.len(),
        typedefs: decls.typedefs.len(),
        structs: decls.structs.len(),
        members: decls.structs.iter().map(|s| s.members.len()).sum(),
        constants: decls.constants.len(),
    })
}

/// Stages and runs the probes; returns the real Wireshark's version.
fn run_probes(
    headers: &Path,
    abi: &str,
    toolchain: &Toolchain,
    decls: &Decls,
    outside: &Path,
    inside: &str,
) -> Result<String, String> {
    let helpers = manifest_dir().join("tests").join("conformance");
    for f in ["real_includes.h", "layout_probe.h"] {
        fs::copy(helpers.join(f), outside.join(f)).map_err(|e| format!("cannot copy {f}: {e}"))?;
    }
    copy_dir(&headers.join("common"), &outside.join("hdr").join("common"))?;
    copy_dir(&headers.join(abi), &outside.join("hdr").join(abi))?;
    write(&outside.join("functions_probe.c"), &function_probe(decls))?;
    write(&outside.join("layout_probe.c"), &layout_probe(decls))?;

    let mut problems = Vec::new();
    let version = toolchain
        .sh(inside, "pkg-config --modversion wireshark")
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .ok_or_else(|| format!("no Wireshark development files on the {}", toolchain.describe()))?;

    // 1. Functions and typedefs.
    let out = toolchain.sh(
        inside,
        "set -e; CF=$(pkg-config --cflags wireshark); gcc -std=gnu11 -Werror -fsyntax-only $CF -Ihdr functions_probe.c",
    )?;
    if !out.status.success() {
        problems.push(format!(
            "functions/typedefs: our declarations conflict with the real ones:\n{}",
            compiler_errors(&out)
        ));
    }

    // 2 and 3. Layouts and constants: the same probe against ours and against the real headers.
    let builds = [
        ("ours", format!("gcc -std=gnu11 -Werror -DSMCDUMP_PROBE_OURS -Ihdr/{abi} -o probe_ours layout_probe.c")),
        (
            "real",
            "set -e; CF=$(pkg-config --cflags wireshark); gcc -std=gnu11 -Werror $CF -o probe_real layout_probe.c"
                .to_string(),
        ),
    ];
    let mut outputs = Vec::new();
    for (which, build) in &builds {
        let out = toolchain.sh(inside, build)?;
        if !out.status.success() {
            problems.push(format!(
                "layouts/constants: the probe does not compile against the {which} headers:\n{}",
                compiler_errors(&out)
            ));
            continue;
        }
        let out = toolchain.sh(inside, &format!("./probe_{which}"))?;
        if !out.status.success() {
            problems.push(format!("layouts/constants: probe_{which} failed: {}", compiler_errors(&out)));
            continue;
        }
        outputs.push(parse_probe_output(&String::from_utf8_lossy(&out.stdout))?);
    }
    if let [ours, real] = outputs.as_slice() {
        problems.extend(compare_outputs(ours, real).into_iter().map(|p| format!("layouts/constants: {p}")));
    }

    if problems.is_empty() {
        Ok(version)
    } else {
        Err(format!(
            "Wireshark {version} ({}) differs from wireshark-headers/{abi} (probes in {}{}):\n{}",
            toolchain.describe(),
            outside.display(),
            if std::env::var_os("SMCDUMP_CONFORMANCE_KEEP").is_some() {
                ""
            } else {
                ", removed; set SMCDUMP_CONFORMANCE_KEEP=1 to keep them"
            },
            problems.join("\n")
        ))
    }
}

/// The supported releases (wireshark-headers/releases.tsv), each with its folder of declarations.
fn abis() -> Vec<(String, String)> {
    smcdump::releases::RELEASES.iter().map(|r| (r.release.to_string(), r.headers.to_string())).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------------------------

/// Our declarations equal the real headers of every release we support.
#[test]
fn declarations_match_real_headers() {
    let abis = abis();
    assert!(!abis.is_empty(), "wireshark-headers/releases.tsv lists no release");
    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for (abi, folder) in &abis {
        let toolchain = match toolchain_for(abi) {
            Ok(t) => t,
            Err(why) => {
                report(&format!("conformance: SKIPPED {abi}: {why}"));
                skipped.push(format!("{abi}: {why}"));
                continue;
            }
        };
        match check_abi(&our_headers(), folder, &toolchain) {
            Ok(s) => {
                report(&format!(
                    "conformance: CHECKED {abi} against Wireshark {} ({}): {} functions, {} typedefs, \
                     {} structs with {} members, {} constants",
                    s.version,
                    toolchain.describe(),
                    s.functions,
                    s.typedefs,
                    s.structs,
                    s.members,
                    s.constants
                ));
                checked.push(abi.clone());
            }
            Err(e) => {
                report(&format!("conformance: FAILED {abi}"));
                failures.push(e);
            }
        }
    }
    report(&format!(
        "conformance: ABIs checked: {}; skipped: {}",
        if checked.is_empty() { "none".into() } else { checked.join(", ") },
        if skipped.is_empty() { "none".into() } else { skipped.len().to_string() }
    ));
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(
        !support::all_required() || skipped.is_empty(),
        "SMCDUMP_REQUIRE_ALL_ABIS=1 but some ABIs were not checked:\n{}",
        skipped.join("\n")
    );
}

/// The parser finds what our headers declare (guards against a checker that silently checks nothing).
#[test]
fn parser_reads_our_headers() {
    for (abi, folder) in abis() {
        let d = parse_abi(&our_headers(), &folder).unwrap();
        for c in ["FT_UINT8", "BASE_HEX", "ENC_LITTLE_ENDIAN", "PI_WARN", "HEURISTIC_ENABLE", "HF_REF_TYPE_DIRECT"] {
            assert!(d.constants.iter().any(|k| k == c), "{abi}: {c} not found in {:?}", d.constants);
        }
        for c in ["COL_INFO", "COL_PROTOCOL", "SMCDUMP_WS_MAJOR", "SMCDUMP_WS_MINOR"] {
            assert!(d.constants.iter().any(|k| k == c), "{abi}: {c} not found");
        }
        assert!(!d.constants.iter().any(|k| k.ends_with("_H")), "{abi}: include guard read as a constant");
        let packet_info = d.structs.iter().find(|s| s.c_name == "struct _packet_info").unwrap();
        assert_eq!(packet_info.members[..4], ["current_proto", "cinfo", "presence_flags", "num"]);
        assert_eq!(packet_info.members[packet_info.members.len() - 3..], ["p2p_dir", "private_table", "layers"]);
        let plugin = d.structs.iter().find(|s| s.c_name == "proto_plugin").unwrap();
        assert_eq!(plugin.members, ["register_protoinfo", "register_handoff"]);
        let enum_val = d.structs.iter().find(|s| s.c_name == "enum_val_t").unwrap();
        assert_eq!(enum_val.members, ["name", "description", "value"]);
        let hfi = d.structs.iter().find(|s| s.c_name == "struct _header_field_info").unwrap();
        assert_eq!(hfi.members.first().map(String::as_str), Some("name"));
        assert_eq!(hfi.members.last().map(String::as_str), Some("same_name_next"));
        for f in ["proto_register_plugin", "heur_dissector_add", "expert_add_info_format", "tvb_get_ptr"] {
            assert!(d.functions.iter().any(|k| k == f), "{abi}: function {f} not found");
        }
        for t in ["tvbuff_t", "dissector_t", "heur_dissector_t", "enum_val_t", "hf_ref_type"] {
            assert!(d.typedefs.iter().any(|k| k == t), "{abi}: typedef {t} not found");
        }
        assert!(d.abi_prelude.iter().any(|l| l.contains("ws_heur_bool")), "{abi}: {:?}", d.abi_prelude);
        assert!(d.abi_prelude.iter().any(|l| l.starts_with("#define WS_EXPERT_ADD_INFO_RET")));
        assert!(!d.abi_prelude.iter().any(|l| l.contains("COL_")), "{abi}: COL_* must not reach the function probe");
    }
}

#[test]
fn parser_handles_declarator_forms() {
    let dir = TempDir::new("parser");
    let h = dir.0.join("x.h");
    fs::write(
        &h,
        "#ifndef X_H\n#define X_H\n#define A_VAL (1u << 3)\n#define NOT_A_VALUE some_type *\n\
         #define FN_LIKE(x) (x)\n/* struct commented { int no; }; */\n\
         typedef struct {\n  int a, *b; // two\n  char c[4];\n  unsigned d : 3;\n  void (* const e)(int, int);\n} anon_t;\n\
         struct tagged\n{\n  const char *f;\n};\n\
         typedef struct tagged2 { long g; } tagged2_t;\n\
         enum { E_ONE = 1, E_TWO, };\n\
         typedef int (*cb_t)(void *, int);\n\
         int fmt(const char *format, ...);\n#endif\n",
    )
    .unwrap();
    let mut d = Decls::default();
    parse_file(&h, false, &mut d).unwrap();
    assert_eq!(
        d.structs,
        [
            StructDecl {
                c_name: "anon_t".into(),
                members: vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()]
            },
            StructDecl { c_name: "struct tagged".into(), members: vec!["f".into()] },
            StructDecl { c_name: "struct tagged2".into(), members: vec!["g".into()] },
        ]
    );
    assert_eq!(d.constants, ["A_VAL", "E_ONE", "E_TWO"]);
    assert_eq!(d.typedefs, ["anon_t", "tagged2_t", "cb_t"]);
    assert_eq!(d.functions, ["fmt"]);
}

// --- The checker catches wrong declarations (against Wireshark 4.0, normally the host's). ---

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "smcdump-conformance-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Checks a copy of our headers with `old` replaced by `new` in `file` against Wireshark 4.0 (the host's, or the
/// bookworm chroot's); returns the checker's report, or None when there is no 4.0 to check with (then SKIPPED).
fn check_mutated(file: &str, old: &str, new: &str) -> Option<String> {
    const ABI: &str = "4.0";
    let toolchain = match toolchain_for(ABI) {
        Ok(t) => t,
        Err(why) => {
            assert!(!support::all_required(), "SMCDUMP_REQUIRE_ALL_ABIS=1 but there is no Wireshark {ABI}: {why}");
            report(&format!("conformance: SKIPPED checker test ({file}: {old:?}): no Wireshark {ABI}: {why}"));
            return None;
        }
    };
    let dir = TempDir::new("mutant");
    copy_dir(&our_headers(), &dir.0).unwrap();
    let path = dir.0.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur exactly once in {file}");
    fs::write(&path, text.replace(old, new)).unwrap();
    match check_abi(&dir.0, ABI, &toolchain) {
        Ok(s) => panic!("the checker accepted {file} with {old:?} replaced by {new:?}: {s:?}"),
        Err(e) => Some(e),
    }
}

fn assert_names(report: &str, needles: &[&str]) {
    for n in needles {
        assert!(report.contains(n), "the report does not name {n:?}:\n{report}");
    }
}

#[test]
fn checker_catches_swapped_struct_members() {
    if let Some(r) = check_mutated("common/structs.h", "    int ei;\n    int hf;\n", "    int hf;\n    int ei;\n") {
        assert_names(
            &r,
            &["offsetof(struct expert_field, ei): ours 4, real 0", "offsetof(struct expert_field, hf): ours 0, real 4"],
        );
    }
}

#[test]
fn checker_catches_wrong_member_name() {
    if let Some(r) = check_mutated("common/structs.h", "    int orig_severity;\n", "    int original_severity;\n") {
        assert_names(&r, &["original_severity", "does not compile against the real headers"]);
    }
}

#[test]
fn checker_catches_wrong_member_type() {
    if let Some(r) = check_mutated("common/structs.h", "    uint32_t value;\n", "    uint64_t value;\n") {
        assert_names(&r, &["sizeof(struct _value_string::value): ours 8, real 4"]);
    }
}

#[test]
fn checker_catches_wrong_col_info() {
    if let Some(r) = check_mutated("4.0/abi.h", "#define COL_INFO 28\n", "#define COL_INFO 29\n") {
        assert_names(&r, &["COL_INFO: ours 29, real 28"]);
    }
}

#[test]
fn checker_catches_wrong_enum_value() {
    if let Some(r) = check_mutated("common/constants.h", "FT_UINT16 = 5,", "FT_UINT16 = 6,") {
        assert_names(&r, &["FT_UINT16: ours 6, real 5"]);
    }
}

#[test]
fn checker_catches_wrong_abi_version() {
    if let Some(r) = check_mutated("4.0/abi.h", "#define SMCDUMP_WS_MINOR 0\n", "#define SMCDUMP_WS_MINOR 4\n") {
        assert_names(&r, &["SMCDUMP_WS_MINOR: ours 4, real 0"]);
    }
}

#[test]
fn checker_catches_wrong_parameter_type() {
    if let Some(r) = check_mutated(
        "common/functions.h",
        "const int offset, const int length);",
        "const long offset, const int length);",
    ) {
        assert_names(&r, &["conflicting types for 'tvb_get_ptr'"]);
    }
}

#[test]
fn checker_catches_wrong_typedef() {
    if let Some(r) = check_mutated(
        "common/types.h",
        "typedef struct conversation conversation_t;",
        "typedef struct _conversation conversation_t;",
    ) {
        assert_names(&r, &["conflicting types for 'conversation_t'"]);
    }
}

#[test]
fn checker_catches_wrong_abi_typedef() {
    if let Some(r) =
        check_mutated("4.0/abi.h", "typedef uint32_t ws_boolean_value;", "typedef uint64_t ws_boolean_value;")
    {
        assert_names(&r, &["conflicting types for 'proto_tree_add_boolean'"]);
    }
}

#[test]
fn checker_catches_function_missing_from_real_headers() {
    if let Some(r) = check_mutated("common/functions.h", "void col_clear(", "void col_clear_all(") {
        assert_names(&r, &["'col_clear_all' undeclared"]);
    }
}
