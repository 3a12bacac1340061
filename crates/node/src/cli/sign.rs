//! `vouch post|vote|attest|list|group|label|report|appeal`: one command per object kind that
//! builds the object, signs it with a local key, writes it (`--out`), submits it to the
//! running node and prints its CID. Replaceable headers (`list`, `group`) are re-signed from
//! the local record of what each key published (`cli_sign/published.rs`) with the next `seq`.
//!
//! Bans: a group's ban list is the group owner's list `<group>-bans`, purpose `ban`
//! (`vouch group create` publishes its header). `group ban` adds an entry to it, signed by
//! the owner or a moderator; `group unban` retracts entries with a `list-remove` naming them.

mod emit;
mod parse;
mod published;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::{
    effective_seq, epoch_of, AppealBody, AppealOutcome, AttestBody, Body, DismissBody, GroupBody,
    GroupPolicy, GroupRef, LabelBody, ListAddBody, ListBody, ListPurpose, ListRef, ListRemoveBody,
    Object, ObjectId, PostBody, ReportBody, SignedObject, Subject, VoteBody,
};

pub(crate) use emit::{submit as submit_object, EmitArgs, Submission};
pub(crate) use parse::time as parse_time;
#[cfg(feature = "vc")]
pub(crate) use parse::{group_ref as parse_group_ref, object_id as parse_object_id};
use published::Published;

/// The signing commands (flattened into the top-level `vouch` command).
#[derive(Debug, Subcommand)]
pub(crate) enum SignCommand {
    /// Sign and submit a post (text, IPFS links, in a group, in a thread).
    #[command(after_help = "Examples:\n  \
        vouch post --key alice \"hello, Vouch\"\n  \
        vouch post --key alice \"welcome\" --group did:key:z6Mk…/rust-club\n  \
        vouch post --key bob \"+1\" --reply bafyrei… --root bafyrei… --no-submit --out reply.cbor")]
    Post(PostArgs),
    /// Sign and submit a +1 / -1 vote on a post or an author.
    #[command(after_help = "Examples:\n  \
        vouch vote --key alice bafyrei… up\n  \
        vouch vote --key alice did:key:z6Mk… down --group did:key:z6Mk…/rust-club")]
    Vote(VoteArgs),
    /// Sign and submit a trust attestation (-100 distrust .. 100 trust) for a key.
    #[command(after_help = "Examples:\n  \
        vouch attest --key alice bob 80 --claim \"knows in person\"\n  \
        vouch attest --key alice did:key:z6Mk… -100 --expires +90d")]
    Attest(AttestArgs),
    /// Shared lists: create a list, add and remove entries.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch list create --key carol spam --purpose block --description \"spam accounts\"\n  \
        vouch list add --key carol --list spam did:key:z6Mk… --reason \"sells pills\"\n  \
        vouch list remove --key carol --list spam did:key:z6Mk…")]
    List(ListCmd),
    /// Groups: create one, change its rules and moderators, ban and unban.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch group create --key owner rust-club --rules \"Be kind.\" --min-trust 10\n  \
        vouch group moderator add --key owner rust-club mod1\n  \
        vouch group ban --key mod1 --group did:key:z6Mk…/rust-club did:key:z6Mk… --reason spam")]
    Group(GroupCmd),
    /// Sign and submit a label on a post or author (or withdraw one with --neg).
    #[command(after_help = "Examples:\n  \
        vouch label --key labeler bafyrei… nsfw\n  \
        vouch label --key labeler bafyrei… nsfw --neg --reason \"mislabelled\"")]
    Label(LabelArgs),
    /// Sign and submit a report of a post or author to a group's moderators.
    #[command(after_help = "Example:\n  \
        vouch report --key alice bafyrei… --group did:key:z6Mk…/rust-club --category spam --text \"ad\"")]
    Report(ReportArgs),
    /// Appeal against a ban, list entry or label; `appeal answer` is the moderator's answer.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  \
        vouch appeal --key bob bafyrei…ban… --text \"that was not me\"\n  \
        vouch appeal answer --key mod1 bafyrei…appeal… granted --text \"sorry\""
    )]
    Appeal(AppealArgs),
}

/// The signing key and what to do with the signed objects.
#[derive(Debug, Clone, Args)]
pub(crate) struct SignArgs {
    /// The signing key's name in the key folder [default: $VOUCH_KEY, else the only key].
    #[arg(long, env = "VOUCH_KEY")]
    pub key: Option<String>,
    /// Key folder [default: $VOUCH_HOME/keys or ~/.vouch/keys].
    #[arg(long, env = "VOUCH_KEY_DIR")]
    pub key_dir: Option<PathBuf>,
    /// Creation time of the object [default: now] (ms, -1h, 2026-12-31T12:00:00Z …).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    #[command(flatten)]
    pub emit: EmitArgs,
}

