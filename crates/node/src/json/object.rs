//! A signed object as JSON, for people and scripts (`vouch object check --json`, the signing
//! commands' `--json`): keys as `did:key`, ids as CIDs, signatures as hex, every body field
//! under its wire name, absent optional fields left out (specs/cli.md §3).

use serde::Serialize;
use vouch_identity::PublicKey;
use vouch_reputation::{Amendment, Body, GroupPolicy, GroupRef, RotateBody, SignedObject, Subject};

/// `{v, kind, author, at, body, sig}`.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectJson<'a> {
    v: u64,
    kind: &'static str,
    author: String,
    at: u64,
    body: BodyJson<'a>,
    sig: String,
}

impl<'a> ObjectJson<'a> {
    /// The JSON form of `obj`.
    pub(crate) fn new(obj: &'a SignedObject) -> Self {
        ObjectJson {
            v: 1,
            kind: obj.kind().as_str(),
            author: obj.author().to_did_key(),
            at: obj.at(),
            body: BodyJson::new(obj.body()),
            sig: hex::encode(obj.signature().0),
        }
    }
}

/// `{"owner": did:key, "name": …}` of a group or a list.
#[derive(Debug, Serialize)]
struct OwnerNameJson<'a> {
    owner: String,
    name: &'a str,
}

impl<'a> OwnerNameJson<'a> {
    fn new(owner: &PublicKey, name: &'a str) -> Self {
        OwnerNameJson {
            owner: owner.to_did_key(),
            name,
        }
    }

    fn group(g: &'a Option<GroupRef>) -> Option<Self> {
        g.as_ref().map(|g| Self::new(&g.owner, &g.name))
    }
}

/// A subject as its wire form names it: `{"key": did:key}` or `{"obj": CID}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum SubjectJson {
    Key(String),
    Obj(String),
}

