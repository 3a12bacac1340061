//! One person, one vote, measured: a personhood proof's size, the time to prove and to
//! verify one, and the time to tally a poll of 10,000 ballot objects (each a real BBS proof
//! of a different person), next to a plain ed25519 verification in the same run.
//!
//! `cargo bench -p vouch-reputation --features personhood --bench poll` (about 5 minutes on
//! two cores, most of it making 10,000 credentials and proofs). `VOUCH_BENCH_BALLOTS=N`
//! tallies N ballots instead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{criterion_group, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;
use std::time::Instant;
use vouch_identity::{
    Domain, PersonhoodCredential, PersonhoodIssuer, PersonhoodProof, PersonhoodRequest,
    PersonhoodScope, SecretKey,
};
use vouch_reputation::*;

const NOW: u64 = 1_767_225_600_000;
const DAY: u64 = MS_PER_EPOCH;

struct Village {
    issuer: PersonhoodIssuer,
    header: SignedObject,
    poll: SignedObject,
    scope: PersonhoodScope,
}

fn village(rng: &mut ChaCha20Rng, quorum: u64) -> Village {
    let issuer = PersonhoodIssuer::generate(rng).unwrap();
    let owner = SecretKey::from_seed(&[1; 32]);
    let header = Object {
        author: owner.public_key(),
        at: NOW - 20 * DAY,
        body: Body::Group(GroupBody {
            name: "village".into(),
            rules: None,
            policy: GroupPolicy {
                min_trust: Some(10),
                credential_issuer: Some(issuer.public_key().to_did_key()),
                personhood_votes: true,
                amend_quorum: Some(quorum),
                ..Default::default()
            },
            moderators: vec![],
            seq: 1,
        }),
    }
    .sign(&owner)
    .unwrap();
    let poll = Object {
        author: owner.public_key(),
        at: NOW - 10 * DAY,
        body: Body::Poll(PollBody {
            group: GroupRef {
                owner: owner.public_key(),
                name: "village".into(),
            },
            header: header.id(),
            text: "Raise the minimum trust to post to 30%?".into(),
            options: 2,
            closes: NOW - DAY,
            amend: Some(Amendment {
                min_trust: Some(30),
                vote_budget: None,
            }),
        }),
    }
    .sign(&owner)
    .unwrap();
    let scope = PersonhoodScope::new(PollBody::scope_label(&poll.id()), 0);
    Village {
        issuer,
        header,
        poll,
        scope,
    }
}

fn person(v: &Village, rng: &mut ChaCha20Rng) -> PersonhoodCredential {
    let (req, pending) = PersonhoodRequest::new(rng).unwrap();
    let iss = v
        .issuer
        .issue(&req, NOW - NOW % DAY + 30 * DAY, NOW - 15 * DAY, rng)
        .unwrap();
    pending.finalize(&v.issuer.public_key(), &iss).unwrap()
}

fn ballot(v: &Village, who: &PersonhoodCredential, rng: &mut ChaCha20Rng, i: u64) -> SignedObject {
    let vk = SecretKey::generate(rng);
    let proof = who.prove(&v.scope, &vk.public_key()).unwrap().to_bytes();
    Object {
        author: vk.public_key(),
        at: NOW - 2 * DAY,
        body: Body::Ballot(BallotBody {
            poll: v.poll.id(),
            choice: i % 3 % 2,
            proof,
        }),
    }
    .sign(&vk)
    .unwrap()
}

