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
    let names = |dir: &std::path::Path| -> std::collections::BTreeSet<std::ffi::OsString> {
        let files = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file());
        files.map(|p| p.file_name().unwrap().to_owned()).collect()
    };
    // Every committed capture (and the README describing them) is the generator's, and it writes no other.
    assert_eq!(names(&out), names(&repo.join("test-pcaps")), "the generator's files and the committed ones");
    for name in names(&out) {
        let want = fs::read(repo.join("test-pcaps").join(&name)).unwrap();
        assert!(fs::read(out.join(&name)).unwrap() == want, "{name:?} differs from the generator's output");
    }
    let _ = fs::remove_dir_all(&out);
}