/// A loaded signing key with the time to sign at.
struct Signer {
    sk: SecretKey,
    pk: PublicKey,
    /// The key's local name (`None` when named by a path).
    name: Option<String>,
    key_dir: Option<PathBuf>,
    at: u64,
    now: u64,
}

impl Signer {
    fn new(args: &SignArgs) -> Result<Self> {
        let name = match &args.key {
            Some(k) => k.clone(),
            None => only_key(args.key_dir.as_ref())?,
        };
        let sk = crate::cli::keys::load_key(args.key_dir.clone(), &name)?;
        let now = crate::node::clock::now_ms();
        let at = match &args.at {
            Some(t) => parse::time(t, now)?,
            None => now,
        };
        let local = !(name.contains('/') || name.ends_with(".key"));
        Ok(Signer {
            pk: sk.public_key(),
            sk,
            name: local.then_some(name),
            key_dir: args.key_dir.clone(),
            at,
            now,
        })
    }

    fn sign(&self, body: Body) -> Result<SignedObject> {
        Object {
            author: self.pk,
            at: self.at,
            body,
        }
        .sign(&self.sk)
        .map_err(|e| anyhow!("[{}] {e}", e.code()))
    }

    fn dir(&self) -> Option<&PathBuf> {
        self.key_dir.as_ref()
    }

    fn time(&self, s: &Option<String>) -> Result<Option<u64>> {
        s.as_deref().map(|t| parse::time(t, self.now)).transpose()
    }
}

/// The default key: the only key in the key folder.
fn only_key(key_dir: Option<&PathBuf>) -> Result<String> {
    let dir = key_dir
        .cloned()
        .unwrap_or_else(crate::cli::keys::default_key_dir);
    let mut names = crate::cli::keys::key_names(&dir).unwrap_or_default();
    match names.len() {
        1 => Ok(names.remove(0)),
        0 => bail!(
            "no key in {} (create one with `vouch key new NAME`)",
            dir.display()
        ),
        _ => {
            names.sort();
            bail!(
                "several keys ({}): name one with --key or VOUCH_KEY",
                names.join(", ")
            )
        }
    }
}

/// `vouch post`.
#[derive(Debug, Args)]
pub(crate) struct PostArgs {
    /// The text (may be empty when --link is given).
    pub text: String,
    /// The group the post is in: OWNER/NAME (OWNER a did:key, hex key or local key name).
    #[arg(long)]
    pub group: Option<String>,
    /// An IPFS link (any CID; repeatable).
    #[arg(long = "link", value_name = "CID")]
    pub links: Vec<String>,
    /// The post this one replies to.
    #[arg(long, value_name = "CID")]
    pub reply: Option<String>,
    /// The thread's first post [default: the post replied to].
    #[arg(long, value_name = "CID", requires = "reply")]
    pub root: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// +1 or -1.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum VoteValue {
    /// +1.
    Up,
    /// -1.
    Down,
}

/// `vouch vote`.
#[derive(Debug, Args)]
pub(crate) struct VoteArgs {
    /// What is voted on: a post's CID or an author (did:key, hex key or local key name).
    pub target: String,
    /// up (+1) or down (-1).
    pub value: VoteValue,
    /// The group the vote counts in: OWNER/NAME.
    #[arg(long)]
    pub group: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `vouch attest`.
#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// Whom the attestation is about (did:key, hex key or local key name).
    pub subject: String,
    /// Trust level, -100 (complete distrust) to 100 (complete trust).
    #[arg(allow_negative_numbers = true)]
    pub level: i64,
    /// Scope the attestation to a group: OWNER/NAME.
    #[arg(long)]
    pub context: Option<String>,
    /// A free-text claim ("knows in person").
    #[arg(long)]
    pub claim: Option<String>,
    /// When the attestation stops counting (+90d, 2026-12-31, ms …).
    #[arg(long)]
    pub expires: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// What a list is for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PurposeArg {
    /// Subscribers hide the entries.
    Block,
    /// Subscribers show the entries.
    Allow,
    /// A group's ban list (needs --group).
    Ban,
    /// Entries carry a label (their --category).
    Label,
}

impl From<PurposeArg> for ListPurpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Block => ListPurpose::Block,
            PurposeArg::Allow => ListPurpose::Allow,
            PurposeArg::Ban => ListPurpose::Ban,
            PurposeArg::Label => ListPurpose::Label,
        }
    }
}