/// Plain ed25519 verifications per second (one core), the baseline of every figure here.
fn ed25519_rate() -> (f64, f64) {
    let k = SecretKey::from_seed(&[7; 32]);
    let msgs: Vec<Vec<u8>> = (0..2000u32).map(|i| i.to_be_bytes().repeat(16)).collect();
    let sigs: Vec<_> = msgs.iter().map(|m| k.sign(Domain::Object, m)).collect();
    let pk = k.public_key();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for (m, s) in msgs.iter().zip(&sigs) {
            vouch_identity::verify(&pk, Domain::Object, m, s).unwrap();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let per = best / msgs.len() as f64;
    (1.0 / per, per)
}

fn summary() {
    let n: usize = std::env::var("VOUCH_BENCH_BALLOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let v = village(&mut rng, (n as u64 / 2).max(1));
    let (ed_rate, ed_per) = ed25519_rate();

    // Credentials and proofs: one person per ballot.
    let t = Instant::now();
    let people: Vec<_> = (0..n).map(|_| person(&v, &mut rng)).collect();
    let issue = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    let ballots: Vec<SignedObject> = people
        .iter()
        .enumerate()
        .map(|(i, p)| ballot(&v, p, &mut rng, i as u64))
        .collect();
    let prove = t.elapsed().as_secs_f64() / n as f64;
    let Body::Ballot(b0) = ballots[0].body() else {
        unreachable!()
    };
    let proof_len = b0.proof.len();
    let object_len = ballots[0].bytes().len();
    assert_eq!(
        PersonhoodProof::from_bytes(&b0.proof)
            .unwrap()
            .to_bytes()
            .len(),
        proof_len
    );

    // Ingest: validate every ballot object (ed25519, batched) and apply it.
    let t = Instant::now();
    let mut state = ModerationState::new();
    state.apply(&v.header);
    state.apply(&v.poll);
    for chunk in ballots.chunks(256) {
        let refs: Vec<&[u8]> = chunk.iter().map(|b| b.bytes()).collect();
        for r in validate_batch(&refs, NOW) {
            state.apply(&r.unwrap());
        }
    }
    let ingest = t.elapsed().as_secs_f64();

    // Cold tally: every proof verified; warm: the checker remembers them.
    let check = BbsPersonhood::new();
    let t = Instant::now();
    let r = state.poll_result(&v.poll.id(), &check, NOW).unwrap();
    let cold = t.elapsed().as_secs_f64();
    assert_eq!(r.voters as usize, n);
    assert!(r.rejected.is_empty());
    let t = Instant::now();
    let r2 = state.poll_result(&v.poll.id(), &check, NOW).unwrap();
    let warm = t.elapsed().as_secs_f64();
    assert_eq!(r2, r);
    let t = Instant::now();
    let rules = state.group_rules(&r2_group(&v), NOW, Some(&check)).unwrap();
    let rules_time = t.elapsed().as_secs_f64();
    assert_eq!(rules.amendments.len(), 1, "{:?}", r.counts);

    let verify = cold / n as f64;
    println!("\nsummary: one person, one vote ({n} ballots, each a different person; one core)");
    println!(
        "  plain ed25519 verify (baseline)      {:>10.0}/s   {:>8.1} µs",
        ed_rate,
        ed_per * 1e6
    );
    println!("  personhood proof size                {proof_len:>10} bytes (ballot object {object_len} bytes)");
    println!(
        "  credential issuance (request+issue+finalize) {:>6.2} ms",
        issue * 1e3
    );
    println!(
        "  prove (one ballot's proof)           {:>10.2} ms   {:>6.0}x an ed25519 verify",
        prove * 1e3,
        prove / ed_per
    );
    println!(
        "  verify (one proof, in the tally)     {:>10.2} ms   {:>6.0}x an ed25519 verify",
        verify * 1e3,
        verify / ed_per
    );
    println!(
        "  ingest {n} ballot objects (validate_batch + apply) {:>8.3} s",
        ingest
    );
    println!(
        "  tally {n} ballots, cold (every proof verified) {:>8.2} s   {:>6.0}/s",
        cold,
        n as f64 / cold
    );
    println!(
        "  tally {n} ballots, warm (proofs remembered)   {:>8.3} s",
        warm
    );
    println!(
        "  group rules with the amendment, warm          {:>8.3} s   (counts {:?})",
        rules_time, r.counts
    );
}

fn r2_group(v: &Village) -> GroupRef {
    match v.poll.body() {
        Body::Poll(p) => p.group.clone(),
        _ => unreachable!(),
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let v = village(&mut rng, 1);
    let alice = person(&v, &mut rng);
    let vk = SecretKey::generate(&mut rng);
    let proof = alice.prove(&v.scope, &vk.public_key()).unwrap();
    let issuer = v.issuer.public_key();
    let k = SecretKey::from_seed(&[7; 32]);
    let msg = vec![5u8; 64];
    let sig = k.sign(Domain::Object, &msg);
    let pk = k.public_key();

    let mut g = c.benchmark_group("personhood");
    g.sample_size(20);
    g.bench_function("ed25519_verify", |b| {
        b.iter(|| vouch_identity::verify(&pk, Domain::Object, black_box(&msg), &sig).unwrap())
    });
    g.bench_function("prove", |b| {
        b.iter(|| alice.prove(&v.scope, &vk.public_key()).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            vouch_identity::verify_personhood(
                black_box(&proof),
                &issuer,
                &v.scope,
                &vk.public_key(),
                NOW,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    summary();
}
