//! Decisions per second for one viewer: a batch of 1,000 feed items, 20 subscribed block
//! lists of 100,000 entries each, a trust view of 100,000 authors, a group with 1,000 bans and
//! some trusted votes. Prints the compiled view's decisions/s next to two baselines measured in
//! the same run: deciding from the uncompiled state (per-list index lookups, as a node without
//! the view would), and a bare `HashSet` membership loop (the floor of any lookup).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::*;

const NOW: u64 = 1_767_225_600_000;
const MIN: u64 = 60_000;
const LISTS: usize = 20;
const ENTRIES: usize = 100_000;
const TRUSTED: usize = 100_000;
const POOL: usize = 250_000;
const FEED: usize = 1_000;

struct Setup {
    state: ModerationState,
    policy: Policy,
    trust: DirectTrust,
    lists: Vec<ListRef>,
    feed: Vec<Item>,
    listed: HashSet<PublicKey>,
}

fn key(i: usize, salt: u8) -> SecretKey {
    let mut seed = [salt; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    SecretKey::from_seed(&seed)
}

/// A small deterministic generator (xorshift64*), so every run decides the same feed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn id(kind: u8, a: usize, b: usize) -> ObjectId {
    let mut bytes = [0u8; 17];
    bytes[0] = kind;
    bytes[1..9].copy_from_slice(&(a as u64).to_le_bytes());
    bytes[9..].copy_from_slice(&(b as u64).to_le_bytes());
    ObjectId::of_bytes(&bytes)
}

fn apply(state: &mut ModerationState, id: ObjectId, author: PublicKey, at: u64, body: Body) {
    state.apply_object(id, &Object { author, at, body });
}

fn setup() -> Setup {
    let t = Instant::now();
    // Authors 0..150k are listed (each by several lists), 100k..200k are trusted (50k are
    // both: protected), 200k..250k are unknown.
    let pool: Vec<PublicKey> = (0..POOL).map(|i| key(i, 1).public_key()).collect();
    let viewer = key(0, 2).public_key();
    let mut state = ModerationState::new();
    let mut lists = Vec::new();
    let mut listed = HashSet::new();
    for l in 0..LISTS {
        let curator = key(l, 3).public_key();
        let list = ListRef {
            owner: curator,
            name: format!("blocks-{l}"),
        };
        apply(
            &mut state,
            id(1, l, 0),
            curator,
            NOW - 1000 * MIN,
            Body::List(ListBody {
                name: list.name.clone(),
                purpose: ListPurpose::Block,
                description: None,
                group: None,
                seq: 1,
            }),
        );
        let offset = l * 2_500;
        for j in 0..ENTRIES {
            let subject = pool[(offset + j) % 150_000];
            listed.insert(subject);
            apply(
                &mut state,
                id(2, l, j),
                curator,
                NOW - 900 * MIN + j as u64,
                Body::ListAdd(ListAddBody {
                    list: list.clone(),
                    subject: Subject::Key(subject),
                    reason: None,
                    category: Some("spam".into()),
                    expires: if j % 10 == 0 {
                        Some(NOW + 1000 * MIN)
                    } else {
                        None
                    },
                }),
            );
        }
        lists.push(list);
    }
    // A group with 1,000 bans by its owner.
    let owner = key(0, 4).public_key();
    let group = GroupRef {
        owner,
        name: "g".into(),
    };
    apply(
        &mut state,
        id(3, 0, 0),
        owner,
        NOW - 1000 * MIN,
        Body::Group(GroupBody {
            name: "g".into(),
            rules: None,
            policy: GroupPolicy {
                min_trust: Some(10),
                ..Default::default()
            },
            moderators: vec![],
            seq: 1,
        }),
    );
    let bans = ListRef {
        owner,
        name: "g-bans".into(),
    };
    apply(
        &mut state,
        id(3, 1, 0),
        owner,
        NOW - 1000 * MIN,
        Body::List(ListBody {
            name: bans.name.clone(),
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(group.clone()),
            seq: 1,
        }),
    );
    for j in 0..1_000 {
        apply(
            &mut state,
            id(4, j, 0),
            owner,
            NOW - 800 * MIN,
            Body::ListAdd(ListAddBody {
                list: bans.clone(),
                subject: Subject::Key(pool[200_000 + j * 7]),
                reason: Some("spam".into()),
                category: None,
                expires: None,
            }),
        );
    }
    // The trust view: 100k authors.
    let mut trust = DirectTrust::new(viewer);
    for (i, k) in pool[100_000..100_000 + TRUSTED].iter().enumerate() {
        trust.insert(*k, 20 + (i % 80) as i64, id(5, i, 0));
    }
    // The feed: 1,000 posts by authors drawn from the whole pool, 10% in the group; 100 of
    // them voted down by 5 trusted voters each.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut feed = Vec::with_capacity(FEED);
    for i in 0..FEED {
        let author = pool[rng.below(POOL)];
        let post_id = id(6, i, 0);
        if i % 10 == 0 {
            for v in 0..5 {
                let voter = pool[100_000 + rng.below(TRUSTED)];
                let at = NOW - 30 * MIN + v;
                apply(
                    &mut state,
                    id(7, i, v as usize),
                    voter,
                    at,
                    Body::Vote(VoteBody {
                        target: Subject::Object(post_id),
                        value: -1,
                        epoch: epoch_of(at),
                        group: None,
                    }),
                );
            }
        }
        feed.push(Item::Post(PostItem {
            id: post_id,
            author,
            at: NOW - 10 * MIN,
            group: (i % 10 == 3).then(|| group.clone()),
        }));
    }
    let policy = lists
        .iter()
        .fold(Policy::new(viewer), |p, l| p.subscribe(l.clone(), 1.0));
    println!(
        "setup: {} lists x {} entries, {} trusted authors, {} feed items, built in {:.1?}",
        LISTS,
        ENTRIES,
        trust.len(),
        feed.len(),
        t.elapsed()
    );
    Setup {
        state,
        policy,
        trust,
        lists,
        feed,
        listed,
    }
}

