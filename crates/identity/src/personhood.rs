//! Anonymous personhood: blind BBS credentials with per-scope pseudonyms
//! (draft-irtf-cfrg-bbs-per-verifier-linkability, via `zkryptium`), one pseudonym per
//! person per scope, and a proof that binds a fresh voting key to it.
//!
//! The flow (see `specs/identity.md`):
//! 1. the holder makes a [`PersonhoodRequest`] (a hiding commitment to a secret it keeps in
//!    [`PendingPersonhood`]);
//! 2. the issuer, after checking the person, answers with a [`PersonhoodIssuance`] from
//!    [`PersonhoodIssuer::issue`] (a blind BBS signature over the commitment and the expiry);
//! 3. the holder turns it into a [`PersonhoodCredential`] with [`PendingPersonhood::finalize`];
//! 4. for a [`PersonhoodScope`] (group, epoch) the holder makes a [`PersonhoodProof`] with
//!    [`PersonhoodCredential::prove`]; anyone checks it with [`verify_personhood`], which
//!    returns the scope's [`Pseudonym`].

use crate::keys::PublicKey;
use rand_core::CryptoRngCore;
use std::fmt;
use zkryptium::bbsplus::commitment::BlindFactor;
use zkryptium::bbsplus::keys::{BBSplusPublicKey, BBSplusSecretKey};
use zkryptium::bbsplus::pseudonym::{BBSplusPseudonym, PseudonymSecret};
use zkryptium::keys::pair::KeyPair;
use zkryptium::schemes::algorithms::BbsBls12381Sha256;
use zkryptium::schemes::generics::{BlindSignature, Commitment, PoKSignature};

/// Length of an issuer's BBS public key (compressed BLS12-381 G2 point).
pub const PERSONHOOD_ISSUER_KEY_LEN: usize = 96;
/// Length of a pseudonym (compressed BLS12-381 G1 point).
pub const PSEUDONYM_LEN: usize = 48;
/// Length of the BBS proof inside a [`PersonhoodProof`]: `Abar, Bbar, D` (3 × 48), `e^, r1^,
/// r3^` (3 × 32), one response per undisclosed message (the nym secret, the prover blind) and
/// the challenge (3 × 32).
const BBS_PROOF_LEN: usize = 3 * 48 + 3 * 32 + 3 * 32;
/// Length of a blind signature.
const SIGNATURE_LEN: usize = 80;
/// Length of the holder's commitment with its proof of knowledge: `C` (48), `s^`, one
/// response for the nym secret, the challenge (3 × 32).
const COMMITMENT_LEN: usize = 48 + 3 * 32;
/// The BBS header every personhood signature and proof carries.
const HEADER: &[u8] = b"vouch/v1/personhood";
/// Prefix of the presentation header: binds scope and voting key into the proof.
const PH_PREFIX: &[u8] = b"vouch/v1/personhood-ph\0";
/// Prefix of the BBS context id from which the pseudonym is derived.
const CONTEXT_PREFIX: &[u8] = b"vouch/v1/personhood-scope\0";
/// Encoding version of [`PersonhoodProof::to_bytes`].
const PROOF_VERSION: u8 = 1;
/// Multicodec `bls12_381-g2-pub` (0xeb) as unsigned varint.
const BLS12_381_G2_PUB_CODEC: [u8; 2] = [0xeb, 0x01];
/// Milliseconds in a UTC day: expiries are whole days so that they say little about a holder.
pub const EXPIRY_GRANULARITY_MS: u64 = 86_400_000;
/// Longest group label in a scope, in bytes.
pub const MAX_GROUP_LEN: usize = 512;

/// Why a personhood operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersonhoodError {
    /// Bytes that should hold a key, request, issuance, credential or proof are malformed.
    #[error("malformed personhood data: {0}")]
    Malformed(&'static str),
    /// The proof does not verify: forged, altered, or bound to another voting key.
    #[error("personhood proof does not verify")]
    BadProof,
    /// The proof was made for another scope (group or epoch).
    #[error("personhood proof is for another scope")]
    WrongScope,
    /// The proof was made under another issuer's key.
    #[error("personhood proof is under another issuer")]
    WrongIssuer,
    /// The credential behind the proof has expired (or expires at `now`).
    #[error("personhood credential expired at {expires_at_ms} (now {now_ms})")]
    Expired {
        /// The credential's expiry, ms since the Unix epoch.
        expires_at_ms: u64,
        /// The time of the check.
        now_ms: u64,
    },
    /// The issuer's signature over the holder's commitment does not verify.
    #[error("blind signature does not verify")]
    BadIssuance,
    /// The holder's commitment (request) does not carry a valid proof of knowledge.
    #[error("personhood request is invalid")]
    BadRequest,
    /// Expiry not a whole UTC day, or already past.
    #[error("invalid expiry {0}: must be a whole UTC day in the future")]
    BadExpiry(u64),
    /// The underlying BBS library failed for another reason.
    #[error("BBS operation failed: {0}")]
    Crypto(String),
}