/// `vouch list …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ListCmd {
    // The query half (issue 6): `vouch list show|diff`, answered by the node's API.
    #[command(flatten)]
    Query(crate::cli::query::ListQuery),
    /// Publish a list header (seq 1, or --seq to republish a changed header).
    #[command(after_help = "Examples:\n  \
        vouch list create --key carol spam --purpose block --description \"spam accounts\"\n  \
        vouch list create --key carol spam --purpose block --description \"spam and scams\" --seq 2")]
    Create {
        /// The list's name (unique per key).
        name: String,
        /// What the list is for.
        #[arg(long, value_enum, default_value = "block")]
        purpose: PurposeArg,
        /// A description for subscribers.
        #[arg(long)]
        description: Option<String>,
        /// For a ban list: the group it bans from (OWNER/NAME).
        #[arg(long)]
        group: Option<String>,
        /// Sequence number [default: 1; a list already published needs --seq].
        #[arg(long)]
        seq: Option<u64>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Add an entry (an author or a post) to a list.
    #[command(after_help = "Examples:\n  \
        vouch list add --key carol --list spam did:key:z6Mk… --reason \"sells pills\" --category spam\n  \
        vouch list add --key carol --list nsfw bafyrei… --category nsfw --expires +30d")]
    Add {
        /// The list: NAME (the signing key's) or OWNER/NAME.
        #[arg(long)]
        list: String,
        /// Who or what: did:key, hex key, local key name or a post's CID.
        subject: String,
        /// Why, for the people it affects.
        #[arg(long)]
        reason: Option<String>,
        /// A category (spam, harassment, …; the label value on label lists).
        #[arg(long)]
        category: Option<String>,
        /// When the entry stops applying (+30d, 2026-12-31, ms …).
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Retract entries: every recorded add of each SUBJECT, and each --add named.
    #[command(after_help = "Examples:\n  \
        vouch list remove --key carol --list spam did:key:z6Mk…\n  \
        vouch list remove --key carol --list spam --add bafyrei…")]
    Remove {
        /// The list: NAME (the signing key's) or OWNER/NAME.
        #[arg(long)]
        list: String,
        /// Subjects whose entries to retract (looked up in the local record).
        subjects: Vec<String>,
        /// The CID of a list-add to retract (repeatable).
        #[arg(long = "add", value_name = "CID")]
        adds: Vec<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
}

/// Machine-readable group rules given on the command line.
#[derive(Debug, Clone, Args)]
pub(crate) struct PolicyArgs {
    /// Rules as text, for people.
    #[arg(long)]
    pub rules: Option<String>,
    /// Read the rules text from a file.
    #[arg(long, conflicts_with = "rules")]
    pub rules_file: Option<PathBuf>,
    /// Minimum trust (percent, 0..100) a viewer needs in a poster.
    #[arg(long)]
    pub min_trust: Option<u64>,
    /// Votes one voter may cast in the group per day.
    #[arg(long)]
    pub vote_budget: Option<u64>,
    /// A DID whose credential posters must hold.
    #[arg(long)]
    pub credential_issuer: Option<String>,
    /// Count only personhood-backed votes.
    #[arg(long)]
    pub personhood_votes: bool,
    /// Village rules: personhood polls with at least this many voices may amend the
    /// group's min-trust and vote budget (needs --personhood-votes and a personhood
    /// --credential-issuer; once set, it cannot be taken back).
    #[arg(long)]
    pub amend_quorum: Option<u64>,
    /// Village rules: the percentage of voices (50..99) an amendment must exceed.
    #[arg(long)]
    pub amend_majority: Option<u64>,
}

impl PolicyArgs {
    fn rules_text(&self) -> Result<Option<String>> {
        match &self.rules_file {
            Some(f) => Ok(Some(
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            )),
            None => Ok(self.rules.clone()),
        }
    }

    /// Applies the given fields to `policy`, keeping the others.
    fn apply(&self, policy: &mut GroupPolicy) {
        if self.min_trust.is_some() {
            policy.min_trust = self.min_trust;
        }
        if self.vote_budget.is_some() {
            policy.vote_budget = self.vote_budget;
        }
        if self.credential_issuer.is_some() {
            policy.credential_issuer = self.credential_issuer.clone();
        }
        policy.personhood_votes |= self.personhood_votes;
        if self.amend_quorum.is_some() {
            policy.amend_quorum = self.amend_quorum;
        }
        if self.amend_majority.is_some() {
            policy.amend_majority = self.amend_majority;
        }
    }
}

/// `vouch group …`.
#[derive(Debug, Subcommand)]
pub(crate) enum GroupCmd {
    // The query half (issue 6): `vouch group show|reports|bans|appeals`.
    #[command(flatten)]
    Query(crate::cli::query::GroupQuery),
    /// Publish a group header (seq 1) and its ban list's header.
    #[command(after_help = "Example:\n  \
        vouch group create --key owner rust-club --rules \"Be kind.\" --min-trust 10 --moderator mod1")]
    Create {
        /// The group's name (unique per owner).
        name: String,
        #[command(flatten)]
        policy: PolicyArgs,
        /// A moderator (did:key, hex key or local key name; repeatable).
        #[arg(long = "moderator", value_name = "KEY")]
        moderators: Vec<String>,
        /// Sequence number [default: 1; a group already published needs --seq].
        #[arg(long)]
        seq: Option<u64>,
        /// Do not publish the ban list's header.
        #[arg(long)]
        no_ban_list: bool,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Change the group's rules: re-sign the current header with seq + 1.
    #[command(after_help = "Examples:\n  \
        vouch group rules --key owner rust-club --rules-file RULES.md\n  \
        vouch group rules --key owner rust-club --reset-policy --vote-budget 20")]
    Rules {
        /// The group's name.
        name: String,
        #[command(flatten)]
        policy: PolicyArgs,
        /// Clear the machine-readable rules before applying the ones given.
        #[arg(long)]
        reset_policy: bool,
        /// Sequence number [default: the recorded header's seq + 1].
        #[arg(long)]
        seq: Option<u64>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Add or remove moderators: re-sign the current header with seq + 1.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
        vouch group moderator add --key owner rust-club mod1 did:key:z6Mk…\n  \
        vouch group moderator remove --key owner rust-club mod1")]
    Moderator(ModeratorCmd),
    /// Ban an author or a post from a group: an entry on the group's ban list.
    #[command(after_help = "Example:\n  \
        vouch group ban --key mod1 --group did:key:z6Mk…/rust-club did:key:z6Mk… --reason spam --expires +7d")]
    Ban {
        /// The group: OWNER/NAME, or NAME for the signing key's group.
        #[arg(long)]
        group: String,
        /// Who or what: did:key, hex key, local key name or a post's CID.
        subject: String,
        /// Why, for the person banned.
        #[arg(long)]
        reason: Option<String>,
        /// A category (spam, harassment, …).
        #[arg(long)]
        category: Option<String>,
        /// When the ban ends (+7d, 2026-12-31, ms …).
        #[arg(long)]
        expires: Option<String>,
        /// The ban list's name [default: GROUP-bans].
        #[arg(long)]
        ban_list: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Lift bans: a list-remove naming the bans (from the local record, or --ban CID).
    #[command(after_help = "Examples:\n  \
        vouch group unban --key owner --group rust-club did:key:z6Mk…\n  \
        vouch group unban --key mod1 --group did:key:z6Mk…/rust-club --ban bafyrei…")]
    Unban {
        /// The group: OWNER/NAME, or NAME for the signing key's group.
        #[arg(long)]
        group: String,
        /// Whose bans to lift (looked up in the local record).
        subject: Option<String>,
        /// The CID of a ban to lift (repeatable).
        #[arg(long = "ban", value_name = "CID")]
        bans: Vec<String>,
        /// The ban list's name [default: GROUP-bans].
        #[arg(long)]
        ban_list: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Dismiss reports: close them without acting (counts from the owner and moderators).
    #[command(after_help = "Example:\n  \
        vouch group dismiss --key mod1 --group did:key:z6Mk…/rust-club bafyrei…report… --text \"not spam\"")]
    Dismiss {
        /// The group: OWNER/NAME, or NAME for the signing key's group.
        #[arg(long)]
        group: String,
        /// The reports dismissed (their CIDs, 1 to 256; `vouch group reports` lists them).
        #[arg(required = true, num_args = 1..=256, value_name = "REPORT")]
        reports: Vec<String>,
        /// Why, for the reporters and the other moderators.
        #[arg(long)]
        text: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
}

/// `vouch group moderator …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ModeratorCmd {
    /// Name more moderators.
    #[command(after_help = "Example:\n  vouch group moderator add --key owner rust-club mod1")]
    Add(ModeratorArgs),
    /// Drop moderators (their bans stop counting; see specs/decisions.md).
    #[command(after_help = "Example:\n  vouch group moderator remove --key owner rust-club mod1")]
    Remove(ModeratorArgs),
}

/// Arguments of `group moderator add|remove`.
#[derive(Debug, Args)]
pub(crate) struct ModeratorArgs {
    /// The group's name.
    pub name: String,
    /// Moderators (did:key, hex key or local key name).
    #[arg(required = true)]
    pub keys: Vec<String>,
    /// Sequence number [default: the recorded header's seq + 1].
    #[arg(long)]
    pub seq: Option<u64>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `vouch label`.
#[derive(Debug, Args)]
pub(crate) struct LabelArgs {
    /// What is labelled: a post's CID or an author.
    pub subject: String,
    /// The label value (a-z, 0-9, -).
    pub value: String,
    /// Withdraw the label instead.
    #[arg(long)]
    pub neg: bool,
    /// Why.
    #[arg(long)]
    pub reason: Option<String>,
    /// When the label stops applying.
    #[arg(long)]
    pub expires: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `vouch report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// What is reported: a post's CID or an author.
    pub subject: String,
    /// The group whose moderators receive it: OWNER/NAME.
    #[arg(long)]
    pub group: String,
    /// The category (spam, harassment, …: a-z, 0-9, -).
    #[arg(long)]
    pub category: String,
    /// Free text for the moderators.
    #[arg(long)]
    pub text: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

/// `vouch appeal`.
#[derive(Debug, Args)]
pub(crate) struct AppealArgs {
    /// The contested ban, list entry or label (its CID).
    #[arg(required = true)]
    pub target: Option<String>,
    /// Free text.
    #[arg(long)]
    pub text: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(subcommand)]
    pub answer: Option<AppealCmd>,
}

/// An appeal's outcome.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OutcomeArg {
    /// The contested decision stands.
    Upheld,
    /// The contested decision no longer applies.
    Granted,
}

/// `vouch appeal answer`.
#[derive(Debug, Subcommand)]
pub(crate) enum AppealCmd {
    /// A moderator's (or curator's, or labeler's) answer to an appeal.
    #[command(
        after_help = "Example:\n  vouch appeal answer --key mod1 bafyrei… granted --text \"sorry\""
    )]
    Answer {
        /// The appeal answered (its CID).
        appeal: String,
        /// upheld or granted.
        outcome: OutcomeArg,
        /// Free text.
        #[arg(long)]
        text: Option<String>,
        #[command(flatten)]
        sign: SignArgs,
    },
}

/// Runs a signing command.
pub(crate) fn run(cmd: SignCommand) -> Result<ExitCode> {
    match cmd {
        SignCommand::Post(a) => post(a),
        SignCommand::Vote(a) => vote(a),
        SignCommand::Attest(a) => attest(a),
        SignCommand::List(c) => list(c),
        SignCommand::Group(c) => group(c),
        SignCommand::Label(a) => {
            let s = Signer::new(&a.sign)?;
            let body = Body::Label(LabelBody {
                subject: parse::subject(&a.subject, s.dir())?,
                value: a.value,
                neg: a.neg,
                reason: a.reason,
                expires: s.time(&a.expires)?,
            });
            publish(&s, &a.sign, vec![s.sign(body)?])
        }
        SignCommand::Report(a) => {
            let s = Signer::new(&a.sign)?;
            let body = Body::Report(ReportBody {
                subject: parse::subject(&a.subject, s.dir())?,
                group: parse::group_ref(&a.group, &s.pk, s.dir())?,
                category: a.category,
                text: a.text,
            });
            publish(&s, &a.sign, vec![s.sign(body)?])
        }
        SignCommand::Appeal(a) => appeal(a),
    }
}

/// Emits objects signed elsewhere (`vouch key rotate|revoke`): exit code 1 when the node
/// refused one.
pub(crate) fn emit_objects(args: &EmitArgs, objects: &[SignedObject]) -> Result<ExitCode> {
    let results = emit::emit(args, objects)?;
    Ok(if results.iter().all(emit::Submission::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Signs nothing more: emits `objects`, records the accepted ones, and picks the exit code
/// (1 when the node refused one).
fn publish(s: &Signer, args: &SignArgs, objects: Vec<SignedObject>) -> Result<ExitCode> {
    if let (Some(name), false) = (&s.name, args.emit.no_submit) {
        // A commitment made while no node was running goes out before the key's objects.
        let dir = s
            .key_dir
            .clone()
            .unwrap_or_else(crate::cli::keys::default_key_dir);
        if crate::cli::keys::pending_incept(&dir, name).is_some() {
            crate::cli::keys::publish_pending_incept(&dir, name, &args.emit.node.resolve()?)?;
            eprintln!("published {name}'s commitment to its next key");
        }
    }
    let results = emit::emit(&args.emit, &objects)?;
    let mut record = Published::load(&s.pk)?;
    let mut changed = false;
    for (obj, r) in objects.iter().zip(&results) {
        if r.ok() && obj.author() == &s.pk {
            record.note(obj);
            changed = true;
        }
    }
    if changed {
        record.save(&s.pk)?;
    }
    Ok(if results.iter().all(emit::Submission::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn post(a: PostArgs) -> Result<ExitCode> {
    let s = Signer::new(&a.sign)?;
    let group = a
        .group
        .as_deref()
        .map(|g| parse::group_ref(g, &s.pk, s.dir()))
        .transpose()?;
    let links = a
        .links
        .iter()
        .map(|l| cid::Cid::try_from(l.as_str()).map_err(|e| anyhow!("--link {l:?}: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let reply = a.reply.as_deref().map(parse::object_id).transpose()?;
    let root = match a.root.as_deref() {
        Some(r) => Some(parse::object_id(r)?),
        None => reply,
    };
    let body = Body::Post(PostBody {
        group,
        text: a.text,
        links,
        reply,
        root,
    });
    publish(&s, &a.sign, vec![s.sign(body)?])
}

fn vote(a: VoteArgs) -> Result<ExitCode> {
    let s = Signer::new(&a.sign)?;
    let body = Body::Vote(VoteBody {
        target: parse::subject(&a.target, s.dir())?,
        value: match a.value {
            VoteValue::Up => 1,
            VoteValue::Down => -1,
        },
        epoch: epoch_of(s.at),
        group: a
            .group
            .as_deref()
            .map(|g| parse::group_ref(g, &s.pk, s.dir()))
            .transpose()?,
    });
    publish(&s, &a.sign, vec![s.sign(body)?])
}

fn attest(a: AttestArgs) -> Result<ExitCode> {
    let s = Signer::new(&a.sign)?;
    let body = Body::Attest(AttestBody {
        subject: parse::key_ref(&a.subject, s.dir())?,
        level: a.level,
        context: a
            .context
            .as_deref()
            .map(|g| parse::group_ref(g, &s.pk, s.dir()))
            .transpose()?,
        claim: a.claim,
        expires: s.time(&a.expires)?,
    });
    publish(&s, &a.sign, vec![s.sign(body)?])
}

/// The seq for a new version of a header: `--seq`, else the recorded one's slot + 1, else 1
/// for a first version. `what` names the header in errors. `recorded` is the recorded
/// header's slot, `min(seq, at)` (`effective_seq`): a header whose `seq` was above its own
/// time (e.g. `u64::MAX`) holds only the slot of its time, so the next one is that + 1, not
/// an overflow.
fn next_seq(
    explicit: Option<u64>,
    recorded: Option<u64>,
    creating: bool,
    what: &str,
) -> Result<u64> {
    match (explicit, recorded, creating) {
        (Some(seq), _, _) => Ok(seq),
        (None, Some(_), true) => bail!(
            "{what} is already published by this key (local record): give --seq with a \
             higher number to republish it with the fields given here"
        ),
        (None, Some(seq), false) => seq
            .checked_add(1)
            .ok_or_else(|| anyhow!("{what}: seq overflow")),
        (None, None, true) => Ok(1),
        (None, None, false) => bail!(
            "no local record of {what} for this key (published from another machine?): \
             give --seq with a number above the current header's; the header is then built \
             from the fields given here only"
        ),
    }
}

fn list(cmd: ListCmd) -> Result<ExitCode> {
    match cmd {
        ListCmd::Query(q) => crate::cli::query::run_list(q),
        ListCmd::Create {
            name,
            purpose,
            description,
            group,
            seq,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let record = Published::load(&s.pk)?;
            let recorded = record
                .list(&name)?
                .map(|(o, l)| effective_seq(l.seq, o.at()));
            let seq = next_seq(seq, recorded, true, &format!("list {name:?}"))?;
            let group = group
                .as_deref()
                .map(|g| parse::group_ref(g, &s.pk, s.dir()))
                .transpose()?;
            let body = Body::List(ListBody {
                name,
                purpose: purpose.into(),
                description,
                group,
                seq,
            });
            publish(&s, &sign, vec![s.sign(body)?])
        }
        ListCmd::Add {
            list,
            subject,
            reason,
            category,
            expires,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let list = parse::list_ref(&list, &s.pk, s.dir())?;
            let entry = Entry {
                subject: &subject,
                reason,
                category,
                expires: &expires,
            };
            add_entry(&s, &sign, list, entry)
        }
        ListCmd::Remove {
            list,
            subjects,
            adds,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let list = parse::list_ref(&list, &s.pk, s.dir())?;
            retract(&s, &sign, list, &subjects, &adds)
        }
    }
}

/// Signs a `list-remove` naming every recorded add of `subjects` on `list` and every
/// explicit add id; forgets them in the local record once accepted.
/// One list entry as the command line gives it.
struct Entry<'a> {
    subject: &'a str,
    reason: Option<String>,
    category: Option<String>,
    expires: &'a Option<String>,
}

/// Signs and publishes a `list-add` of `entry` to `list` (a list, or a group's ban list).
fn add_entry(s: &Signer, sign: &SignArgs, list: ListRef, entry: Entry<'_>) -> Result<ExitCode> {
    let body = Body::ListAdd(ListAddBody {
        list,
        subject: parse::subject(entry.subject, s.dir())?,
        reason: entry.reason,
        category: entry.category,
        expires: s.time(entry.expires)?,
    });
    publish(s, sign, vec![s.sign(body)?])
}

/// Signs and publishes a `list-remove` on `list` naming every recorded add of each of
/// `subjects` and each id in `explicit`.
fn retract(
    s: &Signer,
    sign: &SignArgs,
    list: ListRef,
    subjects: &[String],
    explicit: &[String],
) -> Result<ExitCode> {
    let subjects = subjects
        .iter()
        .map(|x| parse::subject(x, s.dir()))
        .collect::<Result<Vec<Subject>>>()?;
    let mut ids: Vec<ObjectId> = explicit
        .iter()
        .map(|a| parse::object_id(a))
        .collect::<Result<_>>()?;
    for subject in &subjects {
        let found = published::find_adds(&list, subject)?;
        if found.is_empty() {
            bail!(
                "no recorded entry for {subject} on list {:?} of {}: name the add with its CID \
                 (--add / --ban)",
                list.name,
                list.owner
            );
        }
        ids.extend(found);
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        bail!("nothing to retract: give a subject or an add's CID");
    }
    let objects = ids
        .chunks(256)
        .map(|chunk| {
            s.sign(Body::ListRemove(ListRemoveBody {
                list: list.clone(),
                adds: chunk.to_vec(),
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    let code = publish(s, sign, objects)?;
    if code == ExitCode::SUCCESS {
        published::forget_adds(&ids)?;
    }
    Ok(code)
}

fn group(cmd: GroupCmd) -> Result<ExitCode> {
    match cmd {
        GroupCmd::Query(q) => crate::cli::query::run_group(q),
        GroupCmd::Create {
            name,
            policy,
            moderators,
            seq,
            no_ban_list,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let record = Published::load(&s.pk)?;
            let recorded = record
                .group(&name)?
                .map(|(o, g)| effective_seq(g.seq, o.at()));
            let seq = next_seq(seq, recorded, true, &format!("group {name:?}"))?;
            let mut p = GroupPolicy::default();
            policy.apply(&mut p);
            let moderators = moderators
                .iter()
                .map(|m| parse::key_ref(m, s.dir()))
                .collect::<Result<Vec<_>>>()?;
            let mut objects = vec![s.sign(Body::Group(GroupBody {
                name: name.clone(),
                rules: policy.rules_text()?,
                policy: p,
                moderators: dedup_keys(moderators),
                seq,
            }))?];
            let ban_name = ban_list_name(&name);
            let existing = record.list(&ban_name)?;
            if let Some((_, l)) = &existing {
                let this_group = GroupRef {
                    owner: s.pk,
                    name: name.clone(),
                };
                if l.purpose != ListPurpose::Ban || l.group.as_ref() != Some(&this_group) {
                    eprintln!(
                        "warning: this key already has a list named {ban_name:?} that is not \
                         this group's ban list; name another with `group ban --ban-list`"
                    );
                }
            }
            if !no_ban_list && existing.is_none() {
                objects.push(s.sign(Body::List(ListBody {
                    name: ban_name,
                    purpose: ListPurpose::Ban,
                    description: Some(format!("bans of the group {name}")),
                    group: Some(GroupRef { owner: s.pk, name }),
                    seq: 1,
                }))?);
            }
            publish(&s, &sign, objects)
        }
        GroupCmd::Rules {
            name,
            policy,
            reset_policy,
            seq,
            sign,
        } => update_group(&sign, &name, seq, |g| {
            if reset_policy {
                g.policy = GroupPolicy::default();
            }
            policy.apply(&mut g.policy);
            if let Some(text) = policy.rules_text()? {
                g.rules = Some(text);
            }
            Ok(())
        }),
        GroupCmd::Moderator(ModeratorCmd::Add(m)) => {
            let keys = parse_keys(&m)?;
            update_group(&m.sign, &m.name, m.seq, |g| {
                g.moderators.extend(keys.iter().copied());
                g.moderators = dedup_keys(std::mem::take(&mut g.moderators));
                Ok(())
            })
        }
        GroupCmd::Moderator(ModeratorCmd::Remove(m)) => {
            let keys = parse_keys(&m)?;
            update_group(&m.sign, &m.name, m.seq, |g| {
                let before = g.moderators.len();
                g.moderators.retain(|k| !keys.contains(k));
                if g.moderators.len() == before {
                    bail!("none of these keys is a moderator of {:?}", g.name);
                }
                Ok(())
            })
        }
        GroupCmd::Ban {
            group,
            subject,
            reason,
            category,
            expires,
            ban_list,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let g = parse::group_ref(&group, &s.pk, s.dir())?;
            let entry = Entry {
                subject: &subject,
                reason,
                category,
                expires: &expires,
            };
            add_entry(&s, &sign, ban_list_of(&g, ban_list), entry)
        }
        GroupCmd::Dismiss {
            group,
            reports,
            text,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let body = Body::Dismiss(DismissBody {
                group: parse::group_ref(&group, &s.pk, s.dir())?,
                reports: reports
                    .iter()
                    .map(|r| parse::object_id(r))
                    .collect::<Result<_>>()?,
                text,
            });
            publish(&s, &sign, vec![s.sign(body)?])
        }
        GroupCmd::Unban {
            group,
            subject,
            bans,
            ban_list,
            sign,
        } => {
            let s = Signer::new(&sign)?;
            let g = parse::group_ref(&group, &s.pk, s.dir())?;
            retract(
                &s,
                &sign,
                ban_list_of(&g, ban_list),
                subject.as_slice(),
                &bans,
            )
        }
    }
}

/// Most bytes in a name (`specs/objects.md` §5).
const MAX_NAME_BYTES: usize = 64;

/// The conventional name of a group's ban list: `<group>-bans`, or the group's own name when
/// that would be longer than a name may be.
fn ban_list_name(group: &str) -> String {
    let name = format!("{group}-bans");
    if name.len() <= MAX_NAME_BYTES {
        name
    } else {
        group.to_owned()
    }
}

/// A group's ban list: the owner's list with the conventional name, unless named otherwise.
fn ban_list_of(g: &GroupRef, name: Option<String>) -> ListRef {
    ListRef {
        owner: g.owner,
        name: name.unwrap_or_else(|| ban_list_name(&g.name)),
    }
}

fn parse_keys(m: &ModeratorArgs) -> Result<Vec<PublicKey>> {
    m.keys
        .iter()
        .map(|k| parse::key_ref(k, m.sign.key_dir.as_ref()))
        .collect()
}

fn dedup_keys(keys: Vec<PublicKey>) -> Vec<PublicKey> {
    let mut out: Vec<PublicKey> = Vec::with_capacity(keys.len());
    for k in keys {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Re-signs the key's group header `name` with `change` applied and the next seq.
fn update_group(
    sign: &SignArgs,
    name: &str,
    seq: Option<u64>,
    change: impl FnOnce(&mut GroupBody) -> Result<()>,
) -> Result<ExitCode> {
    let s = Signer::new(sign)?;
    let record = Published::load(&s.pk)?;
    let current = record.group(name)?;
    let seq = next_seq(
        seq,
        current.as_ref().map(|(o, g)| effective_seq(g.seq, o.at())),
        false,
        &format!("group {name:?}"),
    )?;
    let mut body = current.map(|(_, g)| g).unwrap_or(GroupBody {
        name: name.to_owned(),
        rules: None,
        policy: GroupPolicy::default(),
        moderators: Vec::new(),
        seq,
    });
    change(&mut body)?;
    body.seq = seq;
    publish(&s, sign, vec![s.sign(Body::Group(body))?])
}

fn appeal(a: AppealArgs) -> Result<ExitCode> {
    match a.answer {
        Some(AppealCmd::Answer {
            appeal,
            outcome,
            text,
            sign,
        }) => {
            let s = Signer::new(&sign)?;
            let body = Body::Appeal(AppealBody {
                target: parse::object_id(&appeal)?,
                text,
                outcome: Some(match outcome {
                    OutcomeArg::Upheld => AppealOutcome::Upheld,
                    OutcomeArg::Granted => AppealOutcome::Granted,
                }),
            });
            publish(&s, &sign, vec![s.sign(body)?])
        }
        None => {
            let sign = a.sign;
            let target = a.target.context("name the contested object's CID")?;
            let s = Signer::new(&sign)?;
            let body = Body::Appeal(AppealBody {
                target: parse::object_id(&target)?,
                text: a.text,
                outcome: None,
            });
            publish(&s, &sign, vec![s.sign(body)?])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next header takes the recorded header's slot `min(seq, at)` + 1: after a header
    /// with `seq = u64::MAX` (a mistake, or a thief's) the owner's next one supersedes it.
    #[test]
    fn the_next_seq_follows_the_slot_not_the_claimed_seq() {
        let at = 1_767_225_600_000;
        let slot = effective_seq(u64::MAX, at);
        assert_eq!(slot, at);
        let next = next_seq(None, Some(slot), false, "group \"g\"").unwrap();
        assert_eq!(next, at + 1);
        // Signed now (after `at`), the new header's slot is its seq: above the old one.
        assert!(effective_seq(next, at + 5) > slot);
        assert_eq!(next_seq(None, Some(3), false, "g").unwrap(), 4);
        assert_eq!(next_seq(None, None, true, "g").unwrap(), 1);
        assert_eq!(next_seq(Some(9), Some(3), true, "g").unwrap(), 9);
        assert!(next_seq(None, Some(3), true, "g").is_err());
    }

    #[test]
    fn ban_lists_are_named_after_their_group_within_the_name_limit() {
        assert_eq!(ban_list_name("gardening"), "gardening-bans");
        let long = "g".repeat(60);
        assert_eq!(ban_list_name(&long), long);
        assert_eq!(ban_list_name(&"g".repeat(59)).len(), 64);
    }
}
