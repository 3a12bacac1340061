//! The generated community `vouch demo` runs: honest people who vouch for each other, a group
//! with an owner and two moderators, two shared block lists, a troll, and a spam swarm of
//! fresh keys that vouch only for each other. Deterministic: the same seed gives the same keys,
//! objects and feed.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::{
    AttestBody, Body, GroupBody, GroupPolicy, GroupRef, ListAddBody, ListBody, ListPurpose,
    ListRef, Object, ObjectId, PostBody, SignedObject, Subject, ValidationError, VoteBody,
    MS_PER_EPOCH,
};

/// Honest people besides the viewer.
pub const HONEST: usize = 24;
/// Fresh keys in the spam swarm.
pub const SWARM: usize = 200;
/// Swarm keys that the spam-watch curator has already listed.
pub const SWARM_LISTED: usize = 40;

const NAMES: [&str; HONEST] = [
    "ana", "ben", "chloe", "dev", "emma", "farid", "gus", "hana", "ivan", "jade", "kofi", "lena",
    "marek", "nina", "omar", "pia", "quinn", "rosa", "sami", "tara", "ugo", "vera", "wen", "yusuf",
];

/// Which of the demo's nodes an object is first submitted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// The viewer's own node (the sidecar the client asks).
    Viewer,
    /// The node of the group's owner, moderators and most honest people.
    Community,
    /// The node of the list curators, the troll and the spam swarm.
    Outside,
}

/// What a feed item is, for the demo's summary (the node never sees this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Someone the viewer's trust web reaches.
    Honest,
    /// A friend whom a spam list named by mistake.
    MislistedFriend,
    /// The troll (listed and banned in the group).
    Troll,
    /// A stranger whose rude post trusted people voted down.
    Rude,
    /// One of the swarm's fresh keys.
    Spam,
}

impl Role {
    /// Every role, in the order the demo's summary lists them.
    pub const ALL: [Role; 5] = [
        Role::Spam,
        Role::Troll,
        Role::Rude,
        Role::MislistedFriend,
        Role::Honest,
    ];

    /// The role's name in the demo's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Honest => "honest",
            Role::MislistedFriend => "mislisted-friend",
            Role::Troll => "troll",
            Role::Rude => "rude",
            Role::Spam => "spam",
        }
    }
}

impl Origin {
    /// Who submits through this node, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Viewer => "you",
            Origin::Community => "the gardening group",
            Origin::Outside => "curators, troll, swarm",
        }
    }
}

/// The generated community.
#[derive(Debug)]
pub struct Community {
    /// The viewer ("you").
    pub viewer: SecretKey,
    /// Display names of the keys that have one.
    pub names: BTreeMap<PublicKey, String>,
    /// Every object, with the node it is submitted to.
    pub objects: Vec<(Origin, SignedObject)>,
    /// The feed, oldest first: post ids with who wrote them.
    pub feed: Vec<(ObjectId, Role)>,
    /// The group everything is posted in.
    pub group: GroupRef,
    /// The two shared block lists the viewer subscribes to.
    pub lists: [ListRef; 2],
}

/// A deterministic key for `(role, i)`.
fn key(seed: u64, role: &str, i: usize) -> SecretKey {
    let mut h = Sha256::new();
    h.update(b"vouch-demo\0");
    h.update(seed.to_be_bytes());
    h.update(role.as_bytes());
    h.update((i as u64).to_be_bytes());
    SecretKey::from_seed(&h.finalize().into())
}

/// Signs objects with increasing timestamps, so the feed has an order.
struct Signer {
    at: u64,
    objects: Vec<(Origin, SignedObject)>,
}

impl Signer {
    fn sign(
        &mut self,
        origin: Origin,
        key: &SecretKey,
        body: Body,
    ) -> Result<ObjectId, ValidationError> {
        self.at += 1_000;
        let obj = Object {
            author: key.public_key(),
            at: self.at,
            body,
        }
        .sign(key)?;
        let id = obj.id();
        self.objects.push((origin, obj));
        Ok(id)
    }

    fn attest(
        &mut self,
        origin: Origin,
        by: &SecretKey,
        subject: &SecretKey,
        level: i64,
    ) -> Result<ObjectId, ValidationError> {
        self.sign(
            origin,
            by,
            Body::Attest(AttestBody::new(subject.public_key(), level)),
        )
    }

    fn post(
        &mut self,
        origin: Origin,
        by: &SecretKey,
        group: &GroupRef,
        text: String,
    ) -> Result<ObjectId, ValidationError> {
        self.sign(
            origin,
            by,
            Body::Post(PostBody {
                group: Some(group.clone()),
                text,
                ..Default::default()
            }),
        )
    }