impl PersonhoodError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            PersonhoodError::Malformed(_) => "personhood-malformed",
            PersonhoodError::BadProof => "personhood-bad-proof",
            PersonhoodError::WrongScope => "personhood-wrong-scope",
            PersonhoodError::WrongIssuer => "personhood-wrong-issuer",
            PersonhoodError::Expired { .. } => "personhood-expired",
            PersonhoodError::BadIssuance => "personhood-bad-issuance",
            PersonhoodError::BadRequest => "personhood-bad-request",
            PersonhoodError::BadExpiry(_) => "personhood-bad-expiry",
            PersonhoodError::Crypto(_) => "personhood-crypto",
        }
    }
}

fn crypto(e: zkryptium::errors::Error) -> PersonhoodError {
    PersonhoodError::Crypto(e.to_string())
}

/// Draws a uniformly random BLS12-381 scalar from `rng` (rejection sampling, big-endian).
fn random_nym_secret<R: CryptoRngCore + ?Sized>(rng: &mut R) -> PseudonymSecret {
    loop {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        // The scalar field order starts with 0x73: clearing the top bit makes about half the
        // draws valid instead of about 45 %, without bias among valid ones.
        bytes[0] &= 0x7f;
        if let Ok(s) = PseudonymSecret::from_bytes(&bytes) {
            return s;
        }
    }
}

/// A scope in which each person has exactly one pseudonym: a group and an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonhoodScope {
    /// The group's label, e.g. `did:key:z6Mk…/village` (at most [`MAX_GROUP_LEN`] bytes).
    pub group: String,
    /// The epoch (e.g. the UTC day or the poll's number).
    pub epoch: u64,
}

impl PersonhoodScope {
    /// A scope for `group` in `epoch`.
    pub fn new(group: impl Into<String>, epoch: u64) -> Self {
        PersonhoodScope {
            group: group.into(),
            epoch,
        }
    }

    /// The BBS context id: `prefix ‖ u16 len ‖ group ‖ u64 epoch` (big-endian).
    fn context_id(&self) -> Vec<u8> {
        let g = self.group.as_bytes();
        let mut out = Vec::with_capacity(CONTEXT_PREFIX.len() + 2 + g.len() + 8);
        out.extend_from_slice(CONTEXT_PREFIX);
        // Group labels longer than u16::MAX are refused before this is called.
        out.extend_from_slice(&(g.len() as u16).to_be_bytes());
        out.extend_from_slice(g);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out
    }

    /// The presentation header: binds the scope and the voting key into the proof.
    fn presentation_header(&self, voting_key: &PublicKey) -> Vec<u8> {
        let mut out = PH_PREFIX.to_vec();
        out.extend_from_slice(&self.context_id());
        out.extend_from_slice(voting_key.as_bytes());
        out
    }

    fn check(&self) -> Result<(), PersonhoodError> {
        if self.group.len() > MAX_GROUP_LEN {
            return Err(PersonhoodError::Malformed("group label too long"));
        }
        Ok(())
    }
}

impl fmt::Display for PersonhoodScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.group, self.epoch)
    }
}

/// An issuer's public BBS key (BLS12-381 G2): what a group names to accept its personhood.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonhoodIssuerKey([u8; PERSONHOOD_ISSUER_KEY_LEN]);

