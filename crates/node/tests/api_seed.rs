//! The seed data of the API's schema test (`tests/api-schema/`): a few signed objects with
//! fixed keys and times, so their CIDs are stable and `specs/api/openapi.yaml` can give them
//! as examples. This test writes nothing unless `VOUCH_BLESS=1`; it fails when the committed
//! files are stale. It also checks that every seed object validates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use vouch_identity::SecretKey;
use vouch_reputation::{
    epoch_of, validate, AppealBody, AttestBody, Body, GroupBody, GroupPolicy, GroupRef,
    ListAddBody, ListBody, ListPurpose, ListRef, Object, PollBody, PostBody, ReportBody,
    SignedObject, Subject, VoteBody,
};

const T0: u64 = 1_760_000_000_000;

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn seed() -> (
    Vec<(&'static str, SignedObject)>,
    BTreeMap<&'static str, String>,
) {
    let (viewer, curator, spammer, friend, owner, troll, member) = (
        key(101),
        key(102),
        key(103),
        key(104),
        key(105),
        key(106),
        key(107),
    );
    let garden = GroupRef {
        owner: owner.public_key(),
        name: "garden".into(),
    };
    let spam = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    let bans = ListRef {
        owner: owner.public_key(),
        name: "garden-bans".into(),
    };
    let mut n = 0;
    let mut sign = |author: &SecretKey, body: Body| {
        n += 1;
        Object {
            author: author.public_key(),
            at: T0 + n * 1000,
            body,
        }
        .sign(author)
        .unwrap()
    };
    let mut out = Vec::new();
    out.push((
        "list-spam",
        sign(
            &curator,
            Body::List(ListBody {
                name: "spam".into(),
                purpose: ListPurpose::Block,
                description: Some("Known spammers".into()),
                group: None,
                seq: 1,
            }),
        ),
    ));
    out.push((
        "add-spammer",
        sign(
            &curator,
            Body::ListAdd(ListAddBody {
                list: spam.clone(),
                subject: Subject::Key(spammer.public_key()),
                reason: Some("sells pills".into()),
                category: Some("spam".into()),
                expires: None,
            }),
        ),
    ));
    let attest = |level| AttestBody {
        subject: friend.public_key(),
        level,
        context: None,
        claim: Some("knows in person".into()),
        expires: None,
    };
    out.push((
        "viewer-trusts-friend",
        sign(&viewer, Body::Attest(attest(80))),
    ));
    out.push((
        "friend-trusts-member",
        sign(
            &friend,
            Body::Attest(AttestBody {
                subject: member.public_key(),
                ..attest(60)
            }),
        ),
    ));
    out.push((
        "group-garden",
        sign(
            &owner,
            Body::Group(GroupBody {
                name: "garden".into(),
                rules: Some("Be kind. No ads.".into()),
                policy: GroupPolicy {
                    vote_budget: Some(10),
                    ..GroupPolicy::default()
                },
                moderators: vec![friend.public_key()],
                seq: 1,
            }),
        ),
    ));
    out.push((
        "list-garden-bans",
        sign(
            &owner,
            Body::List(ListBody {
                name: "garden-bans".into(),
                purpose: ListPurpose::Ban,
                description: None,
                group: Some(garden.clone()),
                seq: 1,
            }),
        ),
    ));
    let ban = sign(
        &friend,
        Body::ListAdd(ListAddBody {
            list: bans,
            subject: Subject::Key(troll.public_key()),
            reason: Some("flooding".into()),
            category: None,
            expires: None,
        }),
    );
    out.push(("ban-troll", ban.clone()));
    let troll_post = sign(
        &troll,
        Body::Post(PostBody {
            group: Some(garden.clone()),
            text: "Buy now!".into(),
            ..PostBody::default()
        }),
    );
    out.push(("post-troll", troll_post.clone()));
    let member_post = sign(
        &member,
        Body::Post(PostBody {
            group: Some(garden.clone()),
            text: "The roses are out.".into(),
            ..PostBody::default()
        }),
    );
    out.push(("post-member", member_post.clone()));
    out.push((
        "report-troll",
        sign(
            &member,
            Body::Report(ReportBody {
                subject: Subject::Key(troll.public_key()),
                group: garden.clone(),
                category: "spam".into(),
                text: Some("ads again".into()),
            }),
        ),
    ));
    let appeal = sign(
        &troll,
        Body::Appeal(AppealBody {
            target: ban.id(),
            text: Some("I will stop".into()),
            outcome: None,
        }),
    );
    out.push(("appeal-troll", appeal));
    let at = T0 + 12_000;
    out.push((
        "vote-down-troll-post",
        Object {
            author: friend.public_key(),
            at,
            body: Body::Vote(VoteBody {
                target: Subject::Object(troll_post.id()),
                value: -1,
                epoch: epoch_of(at),
                group: Some(garden.clone()),
            }),
        }
        .sign(&friend)
        .unwrap(),
    ));
    // A poll under the garden's header (not a personhood group: the API shows why it
    // cannot be tallied).
    let header = out
        .iter()
        .find(|(name, _)| *name == "group-garden")
        .map(|(_, o)| o.id())
        .unwrap();
    let poll = Object {
        author: member.public_key(),
        at: T0 + 13_000,
        body: Body::Poll(PollBody {
            group: garden.clone(),
            header,
            text: "Allow seed swaps?".into(),
            options: 2,
            closes: T0 + 86_400_000,
            amend: None,
        }),
    }
    .sign(&member)
    .unwrap();
    out.push(("poll-garden", poll.clone()));

    let mut names = BTreeMap::new();
    names.insert("viewer", viewer.public_key().to_did_key());
    names.insert("curator", curator.public_key().to_did_key());
    names.insert("spammer", spammer.public_key().to_did_key());
    names.insert("friend", friend.public_key().to_did_key());
    names.insert("owner", owner.public_key().to_did_key());
    names.insert("troll", troll.public_key().to_did_key());
    names.insert("member", member.public_key().to_did_key());
    names.insert(
        "group",
        format!("{}/garden", owner.public_key().to_did_key()),
    );
    names.insert(
        "list",
        format!("{}/spam", curator.public_key().to_did_key()),
    );
    names.insert("post_troll", troll_post.id().to_string());
    names.insert("post_member", member_post.id().to_string());
    names.insert("ban", ban.id().to_string());
    names.insert("poll", poll.id().to_string());
    (out, names)
}

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/api-schema/seed")
}

#[test]
fn seed_objects_validate_and_committed_files_are_current() {
    let (objects, names) = seed();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (i, (name, obj)) in objects.iter().enumerate() {
        assert_eq!(&validate(obj.bytes(), T0 + 100_000).unwrap(), obj, "{name}");
        files.insert(format!("{:02}-{name}.cbor", i + 1), obj.bytes().to_vec());
    }
    let mut index = serde_json::to_vec_pretty(&names).unwrap();
    index.push(b'\n');
    files.insert("names.json".into(), index);
    let dir = seed_dir();
    if std::env::var_os("VOUCH_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|_| panic!("{} missing: run with VOUCH_BLESS=1", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, files.keys().cloned().collect::<Vec<_>>());
    for (name, bytes) in &files {
        assert_eq!(
            &std::fs::read(dir.join(name)).unwrap(),
            bytes,
            "{name} is stale: rerun with VOUCH_BLESS=1 and review the diff"
        );
    }
}
