//! `vouch node bench-ingest --json` and `vouch node bench-sync --json`, run as the real binary
//! on small inputs: the JSON documents carry the figures the text prints.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn vouch_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON document: {text}");
    serde_json::from_str(text.trim()).unwrap()
}

#[test]
fn bench_ingest_json_has_every_variant_and_the_ratios() {
    let doc = vouch_json(&[
        "node",
        "bench-ingest",
        "--n",
        "1500",
        "--rounds",
        "1",
        "--json",
    ]);
    assert_eq!(doc["objects"], 1500);
    let variants = doc["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 6);
    for v in variants {
        assert!(v["objects_per_s"].as_f64().unwrap() > 0.0, "{v}");
        assert_eq!(v["rounds"].as_array().unwrap().len(), 1);
    }
    let e2e = variants[5]["objects_per_s"].as_f64().unwrap();
    let raw = variants[1]["objects_per_s"].as_f64().unwrap();
    let ratio = doc["end_to_end_over_raw_verify"].as_f64().unwrap();
    // The rates are rounded to whole objects per second, the ratio is not.
    assert!((ratio - e2e / raw).abs() <= 0.01 * ratio, "{doc}");
}

#[test]
fn bench_sync_json_finds_every_difference() {
    let doc = vouch_json(&[
        "node",
        "bench-sync",
        "--n",
        "5000",
        "--diff-percent",
        "2",
        "--session-items",
        "1024",
        "--json",
    ]);
    assert_eq!(doc["differing"], 100);
    assert_eq!(doc["full_list_bytes"], 5000 * 32);
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for c in cases {
        assert_eq!(c["missing"], 100, "{c}");
        let sent = c["bytes_sent"].as_u64().unwrap() + c["bytes_received"].as_u64().unwrap();
        let share = c["share_of_full_list"].as_f64().unwrap();
        assert!((share - sent as f64 / (5000.0 * 32.0)).abs() < 1e-9);
        assert_eq!(c["sessions"].as_array().unwrap().len(), 1);
    }
    // The newest objects missing: the spec's bound of 3 round trips.
    assert!(
        cases[0]["round_trips"].as_u64().unwrap() <= 3,
        "{}",
        cases[0]
    );
}
