//! Objects validated per second, single and batch, next to raw ed25519-dalek verification
//! of the same signatures over the same messages, measured in the same run.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use vouch_identity::{Domain, SecretKey};
use vouch_reputation::*;

const N: usize = 1024;
const BATCH: usize = 256;
const NOW: u64 = 1_767_225_600_000;

struct Fixture {
    objects: Vec<Vec<u8>>,
    messages: Vec<Vec<u8>>,
    sigs: Vec<ed25519_dalek::Signature>,
    keys: Vec<ed25519_dalek::VerifyingKey>,
}

/// A realistic mix: votes, attestations, posts and list entries by 64 authors.
fn fixture() -> Fixture {
    let authors: Vec<SecretKey> = (0..64u8)
        .map(|i| SecretKey::from_seed(&[i + 1; 32]))
        .collect();
    let mut f = Fixture {
        objects: vec![],
        messages: vec![],
        sigs: vec![],
        keys: vec![],
    };
    for i in 0..N {
        let k = &authors[i % authors.len()];
        let other = authors[(i * 7 + 3) % authors.len()].public_key();
        let at = NOW - (i as u64) * 1000;
        let body = match i % 4 {
            0 => Body::Vote(VoteBody {
                target: Subject::Object(ObjectId([i as u8; 32])),
                value: 1,
                epoch: epoch_of(at),
                group: None,
            }),
            1 => Body::Attest(AttestBody::new(other, 60)),
            2 => Body::Post(PostBody {
                text: format!(
                    "post number {i}: a short message of ordinary length, with a link or two."
                ),
                ..Default::default()
            }),
            _ => Body::ListAdd(ListAddBody {
                list: ListRef {
                    owner: k.public_key(),
                    name: "spam".into(),
                },
                subject: Subject::Key(other),
                reason: Some("spam".into()),
                category: Some("spam".into()),
                expires: None,
            }),
        };
        if k.public_key() == other && i % 4 == 1 {
            continue;
        }
        let obj = Object {
            author: k.public_key(),
            at,
            body,
        }
        .sign(k)
        .unwrap();
        let mut map: std::collections::BTreeMap<String, ipld_core::ipld::Ipld> =
            serde_ipld_dagcbor::from_slice(obj.bytes()).unwrap();
        map.remove("sig");
        let msg = vouch_identity::signing_message(
            Domain::Object,
            &serde_ipld_dagcbor::to_vec(&map).unwrap(),
        );
        f.messages.push(msg);
        f.sigs
            .push(ed25519_dalek::Signature::from_bytes(&obj.signature().0));
        f.keys
            .push(ed25519_dalek::VerifyingKey::from_bytes(obj.author().as_bytes()).unwrap());
        f.objects.push(obj.bytes().to_vec());
    }
    f
}

fn raw_single(f: &Fixture) {
    for ((m, s), k) in f.messages.iter().zip(&f.sigs).zip(&f.keys) {
        k.verify_strict(m, s).unwrap();
    }
}
fn raw_batch(f: &Fixture) {
    for ((m, s), k) in f
        .messages
        .chunks(BATCH)
        .zip(f.sigs.chunks(BATCH))
        .zip(f.keys.chunks(BATCH))
    {
        let refs: Vec<&[u8]> = m.iter().map(|x| x.as_slice()).collect();
        ed25519_dalek::verify_batch(&refs, s, k).unwrap();
    }
}
/// Raw batch verification starting from key bytes, as any verifier receiving objects must
/// (decompresses each key).
fn raw_batch_from_bytes(f: &Fixture) {
    for ((m, s), k) in f
        .messages
        .chunks(BATCH)
        .zip(f.sigs.chunks(BATCH))
        .zip(f.keys.chunks(BATCH))
    {
        let refs: Vec<&[u8]> = m.iter().map(|x| x.as_slice()).collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = k
            .iter()
            .map(|k| ed25519_dalek::VerifyingKey::from_bytes(k.as_bytes()).unwrap())
            .collect();
        ed25519_dalek::verify_batch(&refs, s, &keys).unwrap();
    }
}
fn validate_single(f: &Fixture) {
    for o in &f.objects {
        black_box(validate(o, NOW).unwrap());
    }
}
fn validate_batched(f: &Fixture) {
    for chunk in f.objects.chunks(BATCH) {
        let refs: Vec<&[u8]> = chunk.iter().map(|x| x.as_slice()).collect();
        for r in validate_batch(&refs, NOW) {
            black_box(r.unwrap());
        }
    }
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let n = f.objects.len() as u64;
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("raw_dalek_verify_strict", |b| b.iter(|| raw_single(&f)));
    g.bench_function("vouch_validate_single", |b| b.iter(|| validate_single(&f)));
    g.bench_function("raw_dalek_verify_batch_256", |b| b.iter(|| raw_batch(&f)));
    g.bench_function("vouch_validate_batch_256", |b| {
        b.iter(|| validate_batched(&f))
    });
    g.finish();
}

/// Objects per second for each function, best of 25 rounds; the rounds interleave the
/// functions so that noise from other processes falls on all of them alike.
fn rates(f: &Fixture, runs: &[fn(&Fixture)]) -> Vec<f64> {
    let mut best = vec![f64::MAX; runs.len()];
    for _ in 0..25 {
        for (run, b) in runs.iter().zip(best.iter_mut()) {
            let t = Instant::now();
            run(f);
            *b = b.min(t.elapsed().as_secs_f64());
        }
    }
    best.iter().map(|b| f.objects.len() as f64 / b).collect()
}

fn summary() {
    let f = fixture();
    let r = rates(
        &f,
        &[
            raw_single,
            validate_single,
            raw_batch,
            validate_batched,
            raw_batch_from_bytes,
        ],
    );
    let (raw_s, val_s, raw_b, val_b, raw_bb) = (r[0], r[1], r[2], r[3], r[4]);
    println!("\nsummary: {} objects (votes, attestations, posts, list entries) by 64 authors, batches of {BATCH}, one core", f.objects.len());
    println!("  raw ed25519-dalek verify_strict   {:>9.0} sig/s", raw_s);
    println!(
        "  vouch validate (single)           {:>9.0} obj/s   {:5.1}% of raw single",
        val_s,
        100.0 * val_s / raw_s
    );
    println!(
        "  raw ed25519-dalek verify_batch    {:>9.0} sig/s   (keys already decompressed)",
        raw_b
    );
    println!(
        "  vouch validate_batch              {:>9.0} obj/s   {:5.1}% of raw batch (target >= 90%)",
        val_b,
        100.0 * val_b / raw_b
    );
    println!(
        "  raw verify_batch from key bytes   {:>9.0} sig/s   (decompresses every key)",
        raw_bb
    );
    println!(
        "  vouch validate_batch vs that      {:>9.0} obj/s   {:5.1}%",
        val_b,
        100.0 * val_b / raw_bb
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    summary();
}