impl PersonhoodIssuerKey {
    /// Reads a key from its 96-byte compressed form, checking it is a valid G2 point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        let arr: [u8; PERSONHOOD_ISSUER_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| PersonhoodError::Malformed("issuer key must be 96 bytes"))?;
        BBSplusPublicKey::from_bytes(&arr)
            .map_err(|_| PersonhoodError::Malformed("issuer key is not a G2 point"))?;
        Ok(PersonhoodIssuerKey(arr))
    }

    /// The 96 compressed bytes.
    pub fn as_bytes(&self) -> &[u8; PERSONHOOD_ISSUER_KEY_LEN] {
        &self.0
    }

    /// The `did:key` form (multicodec `bls12_381-g2-pub`, base58btc): `did:key:zUC7…`.
    pub fn to_did_key(&self) -> String {
        let mut bytes = BLS12_381_G2_PUB_CODEC.to_vec();
        bytes.extend_from_slice(&self.0);
        format!("did:key:z{}", bs58::encode(bytes).into_string())
    }

    /// Parses the `did:key` form written by [`PersonhoodIssuerKey::to_did_key`].
    pub fn from_did_key(s: &str) -> Result<Self, PersonhoodError> {
        let rest = s
            .strip_prefix("did:key:z")
            .ok_or(PersonhoodError::Malformed("not a base58btc did:key"))?;
        let rest = rest.split('#').next().unwrap_or(rest);
        let bytes = bs58::decode(rest)
            .into_vec()
            .map_err(|_| PersonhoodError::Malformed("bad base58"))?;
        let key = bytes
            .strip_prefix(&BLS12_381_G2_PUB_CODEC[..])
            .ok_or(PersonhoodError::Malformed("not a bls12_381-g2-pub did:key"))?;
        Self::from_bytes(key)
    }

    fn bbs(&self) -> Result<BBSplusPublicKey, PersonhoodError> {
        BBSplusPublicKey::from_bytes(&self.0).map_err(|_| PersonhoodError::Malformed("issuer key"))
    }
}

impl fmt::Debug for PersonhoodIssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonhoodIssuerKey({})", self.to_did_key())
    }
}

/// An issuer's secret BBS key.
pub struct PersonhoodIssuer {
    sk: BBSplusSecretKey,
    pk: BBSplusPublicKey,
}

impl fmt::Debug for PersonhoodIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonhoodIssuer({:?})", self.public_key())
    }
}

impl PersonhoodIssuer {
    /// A new issuer key from 32 bytes of `rng` (BBS KeyGen with Vouch's key_info).
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Result<Self, PersonhoodError> {
        let mut ikm = [0u8; 32];
        rng.fill_bytes(&mut ikm);
        Self::from_key_material(&ikm)
    }

    /// The issuer key derived deterministically from `ikm` (at least 32 bytes).
    pub fn from_key_material(ikm: &[u8]) -> Result<Self, PersonhoodError> {
        let pair = KeyPair::<BbsBls12381Sha256>::generate(ikm, Some(b"vouch/v1/personhood"), None)
            .map_err(crypto)?;
        let (sk, pk) = pair.into_parts();
        Ok(PersonhoodIssuer { sk, pk })
    }

    /// The 32-byte secret scalar (to store in a key file).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.sk.to_bytes()
    }

    /// Reads the secret written by [`PersonhoodIssuer::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        let sk = BBSplusSecretKey::from_bytes(bytes)
            .map_err(|_| PersonhoodError::Malformed("issuer secret"))?;
        let pk = sk.public_key();
        Ok(PersonhoodIssuer { sk, pk })
    }

    /// The public key.
    pub fn public_key(&self) -> PersonhoodIssuerKey {
        PersonhoodIssuerKey(self.pk.to_bytes())
    }

    /// Blindly signs a holder's request, with an expiry (ms since the Unix epoch, a whole UTC
    /// day after `now_ms`). The issuer must run this at most once per person (it is the
    /// issuer's check of the person that makes a pseudonym stand for one human).
    pub fn issue<R: CryptoRngCore + ?Sized>(
        &self,
        request: &PersonhoodRequest,
        expires_at_ms: u64,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<PersonhoodIssuance, PersonhoodError> {
        if !expires_at_ms.is_multiple_of(EXPIRY_GRANULARITY_MS) || expires_at_ms <= now_ms {
            return Err(PersonhoodError::BadExpiry(expires_at_ms));
        }
        let signer_nym_entropy = random_nym_secret(rng);
        let messages = [expiry_message(expires_at_ms)];
        let sig = BlindSignature::<BbsBls12381Sha256>::blind_sign_with_nym(
            &self.sk,
            &self.pk,
            Some(request.0.as_slice()),
            1,
            Some(HEADER),
            &signer_nym_entropy,
            Some(&messages[..]),
        )
        .map_err(|e| match e {
            zkryptium::errors::Error::InvalidCommitmentProof
            | zkryptium::errors::Error::InvalidCommitment => PersonhoodError::BadRequest,
            other => crypto(other),
        })?;
        Ok(PersonhoodIssuance {
            signature: sig.to_bytes(),
            signer_nym_entropy: signer_nym_entropy.to_bytes(),
            expires_at_ms,
        })
    }
}

fn expiry_message(expires_at_ms: u64) -> Vec<u8> {
    expires_at_ms.to_be_bytes().to_vec()
}

/// What the holder sends the issuer: a commitment to its secret, with a proof of knowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonhoodRequest(Vec<u8>);

