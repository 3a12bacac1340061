//! End to end: `vouch eval signed` and `vouch eval sybil` on a tiny generated file print the
//! protocol's last line.
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
