// The Nostr end to end (run by run.sh): nostr-tools makes keys and publishes follows, mutes,
// a report, a label and notes to a real relay; a vouch node reads them; its decisions are
// checked, and its NIP-85 assertions are read back from the relay and verified by
// nostr-tools. Prints "N passed, M failed".
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { Relay } from 'nostr-tools/relay'
import * as nip19 from 'nostr-tools/nip19'

const [relayUrl, api] = process.argv.slice(2)
let passed = 0, failed = 0
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`) } else { failed++; console.log(`FAIL ${name} ${detail}`) }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// The node's admin token (run.sh exports it from the data directory).
const auth = { authorization: `Bearer ${process.env.VOUCH_API_TOKEN}` }
const call = async (method, path, body) => {
  const r = await fetch(api + path, {
    method, headers: body ? { 'content-type': 'application/json', ...auth } : auth,
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await r.text()
  try { return { status: r.status, json: JSON.parse(text) } } catch { return { status: r.status, text } }
}
const metric = async (name) => {
  const r = await fetch(api + '/metrics', { headers: auth })
  const m = (await r.text()).match(new RegExp(`^vouch_${name} (\\d+)$`, 'm'))
  return m ? Number(m[1]) : NaN
}

const key = () => { const sk = generateSecretKey(); return { sk, pk: getPublicKey(sk) } }
const V = key(), A = key(), B = key(), C = key(), M = key(), D = key(), X = key()
const now = Math.floor(Date.now() / 1000)
const ev = (k, kind, tags, content = '', t = now) => finalizeEvent({ kind, tags, content, created_at: t }, k.sk)
const p = (k) => ['p', k.pk]

const relay = await Relay.connect(relayUrl)
const publish = async (e) => { await relay.publish(e); return e }

// The viewer follows A, B, C and X; A and B mute M; C reports M and labels M's note; a swarm
// of 20 fresh keys mutes X (nobody the viewer follows follows them).
await publish(ev(V, 3, [p(A), p(B), p(C), p(X)]))
const muteA = await publish(ev(A, 10000, [p(M)]))
const muteB = await publish(ev(B, 10000, [p(M)]))
await publish(ev(C, 3, [p(A)]))
const noteM = await publish(ev(M, 1, [], 'buy my coin'))
const noteD = await publish(ev(D, 1, [], 'hello from a stranger'))
const noteX = await publish(ev(X, 1, [], 'an honest author'))
const noteA = await publish(ev(A, 1, [], 'a friend'))
await publish(ev(C, 1984, [['p', M.pk, 'spam'], ['e', noteM.id, 'spam']], 'spam'))
await publish(ev(C, 1985, [['L', 'ugc'], ['l', 'spam', 'ugc'], ['e', noteM.id]]))
const swarm = []
for (let i = 0; i < 20; i++) swarm.push(await publish(ev(key(), 10000, [p(X)])))

// Register the viewer (by npub); the node fetches its follows' evidence from the relay.
const reg = await call('POST', '/v1/nostr/viewers', { viewer: nip19.npubEncode(V.pk) })
check('viewer registered by npub', reg.status === 201, JSON.stringify(reg.json))
const serviceKey = reg.json?.service_key

const decide = (items, explain = true) =>
  call('POST', `/v1/nostr/viewers/${nip19.npubEncode(V.pk)}/decide`, { items, explain })
let d
for (let i = 0; i < 100; i++) {
  d = await decide([{ event: noteM }])
  if (d.json?.decisions?.[0]?.verdict === 'hide') break
  await sleep(200)
}
const dm = d.json?.decisions?.[0]
check('a note by someone two follows mute is hidden', dm?.verdict === 'hide', JSON.stringify(d.json))
check('the reasons are list blocks', dm?.reasons?.some((r) => r.code === 'list-block'), JSON.stringify(dm))
check('the decision cites both mute events',
  [muteA.id, muteB.id].every((id) => dm?.nostr_events?.includes(id)), JSON.stringify(dm?.nostr_events))

const all = await decide([{ event: noteD }, { event: noteX }, { event: noteA }, { pubkey: nip19.npubEncode(M.pk) }])
const [dd, dx, da, dmk] = all.json?.decisions ?? []
check('a stranger followed by no one: the policy (show, author-unknown)',
  dd?.verdict === 'show' && dd.reasons.some((r) => r.code === 'author-unknown'), JSON.stringify(dd))
check('a followed author muted by a swarm of 20 fresh keys is shown', dx?.verdict === 'show', JSON.stringify(dx))
check('a followed author is shown, trusted', da?.verdict === 'show' && da.reasons.some((r) => r.code === 'author-trusted'), JSON.stringify(da))
check('the muted author as a pubkey item is hidden too', dmk?.verdict === 'hide', JSON.stringify(dmk))

// Bad input, given directly: a forged event, a future one, a rollback of the follow list.
const forged = { ...ev(A, 3, [p(M)]) }
forged.content = 'changed'
const future = ev(A, 3, [p(M)], '', now + 7200)
const before = {
  invalid: await metric('nostr_refused_invalid_total'),
  future: await metric('nostr_refused_future_total'),
  rollback: await metric('nostr_events_rollback_total'),
}
const rollback = ev(V, 3, [p(M)], '', now - 3600)
const bad = await call('POST', '/v1/nostr/events', [JSON.parse(JSON.stringify(forged)), future, rollback])
check('bad events are not applied', bad.json?.applied === 0, JSON.stringify(bad.json))
check('a forged event is counted', (await metric('nostr_refused_invalid_total')) === before.invalid + 1)
check('a future event is counted', (await metric('nostr_refused_future_total')) === before.future + 1)
check('an older follow list is a rollback', (await metric('nostr_events_rollback_total')) === before.rollback + 1)
const after = await decide([{ event: noteA }])
check('the rollback changed nothing', after.json?.decisions?.[0]?.verdict === 'show')

// NIP-85: publish now, read back from the relay with nostr-tools, verify.
const pub = await call('POST', `/v1/nostr/viewers/${nip19.npubEncode(V.pk)}/publish?all=true`)
const sent = pub.json?.published ?? []
check('the node published assertions', sent.length >= 4, JSON.stringify(pub.json))
const got = []
await new Promise((resolve) => {
  const timer = setTimeout(resolve, 10000)
  let tries = 0
  const poll = () => {
    const sub = relay.subscribe([{ kinds: [30382], authors: [serviceKey] }], {
      onevent: (e) => got.push(e),
      oneose: () => {
        sub.close()
        if (sent.every((x) => got.some((e) => e.id === x.id)) || ++tries > 40) { clearTimeout(timer); resolve() }
        else { got.length = 0; setTimeout(poll, 250) }
      },
    })
  }
  poll()
})
check('the relay holds them', sent.every((s) => got.some((e) => e.id === s.id)), `${got.length} held, ${sent.length} sent`)
check('every assertion verifies with nostr-tools', got.length > 0 && got.every((e) => verifyEvent(e)))
// The newest assertion per subject (a relay may keep older versions too).
const rank = (pk) => {
  const e = got
    .filter((e) => e.tags.some((t) => t[0] === 'd' && t[1] === pk))
    .sort((a, b) => b.created_at - a.created_at)[0]
  return e ? Number(e.tags.find((t) => t[0] === 'rank')?.[1]) : undefined
}
const assertions = (await call('GET', `/v1/nostr/viewers/${V.pk}/assertions`)).json?.assertions ?? []
const nodeRank = (pk) => assertions.find((a) => a.pubkey === pk)?.rank
check('the assertions carry the node\'s scores',
  [A, B, C, X].every((k) => rank(k.pk) > 0 && rank(k.pk) === nodeRank(k.pk)),
  JSON.stringify({ A: rank(A.pk), nodeA: nodeRank(A.pk), X: rank(X.pk), nodeX: nodeRank(X.pk) }))
check('A, followed by the viewer and by C, ranks above X',
  rank(A.pk) > rank(X.pk), JSON.stringify([rank(A.pk), rank(X.pk)]))
const tampered = { ...got[0], tags: [...got[0].tags.filter((t) => t[0] !== 'rank'), ['rank', '100']] }
check('a tampered assertion does not verify', !verifyEvent(JSON.parse(JSON.stringify(tampered))))

relay.close()
// For run.sh: the example client is checked against the same node and relay.
if (process.env.E2E_OUT) {
  const { writeFileSync } = await import('node:fs')
  writeFileSync(process.env.E2E_OUT, JSON.stringify({
    viewer: nip19.npubEncode(V.pk), hidden: noteM.id, shown: [noteA.id, noteX.id, noteD.id],
  }))
}
console.log(`nostr e2e: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
