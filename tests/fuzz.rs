//! The fuzz targets of fuzz/ cannot rot: the suite builds every one (`cargo +nightly fuzz build`, which links the
//! pure library as the fuzzers do: without Wireshark) and runs each for a few seconds from the seed corpus of the
//! test captures (examples/fuzz_seeds.rs). A crash, a failed invariant or a build error fails the test. Long runs
//! are for `cargo +nightly fuzz run TARGET` by hand (README "Robustness").

mod support;

use std::path::Path;
use std::process::Command;

/// Seconds each target runs.
const SECONDS: u32 = 10;

fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("cargo")
        .args(args)
        .current_dir(dir)
        // The fuzz crate's own target folder; no variable of this test's cargo leaks into it.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cargo {args:?}: {e}"));
    assert!(out.status.success(), "cargo {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The fuzz targets, as fuzz/Cargo.toml names them.
fn targets() -> Vec<String> {
    let manifest = std::fs::read_to_string(support::repo().join("fuzz/Cargo.toml")).unwrap();
    manifest.lines().filter_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"')).skip(1).map(String::from).collect()
}

#[test]
fn every_fuzz_target_builds_and_runs() {
    let repo = support::repo();
    let targets = targets();
    assert_eq!(targets, ["parse", "dissect", "envelope", "frames"], "fuzz/Cargo.toml's targets");
    let corpus = std::env::temp_dir().join(format!("smcdump-fuzz-{}", std::process::id()));
    let seeds = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--release", "--example", "fuzz_seeds", "--"])
        .arg(&corpus)
        .current_dir(&repo)
        .env("CARGO_TARGET_DIR", repo.join("target/gen"))
        .status()
        .expect("run the seed writer");
    assert!(seeds.success(), "examples/fuzz_seeds failed");
    cargo(&repo, &["+nightly", "fuzz", "build"]);
    for target in &targets {
        let dir = corpus.join(target);
        let time = format!("-max_total_time={SECONDS}");
        let out = cargo(&repo, &["+nightly", "fuzz", "run", target, dir.to_str().unwrap(), "--", &time, "-seed=1"]);
        // libFuzzer's last words: "Done N runs in S second(s)".
        let log = String::from_utf8_lossy(&out.stderr);
        let runs: u64 = log
            .lines()
            .find_map(|l| l.strip_prefix("Done ")?.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{target}: no run count in:\n{log}"));
        assert!(runs > 100, "{target}: only {runs} runs");
        eprintln!("fuzz: {target}: {runs} runs in {SECONDS} s");
    }
    let _ = std::fs::remove_dir_all(&corpus);
}
