#!/usr/bin/env node
// Filter a Nostr feed through a Vouch node: read the latest notes (kind 1) from a relay,
// ask the node what the viewer should see (POST /v1/nostr/viewers/{viewer}/decide), and
// print each note kept or dropped with the node's reasons and the Nostr events behind them.
//
// Usage: node nostr_feed.mjs RELAY_URL API_URL VIEWER_NPUB [LIMIT]
// No dependencies: Node 22's WebSocket (Node 20: run with --experimental-websocket).
const [relay, api, viewer, limit = '100'] = process.argv.slice(2)
if (!viewer) {
  console.error('usage: node nostr_feed.mjs RELAY_URL API_URL VIEWER_NPUB [LIMIT]')
  process.exit(2)
}

// 1. The notes, from the relay (NIP-01: REQ ... until EOSE).
const notes = await new Promise((resolve, reject) => {
  const ws = new WebSocket(relay)
  const got = []
  ws.onopen = () => ws.send(JSON.stringify(['REQ', 'feed', { kinds: [1], limit: Number(limit) }]))
  ws.onmessage = (m) => {
    const [type, , event] = JSON.parse(m.data)
    if (type === 'EVENT') got.push(event)
    if (type === 'EOSE') { ws.close(); resolve(got) }
  }
  ws.onerror = reject
})

// 2. The decisions, from the node (events are checked there: id, signature, bounds). Every
// call needs a token: $VOUCH_API_TOKEN, else the file $VOUCH_API_TOKEN_FILE, else the node's
// admin token in $VOUCH_DATA_DIR/api.token (default ~/.local/share/vouch/api.token).
const { readFileSync } = await import('node:fs')
const dataDir = process.env.VOUCH_DATA_DIR ||
  `${process.env.XDG_DATA_HOME || `${process.env.HOME}/.local/share`}/vouch`
const token = process.env.VOUCH_API_TOKEN ||
  readFileSync(process.env.VOUCH_API_TOKEN_FILE || `${dataDir}/api.token`, 'utf8').trim()
const answer = await fetch(`${api}/v1/nostr/viewers/${viewer}/decide`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ items: notes.map((event) => ({ event })) }),
}).then((r) => r.json())
if (!answer.decisions) { console.error(JSON.stringify(answer)); process.exit(1) }

// 3. Keep show and warn; drop collapse and hide, with the reasons and the events cited.
let kept = 0
notes.forEach((note, i) => {
  const d = answer.decisions[i]
  if (d.error) return console.log(`drop ${note.id} error: ${d.error.code}`)
  const keep = d.verdict === 'show' || d.verdict === 'warn'
  kept += keep
  const why = d.reasons.filter((r) => r.effect === d.verdict).map((r) => r.sentence).join(' ')
  const cited = d.nostr_events.length ? ` [nostr events: ${d.nostr_events.join(', ')}]` : ''
  console.log(`${keep ? 'keep' : 'drop'} ${note.id} ${d.verdict}${why ? ': ' + why : ''}${cited}`)
})
console.log(`kept ${kept} of ${notes.length}`)
