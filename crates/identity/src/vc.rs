//! W3C Verifiable Credentials (Data Model 2.0) with the `ssi` crate: issue and verify
//! credentials secured with Data Integrity `eddsa-rdfc-2022`, issuer and subject as ed25519
//! `did:key`, fully offline (did:key only, bundled JSON-LD contexts). Expiry is checked
//! against a `now` given by the caller; revocation is by signed [`Revocation`] statements
//! (see `specs/identity.md`).

use crate::keys::{PublicKey, SecretKey};
use crate::sign::{verify_prefixed, Signature};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use ssi::claims::data_integrity::suites::EdDsaRdfc2022;
use ssi::claims::data_integrity::{CryptographicSuite, DataIntegrity, ProofOptions};
use ssi::claims::vc::v2::JsonCredential;
use ssi::claims::VerificationParameters;
use ssi::dids::{DIDKey, VerificationMethodDIDResolver};
use ssi::jwk::{Base64urlUInt, OctetParams, Params, JWK};
use ssi::verification_methods::{Multikey, SingleSecretSigner};

/// The only Data Integrity cryptosuite Vouch issues and accepts.
pub const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
/// The VC Data Model 2.0 base context.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// Vouch's vocabulary for its own types and claims, as an embedded context
/// (`{"@vocab": …}`) after the VC 2.0 context, so that no context has to be fetched.
pub const VOUCH_VOCAB: &str = "https://w3id.org/vouch/terms#";
/// The type Vouch gives its personhood credentials (besides `VerifiableCredential`).
pub const PERSONHOOD_CREDENTIAL_TYPE: &str = "VouchPersonhoodCredential";
/// Largest credential document accepted, in bytes.
pub const MAX_CREDENTIAL_LEN: usize = 64 * 1024;
/// Prefix of the message an issuer signs to revoke a credential.
const REVOCATION_PREFIX: &[u8] = b"vouch/v1/vc-revocation\0";

/// Why issuing or verifying a credential failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VcError {
    /// Not JSON, too large, or not shaped like a VC 2.0 credential with one proof.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The proof is not Data Integrity `eddsa-rdfc-2022`.
    #[error("unsupported proof: {0}")]
    UnsupportedProof(String),
    /// Issuer or verification method is not an ed25519 `did:key`.
    #[error("unsupported DID: {0}")]
    UnsupportedDid(String),
    /// The proof's verification method does not belong to the issuer.
    #[error("proof is not made by the issuer's key")]
    IssuerMismatch,
    /// The signature does not verify (tampered, or signed by another key).
    #[error("credential proof does not verify: {0}")]
    BadProof(String),
    /// `validUntil` is at or before `now`.
    #[error("credential expired at {valid_until}")]
    Expired {
        /// The credential's `validUntil`.
        valid_until: String,
    },
    /// `validFrom` is after `now`.
    #[error("credential not valid before {valid_from}")]
    NotYetValid {
        /// The credential's `validFrom`.
        valid_from: String,
    },
    /// The issuer revoked the credential.
    #[error("credential revoked by its issuer at {at_ms}")]
    Revoked {
        /// When the revocation was signed (ms since the Unix epoch).
        at_ms: u64,
    },
    /// A timestamp is out of range.
    #[error("time out of range: {0}")]
    BadTime(u64),
    /// `ssi` failed to sign.
    #[error("signing failed: {0}")]
    Sign(String),
}

impl VcError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            VcError::Malformed(_) => "vc-malformed",
            VcError::UnsupportedProof(_) => "vc-unsupported-proof",
            VcError::UnsupportedDid(_) => "vc-unsupported-did",
            VcError::IssuerMismatch => "vc-issuer-mismatch",
            VcError::BadProof(_) => "vc-bad-proof",
            VcError::Expired { .. } => "vc-expired",
            VcError::NotYetValid { .. } => "vc-not-yet-valid",
            VcError::Revoked { .. } => "vc-revoked",
            VcError::BadTime(_) => "vc-bad-time",
            VcError::Sign(_) => "vc-sign",
        }
    }
}