impl PersonhoodRequest {
    /// Starts a request: returns what to send and what to keep. The nym secret comes from
    /// `rng`; the commitment's blinding comes from the BBS library's own CSPRNG.
    pub fn new<R: CryptoRngCore + ?Sized>(
        rng: &mut R,
    ) -> Result<(PersonhoodRequest, PendingPersonhood), PersonhoodError> {
        let prover_nym = random_nym_secret(rng);
        let (commitment, blind) =
            Commitment::<BbsBls12381Sha256>::commit_with_nym(None, vec![prover_nym.clone()])
                .map_err(crypto)?;
        Ok((
            PersonhoodRequest(commitment.to_bytes()),
            PendingPersonhood {
                prover_nym: prover_nym.to_bytes(),
                blind: blind.to_bytes(),
            },
        ))
    }

    /// The encoded request.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads an encoded request (length-checked; the proof is checked by the issuer).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        if bytes.len() != COMMITMENT_LEN {
            return Err(PersonhoodError::Malformed("request length"));
        }
        Ok(PersonhoodRequest(bytes.to_vec()))
    }
}

/// The holder's secrets while a request is pending.
pub struct PendingPersonhood {
    prover_nym: [u8; 32],
    blind: [u8; 32],
}

impl fmt::Debug for PendingPersonhood {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingPersonhood(…)")
    }
}

/// Length of [`PendingPersonhood::to_bytes`].
pub const PENDING_LEN: usize = 1 + 32 + 32;

impl PendingPersonhood {
    /// Encodes the pending secrets (secret!), so that a holder can finalize in another
    /// process than the one that made the request: `1 ‖ prover nym ‖ blind factor`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PENDING_LEN);
        out.push(PROOF_VERSION);
        out.extend_from_slice(&self.prover_nym);
        out.extend_from_slice(&self.blind);
        out
    }

    /// Reads [`PendingPersonhood::to_bytes`] (the scalars are checked by `finalize`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        if bytes.len() != PENDING_LEN || bytes[0] != PROOF_VERSION {
            return Err(PersonhoodError::Malformed(
                "pending request length or version",
            ));
        }
        let mut r = Reader(&bytes[1..]);
        Ok(PendingPersonhood {
            prover_nym: r.array::<32>()?,
            blind: r.array::<32>()?,
        })
    }
}

/// The issuer's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonhoodIssuance {
    /// The blind BBS signature.
    pub signature: [u8; SIGNATURE_LEN],
    /// The issuer's share of the nym secret (so that the holder cannot choose it alone).
    pub signer_nym_entropy: [u8; 32],
    /// The expiry the issuer signed.
    pub expires_at_ms: u64,
}

impl PendingPersonhood {
    /// Checks the issuer's signature and returns the credential.
    pub fn finalize(
        self,
        issuer: &PersonhoodIssuerKey,
        issuance: &PersonhoodIssuance,
    ) -> Result<PersonhoodCredential, PersonhoodError> {
        let pk = issuer.bbs()?;
        let sig = BlindSignature::<BbsBls12381Sha256>::from_bytes(&issuance.signature)
            .map_err(|_| PersonhoodError::BadIssuance)?;
        let prover_nym = PseudonymSecret::from_bytes(&self.prover_nym)
            .map_err(|_| PersonhoodError::Malformed("nym secret"))?;
        let entropy = PseudonymSecret::from_bytes(&issuance.signer_nym_entropy)
            .map_err(|_| PersonhoodError::Malformed("signer entropy"))?;
        let blind = BlindFactor::from_bytes(&self.blind)
            .map_err(|_| PersonhoodError::Malformed("blind factor"))?;
        let messages = [expiry_message(issuance.expires_at_ms)];
        let nym_secrets = sig
            .verify_finalize_with_nym(
                &pk,
                Some(HEADER),
                Some(&messages[..]),
                None,
                vec![prover_nym],
                Some(&entropy),
                Some(&blind),
            )
            .map_err(|_| PersonhoodError::BadIssuance)?;
        let nym_secret = nym_secrets
            .first()
            .ok_or(PersonhoodError::BadIssuance)?
            .to_bytes();
        Ok(PersonhoodCredential {
            issuer: *issuer,
            signature: issuance.signature,
            nym_secret,
            blind: self.blind,
            expires_at_ms: issuance.expires_at_ms,
        })
    }
}

/// A holder's personhood credential: secret, keep it like a key.
#[derive(Clone)]
pub struct PersonhoodCredential {
    issuer: PersonhoodIssuerKey,
    signature: [u8; SIGNATURE_LEN],
    nym_secret: [u8; 32],
    blind: [u8; 32],
    expires_at_ms: u64,
}

