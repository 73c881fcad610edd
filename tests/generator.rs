//! The committed captures are exactly what the generator writes: regenerating them on a clean tree changes
//! nothing, so test-pcaps/ can always be rebuilt from the encoder.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn regenerated_captures_equal_the_committed_ones() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("smcdump-gen-{}", std::process::id()));
    fs::create_dir_all(&out).unwrap();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--release", "--example", "gen_test_pcaps", "--"])
        .arg(&out)
        .current_dir(&repo)
        // Its own target folder: the test's cargo still holds the lock on the main one.
        .env("CARGO_TARGET_DIR", repo.join("target/gen"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run the generator");
    assert!(status.success(), "the generator failed");
    let mut compared = 0;
    for entry in fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let committed = repo.join("test-pcaps").join(&name);
        let want = fs::read(&committed).unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
        assert!(fs::read(&path).unwrap() == want, "{name:?} differs from the generator's output");
        compared += 1;
    }
    assert!(compared >= 7, "the generator wrote only {compared} files");
    let _ = fs::remove_dir_all(&out);
}
