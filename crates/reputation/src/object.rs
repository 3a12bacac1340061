//! The signed object model: the envelope `{v, kind, author, at, body, sig}`, one typed body
//! per kind, the DAG-CBOR encoding and the CIDv1 identifier.

mod wire;

use crate::validate::ValidationError;
use cid::Cid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use vouch_identity::{KeyDigest, PublicKey, SecretKey, Signature};

pub(crate) use wire::{
    decode_canonical, decode_envelope, encode_envelope, prefixed_message_from_encoded,
};

/// The envelope version this implementation reads and writes.
pub const OBJECT_VERSION: u64 = 1;
/// Multicodec code of DAG-CBOR, the codec of every object's CID.
pub const DAG_CBOR_CODEC: u64 = 0x71;
/// Multihash code of sha2-256, the hash of every object's CID.
pub const SHA2_256_CODE: u64 = 0x12;

/// The content identifier of an object: the sha2-256 digest of its encoding. Written as a
/// CIDv1 (dag-cbor, sha2-256), e.g. `bafyrei…`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub [u8; 32]);

impl ObjectId {
    /// The id of an encoded object.
    pub fn of_bytes(encoded: &[u8]) -> Self {
        ObjectId(Sha256::digest(encoded).into())
    }

    /// The CIDv1 (dag-cbor, sha2-256) form.
    pub fn to_cid(&self) -> Cid {
        // `wrap` only fails when the digest is longer than 64 bytes; ours has 32.
        let mh = multihash::Multihash::<64>::wrap(SHA2_256_CODE, &self.0)
            .unwrap_or_else(|_| multihash::Multihash::<64>::default());
        Cid::new_v1(DAG_CBOR_CODEC, mh)
    }

    /// Reads an object id from a CID; only CIDv1 dag-cbor sha2-256 names a Vouch object.
    pub fn from_cid(cid: &Cid) -> Option<Self> {
        if cid.version() != cid::Version::V1
            || cid.codec() != DAG_CBOR_CODEC
            || cid.hash().code() != SHA2_256_CODE
        {
            return None;
        }
        cid.hash().digest().try_into().ok().map(ObjectId)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_cid())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.to_cid())
    }
}

impl std::str::FromStr for ObjectId {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cid = Cid::try_from(s)
            .map_err(|e| ValidationError::InvalidBody(format!("not a CID: {e}")))?;
        ObjectId::from_cid(&cid).ok_or_else(|| {
            ValidationError::InvalidBody("not a CIDv1 dag-cbor sha2-256 object id".into())
        })
    }
}

/// The kind of an object, written as a short string in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// A post: text or IPFS links, optionally in a group and in a thread.
    Post,
    /// A +1 / -1 vote on a post or an author for one epoch.
    Vote,
    /// A trust attestation -100..100 from author to subject.
    Attest,
    /// A list header (block, allow, ban or label list).
    List,
    /// One entry added to a list.
    ListAdd,
    /// Retraction of named list entries.
    ListRemove,
    /// A group header with rules and moderators.
    Group,
    /// A label on a post or author, or its negation.
    Label,
    /// A report of a post or author to a group's moderators.
    Report,
    /// An appeal against a ban, list entry or label, or a moderator's answer to one.
    Appeal,
    /// A key rotation, signed by the old and the new key.
    Rotate,
    /// A key compromise notice: the author's objects from a time on are void.
    Revoke,
    /// A public link between a posting key and an identity DID, signed by both.
    Link,
    /// A pre-rotation commitment: the author names (by digest) the key that may replace it.
    Incept,
    /// A question put to a group's people, one voice per person (personhood ballots).
    Poll,
    /// One person's answer to a poll, with a personhood proof for the poll's scope.
    Ballot,
    /// A verifiable credential its subject (the author, an identity key) made public.
    Credential,
    /// An issuer's revocation of a credential it issued.
    CredentialRevoke,
    /// A group moderator's dismissal of reports: no action is taken on them.
    Dismiss,
}

impl Kind {
    /// Every kind, in spec order.
    pub const ALL: [Kind; 19] = [
        Kind::Post,
        Kind::Vote,
        Kind::Attest,
        Kind::List,
        Kind::ListAdd,
        Kind::ListRemove,
        Kind::Group,
        Kind::Label,
        Kind::Report,
        Kind::Appeal,
        Kind::Rotate,
        Kind::Revoke,
        Kind::Link,
        Kind::Incept,
        Kind::Poll,
        Kind::Ballot,
        Kind::Credential,
        Kind::CredentialRevoke,
        Kind::Dismiss,
    ];

