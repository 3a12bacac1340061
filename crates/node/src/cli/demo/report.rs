//! What the demo found, as data: per post the viewer's verdict and reasons (from the node's
//! answer), the summary counted from them, and each node's sync figures; rendered as one
//! screen of text or as JSON (`--json`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use vouch_identity::PublicKey;

use super::community::Role;
use crate::json::{DecisionJson, PolicyJson, ReasonJson, VerdictJson};

/// One reason of a decision, with the names the demo gave the keys it mentions.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReasonOut {
    /// The stable reason code (`specs/decisions.md`).
    pub code: String,
    /// The verdict this reason asks for.
    pub effect: VerdictJson,
    /// The node's sentence, keys replaced by the demo's names.
    pub sentence: String,
    /// The list (`<curator did:key>/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// The list's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_name: Option<String>,
    /// The list's curator (`did:key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curator: Option<String>,
    /// The curator's demo name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curator_name: Option<String>,
    /// Who acted (the moderator behind a ban).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The actor's demo name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// The group (`<owner did:key>/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The curator's or moderator's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A count (votes, lists agreeing).
    pub count: u64,
}

/// One post of the feed: who wrote it, what it is, and what the viewer's node decided.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PostOutcome {
    /// The post's CID.
    pub id: String,
    /// Its author (`did:key`).
    pub author: String,
    /// The author's demo name.
    pub name: String,
    /// What the author is in the generated community (the node never sees this).
    pub role: &'static str,
    /// The post's text.
    pub text: String,
    /// The verdict with Vouch (without Vouch every post is shown).
    pub verdict: VerdictJson,
    /// Codes of the reasons that decided it (their effect is the verdict).
    pub reason_codes: Vec<String>,
    /// Every reason of the explanation, including those without effect.
    pub reasons: Vec<ReasonOut>,
}

/// Reasons an explanation gives with effect `show` that changed nothing (`specs/decisions.md`:
/// votes that did not count, bans without authority, lapsed entries, and the vote tally
/// `explain` reports even when it is not negative enough to act).
const NO_EFFECT: [&str; 9] = [
    "votes-negative",
    "votes-ignored",
    "votes-not-personhood",
    "group-ban-not-moderator",
    "group-ban-retracted",
    "entry-expired",
    "entry-retracted",
    "group-equivocation",
    "list-equivocation",
];

/// Whether a reason decided `verdict`: its effect is the verdict, and for `show` it is not
/// one that changed nothing.
fn decides(code: &str, effect: VerdictJson, verdict: VerdictJson) -> bool {
    effect == verdict && !(verdict == VerdictJson::Show && NO_EFFECT.contains(&code))
}

impl PostOutcome {
    /// The reasons that decided the verdict.
    pub(crate) fn decisive(&self) -> impl Iterator<Item = &ReasonOut> {
        self.reasons
            .iter()
            .filter(|r| decides(&r.code, r.effect, self.verdict))
    }

    /// The one reason worth a line: the first that decided the verdict (for a post shown,
    /// usually the trust behind it), else the first reason given.
    pub(crate) fn main_reason(&self) -> Option<&ReasonOut> {
        self.decisive().next().or(self.reasons.first())
    }

    fn visible(&self) -> bool {
        matches!(self.verdict, VerdictJson::Show | VerdictJson::Warn)
    }
}

/// Posts per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct VerdictCounts {
    /// Shown.
    pub show: usize,
    /// Shown with a warning.
    pub warn: usize,
    /// Collapsed (one click away).
    pub collapse: usize,
    /// Hidden.
    pub hide: usize,
}

impl VerdictCounts {
    fn add(&mut self, v: VerdictJson) {
        match v {
            VerdictJson::Show => self.show += 1,
            VerdictJson::Warn => self.warn += 1,
            VerdictJson::Collapse => self.collapse += 1,
            VerdictJson::Hide => self.hide += 1,
        }
    }
}

/// The summary, counted from the per-post answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Summary {
    /// Posts in the feed (all shown without Vouch).
    pub posts: usize,
    /// Posts the viewer sees with Vouch (shown, or shown with a warning).
    pub visible: usize,
    /// Posts per verdict.
    pub verdicts: VerdictCounts,
    /// Posts per verdict, per role of the author.
    pub by_role: BTreeMap<&'static str, VerdictCounts>,
    /// Posts per deciding reason code.
    pub by_reason: BTreeMap<String, usize>,
    /// Posts a block list decided, per list name.
    pub by_list: BTreeMap<String, usize>,
    /// Votes that counted for nothing (`votes-ignored`: voters without trust from the
    /// viewer, over budget, or future-dated), summed over the posts.
    pub votes_ignored: u64,
    /// Posts carrying a ban by someone who is not a moderator (`group-ban-not-moderator`).
    pub bans_without_effect: usize,
}