impl From<&Subject> for SubjectJson {
    fn from(s: &Subject) -> Self {
        match s {
            Subject::Key(k) => SubjectJson::Key(k.to_did_key()),
            Subject::Object(o) => SubjectJson::Obj(o.to_string()),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The body of each kind, by wire names.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum BodyJson<'a> {
    Post {
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<OwnerNameJson<'a>>,
        text: &'a str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        links: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        root: Option<String>,
    },
    Vote {
        target: SubjectJson,
        value: i64,
        epoch: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<OwnerNameJson<'a>>,
    },
    Attest {
        subject: String,
        level: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        context: Option<OwnerNameJson<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        claim: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u64>,
    },
    List {
        name: &'a str,
        purpose: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<OwnerNameJson<'a>>,
        seq: u64,
    },
    ListAdd {
        list: OwnerNameJson<'a>,
        subject: SubjectJson,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        category: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u64>,
    },
    ListRemove {
        list: OwnerNameJson<'a>,
        adds: Vec<String>,
    },
    Group {
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        rules: Option<&'a str>,
        policy: &'a GroupPolicy,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        moderators: Vec<String>,
        seq: u64,
    },
    Label {
        subject: SubjectJson,
        value: &'a str,
        #[serde(skip_serializing_if = "is_false")]
        neg: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<u64>,
    },
    Report {
        subject: SubjectJson,
        group: OwnerNameJson<'a>,
        category: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<&'a str>,
    },
    Dismiss {
        group: OwnerNameJson<'a>,
        reports: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<&'a str>,
    },
    Appeal {
        target: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        outcome: Option<&'static str>,
    },
    /// `rotate` version 1: the old key hands over.
    Handover {
        new: String,
        new_sig: String,
    },
    /// `rotate` version 2: the committed new key reveals itself.
    Reveal {
        old: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    Incept {
        next: String,
    },
    Poll {
        group: OwnerNameJson<'a>,
        header: String,
        text: &'a str,
        options: u64,
        closes: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        amend: Option<&'a Amendment>,
    },
    Ballot {
        poll: String,
        choice: u64,
        proof: String,
    },
    Revoke {
        since: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
    Link {
        identity: &'a str,
        proof: String,
    },
    Credential {
        vc: &'a str,
    },
    CredentialRevoke {
        credential: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    },
}

impl<'a> BodyJson<'a> {
    fn new(body: &'a Body) -> Self {
        match body {
            Body::Post(p) => BodyJson::Post {
                group: OwnerNameJson::group(&p.group),
                text: &p.text,
                links: p.links.iter().map(ToString::to_string).collect(),
                reply: p.reply.map(|r| r.to_string()),
                root: p.root.map(|r| r.to_string()),
            },
            Body::Vote(v) => BodyJson::Vote {
                target: (&v.target).into(),
                value: v.value,
                epoch: v.epoch,
                group: OwnerNameJson::group(&v.group),
            },
            Body::Attest(a) => BodyJson::Attest {
                subject: a.subject.to_did_key(),
                level: a.level,
                context: OwnerNameJson::group(&a.context),
                claim: a.claim.as_deref(),
                expires: a.expires,
            },
            Body::List(l) => BodyJson::List {
                name: &l.name,
                purpose: l.purpose.as_str(),
                description: l.description.as_deref(),
                group: OwnerNameJson::group(&l.group),
                seq: l.seq,
            },
            Body::ListAdd(a) => BodyJson::ListAdd {
                list: OwnerNameJson::new(&a.list.owner, &a.list.name),
                subject: (&a.subject).into(),
                reason: a.reason.as_deref(),
                category: a.category.as_deref(),
                expires: a.expires,
            },
            Body::ListRemove(r) => BodyJson::ListRemove {
                list: OwnerNameJson::new(&r.list.owner, &r.list.name),
                adds: r.adds.iter().map(ToString::to_string).collect(),
            },
            Body::Group(g) => BodyJson::Group {
                name: &g.name,
                rules: g.rules.as_deref(),
                policy: &g.policy,
                moderators: g.moderators.iter().map(PublicKey::to_did_key).collect(),
                seq: g.seq,
            },
            Body::Label(l) => BodyJson::Label {
                subject: (&l.subject).into(),
                value: &l.value,
                neg: l.neg,
                reason: l.reason.as_deref(),
                expires: l.expires,
            },
            Body::Report(r) => BodyJson::Report {
                subject: (&r.subject).into(),
                group: OwnerNameJson::new(&r.group.owner, &r.group.name),
                category: &r.category,
                text: r.text.as_deref(),
            },
            Body::Dismiss(d) => BodyJson::Dismiss {
                group: OwnerNameJson::new(&d.group.owner, &d.group.name),
                reports: d.reports.iter().map(ToString::to_string).collect(),
                text: d.text.as_deref(),
            },
            Body::Appeal(a) => BodyJson::Appeal {
                target: a.target.to_string(),
                text: a.text.as_deref(),
                outcome: a.outcome.map(|o| o.as_str()),
            },
            Body::Rotate(RotateBody::Handover { new, new_sig }) => BodyJson::Handover {
                new: new.to_did_key(),
                new_sig: hex::encode(new_sig.0),
            },
            Body::Rotate(RotateBody::Reveal { old, next, since }) => BodyJson::Reveal {
                old: old.to_did_key(),
                next: next.map(|d| hex::encode(d.0)),
                since: *since,
            },
            Body::Incept(i) => BodyJson::Incept {
                next: hex::encode(i.next.0),
            },
            Body::Poll(p) => BodyJson::Poll {
                group: OwnerNameJson::new(&p.group.owner, &p.group.name),
                header: p.header.to_string(),
                text: &p.text,
                options: p.options,
                closes: p.closes,
                amend: p.amend.as_ref(),
            },
            Body::Ballot(b) => BodyJson::Ballot {
                poll: b.poll.to_string(),
                choice: b.choice,
                proof: hex::encode(&b.proof),
            },
            Body::Revoke(r) => BodyJson::Revoke {
                since: r.since,
                reason: r.reason.as_deref(),
            },
            Body::Link(l) => BodyJson::Link {
                identity: &l.identity,
                proof: hex::encode(l.proof.0),
            },
            Body::Credential(c) => BodyJson::Credential { vc: &c.vc },
            Body::CredentialRevoke(r) => BodyJson::CredentialRevoke {
                credential: &r.credential,
                reason: r.reason.as_deref(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_identity::SecretKey;
    use vouch_reputation::{GroupBody, Object, VoteBody};

    #[test]
    fn objects_print_with_wire_names_and_without_absent_fields() {
        let k = SecretKey::from_seed(&[7; 32]);
        let g = GroupRef {
            owner: k.public_key(),
            name: "garden".into(),
        };
        let vote = Object {
            author: k.public_key(),
            at: 1_767_225_600_000,
            body: Body::Vote(VoteBody {
                target: Subject::Key(k.public_key()),
                value: -1,
                epoch: 20454,
                group: Some(g.clone()),
            }),
        }
        .sign(&k)
        .unwrap();
        let v = serde_json::to_value(ObjectJson::new(&vote)).unwrap();
        let did = k.public_key().to_did_key();
        assert_eq!(v["kind"], "vote");
        assert_eq!(v["author"], did.as_str());
        assert_eq!(v["body"]["target"]["key"], did.as_str());
        assert_eq!(v["body"]["group"]["name"], "garden");
        assert_eq!(v["body"]["value"], -1);
        assert_eq!(v["sig"].as_str().unwrap().len(), 128);

        let header = Object {
            author: k.public_key(),
            at: 1_767_225_600_000,
            body: Body::Group(GroupBody {
                name: "garden".into(),
                rules: None,
                policy: GroupPolicy {
                    min_trust: Some(10),
                    ..GroupPolicy::default()
                },
                moderators: vec![],
                seq: 1,
            }),
        }
        .sign(&k)
        .unwrap();
        let v = serde_json::to_value(ObjectJson::new(&header)).unwrap();
        let body = v["body"].as_object().unwrap();
        let keys: Vec<&str> = body.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(v["body"]["policy"], serde_json::json!({ "min_trust": 10 }));
    }
}