    /// The name written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Post => "post",
            Kind::Vote => "vote",
            Kind::Attest => "attest",
            Kind::List => "list",
            Kind::ListAdd => "list-add",
            Kind::ListRemove => "list-remove",
            Kind::Group => "group",
            Kind::Label => "label",
            Kind::Report => "report",
            Kind::Appeal => "appeal",
            Kind::Rotate => "rotate",
            Kind::Revoke => "revoke",
            Kind::Link => "link",
            Kind::Incept => "incept",
            Kind::Poll => "poll",
            Kind::Ballot => "ballot",
            Kind::Credential => "credential",
            Kind::CredentialRevoke => "credential-revoke",
            Kind::Dismiss => "dismiss",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a vote, label, report or list entry is about: an author's key or an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Subject {
    /// An author (posting key).
    #[serde(rename = "key")]
    Key(PublicKey),
    /// An object, usually a post.
    #[serde(rename = "obj")]
    Object(ObjectId),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Key(k) => write!(f, "{k}"),
            Subject::Object(o) => write!(f, "{o}"),
        }
    }
}

/// A group is named by its owner and a name; its header is replaced by higher `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRef {
    /// The group owner's key.
    pub owner: PublicKey,
    /// The group's name, unique per owner.
    pub name: String,
}

impl GroupRef {
    /// A stable 32-byte id for the group: sha2-256 of `"vouch/v1/group\0" ‖ owner ‖ name`.
    pub fn id(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"vouch/v1/group\0");
        h.update(self.owner.as_bytes());
        h.update(self.name.as_bytes());
        h.finalize().into()
    }
}

/// A list is named by its owner and a name; its header is replaced by higher `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRef {
    /// The list owner's (curator's) key.
    pub owner: PublicKey,
    /// The list's name, unique per owner.
    pub name: String,
}

/// `post` body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// The group the post is in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    /// The text (may be empty when `links` is not).
    pub text: String,
    /// IPFS links (any CID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Cid>,
    /// The post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ObjectId>,
    /// The root of the thread; required with `reply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<ObjectId>,
}

/// `vote` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// What is voted on.
    pub target: Subject,
    /// +1 or -1.
    pub value: i64,
    /// The UTC day (`at / 86_400_000`); must match the envelope's `at`.
    pub epoch: u64,
    /// The group the vote counts in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
}

/// `attest` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestBody {
    /// Whom the author vouches for (or distrusts).
    pub subject: PublicKey,
    /// Trust level, -100 (complete distrust) to 100 (complete trust).
    pub level: i64,
    /// The group the attestation is scoped to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<GroupRef>,
    /// A free-text claim ("knows in person", "good trader").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Milliseconds since the epoch after which the attestation no longer counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
}

impl AttestBody {
    /// A plain attestation of `subject` at `level`: no context, claim or expiry.
    pub fn new(subject: PublicKey, level: i64) -> Self {
        AttestBody {
            subject,
            level,
            context: None,
            claim: None,
            expires: None,
        }
    }
}

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListPurpose {
    /// Subscribers hide the entries.
    Block,
    /// Subscribers show the entries.
    Allow,
    /// A group's ban list: entries are banned in the group.
    Ban,
    /// Entries carry a label (the entry's `category`).
    Label,
}

impl ListPurpose {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ListPurpose::Block => "block",
            ListPurpose::Allow => "allow",
            ListPurpose::Ban => "ban",
            ListPurpose::Label => "label",
        }
    }
}

/// `list` body: the header of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListBody {
    /// The list's name, unique per author.
    pub name: String,
    /// What the list is for.
    pub purpose: ListPurpose,
    /// A description for subscribers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The group whose ban list this is (required for, and only allowed with, `ban`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    /// Sequence number: the highest per (author, name) wins.
    pub seq: u64,
}

/// `list-add` body: one entry of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListAddBody {
    /// The list the entry belongs to.
    pub list: ListRef,
    /// Who or what is listed.
    pub subject: Subject,
    /// Why, for the people it affects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A category (spam, harassment, …; the label value on label lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Milliseconds since the epoch after which the entry no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
}

/// `list-remove` body: retracts earlier `list-add` objects by id (observed-remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRemoveBody {
    /// The list.
    pub list: ListRef,
    /// The ids of the `list-add` objects retracted.
    pub adds: Vec<ObjectId>,
}

