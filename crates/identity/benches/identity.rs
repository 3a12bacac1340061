//! Identity benchmarks: credential verifications per second (against plain ed25519 verification
//! measured in the same run), and personhood proof size, creation and verification time.
//!
//! `cargo bench -p vouch-identity --features vc --bench identity`
#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Map;
use std::time::Instant;
use vouch_identity::{
    issue_credential, verify, verify_credential, verify_personhood, CredentialRequest, Domain,
    PersonhoodCredential, PersonhoodIssuer, PersonhoodRequest, PersonhoodScope, SecretKey,
    EXPIRY_GRANULARITY_MS,
};

const T0: u64 = 1_767_225_600_000; // 2026-01-01
const DAY: u64 = EXPIRY_GRANULARITY_MS;

fn credential(rng: &mut ChaCha20Rng) -> String {
    let issuer = SecretKey::generate(rng);
    let holder = SecretKey::generate(rng);
    let request = CredentialRequest {
        id: "urn:uuid:5b0e3e4e-4a57-4c43-9d3c-9f1f7f0d3a11".into(),
        subject: holder.public_key().to_did_key(),
        types: vec!["VouchPersonhoodCredential".into()],
        claims: Map::new(),
        valid_from_ms: T0,
        valid_until_ms: Some(T0 + 365 * DAY),
    };
    issue_credential(&issuer, &request, T0).unwrap_or_default()
}

fn personhood(rng: &mut ChaCha20Rng) -> (PersonhoodIssuer, PersonhoodCredential) {
    let issuer = PersonhoodIssuer::generate(rng).unwrap();
    let (req, pending) = PersonhoodRequest::new(rng).unwrap();
    let iss = issuer.issue(&req, T0 + 30 * DAY, T0, rng).unwrap();
    let cred = pending.finalize(&issuer.public_key(), &iss).unwrap();
    (issuer, cred)
}

fn per_second(n: u32, f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn summary(_c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let vc = credential(&mut rng);
    let key = SecretKey::generate(&mut rng);
    let msg = b"baseline message of about the size of a small object".to_vec();
    let sig = key.sign(Domain::Object, &msg);
    let pk = key.public_key();
    let ed = per_second(20_000, &mut || {
        let _ = verify(&pk, Domain::Object, &msg, &sig);
    });
    let vcs = per_second(200, &mut || {
        let _ = verify_credential(&vc, T0 + DAY, &[]);
    });
    let (issuer, cred) = personhood(&mut rng);
    let scope = PersonhoodScope::new("did:key:z6MkexampleOwner/village", 20_454);
    let proof = cred.prove(&scope, &pk).unwrap();
    let ik = issuer.public_key();
    let prove = per_second(50, &mut || {
        let _ = cred.prove(&scope, &pk);
    });
    let check = per_second(50, &mut || {
        let _ = verify_personhood(&proof, &ik, &scope, &pk, T0);
    });
    println!("== identity summary (single core, this machine) ==");
    println!("credential JSON size: {} bytes", vc.len());
    println!("ed25519 verify (baseline): {ed:.0}/s");
    println!(
        "VC eddsa-rdfc-2022 verify: {vcs:.0}/s ({:.1} ms each; {:.0}x slower than plain ed25519)",
        1000.0 / vcs,
        ed / vcs
    );
    println!(
        "personhood proof: {} bytes encoded ({} of BBS proof + 48 pseudonym + header, group label {} bytes)",
        proof.to_bytes().len(),
        proof.proof.len(),
        scope.group.len()
    );
    println!(
        "personhood prove: {:.2} ms, verify: {:.2} ms ({:.0}/s)",
        1000.0 / prove,
        1000.0 / check,
        check
    );
}

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let vc = credential(&mut rng);
    let mut g = c.benchmark_group("vc");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_credential", |b| {
        b.iter(|| verify_credential(&vc, T0 + DAY, &[]))
    });
    let issuer = SecretKey::generate(&mut rng);
    let holder = SecretKey::generate(&mut rng).public_key().to_did_key();
    g.bench_function("issue_credential", |b| {
        b.iter_batched(
            || CredentialRequest {
                id: "urn:uuid:5b0e3e4e-4a57-4c43-9d3c-9f1f7f0d3a12".into(),
                subject: holder.clone(),
                types: vec![],
                claims: Map::new(),
                valid_from_ms: T0,
                valid_until_ms: None,
            },
            |r| issue_credential(&issuer, &r, T0),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let (issuer, cred) = personhood(&mut rng);
    let scope = PersonhoodScope::new("did:key:z6MkexampleOwner/village", 20_454);
    let vk = SecretKey::generate(&mut rng).public_key();
    let proof = cred.prove(&scope, &vk).unwrap();
    let ik = issuer.public_key();
    let mut g = c.benchmark_group("personhood");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    g.bench_function("prove", |b| b.iter(|| cred.prove(&scope, &vk)));
    g.bench_function("verify", |b| {
        b.iter(|| verify_personhood(&proof, &ik, &scope, &vk, T0))
    });
    g.finish();
}

criterion_group!(identity, summary, benches);
criterion_main!(identity);