    fn list_add(
        &mut self,
        origin: Origin,
        by: &SecretKey,
        list: &ListRef,
        subject: &SecretKey,
        reason: &str,
        category: &str,
    ) -> Result<ObjectId, ValidationError> {
        self.sign(
            origin,
            by,
            Body::ListAdd(ListAddBody {
                list: list.clone(),
                subject: Subject::Key(subject.public_key()),
                reason: Some(reason.into()),
                category: Some(category.into()),
                expires: None,
            }),
        )
    }

    fn vote(
        &mut self,
        origin: Origin,
        by: &SecretKey,
        post: ObjectId,
        value: i64,
        group: &GroupRef,
    ) -> Result<ObjectId, ValidationError> {
        let epoch = (self.at + 1_000) / MS_PER_EPOCH;
        self.sign(
            origin,
            by,
            Body::Vote(VoteBody {
                target: Subject::Object(post),
                value,
                epoch,
                group: Some(group.clone()),
            }),
        )
    }
}

/// The keys `vouch demo --keep` puts in its key folder, by local name, so that the web
/// console's admin session can act as the group's owner and moderators and the curators.
pub fn staff_keys(seed: u64) -> Vec<(&'static str, SecretKey)> {
    vec![
        ("olga", key(seed, "owner", 0)),
        ("mo", key(seed, "moderator", 0)),
        ("mia", key(seed, "moderator", 1)),
        ("cleo", key(seed, "curator", 0)),
        ("dan", key(seed, "curator", 1)),
    ]
}