/// Machine-readable group rules. Integers only: no floats in protocol objects.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPolicy {
    /// Minimum trust (percent, 0..=100) a viewer must have in an author for posts to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust: Option<u64>,
    /// Votes one voter may cast in the group per epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_budget: Option<u64>,
    /// A DID whose credential posters must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_issuer: Option<String>,
    /// Count only personhood-backed votes (one per person per epoch).
    #[serde(default, skip_serializing_if = "is_false")]
    pub personhood_votes: bool,
    /// Village rules: the group's amendable rules (`min_trust`, `vote_budget`) can be changed
    /// by a personhood poll ([`PollBody::amend`]) in which at least this many people vote.
    /// Once any header of the group sets it, the owner cannot take it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_quorum: Option<u64>,
    /// Village rules: the percentage of voices (50..=99) an amendment must exceed to pass;
    /// absent means 50 (more than half).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_majority: Option<u64>,
}

/// `group` body: a group header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    /// The group's name, unique per owner (the author).
    pub name: String,
    /// Rules as text, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// Rules for machines.
    pub policy: GroupPolicy,
    /// Keys allowed to ban and unban in the group, besides the owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moderators: Vec<PublicKey>,
    /// Sequence number: the highest per (owner, name) wins.
    pub seq: u64,
}

/// `label` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// What is labelled.
    pub subject: Subject,
    /// The label value: lowercase ASCII letters, digits and `-`.
    pub value: String,
    /// True when this negates (withdraws) the label.
    #[serde(default, skip_serializing_if = "is_false")]
    pub neg: bool,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Milliseconds since the epoch after which the label no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
}

/// `report` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// What is reported.
    pub subject: Subject,
    /// The group whose moderators receive the report.
    pub group: GroupRef,
    /// The category (spam, harassment, …).
    pub category: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `dismiss` body: a group's owner or moderator closes reports sent to the group without
/// acting on them. It counts only from someone who moderates the group (`specs/objects.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// The group the reports were sent to.
    pub group: GroupRef,
    /// The reports dismissed (1..256, no duplicates).
    pub reports: Vec<ObjectId>,
    /// Why, for the reporters and the other moderators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A moderator's answer to an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppealOutcome {
    /// The contested decision stands.
    Upheld,
    /// The appeal is granted: the contested decision no longer applies.
    Granted,
}

impl AppealOutcome {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Granted => "granted",
        }
    }
}

/// `appeal` body. Without `outcome` it is an appeal against `target` (a ban, list entry or
/// label); with `outcome` it is a moderator's answer and `target` is the appeal answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// The contested object, or the appeal being answered.
    pub target: ObjectId,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Present on answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AppealOutcome>,
}

/// `rotate` body, in one of two versions told apart by their fields (`specs/objects.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateBody {
    /// Version 1, `{new, new_sig}`: the author (the old key) hands over to `new`, which
    /// countersigns. Counts only for a key that never committed to a successor, and never
    /// once the key is revoked (`specs/trust.md` §1).
    Handover {
        /// The new key.
        new: PublicKey,
        /// The new key's signature over `old ‖ new ‖ at` (domain `vouch/v1/rotate`).
        new_sig: Signature,
    },
    /// Version 2, `{old, next?, since?}`, pre-rotation: the author is the new key, revealed;
    /// it counts when `old` committed to its digest ([`KeyDigest`]). The old key's secret is
    /// not needed, so a key can be recovered after it was stolen or lost.
    Reveal {
        /// The key being replaced.
        old: PublicKey,
        /// The commitment to the key that may replace the author in turn; absent, the author
        /// can never be rotated.
        next: Option<KeyDigest>,
        /// The old key's objects from this time on are void (default: the rotation's `at`).
        since: Option<u64>,
    },
}

/// The wire form of [`RotateBody`]: every field of both versions, each optional.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new_sig: Option<Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<KeyDigest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<u64>,
}

impl Serialize for RotateBody {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let wire = match self {
            RotateBody::Handover { new, new_sig } => RotateWire {
                new: Some(*new),
                new_sig: Some(*new_sig),
                old: None,
                next: None,
                since: None,
            },
            RotateBody::Reveal { old, next, since } => RotateWire {
                new: None,
                new_sig: None,
                old: Some(*old),
                next: *next,
                since: *since,
            },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RotateBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = RotateWire::deserialize(d)?;
        match w {
            RotateWire {
                new: Some(new),
                new_sig: Some(new_sig),
                old: None,
                next: None,
                since: None,
            } => Ok(RotateBody::Handover { new, new_sig }),
            RotateWire {
                new: None,
                new_sig: None,
                old: Some(old),
                next,
                since,
            } => Ok(RotateBody::Reveal { old, next, since }),
            _ => Err(<D::Error as serde::de::Error>::custom(
                "rotate body is {new, new_sig} (v1) or {old, next?, since?} (v2)",
            )),
        }
    }
}