/// Counts the summary from the outcomes.
pub(crate) fn summarize(posts: &[PostOutcome]) -> Summary {
    let mut s = Summary {
        posts: posts.len(),
        ..Summary::default()
    };
    for p in posts {
        s.verdicts.add(p.verdict);
        s.by_role.entry(p.role).or_default().add(p.verdict);
        s.visible += usize::from(p.visible());
        let mut codes: Vec<&str> = p.reason_codes.iter().map(String::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        for c in codes {
            *s.by_reason.entry(c.to_owned()).or_default() += 1;
        }
        let mut lists: Vec<&str> = p
            .decisive()
            .filter(|r| r.code == "list-block")
            .filter_map(|r| r.list_name.as_deref())
            .collect();
        lists.sort_unstable();
        lists.dedup();
        for l in lists {
            *s.by_list.entry(l.to_owned()).or_default() += 1;
        }
        s.votes_ignored += p
            .reasons
            .iter()
            .filter(|r| r.code == "votes-ignored")
            .map(|r| r.count)
            .sum::<u64>();
        s.bans_without_effect += usize::from(
            p.reasons
                .iter()
                .any(|r| r.code == "group-ban-not-moderator"),
        );
    }
    s
}

/// Names for keys: full `did:key` strings and the short form the node's sentences use.
#[derive(Debug, Default)]
pub(crate) struct Names {
    by_did: HashMap<String, String>,
    short: Vec<(String, String)>,
}

impl Names {
    /// From the community's names.
    pub(crate) fn new(names: &BTreeMap<PublicKey, String>) -> Names {
        let mut n = Names::default();
        for (k, name) in names {
            let did = k.to_did_key();
            if did.len() > 24 {
                n.short.push((
                    format!("{}…{}", &did[..16], &did[did.len() - 4..]),
                    name.clone(),
                ));
            }
            n.by_did.insert(did, name.clone());
        }
        n
    }

    /// The name of a `did:key`.
    pub(crate) fn of(&self, did: &str) -> Option<&str> {
        self.by_did.get(did).map(String::as_str)
    }

    /// `s` with every full or short key it names replaced by its name.
    pub(crate) fn replace(&self, s: &str) -> String {
        let mut out = s.to_owned();
        if !out.contains("did:key:") {
            return out;
        }
        for (did, name) in &self.by_did {
            if out.contains(did.as_str()) {
                out = out.replace(did.as_str(), name);
            }
        }
        for (short, name) in &self.short {
            if out.contains(short.as_str()) {
                out = out.replace(short.as_str(), name);
            }
        }
        out
    }
}

/// One reason with names.
pub(crate) fn reason_out(r: &ReasonJson, names: &Names) -> ReasonOut {
    let name = |d: &Option<String>| d.as_deref().and_then(|d| names.of(d)).map(str::to_owned);
    ReasonOut {
        code: r.code.clone(),
        effect: r.effect,
        sentence: names.replace(&r.sentence),
        list_name: r
            .list
            .as_deref()
            .and_then(|l| l.rsplit_once('/'))
            .map(|(_, n)| n.to_owned()),
        list: r.list.clone(),
        curator_name: name(&r.curator),
        curator: r.curator.clone(),
        actor_name: name(&r.actor),
        actor: r.actor.clone(),
        group: r.group.clone(),
        note: r.note.clone(),
        count: r.count,
    }
}

/// One post's outcome from the node's decision.
pub(crate) fn outcome(
    id: String,
    author: &PublicKey,
    role: Role,
    text: String,
    d: &DecisionJson,
    names: &Names,
) -> PostOutcome {
    let author = author.to_did_key();
    let reasons: Vec<ReasonOut> = d.reasons.iter().map(|r| reason_out(r, names)).collect();
    let mut reason_codes: Vec<String> = reasons
        .iter()
        .filter(|r| decides(&r.code, r.effect, d.verdict))
        .map(|r| r.code.clone())
        .collect();
    reason_codes.dedup();
    PostOutcome {
        id,
        name: names.of(&author).unwrap_or("someone").to_owned(),
        author,
        role: role.as_str(),
        text,
        verdict: d.verdict,
        reason_codes,
        reasons,
    }
}

/// One node of the demo's network.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NodeReport {
    /// Its index.
    pub index: usize,
    /// Whose objects were submitted to it.
    pub role: String,
    /// Its HTTP API (`http://127.0.0.1:PORT`).
    pub api: String,
    /// Its data directory (gone after the demo unless `--keep`).
    pub data_dir: PathBuf,
    /// Objects submitted to it through its API.
    pub submitted: usize,
    /// Objects it holds (its `/v1/status` count) once the network converged.
    pub objects: u64,
    /// Objects it accepted from gossip.
    pub by_gossip: u64,
    /// Objects it fetched in catch-up rounds.
    pub by_catch_up: u64,
}

