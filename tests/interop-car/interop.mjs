// Interop: @ipld/car, @ipld/dag-cbor and multiformats (JavaScript implementations nobody at
// Vouch wrote) read CAR files that `vouch export` wrote, and write CAR files for `vouch import`,
// including objects this script signs itself with node:crypto's ed25519. Offline.
//
//   node interop.mjs read FILE.car COUNT       every block's CID re-derived (sha2-256,
//                                              dag-cbor), every block decodes and re-encodes
//                                              to the same bytes, and is a Vouch envelope;
//                                              COUNT blocks; prints {kinds, cids}
//   node interop.mjs write OUT.car FROM.car    OUT = FROM's blocks re-encoded by
//                                              @ipld/dag-cbor + two objects signed here (a
//                                              post and a vote on FROM's first post); prints
//                                              the new objects' CIDs
//   node interop.mjs tamper OUT.car FROM.car   OUT = FROM's first block with one byte
//                                              changed (CID kept) + an object signed here
//                                              with a broken signature (CID right)
//   node interop.mjs has FILE.car CID...       exit 1 unless every CID is a block of FILE
import {createReadStream, createWriteStream} from 'node:fs';
import {Readable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {generateKeyPairSync, sign} from 'node:crypto';
import {CarReader, CarWriter} from '@ipld/car';
import * as dagCbor from '@ipld/dag-cbor';
import {CID} from 'multiformats/cid';
import {sha256} from 'multiformats/hashes/sha2';

const PREFIX = new TextEncoder().encode('vouch/v1/object\0');
const ENVELOPE_KEYS = ['at', 'author', 'body', 'kind', 'sig', 'v'];

function fail(msg) {
  console.error(`interop-car: ${msg}`);
  process.exit(1);
}

async function readCar(file) {
  const chunks = [];
  for await (const chunk of createReadStream(file)) {
    chunks.push(chunk);
  }
  return CarReader.fromBytes(new Uint8Array(Buffer.concat(chunks)));
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function cidOf(bytes) {
  return CID.create(1, dagCbor.code, await sha256.digest(bytes));
}

async function checkedBlocks(file) {
  const reader = await readCar(file);
  const out = [];
  for await (const {cid, bytes} of reader.blocks()) {
    if(cid.version !== 1 || cid.code !== dagCbor.code || cid.multihash.code !== sha256.code) {
      fail(`${cid}: not CIDv1 dag-cbor sha2-256`);
    }
    const derived = await cidOf(bytes);
    if(!derived.equals(cid)) {
      fail(`${cid}: bytes hash to ${derived}`);
    }
    const value = dagCbor.decode(bytes);
    if(!equal(dagCbor.encode(value), bytes)) {
      fail(`${cid}: not canonical DAG-CBOR (re-encoding differs)`);
    }
    const keys = Object.keys(value).sort();
    if(keys.join() !== ENVELOPE_KEYS.join() || value.v !== 1 || value.author.length !== 32 ||
      value.sig.length !== 64) {
      fail(`${cid}: not a Vouch envelope (keys ${keys})`);
    }
    out.push({cid, bytes, value});
  }
  return {roots: await reader.getRoots(), blocks: out};
}

/** Signs {v, kind, author, at, body} the way specs/objects.md §3 says. */
async function signObject(kind, body, {breakSig = false, at = Date.now() - 1000} = {}) {
  const {publicKey, privateKey} = generateKeyPairSync('ed25519');
  const author = new Uint8Array(
    Buffer.from(publicKey.export({format: 'jwk'}).x, 'base64url'));
  const unsigned = {v: 1, kind, author, at, body};
  const message = Buffer.concat([PREFIX, dagCbor.encode(unsigned)]);
  const sig = new Uint8Array(sign(null, message, privateKey));
  if(breakSig) {
    sig[5] ^= 1;
  }
  const bytes = dagCbor.encode({...unsigned, sig});
  return {cid: await cidOf(bytes), bytes, value: {...unsigned, sig}};
}

async function writeCar(out, roots, blocks) {
  const {writer, out: stream} = CarWriter.create(roots);
  const done = pipeline(Readable.from(stream), createWriteStream(out));
  for(const b of blocks) {
    await writer.put({cid: b.cid, bytes: b.bytes});
  }
  await writer.close();
  await done;
}

const [cmd, file, ...rest] = process.argv.slice(2);
if(cmd === 'read') {
  const {roots, blocks} = await checkedBlocks(file);
  if(blocks.length !== Number(rest[0])) {
    fail(`${file}: ${blocks.length} blocks, expected ${rest[0]}`);
  }
  const cids = new Set(blocks.map(b => b.cid.toString()));
  for(const r of roots) {
    if(!cids.has(r.toString())) {
      fail(`${file}: root ${r} is not a block of the file`);
    }
  }
  const kinds = {};
  for(const b of blocks) {
    kinds[b.value.kind] = (kinds[b.value.kind] ?? 0) + 1;
  }
  console.log(JSON.stringify({blocks: blocks.length, roots: roots.length, kinds}));
} else if(cmd === 'write') {
  const {blocks} = await checkedBlocks(rest[0]);
  // Re-encode each block from its decoded value: @ipld/dag-cbor's bytes must be vouch's.
  const copies = [];
  for(const b of blocks) {
    const bytes = dagCbor.encode(dagCbor.decode(b.bytes));
    copies.push({cid: await cidOf(bytes), bytes});
  }
  const firstPost = blocks.find(b => b.value.kind === 'post');
  if(!firstPost) {
    fail('no post in the input');
  }
  const post = await signObject('post', {text: 'hello from @ipld/car', links: [firstPost.cid]});
  const at = Date.now() - 1000;
  const vote = await signObject('vote', {
    target: {obj: firstPost.cid}, value: -1, epoch: Math.floor(at / 86400000)
  }, {at});
  await writeCar(file, [post.cid], [...copies, post, vote]);
  console.log(JSON.stringify({copies: copies.length, signed: [`${post.cid}`, `${vote.cid}`]}));
} else if(cmd === 'tamper') {
  const {blocks} = await checkedBlocks(rest[0]);
  const bytes = Uint8Array.from(blocks[0].bytes);
  bytes[bytes.length - 70] ^= 1;
  const forged = await signObject('post', {text: 'bad signature'}, {breakSig: true});
  await writeCar(file, [blocks[0].cid], [{cid: blocks[0].cid, bytes}, forged]);
  console.log(JSON.stringify({tampered: `${blocks[0].cid}`, forged: `${forged.cid}`}));
} else if(cmd === 'has') {
  const reader = await readCar(file);
  for(const c of rest) {
    if(!(await reader.has(CID.parse(c)))) {
      fail(`${file} has no block ${c}`);
    }
  }
  console.log(JSON.stringify({has: rest.length}));
} else {
  fail('usage: interop.mjs read|write|tamper|has FILE ...');
}