/// `incept` body: the author commits to the digest of the key that may replace it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InceptBody {
    /// [`KeyDigest`] of the successor key, kept offline until it is needed.
    pub next: KeyDigest,
}

/// A change of a group's amendable rules, put to its people by a poll.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// New minimum trust (percent, 0..=100; 0 removes the minimum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust: Option<u64>,
    /// New vote budget per voter per epoch (0..=10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_budget: Option<u64>,
}

/// `poll` body: a question to a group's people, one voice per person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollBody {
    /// The group whose people vote.
    pub group: GroupRef,
    /// The group header (one version, by id) the poll runs under: its personhood issuer
    /// checks the ballots, and for an amendment its `amend_quorum` and `amend_majority` apply.
    pub header: ObjectId,
    /// The question.
    pub text: String,
    /// How many choices (2..=256); ballots choose `0..options`.
    pub options: u64,
    /// Ballots dated after this do not count; the result stands from this time.
    pub closes: u64,
    /// A change of the group's rules, adopted when choice 0 ("adopt") passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend: Option<Amendment>,
}

impl PollBody {
    /// The personhood scope label of the poll `id`: `"poll/" ‖ CID`. Every poll is its own
    /// scope (epoch 0), so one person's ballots in two polls cannot be linked.
    pub fn scope_label(id: &ObjectId) -> String {
        format!("poll/{id}")
    }
}

/// `ballot` body: one person's choice in a poll. The author is a fresh voting key; the
/// proof binds it to the person's pseudonym in the poll's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotBody {
    /// The poll.
    pub poll: ObjectId,
    /// The choice, `0..options`.
    pub choice: u64,
    /// The encoded personhood proof (`vouch_identity::PersonhoodProof`) for scope
    /// ([`PollBody::scope_label`], 0) and the author's key.
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
}

/// `revoke` body: the author's key is compromised since `since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Milliseconds since the epoch from which the author's objects are void.
    pub since: u64,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `link` body: a public link between the author (a posting key) and an identity DID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The identity DID (`did:key` ed25519).
    pub identity: String,
    /// The identity key's signature over `posting ‖ identity ‖ at` (domain `vouch/v1/link`).
    pub proof: Signature,
}

/// `credential` body: a W3C verifiable credential (`specs/identity.md` §2) that its subject
/// chose to make public. The author is the identity key the credential was issued to (its
/// `credentialSubject.id` is the author's `did:key`), so only the holder can publish it;
/// with the holder's `link` objects, any node can then say `verified by <issuer>` for the
/// linked posting keys. Validation bounds the size only: the credential is verified (issuer,
/// proof, validity, revocations) by the nodes that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    /// The credential as issued: JSON text, 1 to 16384 bytes.
    pub vc: String,
}

/// `credential-revoke` body: the author, a credential issuer's key, revokes a credential it
/// issued (`specs/identity.md` §3). Permanent; the object's `at` is the revocation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRevokeBody {
    /// The revoked credential's `id` (1 to 512 bytes).
    pub credential: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The body of an object; the variant is the object's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Body {
    Post(PostBody),
    Vote(VoteBody),
    Attest(AttestBody),
    List(ListBody),
    ListAdd(ListAddBody),
    ListRemove(ListRemoveBody),
    Group(GroupBody),
    Label(LabelBody),
    Report(ReportBody),
    Appeal(AppealBody),
    Rotate(RotateBody),
    Revoke(RevokeBody),
    Link(LinkBody),
    Incept(InceptBody),
    Poll(PollBody),
    Ballot(BallotBody),
    Credential(CredentialBody),
    CredentialRevoke(CredentialRevokeBody),
    Dismiss(DismissBody),
}

impl Body {
    /// The kind this body belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Post(_) => Kind::Post,
            Body::Vote(_) => Kind::Vote,
            Body::Attest(_) => Kind::Attest,
            Body::List(_) => Kind::List,
            Body::ListAdd(_) => Kind::ListAdd,
            Body::ListRemove(_) => Kind::ListRemove,
            Body::Group(_) => Kind::Group,
            Body::Label(_) => Kind::Label,
            Body::Report(_) => Kind::Report,
            Body::Appeal(_) => Kind::Appeal,
            Body::Rotate(_) => Kind::Rotate,
            Body::Revoke(_) => Kind::Revoke,
            Body::Link(_) => Kind::Link,
            Body::Incept(_) => Kind::Incept,
            Body::Poll(_) => Kind::Poll,
            Body::Ballot(_) => Kind::Ballot,
            Body::Credential(_) => Kind::Credential,
            Body::CredentialRevoke(_) => Kind::CredentialRevoke,
            Body::Dismiss(_) => Kind::Dismiss,
        }
    }
}

