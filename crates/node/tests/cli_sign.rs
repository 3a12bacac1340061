//! The signing commands, run as the real `vouch` binary with a temporary `VOUCH_HOME`: each
//! object they write must validate and say what was asked (kind, fields, signer, seq,
//! co-signature, retraction naming the add).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vouch_identity::PublicKey;
use vouch_reputation::{
    epoch_of, validate, AppealOutcome, Body, GroupRef, ListPurpose, ListRef, ModerationState,
    RotateBody, SignedObject, Subject,
};

/// A temporary `VOUCH_HOME` and a way to run `vouch` in it.
struct Home {
    dir: tempfile::TempDir,
    n: std::cell::Cell<u32>,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
            n: std::cell::Cell::new(0),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vouch"));
        c.env("VOUCH_HOME", self.path())
            .env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join("xdg"))
            .env_remove("VOUCH_KEY")
            .env_remove("VOUCH_KEY_DIR")
            .env_remove("VOUCH_DATA_DIR")
            .env_remove("VOUCH_NODE");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and expects success.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vouch {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates a key and returns its public key.
    fn key(&self, name: &str) -> PublicKey {
        let out = self.ok(&["key", "new", name, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        PublicKey::from_did_key(v["did"].as_str().unwrap()).unwrap()
    }

    fn fresh_file(&self) -> PathBuf {
        self.n.set(self.n.get() + 1);
        self.path().join(format!("obj{}.cbor", self.n.get()))
    }

    /// Runs a signing command with `--no-submit --out FILE`; returns the objects written
    /// (FILE, FILE-2, …), each validated, and checks the CIDs printed.
    fn sign_all(&self, args: &[&str]) -> Vec<SignedObject> {
        let file = self.fresh_file();
        let mut full: Vec<&str> = args.to_vec();
        let f = file.to_str().unwrap().to_owned();
        full.extend(["--no-submit", "--out", &f]);
        let printed = self.ok(&full);
        let cids: Vec<&str> = printed.lines().collect();
        let mut objects = Vec::new();
        for (i, cid) in cids.iter().enumerate() {
            let path = if i == 0 {
                file.clone()
            } else {
                file.with_file_name(format!(
                    "{}-{}.cbor",
                    file.file_stem().unwrap().to_str().unwrap(),
                    i + 1
                ))
            };
            let bytes = std::fs::read(&path).unwrap();
            let obj = validate(&bytes, vouch_node::now_ms()).unwrap();
            assert_eq!(obj.id().to_string(), *cid, "printed CID of {path:?}");
            objects.push(obj);
        }
        assert!(!objects.is_empty());
        objects
    }

    fn sign(&self, args: &[&str]) -> SignedObject {
        let mut all = self.sign_all(args);
        assert_eq!(all.len(), 1, "one object from {args:?}");
        all.remove(0)
    }
}

fn did(k: &PublicKey) -> String {
    k.to_did_key()
}

#[test]
fn post_vote_attest_label_report_appeal_say_what_was_asked() {
    let h = Home::new();
    let alice = h.key("alice");
    let owner = h.key("owner");
    let group = format!("{}/club", did(&owner));

    let p = h.sign(&["post", "--key", "alice", "hello", "--group", &group]);
    assert_eq!(p.author(), &alice);
    let Body::Post(body) = p.body() else {
        panic!("not a post: {p:?}")
    };
    assert_eq!(body.text, "hello");
    assert_eq!(
        body.group,
        Some(GroupRef {
            owner,
            name: "club".into()
        })
    );

    let link = p.id().to_string();
    let r = h.sign(&[
        "post", "--key", "owner", "re", "--reply", &link, "--link", &link,
    ]);
    let Body::Post(body) = r.body() else { panic!() };
    assert_eq!(body.reply, Some(p.id()));
    assert_eq!(
        body.root,
        Some(p.id()),
        "root defaults to the post replied to"
    );
    assert_eq!(body.links, vec![p.id().to_cid()]);

    let v = h.sign(&["vote", "--key", "owner", &link, "down", "--group", &group]);
    let Body::Vote(body) = v.body() else { panic!() };
    assert_eq!(body.value, -1);
    assert_eq!(body.target, Subject::Object(p.id()));
    assert_eq!(body.epoch, epoch_of(v.at()));
    let v = h.sign(&["vote", "--key", "owner", "alice", "up"]);
    let Body::Vote(body) = v.body() else { panic!() };
    assert_eq!((body.value, body.target), (1, Subject::Key(alice)));

    let a = h.sign(&[
        "attest",
        "--key",
        "owner",
        "alice",
        "-40",
        "--claim",
        "met",
        "--expires",
        "+1d",
        "--context",
        "club",
    ]);
    let Body::Attest(body) = a.body() else {
        panic!()
    };
    assert_eq!((body.subject, body.level), (alice, -40));
    assert_eq!(body.claim.as_deref(), Some("met"));
    assert_eq!(body.expires, Some(a.at() + 86_400_000));
    assert_eq!(body.context.as_ref().map(|g| g.owner), Some(owner));

    let l = h.sign(&[
        "label", "--key", "owner", &link, "nsfw", "--neg", "--reason", "wrong",
    ]);
    let Body::Label(body) = l.body() else {
        panic!()
    };
    assert!(body.neg);
    assert_eq!(body.value, "nsfw");
    assert_eq!(body.subject, Subject::Object(p.id()));

    let rep = h.sign(&[
        "report",
        "--key",
        "alice",
        &did(&owner),
        "--group",
        &group,
        "--category",
        "spam",
        "--text",
        "ads",
    ]);
    let Body::Report(body) = rep.body() else {
        panic!()
    };
    assert_eq!(body.subject, Subject::Key(owner));
    assert_eq!(body.category, "spam");
    assert_eq!(body.text.as_deref(), Some("ads"));

    let dis = h.sign(&[
        "group",
        "dismiss",
        "--key",
        "owner",
        "--group",
        &group,
        &rep.id().to_string(),
        "--text",
        "not spam",
    ]);
    let Body::Dismiss(body) = dis.body() else {
        panic!()
    };
    assert_eq!(body.reports, vec![rep.id()]);
    assert_eq!(body.group.owner, owner);
    assert_eq!(body.text.as_deref(), Some("not spam"));

    let ap = h.sign(&["appeal", "--key", "alice", &link, "--text", "not me"]);
    let Body::Appeal(body) = ap.body() else {
        panic!()
    };
    assert_eq!((body.target, body.outcome), (p.id(), None));
    let ans = h.sign(&[
        "appeal",
        "answer",
        "--key",
        "owner",
        &ap.id().to_string(),
        "granted",
    ]);
    let Body::Appeal(body) = ans.body() else {
        panic!()
    };
    assert_eq!(
        (body.target, body.outcome),
        (ap.id(), Some(AppealOutcome::Granted))
    );

    // --json prints the object itself.
    let out = h.ok(&[
        "post",
        "--key",
        "alice",
        "json please",
        "--no-submit",
        "--json",
        "--at",
        "-1h",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["kind"], "post");
    assert_eq!(v["object"]["body"]["text"], "json please");
    assert_eq!(v["object"]["author"], did(&alice));
    assert!(v["cid"].as_str().unwrap().starts_with("bafyrei"));
    assert!(v["submitted"].is_null());
    let at = v["object"]["at"].as_u64().unwrap();
    let now = vouch_node::now_ms();
    assert!(
        at <= now - 3_500_000 && at > now - 3_700_000,
        "--at -1h: {at}"
    );
}

#[test]
fn group_headers_keep_their_fields_and_increment_seq() {
    let h = Home::new();
    let owner = h.key("owner");
    let m1 = h.key("m1");
    let m2 = h.key("m2");
    let g = GroupRef {
        owner,
        name: "club".into(),
    };
    let created = h.sign_all(&[
        "group",
        "create",
        "--key",
        "owner",
        "club",
        "--rules",
        "Be kind.",
        "--min-trust",
        "10",
        "--moderator",
        "m1",
    ]);
    assert_eq!(created.len(), 2, "the header and its ban list's header");
    let Body::Group(g1) = created[0].body() else {
        panic!()
    };
    assert_eq!(g1.seq, 1);
    assert_eq!(g1.moderators, vec![m1]);
    assert_eq!(g1.policy.min_trust, Some(10));
    let Body::List(ban) = created[1].body() else {
        panic!()
    };
    assert_eq!(ban.purpose, ListPurpose::Ban);
    assert_eq!(ban.name, "club-bans");
    assert_eq!(ban.group.as_ref(), Some(&g));

    let add = h.sign(&[
        "group",
        "moderator",
        "add",
        "--key",
        "owner",
        "club",
        "m2",
        "m1",
    ]);
    let Body::Group(g2) = add.body() else {
        panic!()
    };
    assert_eq!(g2.seq, 2);
    assert_eq!(g2.moderators, vec![m1, m2], "added once, order kept");
    assert_eq!(g2.rules.as_deref(), Some("Be kind."));
    assert_eq!(g2.policy.min_trust, Some(10));

    let rules = h.sign(&[
        "group",
        "rules",
        "--key",
        "owner",
        "club",
        "--vote-budget",
        "5",
    ]);
    let Body::Group(g3) = rules.body() else {
        panic!()
    };
    assert_eq!(g3.seq, 3);
    assert_eq!(
        (g3.policy.min_trust, g3.policy.vote_budget),
        (Some(10), Some(5))
    );
    assert_eq!(g3.moderators, vec![m1, m2]);

    let rm = h.sign(&[
        "group",
        "moderator",
        "remove",
        "--key",
        "owner",
        "club",
        "m1",
    ]);
    let Body::Group(g4) = rm.body() else { panic!() };
    assert_eq!((g4.seq, g4.moderators.clone()), (4, vec![m2]));

    // The decision engine takes the last header as the group's current one.
    let mut state = ModerationState::new();
    for o in created.iter().chain([&add, &rules, &rm]) {
        state.apply(o);
    }
    let (id, current) = state.group_header(&g).unwrap();
    assert_eq!(id, rm.id());
    assert!(state.is_group_moderator(&g, &m2, vouch_node::now_ms()));
    assert!(!state.is_group_moderator(&g, &m1, vouch_node::now_ms()));
    assert_eq!(current.seq, 4);

    // --seq overrides; creating again without it is refused (exit 2); a header this key
    // never published cannot be updated without --seq.
    let over = h.sign(&[
        "group", "rules", "--key", "owner", "club", "--seq", "10", "--rules", "New.",
    ]);
    let Body::Group(g10) = over.body() else {
        panic!()
    };
    assert_eq!((g10.seq, g10.rules.as_deref()), (10, Some("New.")));
    assert_eq!(g10.moderators, vec![m2]);
    let again = h.run(&["group", "create", "--key", "owner", "club", "--no-submit"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already published"));
    let unknown = h.run(&["group", "rules", "--key", "m1", "club", "--no-submit"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no local record"));
}

#[test]
fn a_ban_is_an_entry_on_the_group_ban_list_and_unban_names_it() {
    let h = Home::new();
    let owner = h.key("owner");
    let m1 = h.key("m1");
    let bob = h.key("bob");
    let g = GroupRef {
        owner,
        name: "club".into(),
    };
    let ban_list = ListRef {
        owner,
        name: "club-bans".into(),
    };
    let created = h.sign_all(&[
        "group",
        "create",
        "--key",
        "owner",
        "club",
        "--moderator",
        "m1",
    ]);
    let group_arg = format!("{}/club", did(&owner));
    let ban = h.sign(&[
        "group",
        "ban",
        "--key",
        "m1",
        "--group",
        &group_arg,
        "bob",
        "--reason",
        "spam",
        "--expires",
        "+7d",
    ]);
    assert_eq!(ban.author(), &m1);
    let Body::ListAdd(add) = ban.body() else {
        panic!()
    };
    assert_eq!(add.list, ban_list);
    assert_eq!(add.subject, Subject::Key(bob));
    assert_eq!(add.reason.as_deref(), Some("spam"));
    assert_eq!(add.expires, Some(ban.at() + 7 * 86_400_000));

    let now = vouch_node::now_ms();
    let mut state = ModerationState::new();
    for o in created.iter().chain([&ban]) {
        state.apply(o);
    }
    assert_eq!(
        state.banned_subjects(&g, now).get(&Subject::Key(bob)),
        Some(&ban.id())
    );

    // The owner lifts the moderator's ban: a list-remove naming exactly that add.
    let unban = h.sign(&["group", "unban", "--key", "owner", "--group", "club", "bob"]);
    assert_eq!(unban.author(), &owner);
    let Body::ListRemove(rm) = unban.body() else {
        panic!()
    };
    assert_eq!(rm.list, ban_list);
    assert_eq!(rm.adds, vec![ban.id()]);
    state.apply(&unban);
    assert!(state.banned_subjects(&g, now).is_empty());

    // The record forgot the lifted ban: a second unban by subject has nothing to name.
    let again = h.run(&[
        "group",
        "unban",
        "--key",
        "owner",
        "--group",
        "club",
        "bob",
        "--no-submit",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no recorded entry"));
    // Naming the ban by CID works without a record.
    let by_cid = h.sign(&[
        "group",
        "unban",
        "--key",
        "m1",
        "--group",
        &group_arg,
        "--ban",
        &ban.id().to_string(),
    ]);
    let Body::ListRemove(rm) = by_cid.body() else {
        panic!()
    };
    assert_eq!(rm.adds, vec![ban.id()]);
}

#[test]
fn lists_create_add_and_remove_every_recorded_entry() {
    let h = Home::new();
    let carol = h.key("carol");
    let bob = h.key("bob");
    let header = h.sign(&[
        "list",
        "create",
        "--key",
        "carol",
        "spam",
        "--description",
        "spam accounts",
    ]);
    let Body::List(l) = header.body() else {
        panic!()
    };
    assert_eq!(
        (l.name.as_str(), l.purpose, l.seq),
        ("spam", ListPurpose::Block, 1)
    );
    assert_eq!(l.description.as_deref(), Some("spam accounts"));
    let refused = h.run(&["list", "create", "--key", "carol", "spam", "--no-submit"]);
    assert_eq!(refused.status.code(), Some(2));
    let v2 = h.sign(&["list", "create", "--key", "carol", "spam", "--seq", "2"]);
    let Body::List(l) = v2.body() else { panic!() };
    assert_eq!(l.seq, 2);

    let a1 = h.sign(&[
        "list",
        "add",
        "--key",
        "carol",
        "--list",
        "spam",
        "bob",
        "--category",
        "spam",
    ]);
    let a2 = h.sign(&[
        "list",
        "add",
        "--key",
        "carol",
        "--list",
        "spam",
        &did(&bob),
    ]);
    let Body::ListAdd(add) = a1.body() else {
        panic!()
    };
    assert_eq!(
        add.list,
        ListRef {
            owner: carol,
            name: "spam".into()
        }
    );
    assert_eq!(add.category.as_deref(), Some("spam"));
    let rm = h.sign(&["list", "remove", "--key", "carol", "--list", "spam", "bob"]);
    let Body::ListRemove(r) = rm.body() else {
        panic!()
    };
    let mut expected = vec![a1.id(), a2.id()];
    expected.sort();
    assert_eq!(r.adds, expected, "both adds of bob are retracted");

    // Ban lists need their group (a validity rule, checked before signing).
    let bad = h.run(&[
        "list",
        "create",
        "--key",
        "carol",
        "bans",
        "--purpose",
        "ban",
        "--no-submit",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("out-of-bounds"));
}

#[test]
fn key_rotation_is_cosigned_and_revocation_names_its_time() {
    let h = Home::new();
    // A key made without a commitment rotates with a version 1 handover (pre-rotation, the
    // default, is tested in e2e_identity.rs); the new key gets a commitment of its own.
    let out = h.ok(&["key", "new", "alice", "--no-commit", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["committed"], false, "{v}");
    let alice = PublicKey::from_did_key(v["did"].as_str().unwrap()).unwrap();
    let mut objs = h.sign_all(&["key", "rotate", "alice", "alice-2"]);
    assert_eq!(objs.len(), 2, "the handover and alice-2's commitment");
    let commitment = objs.pop().unwrap();
    let rot = objs.pop().unwrap();
    assert!(
        matches!(commitment.body(), Body::Incept(_)),
        "{commitment:?}"
    );
    let new = {
        let out = h.ok(&["key", "show", "alice-2", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        PublicKey::from_did_key(v["did"].as_str().unwrap()).unwrap()
    };
    assert_eq!(rot.author(), &alice);
    let Body::Rotate(RotateBody::Handover { new: body_new, .. }) = rot.body() else {
        panic!()
    };
    assert_eq!(*body_new, new);
    assert_eq!(commitment.author(), &new);
    // `validate` (in sign_all) checked the co-signature; a different new key breaks it.
    let mut forged = rot.object().clone();
    let other = vouch_identity::SecretKey::from_seed(&[3; 32]);
    if let Body::Rotate(RotateBody::Handover { new, .. }) = &mut forged.body {
        *new = other.public_key();
    }
    let key_file = h.path().join("keys").join("alice.key");
    let alice_sk = vouch_identity::read_key_file(&key_file).unwrap();
    let forged = forged.sign_unchecked(&alice_sk).unwrap();
    assert_eq!(
        validate(forged.bytes(), vouch_node::now_ms())
            .unwrap_err()
            .code(),
        "invalid-cosignature"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.path().join("keys").join("alice-2.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second try with the same new name reuses the key (e.g. after a failed submission).
    let rot2 = h.sign(&["key", "rotate", "alice", "alice-2"]);
    let Body::Rotate(RotateBody::Handover { new: body2_new, .. }) = rot2.body() else {
        panic!()
    };
    assert_eq!(*body2_new, new);

    let rev = h.sign(&[
        "key",
        "revoke",
        "alice",
        "--since",
        "2026-01-01",
        "--reason",
        "stolen",
    ]);
    let Body::Revoke(body) = rev.body() else {
        panic!()
    };
    assert_eq!(body.since, 1_767_225_600_000);
    assert_eq!(body.reason.as_deref(), Some("stolen"));
    let rev = h.sign(&["key", "revoke", "alice", "--since", "-2h"]);
    let Body::Revoke(body) = rev.body() else {
        panic!()
    };
    assert_eq!(rev.at() - body.since, 7_200_000);
    // A compromise cannot start after the notice.
    let future = h.run(&["key", "revoke", "alice", "--since", "+1d", "--no-submit"]);
    assert_eq!(future.status.code(), Some(2));
}

#[test]
fn exit_codes_for_missing_keys_and_missing_nodes() {
    let h = Home::new();
    let none = h.run(&["post", "hi", "--no-submit"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no key"));
    h.key("a");
    // The only key is the default.
    h.sign(&["post", "hi"]);
    h.key("b");
    let two = h.run(&["post", "hi", "--no-submit"]);
    assert_eq!(two.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&two.stderr).contains("several keys"));
    let env = h
        .cmd()
        .args(["post", "hi", "--no-submit"])
        .env("VOUCH_KEY", "b")
        .output()
        .unwrap();
    assert!(env.status.success());

    // No node on the data directory, or nothing listening at --node: exit code 3.
    let data = h.path().join("data");
    let no_node = h.run(&[
        "post",
        "--key",
        "a",
        "hi",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(no_node.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&no_node.stderr).contains("node-unreachable"));
    let refused = h.run(&["post", "--key", "a", "hi", "--node", "http://127.0.0.1:1"]);
    assert_eq!(refused.status.code(), Some(3));
    // Usage errors are 2 (clap).
    assert_eq!(h.run(&["vote", "x", "sideways"]).status.code(), Some(2));
}

#[test]
fn completions_and_help_examples() {
    let h = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = h.ok(&["completions", shell]);
        assert!(out.contains("vouch"), "{shell}");
        assert!(
            out.contains("moderator"),
            "{shell}: nested commands are completed"
        );
    }
    let help = h.ok(&["group", "ban", "--help"]);
    assert!(help.contains("Example:\n  vouch group ban"), "{help}");
    let help = h.ok(&["--help"]);
    assert!(help.contains("3  no node to talk to"), "{help}");
}