/// Seconds each stage took.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Timings {
    /// Starting the nodes until they were connected.
    pub start: f64,
    /// Submitting every object to its node.
    pub submit: f64,
    /// From the last submission until every node held every object.
    pub sync: f64,
    /// Creating the viewer and deciding the feed.
    pub decide: f64,
    /// The whole demo until the report (before stopping the nodes).
    pub total: f64,
}

/// Everything `vouch demo` found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DemoReport {
    /// The community's seed.
    pub seed: u64,
    /// Signed objects in the community.
    pub objects: usize,
    /// The group (`<owner did:key>/<name>`).
    pub group: String,
    /// The viewer (`did:key`).
    pub viewer: String,
    /// The node the viewer was created on.
    pub viewer_node: usize,
    /// The viewer's policy, as the API took it.
    pub policy: PolicyJson,
    /// The nodes.
    pub nodes: Vec<NodeReport>,
    /// Every post of the feed, oldest first.
    pub posts: Vec<PostOutcome>,
    /// Counted from `posts`.
    pub summary: Summary,
    /// How long each stage took.
    pub seconds: Timings,
    /// The demo's folder: the nodes' data directories and `feed.txt`.
    pub data_dir: PathBuf,
    /// The feed's post CIDs, one a line (for `examples/filter_feed.py`).
    pub feed_file: PathBuf,
    /// The viewer's own API token (read and decide for the viewer only; owner-only file),
    /// for `examples/filter_feed.py` (`VOUCH_API_TOKEN_FILE`).
    pub viewer_token_file: PathBuf,
    /// Whether the nodes keep running (until Ctrl-C) and the folder is kept.
    pub kept: bool,
    /// Whether every node exited cleanly after SIGTERM (not yet known with `--keep`).
    pub stopped_cleanly: Option<bool>,
}

fn verdict_word(v: VerdictJson) -> &'static str {
    match v {
        VerdictJson::Show => "show",
        VerdictJson::Warn => "warn",
        VerdictJson::Collapse => "collapse",
        VerdictJson::Hide => "hide",
    }
}

fn role_label(role: &str, n: usize) -> String {
    let posts = if n == 1 { "post" } else { "posts" };
    let who = match role {
        "honest" => "by people in your trust web",
        "mislisted-friend" => "by a friend a block list named by mistake",
        "troll" => "by the troll",
        "rude" => "by a rude stranger",
        "spam" => "by the spam swarm's fresh keys",
        other => other,
    };
    format!("{n} {posts} {who}")
}

/// A short label for a deciding reason, for the summary.
fn reason_label(r: &ReasonOut) -> String {
    let who = |n: &Option<String>| {
        n.as_deref()
            .map(|n| n.split(" (").next().unwrap_or(n).to_owned())
            .unwrap_or_else(|| "someone".into())
    };
    match r.code.as_str() {
        "list-block" => format!(
            "on {} by {}",
            r.list_name.as_deref().unwrap_or("a list"),
            who(&r.curator_name)
        ),
        "group-ban" => format!("banned by {}", who(&r.actor_name)),
        "author-unknown" => "no trust path".into(),
        "author-trusted" => "trusted".into(),
        "trusted-protected" => "trusted directly, so lists only warn".into(),
        "votes-negative" => "voted down by people you trust".into(),
        "list-below-quorum" => "below your list quorum".into(),
        other => other.into(),
    }
}

