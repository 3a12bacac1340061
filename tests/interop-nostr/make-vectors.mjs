// Writes specs/vectors/nostr-events.json: events created and signed by nostr-tools (an
// implementation nobody here wrote), valid ones and tampered ones with the error code Vouch
// must give. Keys are fixed so that the file is reproducible up to BIP-340 aux randomness.
import { finalizeEvent, getPublicKey, verifyEvent, getEventHash } from 'nostr-tools/pure'
import { writeFileSync } from 'node:fs'

const sk = (n) => Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? n : 0x11))
const alice = sk(1), bob = sk(2), carol = sk(3)
const pk = (k) => getPublicKey(k)
const at = 1767225600 // 2026-01-01
const cases = []
// JSON round trip: nostr-tools caches a verdict on the object under a symbol that `...` copies.
const plain = (e) => JSON.parse(JSON.stringify(e))
const add = (name, event, error) =>
  cases.push(error ? { name, event: plain(event), error } : { name, event: plain(event) })
const ev = (k, kind, tags, content, t = at) =>
  finalizeEvent({ kind, tags, content, created_at: t }, k)

const follows = ev(alice, 3, [['p', pk(bob)], ['p', pk(carol), 'wss://r.example', 'carol']], '')
add('follow list (kind 3)', follows)
add('mute list (kind 10000)', ev(bob, 10000, [['p', pk(carol)]], ''))
add('people list (kind 30000)', ev(alice, 30000, [['d', 'friends'], ['p', pk(bob)]], ''))
add('report (kind 1984)', ev(bob, 1984, [['p', pk(carol), 'spam']], 'buy now'))
add('label (kind 1985)', ev(alice, 1985, [['L', 'ugc'], ['l', 'spam', 'ugc'], ['p', pk(carol)]], ''))
add('note with every escape', ev(carol, 1, [['t', 'x']], 'a"b\\c\nd\re\tf\bg\fh\u0001i/j\u007fk é 😀'))
add('empty tags and content', ev(carol, 1, [], ''))
const t1 = { ...follows, content: 'x' }
add('content changed after signing', t1, 'nostr.bad_id')
const t2 = { ...follows, tags: [...follows.tags, ['p', pk(alice)]] }
add('tag added after signing', t2, 'nostr.bad_id')
const other = ev(bob, 3, [['p', pk(alice)]], '')
const t3 = { ...follows, sig: other.sig }
add('signature of another event', t3, 'nostr.bad_signature')
// Re-sign as bob but claim alice: the id is recomputed for alice's key, the sig is bob's.
const claim = { kind: 3, tags: [], content: '', created_at: at, pubkey: pk(alice) }
const forged = { ...claim, id: getEventHash(claim), sig: ev(bob, 3, [], '').sig }
add('signature by another key', forged, 'nostr.bad_signature')
add('upper-case id', { ...follows, id: follows.id.toUpperCase() }, 'nostr.malformed')

for (const c of cases) {
  const ok = verifyEvent(plain(c.event))
  if (ok !== !c.error) throw new Error(`nostr-tools disagrees on ${c.name}: ${ok}`)
}
const out = process.argv[2] ?? '../../specs/vectors/nostr-events.json'
writeFileSync(out, JSON.stringify({
  about: 'Nostr events made by nostr-tools (tests/interop-nostr/make-vectors.mjs); error is the code Vouch must refuse a tampered one with',
  cases,
}, null, 1) + '\n')
console.log(`wrote ${cases.length} cases to ${out}`)