impl fmt::Debug for PersonhoodCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PersonhoodCredential(issuer {:?}, expires {})",
            self.issuer, self.expires_at_ms
        )
    }
}

/// Length of [`PersonhoodCredential::to_bytes`].
pub const CREDENTIAL_LEN: usize = 1 + PERSONHOOD_ISSUER_KEY_LEN + SIGNATURE_LEN + 32 + 32 + 8;

impl PersonhoodCredential {
    /// The issuer's key.
    pub fn issuer(&self) -> &PersonhoodIssuerKey {
        &self.issuer
    }

    /// The expiry (ms since the Unix epoch).
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }

    /// Encodes the credential (secret!): `1 ‖ issuer ‖ signature ‖ nym secret ‖ blind ‖ expiry`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CREDENTIAL_LEN);
        out.push(PROOF_VERSION);
        out.extend_from_slice(&self.issuer.0);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.nym_secret);
        out.extend_from_slice(&self.blind);
        out.extend_from_slice(&self.expires_at_ms.to_be_bytes());
        out
    }

    /// Reads [`PersonhoodCredential::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        if bytes.len() != CREDENTIAL_LEN || bytes[0] != PROOF_VERSION {
            return Err(PersonhoodError::Malformed("credential length or version"));
        }
        let mut r = Reader(&bytes[1..]);
        let issuer = PersonhoodIssuerKey::from_bytes(r.take(PERSONHOOD_ISSUER_KEY_LEN)?)?;
        let signature = r.array::<SIGNATURE_LEN>()?;
        let nym_secret = r.array::<32>()?;
        let blind = r.array::<32>()?;
        let expires_at_ms = u64::from_be_bytes(r.array::<8>()?);
        Ok(PersonhoodCredential {
            issuer,
            signature,
            nym_secret,
            blind,
            expires_at_ms,
        })
    }

    /// This holder's pseudonym in `scope`, without making a proof.
    pub fn pseudonym(&self, scope: &PersonhoodScope) -> Result<Pseudonym, PersonhoodError> {
        // The pseudonym is deterministic, so a throwaway proof's pseudonym is the answer.
        let key = crate::keys::SecretKey::from_seed(&[0u8; 32]).public_key();
        Ok(self.prove(scope, &key)?.pseudonym)
    }

    /// Proves, for `scope`, that the holder of `voting_key` holds a valid credential of this
    /// issuer; the proof reveals the scope's pseudonym and the expiry, nothing else. The
    /// proof's blinding comes from the BBS library's own CSPRNG.
    pub fn prove(
        &self,
        scope: &PersonhoodScope,
        voting_key: &PublicKey,
    ) -> Result<PersonhoodProof, PersonhoodError> {
        scope.check()?;
        let pk = self.issuer.bbs()?;
        let nym = PseudonymSecret::from_bytes(&self.nym_secret)
            .map_err(|_| PersonhoodError::Malformed("nym secret"))?;
        let blind = BlindFactor::from_bytes(&self.blind)
            .map_err(|_| PersonhoodError::Malformed("blind factor"))?;
        let messages = [expiry_message(self.expires_at_ms)];
        let ph = scope.presentation_header(voting_key);
        let (proof, pseudonym) = PoKSignature::<BbsBls12381Sha256>::proof_gen_with_nym(
            &pk,
            &self.signature,
            Some(HEADER),
            Some(ph.as_slice()),
            &vec![nym],
            &scope.context_id(),
            Some(&messages[..]),
            None,
            Some(&[0usize][..]),
            None,
            Some(&blind),
        )
        .map_err(crypto)?;
        let proof = proof.to_bytes();
        if proof.len() != BBS_PROOF_LEN {
            return Err(PersonhoodError::Crypto(format!(
                "unexpected proof length {}",
                proof.len()
            )));
        }
        let pseudonym: [u8; PSEUDONYM_LEN] = pseudonym
            .to_bytes()
            .try_into()
            .map_err(|_| PersonhoodError::Crypto("pseudonym length".into()))?;
        Ok(PersonhoodProof {
            issuer: self.issuer,
            scope: scope.clone(),
            expires_at_ms: self.expires_at_ms,
            pseudonym: Pseudonym(pseudonym),
            proof,
        })
    }
}

/// A person's pseudonym in one scope: equal for two proofs of one person in one scope,
/// unlinkable across scopes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(pub [u8; PSEUDONYM_LEN]);

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// A personhood proof for one scope and one voting key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonhoodProof {
    /// The issuer whose credential is proven.
    pub issuer: PersonhoodIssuerKey,
    /// The scope the pseudonym belongs to.
    pub scope: PersonhoodScope,
    /// The credential's expiry (disclosed, a whole UTC day).
    pub expires_at_ms: u64,
    /// The scope's pseudonym.
    pub pseudonym: Pseudonym,
    /// The BBS proof of knowledge (exactly 336 bytes).
    pub proof: Vec<u8>,
}