/// Deciding from the uncompiled state: for every item, every subscribed list's subject index
/// (post and author), each entry's status, the quorum, the trust protection.
fn naive_decide(s: &Setup, item: &Item) -> Verdict {
    let author = *item.author_key();
    let post_id = match item {
        Item::Post(p) => Some(p.id),
        Item::Author { .. } => None,
    };
    let mut n = 0u32;
    for l in &s.lists {
        let Some(list) = s.state.list(l) else {
            continue;
        };
        let owner = l.owner;
        let may_write = |a: &PublicKey, _: u64| *a == owner;
        let subjects = [Some(Subject::Key(author)), post_id.map(Subject::Object)];
        let hit = subjects.iter().flatten().any(|subject| {
            list.adds_for(subject)
                .any(|(id, e)| list.status(&id, e, &may_write, NOW) == EntryStatus::Live)
        });
        n += u32::from(hit);
    }
    let trusted = s
        .trust
        .trust(&author)
        .is_some_and(|t| t.direct && t.score > 0.0);
    match (n, trusted) {
        (0, _) => Verdict::Show,
        (_, true) => Verdict::Warn,
        _ => Verdict::Hide,
    }
}

fn per_second(n_items: usize, min: Duration, f: &mut dyn FnMut()) -> f64 {
    // Warm up, then run for at least `min` (and three rounds).
    f();
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < min || rounds < 3 {
        f();
        rounds += 1;
    }
    (rounds as f64 * n_items as f64) / start.elapsed().as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The process's resident memory in MiB (Linux; `None` elsewhere).
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench(c: &mut Criterion) {
    let mut s = setup();
    let rss_before = rss_mib();
    let t = Instant::now();
    // The seed would come from the host's randomness; any value gives the same decisions.
    let view = View::build_with_seed(&s.state, &s.policy, &s.trust, &NoCredentials, NOW, 0x5eed);
    let build = t.elapsed();
    if let (Some(a), Some(b)) = (rss_before, rss_mib()) {
        println!(
            "view memory (process RSS growth during build): {:.0} MiB",
            b - a
        );
    }
    let decisions = decide_batch(&view, &s.feed, NOW);
    let count = |v: Verdict| decisions.iter().filter(|d| d.verdict == v).count();
    println!(
        "view: {} subjects, built in {:.2?}; feed verdicts: show {}, warn {}, collapse {}, hide {}",
        view.n_subjects(),
        build,
        count(Verdict::Show),
        count(Verdict::Warn),
        count(Verdict::Collapse),
        count(Verdict::Hide)
    );
    // The baseline must agree with the view on what lists do.
    let agree = s
        .feed
        .iter()
        .zip(&decisions)
        .filter(|(i, d)| {
            let listed = d.has(ReasonCode::ListBlock);
            let naive = naive_decide(&s, i);
            listed == (naive != Verdict::Show)
        })
        .count();
    println!("naive baseline agrees on list hits for {agree}/{FEED} items");

    // Instruction counts: `DECIDE_PROFILE=ROUNDS` waits for a line on stdin once the view is
    // built, then decides the feed ROUNDS times and exits. Run under
    // `valgrind --tool=callgrind --instr-atstart=no`, switch instrumentation on with
    // `callgrind_control -i on` while it waits: Ir / (ROUNDS x 1,000) is instructions per
    // decision, repeatable on a loaded machine.
    if let Some(rounds) = std::env::var("DECIDE_PROFILE")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        println!("profile: waiting for a line on stdin");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        for _ in 0..rounds {
            black_box(decide_batch(&view, black_box(&s.feed), NOW));
        }
        println!("profile: decided the feed {rounds} times");
        std::process::exit(0);
    }

    // The variants take turns, round by round, so that a burst of load elsewhere on the
    // machine hits all of them; medians, and the median of the per-round ratios.
    const ROUNDS: usize = 9;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let compiled = per_second(FEED, Duration::from_millis(300), &mut || {
            black_box(decide_batch(&view, black_box(&s.feed), NOW));
        });
        let naive = per_second(FEED, Duration::ZERO, &mut || {
            for item in &s.feed {
                black_box(naive_decide(&s, black_box(item)));
            }
        });
        let floor = per_second(FEED, Duration::from_millis(300), &mut || {
            let mut n = 0;
            for item in &s.feed {
                n += usize::from(s.listed.contains(black_box(item.author_key())));
            }
            black_box(n);
        });
        rounds.push((compiled, naive, floor));
    }
    let col = |f: fn(&(f64, f64, f64)) -> f64| median(rounds.iter().map(f).collect());
    println!(
        "decide_batch (compiled view): {:.0} decisions/s (median of {ROUNDS} rounds; best {:.0}); naive from state: {:.0}/s (compiled is {:.1}x); plain HashSet lookup loop: {:.0}/s (compiled is {:.3}x of it, median of per-round ratios)",
        col(|r| r.0),
        rounds.iter().map(|r| r.0).fold(0.0, f64::max),
        col(|r| r.1),
        col(|r| r.0 / r.1),
        col(|r| r.2),
        col(|r| r.0 / r.2),
    );

    // Typical feed: only items whose authors no list names (the fast path), for comparison.
    let unlisted: Vec<Item> = s
        .feed
        .iter()
        .filter(|i| !s.listed.contains(i.author_key()))
        .cloned()
        .collect();
    let fast = per_second(unlisted.len(), Duration::from_secs(1), &mut || {
        black_box(decide_batch(&view, black_box(&unlisted), NOW));
    });
    println!(
        "decide_batch on the {} feed items no list names: {:.0} decisions/s",
        unlisted.len(),
        fast
    );

    // Incremental: 1,000 new entries on one 100k list, then refresh that list only.
    let curator = s.lists[0].owner;
    for j in 0..1_000 {
        let subject = key(j, 9).public_key();
        apply(
            &mut s.state,
            id(8, j, 0),
            curator,
            NOW - MIN,
            Body::ListAdd(ListAddBody {
                list: s.lists[0].clone(),
                subject: Subject::Key(subject),
                reason: None,
                category: None,
                expires: None,
            }),
        );
    }
    let mut view = view;
    let t = Instant::now();
    let ok = view.refresh_list(&s.state, &s.lists[0]);
    println!(
        "refresh_list of one {}-entry list after 1,000 adds: {:.2?} (refreshed: {ok}); full build: {:.2?}",
        ENTRIES + 1_000,
        t.elapsed(),
        build
    );
    let view = view;

    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(FEED as u64));
    g.sample_size(20);
    g.bench_function("batch_1000_compiled", |b| {
        b.iter(|| decide_batch(&view, black_box(&s.feed), NOW))
    });
    g.bench_function("batch_1000_naive_from_state", |b| {
        b.iter(|| {
            s.feed
                .iter()
                .map(|i| naive_decide(&s, i))
                .filter(|v| *v == Verdict::Hide)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
