// Interop: Digital Bazaar's VC stack (an implementation nobody at Vouch wrote) verifies
// credentials that `vouch` issued, and issues credentials for `vouch` to verify.
// Fully offline: contexts come bundled with the packages, did:key resolves locally, and any
// network access throws.
//
//   node interop.mjs verify FILE            exit 0 if the credential verifies, 1 if not
//   node interop.mjs issue OUT SUBJECT_DID  issue a VC 2.0 credential (eddsa-rdfc-2022)
import {readFileSync, writeFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {securityLoader} from '@digitalbazaar/security-document-loader';

// No network: fail loudly if anything tries.
globalThis.fetch = async url => {
  throw new Error(`network access attempted (offline test): ${url}`);
};

// Bundled contexts (VC v1/v2, DID, Data Integrity terms via VC v2) and a local did:key
// resolver; the loader has no remote fallback.
const documentLoader = securityLoader().build();

async function verify(file) {
  const credential = JSON.parse(readFileSync(file, 'utf8'));
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  if(result.verified) {
    console.log(JSON.stringify({verified: true, issuer: credential.issuer}));
    return 0;
  }
  const errors = [];
  for(const r of result.results ?? []) {
    if(r.error) {
      errors.push(String(r.error.message ?? r.error));
    }
  }
  if(result.error) {
    errors.push(String(result.error.message ?? result.error));
  }
  console.log(JSON.stringify({verified: false, errors}));
  return 1;
}

async function issue(out, subject) {
  const key = await Ed25519Multikey.generate();
  const did = `did:key:${key.publicKeyMultibase}`;
  key.id = `${did}#${key.publicKeyMultibase}`;
  key.controller = did;
  const now = new Date();
  const until = new Date(now.getTime() + 365 * 24 * 3600 * 1000);
  const iso = d => `${d.toISOString().slice(0, 19)}Z`;
  const credential = {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      {'@vocab': 'https://w3id.org/vouch/terms#'}
    ],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'VouchPersonhoodCredential'],
    issuer: did,
    validFrom: iso(new Date(now.getTime() - 60 * 1000)),
    validUntil: iso(until),
    credentialSubject: {id: subject, verifiedBy: 'digital bazaar interop'}
  };
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: eddsaRdfc2022
  });
  const signed = await vc.issue({credential, suite, documentLoader});
  writeFileSync(out, JSON.stringify(signed, null, 2) + '\n');
  console.log(JSON.stringify({issued: true, issuer: did}));
  return 0;
}

const [cmd, ...args] = process.argv.slice(2);
let code;
try {
  if(cmd === 'verify' && args.length === 1) {
    code = await verify(args[0]);
  } else if(cmd === 'issue' && args.length === 2) {
    code = await issue(args[0], args[1]);
  } else {
    console.error('usage: interop.mjs verify FILE | issue OUT SUBJECT_DID');
    code = 2;
  }
} catch(e) {
  console.error(e);
  code = 3;
}
process.exit(code);