impl PersonhoodProof {
    /// Encodes: `1 ‖ issuer (96) ‖ u16 len ‖ group ‖ epoch (8) ‖ expiry (8) ‖ pseudonym (48) ‖
    /// proof (336)`, integers big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let g = self.scope.group.as_bytes();
        let mut out = Vec::with_capacity(1 + 96 + 2 + g.len() + 16 + 48 + self.proof.len());
        out.push(PROOF_VERSION);
        out.extend_from_slice(&self.issuer.0);
        let len = u16::try_from(g.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(g);
        out.extend_from_slice(&self.scope.epoch.to_be_bytes());
        out.extend_from_slice(&self.expires_at_ms.to_be_bytes());
        out.extend_from_slice(&self.pseudonym.0);
        out.extend_from_slice(&self.proof);
        out
    }

    /// Decodes [`PersonhoodProof::to_bytes`]; every length is checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PersonhoodError> {
        let mut r = Reader(bytes);
        if r.array::<1>()? != [PROOF_VERSION] {
            return Err(PersonhoodError::Malformed("proof version"));
        }
        let issuer = PersonhoodIssuerKey::from_bytes(r.take(PERSONHOOD_ISSUER_KEY_LEN)?)?;
        let glen = u16::from_be_bytes(r.array::<2>()?) as usize;
        if glen > MAX_GROUP_LEN {
            return Err(PersonhoodError::Malformed("group label too long"));
        }
        let group = std::str::from_utf8(r.take(glen)?)
            .map_err(|_| PersonhoodError::Malformed("group label not UTF-8"))?
            .to_owned();
        let epoch = u64::from_be_bytes(r.array::<8>()?);
        let expires_at_ms = u64::from_be_bytes(r.array::<8>()?);
        let pseudonym = Pseudonym(r.array::<PSEUDONYM_LEN>()?);
        let proof = r.take(BBS_PROOF_LEN)?.to_vec();
        if !r.0.is_empty() {
            return Err(PersonhoodError::Malformed("trailing bytes"));
        }
        Ok(PersonhoodProof {
            issuer,
            scope: PersonhoodScope { group, epoch },
            expires_at_ms,
            pseudonym,
            proof,
        })
    }
}

/// Verifies a personhood proof for `scope`, issuer `issuer` and `voting_key` at `now_ms`;
/// returns the scope's pseudonym. Two valid proofs with the same pseudonym come from the
/// same person: count one.
pub fn verify_personhood(
    proof: &PersonhoodProof,
    issuer: &PersonhoodIssuerKey,
    scope: &PersonhoodScope,
    voting_key: &PublicKey,
    now_ms: u64,
) -> Result<Pseudonym, PersonhoodError> {
    scope.check()?;
    if proof.issuer != *issuer {
        return Err(PersonhoodError::WrongIssuer);
    }
    if proof.scope != *scope {
        return Err(PersonhoodError::WrongScope);
    }
    if proof.expires_at_ms <= now_ms {
        return Err(PersonhoodError::Expired {
            expires_at_ms: proof.expires_at_ms,
            now_ms,
        });
    }
    if proof.proof.len() != BBS_PROOF_LEN {
        return Err(PersonhoodError::Malformed("proof length"));
    }
    let pk = issuer.bbs()?;
    let poks = PoKSignature::<BbsBls12381Sha256>::from_bytes(&proof.proof)
        .map_err(|_| PersonhoodError::BadProof)?;
    let nym =
        BBSplusPseudonym::from_bytes(&proof.pseudonym.0).map_err(|_| PersonhoodError::BadProof)?;
    let messages = [expiry_message(proof.expires_at_ms)];
    poks.proof_verify_with_nym(
        &pk,
        Some(HEADER),
        Some(scope.presentation_header(voting_key).as_slice()),
        &nym,
        &scope.context_id(),
        1,
        Some(messages.len()),
        Some(&messages[..]),
        None,
        Some(&[0usize][..]),
        None,
    )
    .map_err(|_| PersonhoodError::BadProof)?;
    Ok(proof.pseudonym)
}