/// What to put in a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRequest {
    /// The credential's id (a URI, e.g. `urn:uuid:…`); revocations name it.
    pub id: String,
    /// The subject: the holder's **identity** DID (`did:key`), never a posting key.
    pub subject: String,
    /// Types besides `VerifiableCredential`, e.g. [`PERSONHOOD_CREDENTIAL_TYPE`].
    pub types: Vec<String>,
    /// Further claims about the subject (a JSON object; undefined terms map to the VC 2.0
    /// context's issuer-dependent vocabulary).
    pub claims: Map<String, Value>,
    /// `validFrom`, ms since the Unix epoch.
    pub valid_from_ms: u64,
    /// `validUntil`, ms since the Unix epoch, if the credential expires.
    pub valid_until_ms: Option<u64>,
}

/// A credential that verified, with its main fields.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCredential {
    /// The credential id.
    pub id: Option<String>,
    /// The issuer's key (from its `did:key`).
    pub issuer: PublicKey,
    /// The subject's `id` (the identity DID), if present.
    pub subject: Option<String>,
    /// All types, `VerifiableCredential` included.
    pub types: Vec<String>,
    /// `validFrom` as written.
    pub valid_from: Option<String>,
    /// `validUntil` as written.
    pub valid_until: Option<String>,
    /// The whole credential subject.
    pub claims: Value,
}

fn time_of(ms: u64) -> Result<DateTime<Utc>, VcError> {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .ok_or(VcError::BadTime(ms))
}

