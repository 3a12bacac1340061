//! The committed fuzz inputs as unit tests: every seed and every regression (an input that
//! once crashed a target) runs through its entry point on every `cargo test`, and the seeds
//! this crate can make are checked to be current (`VOUCH_BLESS=1` rewrites them).

use super::*;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every target of `fuzz/Cargo.toml` this build has an entry point for.
fn targets() -> Vec<String> {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "vouch-fuzz")
        .map(str::to_owned)
        .collect()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn every_target_has_an_entry_point_and_seeds_and_they_replay() {
    let targets = targets();
    assert!(targets.len() >= 12, "targets: {targets:?}");
    let mut ran = 0;
    for t in &targets {
        let Some(f) = entry(t) else {
            // Only the identity targets need the `vc` feature.
            assert!(
                !cfg!(feature = "vc") && ["personhood", "credential"].contains(&t.as_str()),
                "no entry point for fuzz target {t}"
            );
            continue;
        };
        let seeds = files(&fuzz_dir().join("seeds").join(t));
        assert!(!seeds.is_empty(), "no seeds for fuzz target {t}");
        for path in seeds
            .iter()
            .chain(&files(&fuzz_dir().join("regressions").join(t)))
        {
            f(&std::fs::read(path).unwrap());
            ran += 1;
        }
    }
    assert!(ran > 80, "{ran} inputs replayed");
}

/// Seeds that depend on randomness inside the code that makes them (personhood proofs are
/// randomized): their presence is checked, not their bytes.
const RANDOMIZED: &[&str] = &["personhood"];

#[test]
fn seeds_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let n = write_seeds(dir.path()).unwrap();
    assert!(n >= 20, "{n} seeds");
    let bless = std::env::var_os("VOUCH_BLESS").is_some();
    for target in std::fs::read_dir(dir.path()).unwrap() {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_owned();
        let committed = fuzz_dir().join("seeds").join(&name);
        for made in files(&target) {
            let there = committed.join(made.file_name().unwrap());
            let bytes = std::fs::read(&made).unwrap();
            if bless {
                std::fs::create_dir_all(&committed).unwrap();
                std::fs::write(&there, &bytes).unwrap();
            } else if RANDOMIZED.contains(&name.to_str().unwrap()) {
                assert!(there.exists(), "missing seed {}", there.display());
            } else {
                let old = std::fs::read(&there).unwrap_or_default();
                assert!(
                    old == bytes,
                    "seed {} is not current: run VOUCH_BLESS=1 cargo test -p vouch-node fuzz",
                    there.display()
                );
            }
        }
    }
}

#[test]
fn objects_in_reverse_order_give_the_same_state() {
    // The community seed, checked directly: its objects apply in either order to the same
    // decisions (objects_state asserts it), and the frame reads back what was written.
    let objects = seed_objects();
    let bytes: Vec<&[u8]> = objects.iter().map(|o| o.bytes()).collect();
    let framed = frame_objects(&bytes);
    assert_eq!(split_objects(&framed), bytes);
    objects_state(&framed);
}