/// A bounds-checked reader over a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PersonhoodError> {
        if self.0.len() < n {
            return Err(PersonhoodError::Malformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PersonhoodError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const DAY: u64 = EXPIRY_GRANULARITY_MS;
    const NOW: u64 = 20_000 * DAY + 1234;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn issue(issuer: &PersonhoodIssuer, seed: u64, expires: u64) -> PersonhoodCredential {
        let mut r = rng(seed);
        let (req, pending) = PersonhoodRequest::new(&mut r).unwrap();
        let req = PersonhoodRequest::from_bytes(req.as_bytes()).unwrap();
        let iss = issuer.issue(&req, expires, NOW, &mut r).unwrap();
        // The holder may finalize in another process: the pending secrets round-trip.
        let encoded = pending.to_bytes();
        assert_eq!(encoded.len(), PENDING_LEN);
        let pending = PendingPersonhood::from_bytes(&encoded).unwrap();
        pending.finalize(&issuer.public_key(), &iss).unwrap()
    }

    fn voting_key(seed: u64) -> PublicKey {
        SecretKey::generate(&mut rng(seed)).public_key()
    }

    #[test]
    fn proof_verifies_and_pseudonym_is_per_person_per_scope() {
        let issuer = PersonhoodIssuer::generate(&mut rng(1)).unwrap();
        let alice = issue(&issuer, 2, NOW - NOW % DAY + 30 * DAY);
        let bob = issue(&issuer, 3, NOW - NOW % DAY + 30 * DAY);
        let village = PersonhoodScope::new("did:key:z6Mkexample/village", 7);
        let (k1, k2) = (voting_key(10), voting_key(11));
        let ik = issuer.public_key();

        let p1 = alice.prove(&village, &k1).unwrap();
        let p2 = alice.prove(&village, &k2).unwrap();
        let n1 = verify_personhood(&p1, &ik, &village, &k1, NOW).unwrap();
        let n2 = verify_personhood(&p2, &ik, &village, &k2, NOW).unwrap();
        assert_eq!(n1, n2, "same person, same scope: same pseudonym");
        assert_ne!(p1.proof, p2.proof, "proofs are randomized");

        let pb = bob.prove(&village, &k1).unwrap();
        let nb = verify_personhood(&pb, &ik, &village, &k1, NOW).unwrap();
        assert_ne!(n1, nb, "two people: two pseudonyms");

        let next = PersonhoodScope::new("did:key:z6Mkexample/village", 8);
        let p3 = alice.prove(&next, &k1).unwrap();
        let n3 = verify_personhood(&p3, &ik, &next, &k1, NOW).unwrap();
        assert_ne!(n1, n3, "other scope: other pseudonym");
        assert_eq!(alice.pseudonym(&village).unwrap(), n1);

        // Encoding round trip.
        let bytes = p1.to_bytes();
        assert_eq!(PersonhoodProof::from_bytes(&bytes).unwrap(), p1);
        assert_eq!(
            bytes.len(),
            1 + 96 + 2 + village.group.len() + 16 + 48 + 336
        );
        let cred = PersonhoodCredential::from_bytes(&alice.to_bytes()).unwrap();
        assert_eq!(cred.pseudonym(&village).unwrap(), n1);
        let ik2 = PersonhoodIssuerKey::from_did_key(&ik.to_did_key()).unwrap();
        assert_eq!(ik2, ik);
        assert!(ik.to_did_key().starts_with("did:key:zUC7"));
    }

    #[test]
    fn rejections_carry_their_codes() {
        let issuer = PersonhoodIssuer::generate(&mut rng(1)).unwrap();
        let other = PersonhoodIssuer::generate(&mut rng(99)).unwrap();
        let expires = NOW - NOW % DAY + DAY;
        let alice = issue(&issuer, 2, expires);
        let scope = PersonhoodScope::new("g", 1);
        let k = voting_key(10);
        let ik = issuer.public_key();
        let p = alice.prove(&scope, &k).unwrap();

        let code = |r: Result<Pseudonym, PersonhoodError>| r.unwrap_err().code();

        // Forged: a flipped byte in the proof, a borrowed pseudonym, another voting key.
        let mut forged = p.clone();
        forged.proof[300] ^= 1;
        assert_eq!(
            code(verify_personhood(&forged, &ik, &scope, &k, NOW)),
            "personhood-bad-proof"
        );
        let bob = issue(&issuer, 3, expires);
        let mut stolen = p.clone();
        stolen.pseudonym = bob.pseudonym(&scope).unwrap();
        assert_eq!(
            code(verify_personhood(&stolen, &ik, &scope, &k, NOW)),
            "personhood-bad-proof"
        );
        assert_eq!(
            code(verify_personhood(&p, &ik, &scope, &voting_key(11), NOW)),
            "personhood-bad-proof"
        );
        // A proof for another scope; the same proof relabelled as this scope.
        let elsewhere = PersonhoodScope::new("g", 2);
        assert_eq!(
            code(verify_personhood(&p, &ik, &elsewhere, &k, NOW)),
            "personhood-wrong-scope"
        );
        let mut relabelled = alice.prove(&elsewhere, &k).unwrap();
        relabelled.scope = scope.clone();
        assert_eq!(
            code(verify_personhood(&relabelled, &ik, &scope, &k, NOW)),
            "personhood-bad-proof"
        );
        // Another issuer: as claimed, and relabelled.
        let ok = other.public_key();
        assert_eq!(
            code(verify_personhood(&p, &ok, &scope, &k, NOW)),
            "personhood-wrong-issuer"
        );
        let mut reissued = p.clone();
        reissued.issuer = ok;
        assert_eq!(
            code(verify_personhood(&reissued, &ok, &scope, &k, NOW)),
            "personhood-bad-proof"
        );
        // Expired, and an expiry pushed forward by hand.
        assert_eq!(
            code(verify_personhood(&p, &ik, &scope, &k, expires)),
            "personhood-expired"
        );
        let mut extended = p.clone();
        extended.expires_at_ms += DAY;
        assert_eq!(
            code(verify_personhood(&extended, &ik, &scope, &k, expires)),
            "personhood-bad-proof"
        );
        // Truncated or garbage bytes never panic.
        let bytes = p.to_bytes();
        for n in 0..bytes.len() {
            assert_eq!(
                PersonhoodProof::from_bytes(&bytes[..n]).unwrap_err().code(),
                "personhood-malformed"
            );
        }
        let mut garbage = bytes.clone();
        for b in garbage.iter_mut().skip(200) {
            *b = 0xff;
        }
        let e = PersonhoodProof::from_bytes(&garbage)
            .and_then(|g| verify_personhood(&g, &ik, &scope, &k, NOW));
        assert!(e.is_err());
    }

    #[test]
    fn issuance_checks() {
        let issuer = PersonhoodIssuer::generate(&mut rng(1)).unwrap();
        let mut r = rng(5);
        let (req, pending) = PersonhoodRequest::new(&mut r).unwrap();
        assert_eq!(
            issuer.issue(&req, NOW + 5, NOW, &mut r).unwrap_err().code(),
            "personhood-bad-expiry"
        );
        assert_eq!(
            issuer
                .issue(&req, NOW - NOW % DAY, NOW, &mut r)
                .unwrap_err()
                .code(),
            "personhood-bad-expiry"
        );
        let mut bad = req.as_bytes().to_vec();
        bad[60] ^= 1;
        let bad = PersonhoodRequest::from_bytes(&bad).unwrap();
        assert!(issuer
            .issue(&bad, NOW - NOW % DAY + DAY, NOW, &mut r)
            .is_err());
        // A signature from another issuer does not finalize.
        let other = PersonhoodIssuer::generate(&mut rng(2)).unwrap();
        let iss = other
            .issue(&req, NOW - NOW % DAY + DAY, NOW, &mut r)
            .unwrap();
        assert_eq!(
            pending
                .finalize(&issuer.public_key(), &iss)
                .unwrap_err()
                .code(),
            "personhood-bad-issuance"
        );
        let back = PersonhoodIssuer::from_bytes(&issuer.to_bytes()).unwrap();
        assert_eq!(back.public_key(), issuer.public_key());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..700)) {
            let _ = PersonhoodProof::from_bytes(&bytes);
            let _ = PersonhoodCredential::from_bytes(&bytes);
            let _ = PersonhoodRequest::from_bytes(&bytes);
            let _ = PersonhoodIssuerKey::from_bytes(&bytes);
            let _ = PendingPersonhood::from_bytes(&bytes);
        }

        #[test]
        fn proof_encoding_round_trips(group in "[a-z/:0-9]{0,40}", epoch in proptest::num::u64::ANY,
                                      pseudonym in proptest::array::uniform32(proptest::num::u8::ANY),
                                      proof in proptest::collection::vec(proptest::num::u8::ANY, BBS_PROOF_LEN)) {
            let issuer = PersonhoodIssuer::from_key_material(&[7u8; 32]).unwrap();
            let mut nym = [0u8; PSEUDONYM_LEN];
            nym[..32].copy_from_slice(&pseudonym);
            let p = PersonhoodProof {
                issuer: issuer.public_key(),
                scope: PersonhoodScope::new(group, epoch),
                expires_at_ms: epoch ^ 0x55,
                pseudonym: Pseudonym(nym),
                proof,
            };
            proptest::prop_assert_eq!(PersonhoodProof::from_bytes(&p.to_bytes()).unwrap(), p);
        }
    }
}