/// Generates the community; objects are dated from `start_ms` on, one second apart (so pick a
/// start far enough in the past that the last one is not in the future).
pub fn generate(seed: u64, start_ms: u64) -> Result<Community, ValidationError> {
    use Origin::{Community as Comm, Outside, Viewer};
    let viewer = key(seed, "viewer", 0);
    let honest: Vec<SecretKey> = (0..HONEST).map(|i| key(seed, "honest", i)).collect();
    let owner = key(seed, "owner", 0);
    let mods = [key(seed, "moderator", 0), key(seed, "moderator", 1)];
    let curators = [key(seed, "curator", 0), key(seed, "curator", 1)];
    let troll = key(seed, "troll", 0);
    let rude = key(seed, "rude", 0);
    let swarm: Vec<SecretKey> = (0..SWARM).map(|i| key(seed, "swarm", i)).collect();

    let mut names = BTreeMap::new();
    names.insert(viewer.public_key(), "you".to_owned());
    for (k, n) in honest.iter().zip(NAMES) {
        names.insert(k.public_key(), n.to_owned());
    }
    names.insert(owner.public_key(), "olga (group owner)".to_owned());
    names.insert(mods[0].public_key(), "mo (moderator)".to_owned());
    names.insert(mods[1].public_key(), "mia (moderator)".to_owned());
    names.insert(curators[0].public_key(), "cleo (curator)".to_owned());
    names.insert(curators[1].public_key(), "dan (curator)".to_owned());
    names.insert(troll.public_key(), "tom".to_owned());
    names.insert(rude.public_key(), "rex".to_owned());
    for (i, k) in swarm.iter().enumerate() {
        names.insert(k.public_key(), format!("spam-{i:03}"));
    }

    let group = GroupRef {
        owner: owner.public_key(),
        name: "gardening".into(),
    };
    let spam_list = ListRef {
        owner: curators[0].public_key(),
        name: "spam-watch".into(),
    };
    let troll_list = ListRef {
        owner: curators[1].public_key(),
        name: "known-trolls".into(),
    };
    let ban_list = ListRef {
        owner: owner.public_key(),
        name: "gardening-bans".into(),
    };
    let mut s = Signer {
        at: start_ms,
        objects: Vec::new(),
    };

    // The viewer's trust web: four friends, who vouch for the others; the curators and the
    // group's staff are vouched for too.
    for f in &honest[..4] {
        s.attest(Viewer, &viewer, f, 80)?;
    }
    for (i, a) in honest.iter().enumerate() {
        for d in [1, 5, 11] {
            let b = &honest[(i + d) % HONEST];
            s.attest(Comm, a, b, 60)?;
        }
    }
    for (i, k) in [&owner, &mods[0], &mods[1], &curators[0], &curators[1]]
        .into_iter()
        .enumerate()
    {
        s.attest(Comm, &honest[i % 4], k, 70)?;
    }
    // The swarm vouches for itself at full strength: nobody honest vouches for it.
    for (i, a) in swarm.iter().enumerate() {
        for d in 1..=5 {
            s.attest(Outside, a, &swarm[(i + d * 7) % SWARM], 100)?;
        }
    }

    // The group, its moderators and its ban list; a moderator bans the troll; someone who is
    // not a moderator tries to ban an honest member, which has no effect.
    s.sign(
        Comm,
        &owner,
        Body::Group(GroupBody {
            name: group.name.clone(),
            rules: Some("Be kind. No selling. Moderators remove trolls and spam.".into()),
            policy: GroupPolicy {
                vote_budget: Some(20),
                ..Default::default()
            },
            moderators: vec![mods[0].public_key(), mods[1].public_key()],
            seq: 1,
        }),
    )?;
    s.sign(
        Comm,
        &owner,
        Body::List(ListBody {
            name: ban_list.name.clone(),
            purpose: ListPurpose::Ban,
            description: Some("Banned from gardening".into()),
            group: Some(group.clone()),
            seq: 1,
        }),
    )?;
    s.list_add(
        Comm,
        &mods[0],
        &ban_list,
        &troll,
        "repeated insults after two warnings",
        "harassment",
    )?;
    s.list_add(
        Outside,
        &swarm[0],
        &ban_list,
        &honest[5],
        "I don't like her",
        "spam",
    )?;

    // Two shared block lists: spam-watch names 40 of the swarm's keys, and by mistake one of
    // the viewer's friends; known-trolls names the troll.
    for (curator, list, what) in [
        (&curators[0], &spam_list, "Accounts caught spamming"),
        (
            &curators[1],
            &troll_list,
            "Harassment, reviewed by two people",
        ),
    ] {
        s.sign(
            Outside,
            curator,
            Body::List(ListBody {
                name: list.name.clone(),
                purpose: ListPurpose::Block,
                description: Some(what.into()),
                group: None,
                seq: 1,
            }),
        )?;
    }
    for k in &swarm[..SWARM_LISTED] {
        s.list_add(
            Outside,
            &curators[0],
            &spam_list,
            k,
            "posted the same link 50 times",
            "spam",
        )?;
    }
    s.list_add(
        Outside,
        &curators[0],
        &spam_list,
        &honest[1],
        "reported for spam",
        "spam",
    )?;
    s.list_add(
        Outside,
        &curators[1],
        &troll_list,
        &troll,
        "insults and threats",
        "harassment",
    )?;

    // The feed, oldest first.
    let mut feed = Vec::new();
    let topics = [
        "tomatoes",
        "compost",
        "seed swaps",
        "slugs",
        "rain barrels",
        "pruning",
    ];
    for (i, a) in honest.iter().enumerate() {
        let role = if i == 1 {
            Role::MislistedFriend
        } else {
            Role::Honest
        };
        let text = format!(
            "{} on {}: what worked for me this year",
            NAMES[i],
            topics[i % topics.len()]
        );
        feed.push((s.post(Comm, a, &group, text)?, role));
    }
    for t in 0..3 {
        let text = format!("you are all idiots ({})", t + 1);
        feed.push((s.post(Outside, &troll, &group, text)?, Role::Troll));
    }
    let rude_post = s.post(
        Outside,
        &rude,
        &group,
        "anyone who composts is a fool".into(),
    )?;
    feed.push((rude_post, Role::Rude));
    for (i, k) in swarm.iter().enumerate() {
        let text = format!("BUY CHEAP FOLLOWERS NOW!!! offer #{i}");
        feed.push((s.post(Outside, k, &group, text)?, Role::Spam));
    }

    // Votes: the whole swarm votes an honest post down; three of the viewer's friends vote the
    // rude post down.
    let honest_post = feed[0].0;
    for k in &swarm {
        s.vote(Outside, k, honest_post, -1, &group)?;
    }
    for f in &honest[..3] {
        s.vote(Comm, f, rude_post, -1, &group)?;
    }

    Ok(Community {
        viewer,
        names,
        objects: s.objects,
        feed,
        group,
        lists: [spam_list, troll_list],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_reputation::{validate, Kind};

    #[test]
    fn deterministic_valid_and_complete() {
        let start = 1_767_225_600_000;
        let a = generate(7, start).unwrap();
        let b = generate(7, start).unwrap();
        let ids = |c: &Community| c.objects.iter().map(|(_, o)| o.id()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(ids(&a), ids(&generate(8, start).unwrap()));
        let last = a.objects.last().unwrap().1.object().at;
        for (_, o) in &a.objects {
            assert!(validate(o.bytes(), last).is_ok(), "{:?}", o.kind());
        }
        assert_eq!(a.feed.len(), HONEST + 3 + 1 + SWARM);
        let posts = a
            .objects
            .iter()
            .filter(|(_, o)| o.kind() == Kind::Post)
            .count();
        assert_eq!(posts, a.feed.len());
        assert!(a.objects.iter().any(|(o, _)| *o == Origin::Viewer));
    }
}