/// An unsigned object: who says what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The author's posting key.
    pub author: PublicKey,
    /// Milliseconds since the Unix epoch, as claimed by the author.
    pub at: u64,
    /// What the object says.
    pub body: Body,
}

impl Object {
    /// The kind of the object.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// Checks the body's field bounds and signs. `key` must be the author's.
    pub fn sign(self, key: &SecretKey) -> Result<SignedObject, ValidationError> {
        crate::validate::check_fields(&self)?;
        self.sign_unchecked(key)
    }

    /// Signs without checking field bounds. For building hostile test inputs only: the
    /// result may well be rejected by [`crate::validate`].
    pub fn sign_unchecked(self, key: &SecretKey) -> Result<SignedObject, ValidationError> {
        if key.public_key() != self.author {
            return Err(ValidationError::InvalidSignature);
        }
        let unsigned = encode_envelope(&self, None)?;
        let sig = key.sign(vouch_identity::Domain::Object, &unsigned);
        let bytes = encode_envelope(&self, Some(&sig))?;
        Ok(SignedObject {
            id: ObjectId::of_bytes(&bytes),
            object: self,
            sig,
            bytes,
        })
    }
}

/// An object with its signature, its canonical bytes and its id. Values of this type come
/// from [`Object::sign`] or from [`crate::validate`], which checks everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    pub(crate) object: Object,
    pub(crate) sig: Signature,
    pub(crate) bytes: Vec<u8>,
    pub(crate) id: ObjectId,
}

impl SignedObject {
    /// The object.
    pub fn object(&self) -> &Object {
        &self.object
    }
    /// The author's signature.
    pub fn signature(&self) -> &Signature {
        &self.sig
    }
    /// The canonical DAG-CBOR bytes (an IPFS block).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The content id.
    pub fn id(&self) -> ObjectId {
        self.id
    }
    /// The kind.
    pub fn kind(&self) -> Kind {
        self.object.kind()
    }
    /// The author.
    pub fn author(&self) -> &PublicKey {
        &self.object.author
    }
    /// The claimed creation time (ms since the epoch).
    pub fn at(&self) -> u64 {
        self.object.at
    }
    /// The body.
    pub fn body(&self) -> &Body {
        &self.object.body
    }
    /// Takes the object apart.
    pub fn into_parts(self) -> (Object, Signature, Vec<u8>, ObjectId) {
        (self.object, self.sig, self.bytes, self.id)
    }
}

impl RotateBody {
    /// The bytes the new key signs: `old ‖ new ‖ at (u64 big-endian)`.
    pub fn consent_message(old: &PublicKey, new: &PublicKey, at: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(72);
        m.extend_from_slice(old.as_bytes());
        m.extend_from_slice(new.as_bytes());
        m.extend_from_slice(&at.to_be_bytes());
        m
    }

    /// A version 1 handover from `old` to `new_key`, countersigned by `new_key`.
    pub fn new(old: &PublicKey, new_key: &SecretKey, at: u64) -> Self {
        let new = new_key.public_key();
        let msg = Self::consent_message(old, &new, at);
        RotateBody::Handover {
            new,
            new_sig: new_key.sign(vouch_identity::Domain::Rotate, &msg),
        }
    }

    /// A version 2 rotation of `old`, to be signed by the key `old` committed to, naming
    /// the commitment `next` for that key's own successor.
    pub fn reveal(old: PublicKey, next: Option<KeyDigest>) -> Self {
        RotateBody::Reveal {
            old,
            next,
            since: None,
        }
    }
}

impl LinkBody {
    /// The bytes the identity key signs: `posting ‖ utf8(identity) ‖ at (u64 big-endian)`.
    pub fn consent_message(posting: &PublicKey, identity: &str, at: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(40 + identity.len());
        m.extend_from_slice(posting.as_bytes());
        m.extend_from_slice(identity.as_bytes());
        m.extend_from_slice(&at.to_be_bytes());
        m
    }

    /// A link body from `posting` to the identity key's `did:key`, signed by the identity key.
    pub fn new(posting: &PublicKey, identity_key: &SecretKey, at: u64) -> Self {
        let identity = identity_key.public_key().to_did_key();
        let msg = Self::consent_message(posting, &identity, at);
        LinkBody {
            proof: identity_key.sign(vouch_identity::Domain::Link, &msg),
            identity,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Serialize for ObjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_cid().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let cid = Cid::deserialize(d)?;
        ObjectId::from_cid(&cid).ok_or_else(|| {
            <D::Error as serde::de::Error>::custom(
                "object reference must be a CIDv1 dag-cbor sha2-256",
            )
        })
    }
}
