//! End-to-end tests of `vouch identity new`, `vouch credential issue|verify|show|revoke` and
//! `vouch link`, running the real binary on a temporary key folder.
#![cfg(feature = "vc")]
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn vouch(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vouch"))
        .args(args)
        .env("VOUCH_KEY_DIR", dir.join("keys"))
        .env_remove("VOUCH_HOME")
        // No node of the user's is ever reached (`key new` publishes its commitment to one).
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("xdg"))
        .env_remove("VOUCH_DATA_DIR")
        .env_remove("VOUCH_NODE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn credential_lifecycle_and_link() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let issuer = vouch(d, &["identity", "new", "--name", "issuer"]);
    assert!(issuer.status.success(), "{issuer:?}");
    let holder = stdout(&vouch(d, &["identity", "new"]));
    assert!(holder.starts_with("did:key:z6Mk"), "{holder}");
    assert_eq!(stdout(&vouch(d, &["identity", "show"])), holder);
    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&vouch(d, &["identity", "show", "--json"]))).unwrap();
    assert_eq!(shown["did"], holder.as_str());
    assert_eq!(shown["public_key"].as_str().unwrap().len(), 64);
    let made: serde_json::Value = serde_json::from_str(&stdout(&vouch(
        d,
        &["identity", "new", "--name", "other", "--json"],
    )))
    .unwrap();
    assert!(made["did"].as_str().unwrap().starts_with("did:key:z6Mk"));
    assert!(
        made["file"].as_str().unwrap().ends_with("other.key"),
        "{made}"
    );

    let vc = d.join("vc.json");
    let vc_s = vc.to_str().unwrap();
    let out = vouch(
        d,
        &[
            "credential",
            "issue",
            "--issuer",
            "issuer",
            "--subject",
            &holder,
            "--claim",
            "verifiedBy=cli-test",
            "--id",
            "urn:uuid:11111111-2222-4333-8444-555555555555",
            "--out",
            vc_s,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let ok = vouch(d, &["credential", "verify", vc_s]);
    assert!(ok.status.success(), "{ok:?}");
    let summary: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(summary["valid"], true);
    assert_eq!(summary["subject"], holder.as_str());

    let shown = vouch(d, &["credential", "show", vc_s]);
    assert!(stdout(&shown).contains("eddsa-rdfc-2022"));

    // Tampered: exit 1 with the stable code.
    let text = std::fs::read_to_string(&vc).unwrap();
    let bad = d.join("bad.json");
    std::fs::write(&bad, text.replace("cli-test", "cli-test!")).unwrap();
    let out = vouch(d, &["credential", "verify", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("vc-bad-proof"), "{out:?}");

    // Expired (checked as of a later time).
    let out = vouch(
        d,
        &["credential", "verify", vc_s, "--at", "2999-01-01T00:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("vc-expired"));

    // Revoked by the issuer.
    let rev = d.join("rev.json");
    let out = vouch(
        d,
        &[
            "credential",
            "revoke",
            "--issuer",
            "issuer",
            "--id",
            "urn:uuid:11111111-2222-4333-8444-555555555555",
            "--out",
            rev.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let out = vouch(
        d,
        &[
            "credential",
            "verify",
            vc_s,
            "--revocations",
            rev.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("vc-revoked"));

    // Link: a posting key and the identity key; the object validates.
    assert!(vouch(d, &["key", "new", "posting1"]).status.success());
    let link = d.join("link.cbor");
    let out = vouch(
        d,
        &[
            "link",
            "--posting",
            "posting1",
            "--out",
            link.to_str().unwrap(),
            "--no-submit",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["kind"], "link");
    assert!(line["cid"].as_str().unwrap().starts_with("bafy"), "{line}");
    let check = vouch(d, &["object", "check", link.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");
    let bytes = std::fs::read(&link).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    assert!(hay.contains(&holder), "the link names the identity DID");
    // The identity key cannot link to itself.
    let out = vouch(d, &["link", "--posting", "identity"]);
    assert!(!out.status.success());
}