fn thousands(n: impl Into<u64>) -> String {
    let s = n.into().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        format!("{s:<width$}")
    } else {
        let cut: String = s.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

/// Consecutive posts that read the same: one author (or the swarm), one verdict, one
/// deciding reason.
fn runs(posts: &[PostOutcome]) -> Vec<&[PostOutcome]> {
    let key = |p: &PostOutcome| {
        (
            if p.role == Role::Spam.as_str() {
                String::new()
            } else {
                p.author.clone()
            },
            p.role,
            p.verdict,
            p.reason_codes.clone(),
            p.main_reason().map(|r| r.sentence.clone()),
        )
    };
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=posts.len() {
        if i == posts.len() || key(&posts[i]) != key(&posts[start]) {
            out.push(&posts[start..i]);
            start = i;
        }
    }
    out
}

/// The report as one screen of text.
pub(crate) fn render_text(r: &DemoReport, viewer_policy: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "vouch demo: {} nodes on loopback, {} signed objects (seed {})\n",
        r.nodes.len(),
        thousands(r.objects as u64),
        r.seed
    );
    for n in &r.nodes {
        let _ = writeln!(
            o,
            "  node {}  {} {}  submitted {:>5}, holds {:>5} ({} by gossip, {} by catch-up)",
            n.index,
            clip(&n.role, 24),
            n.api,
            thousands(n.submitted as u64),
            thousands(n.objects),
            thousands(n.by_gossip),
            thousands(n.by_catch_up)
        );
    }
    let _ = writeln!(
        o,
        "  nodes up and connected in {:.1} s; objects submitted in {:.1} s; every node held all of them {:.1} s later",
        r.seconds.start, r.seconds.submit, r.seconds.sync
    );
    let _ = writeln!(
        o,
        "\nThe group's feed for you (a viewer created on node {}: {viewer_policy})",
        r.viewer_node
    );
    let _ = writeln!(
        o,
        "  {:<10} {:<30} {:<7} with Vouch, and why",
        "author", "post", "without"
    );
    for run in runs(&r.posts) {
        let first = &run[0];
        let who = if run.len() == 1 {
            first.name.clone()
        } else if first.role == Role::Spam.as_str() {
            format!("swarm ×{}", run.len())
        } else {
            format!("{} ×{}", first.name, run.len())
        };
        let mut sentences = first
            .decisive()
            .map(|x| x.sentence.clone())
            .collect::<Vec<_>>();
        if let Some(m) = first.main_reason() {
            sentences.retain(|s| *s != m.sentence);
            sentences.insert(0, m.sentence.clone());
        }
        sentences.dedup();
        let _ = writeln!(
            o,
            "  {} {} {:<7} {:<8} {}",
            clip(&who, 10),
            clip(&first.text, 30),
            "shown",
            verdict_word(first.verdict),
            sentences.first().map_or("", String::as_str)
        );
        if first.verdict != VerdictJson::Show {
            for s in sentences.iter().skip(1) {
                let _ = writeln!(o, "  {:<59}{s}", "");
            }
        }
    }
    let s = &r.summary;
    let _ = writeln!(
        o,
        "\nWithout Vouch you see all {} posts. With Vouch you see {} of {}: {} shown, {} with a warning; {} collapsed, {} hidden.",
        s.posts, s.visible, s.posts, s.verdicts.show, s.verdicts.warn, s.verdicts.collapse, s.verdicts.hide
    );
    for role in Role::ALL.map(Role::as_str) {
        let group: Vec<&PostOutcome> = r.posts.iter().filter(|p| p.role == role).collect();
        if group.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        for v in [
            VerdictJson::Hide,
            VerdictJson::Collapse,
            VerdictJson::Warn,
            VerdictJson::Show,
        ] {
            let with: Vec<&&PostOutcome> = group.iter().filter(|p| p.verdict == v).collect();
            if with.is_empty() {
                continue;
            }
            let mut labels: BTreeMap<String, usize> = BTreeMap::new();
            for p in &with {
                let mut mine: Vec<String> = p.decisive().map(reason_label).collect();
                mine.sort();
                mine.dedup();
                for l in mine {
                    *labels.entry(l).or_default() += 1;
                }
            }
            let why = labels
                .iter()
                .map(|(l, n)| {
                    if *n == with.len() {
                        l.clone()
                    } else {
                        format!("{l}: {n}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            let word = match v {
                VerdictJson::Hide => "hidden",
                VerdictJson::Collapse => "collapsed",
                VerdictJson::Warn => "shown with a warning",
                VerdictJson::Show => "shown",
            };
            parts.push(format!("{} {word} ({why})", with.len()));
        }
        let _ = writeln!(
            o,
            "  {}: {}",
            role_label(role, group.len()),
            parts.join(", ")
        );
    }
    if s.votes_ignored > 0 {
        let _ = writeln!(
            o,
            "  {} votes counted for nothing: their voters have no trust from you (votes-ignored).",
            thousands(s.votes_ignored)
        );
    }
    if s.bans_without_effect > 0 {
        let _ = writeln!(
            o,
            "  {} post(s) carry a 'ban' by someone who is not a moderator: no effect (group-ban-not-moderator).",
            s.bans_without_effect
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_identity::SecretKey;

    fn reason(code: &str, effect: VerdictJson, list: Option<&str>) -> ReasonOut {
        ReasonOut {
            code: code.into(),
            effect,
            sentence: format!("because {code}"),
            list: list.map(|l| format!("did:key:zCurator/{l}")),
            list_name: list.map(str::to_owned),
            curator: None,
            curator_name: list.map(|_| "cleo (curator)".to_owned()),
            actor: None,
            actor_name: None,
            group: None,
            note: None,
            count: if code == "votes-ignored" { 200 } else { 0 },
        }
    }

    fn post(
        role: Role,
        author: &str,
        verdict: VerdictJson,
        reasons: Vec<ReasonOut>,
    ) -> PostOutcome {
        PostOutcome {
            id: "bafy".into(),
            author: author.into(),
            name: author.into(),
            role: role.as_str(),
            text: "text".into(),
            verdict,
            reason_codes: reasons
                .iter()
                .filter(|r| decides(&r.code, r.effect, verdict))
                .map(|r| r.code.clone())
                .collect(),
            reasons,
        }
    }

    #[test]
    fn the_summary_counts_what_the_posts_say() {
        use VerdictJson::*;
        let posts = vec![
            post(
                Role::Honest,
                "ana",
                Show,
                vec![
                    reason("author-trusted", Show, None),
                    reason("votes-ignored", Show, None),
                ],
            ),
            post(
                Role::MislistedFriend,
                "ben",
                Warn,
                vec![
                    reason("list-block", Warn, Some("spam-watch")),
                    reason("trusted-protected", Warn, None),
                ],
            ),
            post(
                Role::Spam,
                "s1",
                Hide,
                vec![reason("list-block", Hide, Some("spam-watch"))],
            ),
            post(
                Role::Spam,
                "s2",
                Collapse,
                vec![reason("author-unknown", Collapse, None)],
            ),
            post(
                Role::Spam,
                "s3",
                Collapse,
                vec![reason("author-unknown", Collapse, None)],
            ),
        ];
        let s = summarize(&posts);
        assert_eq!(s.posts, 5);
        assert_eq!(s.visible, 2);
        assert_eq!(
            s.verdicts,
            VerdictCounts {
                show: 1,
                warn: 1,
                collapse: 2,
                hide: 1
            }
        );
        assert_eq!(s.by_role["spam"].collapse, 2);
        assert_eq!(s.by_role["spam"].hide, 1);
        assert_eq!(s.by_reason["author-unknown"], 2);
        assert_eq!(s.by_reason["list-block"], 2);
        assert_eq!(s.by_list["spam-watch"], 2);
        assert_eq!(s.votes_ignored, 200);
        // A vote tally that changed nothing does not count as a reason to show.
        assert_eq!(posts[0].reason_codes, vec!["author-trusted".to_owned()]);
        assert!(!s.by_reason.contains_key("votes-ignored"));
        // Consecutive posts that read the same are one line; the swarm's authors differ.
        let lines: Vec<usize> = runs(&posts).iter().map(|r| r.len()).collect();
        assert_eq!(lines, vec![1, 1, 1, 2]);
    }

    #[test]
    fn names_replace_full_and_short_keys() {
        let k = SecretKey::from_seed(&[9; 32]).public_key();
        let names = Names::new(&BTreeMap::from([(k, "cleo (curator)".to_owned())]));
        let did = k.to_did_key();
        let short = format!("{}…{}", &did[..16], &did[did.len() - 4..]);
        assert_eq!(
            names.replace(&format!("On block list 'x' by {short} (weight 1.00).")),
            "On block list 'x' by cleo (curator) (weight 1.00)."
        );
        assert_eq!(names.replace(&format!("{did}/x")), "cleo (curator)/x");
        assert_eq!(names.of(&did), Some("cleo (curator)"));
        assert_eq!(thousands(1_563u64), "1,563");
        assert_eq!(thousands(12u64), "12");
    }
}
