//! End to end: `vouch eval signed`, `vouch eval sybil` and `vouch eval attack` on a tiny
//! generated file print the protocol's last line (and the lines the protocols ask for).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::Command;

/// A small SNAP-style CSV: 60 nodes, ring-and-chords trust, every 5th rating negative.
fn tiny_csv() -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    let mut t = 1_289_241_911.5;
    for a in 0..60u32 {
        for step in [1u32, 7, 13, 29] {
            let b = (a + step) % 60;
            let rating = if (a + step) % 5 == 0 {
                -10
            } else {
                1 + (a % 10) as i32
            };
            writeln!(f, "{a},{b},{rating},{t}").unwrap();
            t += 1.25;
        }
    }
    f.flush().unwrap();
    f
}

fn last_line(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().last().unwrap().to_string()
}

fn field(line: &str, name: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn eval_signed_prints_auc_and_coverage_last() {
    let f = tiny_csv();
    let line = last_line(&["eval", "signed", f.path().to_str().unwrap(), "--seed", "1"]);
    assert!(line.starts_with("auc="), "{line}");
    let (auc, coverage) = (field(&line, "auc"), field(&line, "coverage"));
    assert!((0.0..=1.0).contains(&auc), "{line}");
    assert!(coverage > 0.5 && coverage <= 1.0, "{line}");
}

#[test]
fn eval_sybil_prints_mass_and_top100_last() {
    let f = tiny_csv();
    let path = f.path().to_str().unwrap();
    let line = last_line(&[
        "eval",
        "sybil",
        path,
        "--sybils",
        "30",
        "--attack-edges",
        "2",
        "--viewers",
        "5",
    ]);
    assert!(line.starts_with("sybil_mass="), "{line}");
    let (mass, top) = (field(&line, "sybil_mass"), field(&line, "top100"));
    assert!((0.0..0.5).contains(&mass), "{line}");
    assert!((0.0..=1.0).contains(&top), "{line}");
    // Without attack edges the sybils get nothing.
    let line = last_line(&[
        "eval",
        "sybil",
        path,
        "--sybils",
        "30",
        "--attack-edges",
        "0",
        "--viewers",
        "5",
    ]);
    assert_eq!(field(&line, "sybil_mass"), 0.0, "{line}");
}

#[test]
fn eval_json_lines_carry_the_same_figures() {
    let f = tiny_csv();
    let path = f.path().to_str().unwrap();
    let text = last_line(&["eval", "signed", path, "--seed", "1"]);
    let json = last_line(&["eval", "signed", path, "--seed", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["auc"].as_f64().unwrap(), field(&text, "auc"), "{json}");
    assert_eq!(v["coverage"].as_f64().unwrap(), field(&text, "coverage"));
}

/// All output lines of a run.
fn lines(args: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn eval_signed_reports_viewer_auc_and_the_temporal_split() {
    let f = tiny_csv();
    let out = lines(&["eval", "signed", f.path().to_str().unwrap(), "--seed", "1"]);
    let last = out.last().unwrap();
    assert!(last.starts_with("auc="), "{last}");
    let viewer_auc = field(last, "viewer_auc");
    assert!((0.0..=1.0).contains(&viewer_auc), "{last}");
    // Both splits, every baseline the protocol names, each with its viewer AUC except the
    // pooled-only harshness baseline.
    for method in [
        "vouch",
        "ppr-distrust",
        "ppr-distrust+recip",
        "positive-share",
        "positive-share+recip",
    ] {
        for split in ["split=temporal ", "seed=1 "] {
            let line = out
                .iter()
                .find(|l| l.starts_with(split) && l.contains(&format!("method={method} ")))
                .unwrap_or_else(|| panic!("no {split}{method} in {out:?}"));
            assert!(line.contains("viewer_auc="), "{line}");
        }
    }
    let harsh = out
        .iter()
        .find(|l| l.starts_with("seed=1 method=harshness "))
        .unwrap();
    assert!(!harsh.contains("viewer_auc"), "{harsh}");
    // Vouch alone, one thread: the same Vouch figures.
    let alone = lines(&[
        "eval",
        "signed",
        f.path().to_str().unwrap(),
        "--seed",
        "1",
        "--no-baselines",
        "--threads",
        "1",
    ]);
    assert_eq!(alone.last(), out.last());
    assert!(!alone.iter().any(|l| l.contains("method=ppr")));
    // The cheap baselines only: the global shares, no personalized PageRank.
    let global = lines(&[
        "eval",
        "signed",
        f.path().to_str().unwrap(),
        "--seed",
        "1",
        "--baselines",
        "global",
    ]);
    assert_eq!(global.last(), out.last());
    assert!(!global.iter().any(|l| l.contains("method=ppr")));
    assert!(global
        .iter()
        .any(|l| l.starts_with("seed=1 method=positive-share+recip ")));
}

#[test]
fn eval_attack_prints_the_four_attacks_last() {
    let f = tiny_csv();
    let path = f.path().to_str().unwrap();
    let args = [
        "eval",
        "attack",
        path,
        "--seed",
        "0",
        "--viewers",
        "5",
        "--sybils",
        "30",
        "--attack-edges",
        "3",
    ];
    let out = lines(&args);
    let last = out.last().unwrap();
    assert!(last.starts_with("kept_lone="), "{last}");
    for name in [
        "kept_lone",
        "kept_sybil",
        "ring_top100",
        "concentrated_mass",
    ] {
        let x = field(last, name);
        assert!((0.0..=1.0).contains(&x), "{name} in {last}");
    }
    // The concentrated attack stays within its bound: the compromised key's own share.
    let conc = out
        .iter()
        .find(|l| l.starts_with("mean attack=concentrated"))
        .unwrap();
    assert!(
        field(conc, "sybil_mass") <= field(conc, "bound") + 1e-6,
        "{conc}"
    );
    assert_eq!(field(conc, "within_bound"), 1.0, "{conc}");
    // One attack alone, as JSON: the same figure.
    let mut one = args.to_vec();
    one.extend(["--attack", "lone-smear", "--json"]);
    let json: serde_json::Value = serde_json::from_str(lines(&one).last().unwrap()).unwrap();
    assert_eq!(
        json["kept_lone"].as_f64().unwrap(),
        field(last, "kept_lone")
    );
}