fn rfc3339(ms: u64) -> Result<String, VcError> {
    Ok(time_of(ms)?.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn jwk_of(key: &SecretKey) -> JWK {
    JWK::from(Params::OKP(OctetParams {
        curve: "Ed25519".to_string(),
        public_key: Base64urlUInt(key.public_key().as_bytes().to_vec()),
        private_key: Some(Base64urlUInt(key.to_seed().to_vec())),
    }))
}

fn resolver() -> VerificationMethodDIDResolver<DIDKey, Multikey> {
    VerificationMethodDIDResolver::new(DIDKey)
}

/// Issues a credential signed by `issuer` with `eddsa-rdfc-2022`; `now_ms` becomes the
/// proof's `created`. Returns the credential as JSON text.
pub fn issue_credential(
    issuer: &SecretKey,
    request: &CredentialRequest,
    now_ms: u64,
) -> Result<String, VcError> {
    PublicKey::from_did_key(&request.subject)
        .map_err(|e| VcError::UnsupportedDid(format!("subject: {}", e.code())))?;
    let issuer_did = issuer.public_key().to_did_key();
    let mut types = vec![Value::from("VerifiableCredential")];
    types.extend(request.types.iter().map(|t| Value::from(t.as_str())));
    let mut subject = request.claims.clone();
    subject.insert("id".into(), Value::from(request.subject.as_str()));
    let mut doc = json!({
        "@context": [VC_V2_CONTEXT, { "@vocab": VOUCH_VOCAB }],
        "id": request.id,
        "type": types,
        "issuer": issuer_did,
        "validFrom": rfc3339(request.valid_from_ms)?,
        "credentialSubject": subject,
    });
    if let (Some(until), Some(obj)) = (request.valid_until_ms, doc.as_object_mut()) {
        obj.insert("validUntil".into(), Value::from(rfc3339(until)?));
    }
    let credential: JsonCredential =
        serde_json::from_value(doc).map_err(|e| VcError::Malformed(e.to_string()))?;

    let jwk = jwk_of(issuer);
    let vm = DIDKey::generate_url(&jwk).map_err(|e| VcError::Sign(e.to_string()))?;
    let mut options = ProofOptions::from_method(vm.into_iri().into());
    let created = ssi::xsd::DateTimeStamp::from(time_of(now_ms - now_ms % 1000)?);
    options.created = Some(created.into());
    let signed = futures_executor::block_on(EdDsaRdfc2022.sign(
        credential,
        resolver(),
        SingleSecretSigner::new(jwk),
        options,
    ))
    .map_err(|e| VcError::Sign(e.to_string()))?;
    serde_json::to_string_pretty(&signed).map_err(|e| VcError::Sign(e.to_string()))
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    obj.get(name).and_then(Value::as_str)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, VcError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| VcError::Malformed(format!("not an RFC 3339 date-time: {s}")))
}

/// Refuses a credential in which any string (key or value) holds percent-encoded bytes that
/// are not UTF-8 (`"cr%aetd"`): `ssi`'s IRI handling (`pct-str`) panics on them, so they
/// must not reach it. Found by the `credential` fuzz target (`fuzz/regressions/credential`).
fn check_percent_encoding(value: &Value) -> Result<(), VcError> {
    fn decodes_to_utf8(s: &str) -> bool {
        if !s.contains('%') {
            return true;
        }
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match (
                b[i],
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                (b'%', Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                (c, _, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&out).is_ok()
    }
    let ok = match value {
        Value::String(s) => decodes_to_utf8(s),
        Value::Array(items) => return items.iter().try_for_each(check_percent_encoding),
        Value::Object(map) => {
            for (k, v) in map {
                if !decodes_to_utf8(k) {
                    return Err(VcError::Malformed(
                        "percent-encoded bytes that are not UTF-8".into(),
                    ));
                }
                check_percent_encoding(v)?;
            }
            true
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(VcError::Malformed(
            "percent-encoded bytes that are not UTF-8".into(),
        ))
    }
}

/// The date-time fields `ssi` parses as `xsd:dateTime` (the credential's validity, the
/// proof's `created` and `expires`), if present, must be strict RFC 3339 with a four-digit
/// year and ASCII digits (`2026-01-01T00:00:00Z`, optional fraction and offset): `ssi`'s
/// `xsd-types` panics on some strings its own lexical check lets through (a three-digit
/// year in the proof's `created`). Found by the `credential` fuzz target.
fn check_date_times(credential: &Map<String, Value>) -> Result<(), VcError> {
    fn strict(s: &str) -> bool {
        let b = s.as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let at = |i: usize, c: u8| b.get(i) == Some(&c);
        if !(digits(0..4) && at(4, b'-') && digits(5..7) && at(7, b'-') && digits(8..10))
            || !(at(10, b'T') && digits(11..13) && at(13, b':') && digits(14..16))
            || !(at(16, b':') && digits(17..19))
        {
            return false;
        }
        let mut i = 19;
        if at(i, b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
        match b.get(i) {
            Some(b'Z') => i + 1 == b.len(),
            Some(b'+' | b'-') => {
                digits(i + 1..i + 3) && at(i + 3, b':') && digits(i + 4..i + 6) && i + 6 == b.len()
            }
            _ => false,
        }
    }
    let proof = credential.get("proof").and_then(Value::as_object);
    let fields = ["validFrom", "validUntil", "issuanceDate", "expirationDate"]
        .iter()
        .map(|f| (*f, credential.get(*f)))
        .chain(
            ["created", "expires"]
                .iter()
                .map(|f| (*f, proof.and_then(|p| p.get(*f)))),
        );
    for (name, value) in fields {
        match value {
            None => {}
            Some(Value::String(s)) if strict(s) => {}
            Some(_) => {
                return Err(VcError::Malformed(format!(
                    "{name} is not an RFC 3339 date-time"
                )))
            }
        }
    }
    Ok(())
}

/// Verifies a credential at `now_ms`: shape, issuer `did:key`, the `eddsa-rdfc-2022` proof
/// (with `ssi`, offline), `validFrom`/`validUntil`, and that no revocation in `revocations`
/// signed by its issuer names it.
pub fn verify_credential(
    json: &str,
    now_ms: u64,
    revocations: &[Revocation],
) -> Result<VerifiedCredential, VcError> {
    if json.len() > MAX_CREDENTIAL_LEN {
        return Err(VcError::Malformed("credential too large".into()));
    }
    let value: Value = serde_json::from_str(json).map_err(|e| VcError::Malformed(e.to_string()))?;
    check_percent_encoding(&value)?;
    let obj = value
        .as_object()
        .ok_or_else(|| VcError::Malformed("not a JSON object".into()))?;
    check_date_times(obj)?;

    // The proof: exactly one, Data Integrity eddsa-rdfc-2022, made by the issuer's key.
    let proof = match obj.get("proof") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            return Err(VcError::UnsupportedProof(
                "expected exactly one proof".into(),
            ))
        }
        None => return Err(VcError::Malformed("no proof".into())),
    };
    if str_field(proof, "type") != Some("DataIntegrityProof")
        || str_field(proof, "cryptosuite") != Some(CRYPTOSUITE)
    {
        return Err(VcError::UnsupportedProof(format!(
            "{} / {}",
            str_field(proof, "type").unwrap_or("?"),
            str_field(proof, "cryptosuite").unwrap_or("?")
        )));
    }
    let issuer_did = match obj.get("issuer") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => str_field(o, "id").unwrap_or(""),
        _ => return Err(VcError::Malformed("no issuer".into())),
    };
    let issuer = PublicKey::from_did_key(issuer_did)
        .map_err(|e| VcError::UnsupportedDid(format!("issuer: {}", e.code())))?;
    let vm = str_field(proof, "verificationMethod").unwrap_or("");
    match vm.split_once('#') {
        Some((did, _)) if did == issuer_did => {}
        _ => return Err(VcError::IssuerMismatch),
    }

    // Validity period, with our codes (ssi checks it again below).
    let now = time_of(now_ms)?;
    let valid_from = str_field(obj, "validFrom").map(str::to_owned);
    let valid_until = str_field(obj, "validUntil").map(str::to_owned);
    if let Some(from) = &valid_from {
        if parse_time(from)? > now {
            return Err(VcError::NotYetValid {
                valid_from: from.clone(),
            });
        }
    }
    if let Some(until) = &valid_until {
        if parse_time(until)? <= now {
            return Err(VcError::Expired {
                valid_until: until.clone(),
            });
        }
    }

    // The signature, with ssi: did:key only, bundled contexts, our clock.
    let vc: DataIntegrity<JsonCredential, EdDsaRdfc2022> =
        ssi::claims::data_integrity::from_json_str(json)
            .map_err(|e| VcError::Malformed(e.to_string()))?;
    let params = VerificationParameters::from_resolver(resolver()).with_date_time(now);
    match futures_executor::block_on(vc.verify(params)) {
        Ok(Ok(())) => {}
        Ok(Err(invalid)) => return Err(VcError::BadProof(invalid.to_string())),
        Err(e) => return Err(VcError::BadProof(e.to_string())),
    }

    let id = str_field(obj, "id").map(str::to_owned);
    if let Some(id) = &id {
        if let Some(r) = revocations
            .iter()
            .find(|r| r.issuer == issuer && r.credential_id == *id && r.verify().is_ok())
        {
            return Err(VcError::Revoked { at_ms: r.at_ms });
        }
    }
    let claims = obj.get("credentialSubject").cloned().unwrap_or(Value::Null);
    let subject = claims
        .as_object()
        .and_then(|s| str_field(s, "id"))
        .map(str::to_owned);
    let types = match obj.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Ok(VerifiedCredential {
        id,
        issuer,
        subject,
        types,
        valid_from,
        valid_until,
        claims,
    })
}

/// An issuer's signed statement that a credential it issued is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The issuer.
    pub issuer: PublicKey,
    /// The revoked credential's `id`.
    pub credential_id: String,
    /// When it was revoked, ms since the Unix epoch.
    pub at_ms: u64,
    /// The issuer's signature over [`Revocation::message`].
    pub signature: Signature,
}

impl Revocation {
    /// The signed bytes: `"vouch/v1/vc-revocation\0" ‖ u64 at_ms ‖ credential id`.
    pub fn message(credential_id: &str, at_ms: u64) -> Vec<u8> {
        let mut m = REVOCATION_PREFIX.to_vec();
        m.extend_from_slice(&at_ms.to_be_bytes());
        m.extend_from_slice(credential_id.as_bytes());
        m
    }

    /// The issuer revokes `credential_id` at `at_ms`.
    pub fn new(issuer: &SecretKey, credential_id: &str, at_ms: u64) -> Self {
        Revocation {
            issuer: issuer.public_key(),
            credential_id: credential_id.to_owned(),
            at_ms,
            signature: issuer.sign_prefixed(&Self::message(credential_id, at_ms)),
        }
    }

    /// Checks the issuer's signature.
    pub fn verify(&self) -> Result<(), crate::sign::VerifyError> {
        verify_prefixed(
            &self.issuer,
            &Self::message(&self.credential_id, self.at_ms),
            &self.signature,
        )
    }

    /// The JSON form: `{"issuer": did, "credentialId", "revokedAt": ms, "signature": hex}`.
    pub fn to_json(&self) -> Value {
        let sig: String = self
            .signature
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        json!({
            "type": "VouchCredentialRevocation",
            "issuer": self.issuer.to_did_key(),
            "credentialId": self.credential_id,
            "revokedAt": self.at_ms,
            "signature": sig,
        })
    }

    /// Reads [`Revocation::to_json`] (the signature is not checked here).
    pub fn from_json(v: &Value) -> Result<Self, VcError> {
        let bad = |m: &str| VcError::Malformed(format!("revocation: {m}"));
        let o = v.as_object().ok_or_else(|| bad("not an object"))?;
        let issuer = PublicKey::from_did_key(str_field(o, "issuer").unwrap_or(""))
            .map_err(|_| bad("issuer"))?;
        let credential_id = str_field(o, "credentialId")
            .ok_or_else(|| bad("credentialId"))?
            .to_owned();
        let at_ms = o
            .get("revokedAt")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("revokedAt"))?;
        let hex = str_field(o, "signature").ok_or_else(|| bad("signature"))?;
        if hex.len() != 128 || !hex.is_ascii() {
            return Err(bad("signature"));
        }
        let mut sig = [0u8; 64];
        for (i, b) in sig.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad("signature"))?;
        }
        Ok(Revocation {
            issuer,
            credential_id,
            at_ms,
            signature: Signature(sig),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const T0: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    const DAY: u64 = 86_400_000;

    fn key(seed: u64) -> SecretKey {
        SecretKey::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    fn request(subject: &SecretKey) -> CredentialRequest {
        let mut claims = Map::new();
        claims.insert("verifiedBy".into(), Value::from("in-person check"));
        CredentialRequest {
            id: "urn:uuid:0f6f4a63-1b7c-4d47-9d7d-3a0d5b6f8e21".into(),
            subject: subject.public_key().to_did_key(),
            types: vec![PERSONHOOD_CREDENTIAL_TYPE.into()],
            claims,
            valid_from_ms: T0,
            valid_until_ms: Some(T0 + 365 * DAY),
        }
    }

    /// Regressions (fuzz target `credential`): a percent-encoded byte that is not UTF-8 in
    /// any string made `ssi`'s IRI code panic, and a three-digit year in the proof's
    /// `created` its date-time code; both are refused before `ssi` sees them, and a valid
    /// percent-encoding still verifies as far as the proof.
    #[test]
    fn inputs_that_made_ssi_panic_are_refused_with_codes() {
        let issuer = key(1);
        let json = issue_credential(&issuer, &request(&key(2)), T0).unwrap();
        let bad = json.replace("in-person check", "cr%aetd");
        assert_eq!(
            verify_credential(&bad, T0 + DAY, &[])
                .unwrap_err()
                .to_string(),
            "malformed credential: percent-encoded bytes that are not UTF-8"
        );
        let bad_key = json.replace("\"verifiedBy\"", "\"v%ff\"");
        assert_eq!(
            verify_credential(&bad_key, T0 + DAY, &[])
                .unwrap_err()
                .code(),
            "vc-malformed"
        );
        // A three-digit year in the proof's `created` made `xsd-types` panic.
        let v: Value = serde_json::from_str(&json).unwrap();
        let created = v["proof"]["created"].as_str().unwrap().to_owned();
        let bad_date = json.replace(
            &format!("\"created\": \"{created}\""),
            &format!("\"created\": \"325{}\"", &created[4..]),
        );
        assert_ne!(bad_date, json);
        assert_eq!(
            verify_credential(&bad_date, T0 + DAY, &[])
                .unwrap_err()
                .to_string(),
            "malformed credential: created is not an RFC 3339 date-time"
        );
        // `%C3%A9` is UTF-8 (é): it passes the check and fails only on the proof.
        let fine = json.replace("in-person check", "caf%C3%A9");
        assert_eq!(
            verify_credential(&fine, T0 + DAY, &[]).unwrap_err().code(),
            "vc-bad-proof"
        );
    }

    #[test]
    fn issue_then_verify_and_reject() {
        let issuer = key(1);
        let holder = key(2);
        let json = issue_credential(&issuer, &request(&holder), T0).unwrap();
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["proof"]["cryptosuite"], "eddsa-rdfc-2022");
        assert_eq!(v["proof"]["type"], "DataIntegrityProof");

        let ok = verify_credential(&json, T0 + DAY, &[]).unwrap();
        assert_eq!(ok.issuer, issuer.public_key());
        assert_eq!(
            ok.subject.as_deref(),
            Some(holder.public_key().to_did_key().as_str())
        );
        assert!(ok.types.iter().any(|t| t == PERSONHOOD_CREDENTIAL_TYPE));

        let code =
            |j: &str, now: u64, r: &[Revocation]| verify_credential(j, now, r).unwrap_err().code();

        // Tampered claim.
        let tampered = json.replace("in-person check", "in-person check!");
        assert_eq!(code(&tampered, T0 + DAY, &[]), "vc-bad-proof");
        // Tampered subject.
        let other = key(3).public_key().to_did_key();
        let swapped = json.replace(&holder.public_key().to_did_key(), &other);
        assert_eq!(code(&swapped, T0 + DAY, &[]), "vc-bad-proof");
        // Issuer relabelled: the proof's key no longer belongs to the issuer.
        let relabelled = json.replacen(
            &format!("\"issuer\": \"{}\"", issuer.public_key().to_did_key()),
            &format!("\"issuer\": \"{other}\""),
            1,
        );
        assert_eq!(code(&relabelled, T0 + DAY, &[]), "vc-issuer-mismatch");
        // Time.
        assert_eq!(code(&json, T0 + 365 * DAY, &[]), "vc-expired");
        assert_eq!(code(&json, T0 - 1000, &[]), "vc-not-yet-valid");
        // Revocation: by the issuer counts; by someone else, or forged, does not.
        let id = &request(&holder).id;
        let rev = Revocation::new(&issuer, id, T0 + 2 * DAY);
        assert_eq!(
            code(&json, T0 + 3 * DAY, std::slice::from_ref(&rev)),
            "vc-revoked"
        );
        let by_other = Revocation::new(&key(4), id, T0 + 2 * DAY);
        assert!(verify_credential(&json, T0 + 3 * DAY, &[by_other]).is_ok());
        let mut forged = rev.clone();
        forged.at_ms += 1;
        assert!(verify_credential(&json, T0 + 3 * DAY, &[forged]).is_ok());
        assert_eq!(Revocation::from_json(&rev.to_json()).unwrap(), rev);
        // Other suites and garbage.
        let old_suite = json.replace("eddsa-rdfc-2022", "eddsa-jcs-2022");
        assert_eq!(code(&old_suite, T0 + DAY, &[]), "vc-unsupported-proof");
        assert_eq!(code("{}", T0, &[]), "vc-malformed");
        assert_eq!(code("[", T0, &[]), "vc-malformed");
    }

    #[test]
    fn verifies_a_digital_bazaar_credential() {
        // Issued by @digitalbazaar/vc 7.3.0 + eddsa-rdfc-2022-cryptosuite 1.3.0
        // (tests/interop-vc/interop.mjs issue).
        let json = include_str!("../../../specs/vectors/vc-digitalbazaar.json");
        let now = 1_798_761_600_000; // 2027-01-01T00:00:00Z
        let v = verify_credential(json, now, &[]).unwrap();
        assert!(v.types.iter().any(|t| t == PERSONHOOD_CREDENTIAL_TYPE));
        let tampered = json.replace("digital bazaar interop", "digital bazaar interop!");
        assert_eq!(
            verify_credential(&tampered, now, &[]).unwrap_err().code(),
            "vc-bad-proof"
        );
    }
}
