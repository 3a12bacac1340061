// Differential check on the fuzz corpus, JavaScript side: for each file named on the command
// line, @ipld/dag-cbor (an implementation nobody here wrote) decodes it and re-encodes it.
// Prints one JSON line per file: whether it decodes, whether the re-encoding is the same
// bytes (canonical DAG-CBOR), and the CIDv1 (dag-cbor, sha2-256) of the bytes.
// Used by tests/interop-objects/differential.py, which compares it with `vouch`.
import { readFileSync } from 'node:fs';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(readFileSync(file));
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes)).toString();
  let decodes = false;
  let canonical = false;
  try {
    const value = dagCbor.decode(bytes);
    decodes = true;
    const again = dagCbor.encode(value);
    canonical = again.length === bytes.length && again.every((b, i) => b === bytes[i]);
  } catch (e) {
    // Not DAG-CBOR (or not strict DAG-CBOR): decodes stays false.
  }
  console.log(JSON.stringify({ file, decodes, canonical, cid }));
}
