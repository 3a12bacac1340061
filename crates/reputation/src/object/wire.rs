//! The envelope on the wire: a DAG-CBOR map `{v, kind, author, at, body, sig}` whose keys
//! sort (length first, then bytewise) as `v, at, sig, body, kind, author`.

use super::{Body, Kind, Object, OBJECT_VERSION};
use crate::validate::ValidationError;
use ipld_core::ipld::Ipld;
use serde::{Deserialize, Serialize};
use vouch_identity::{PublicKey, Signature};

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    v: u64,
    kind: &'a str,
    author: &'a PublicKey,
    at: u64,
    body: BodyRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<&'a Signature>,
}

/// Serializes the body struct itself, without a variant tag (the kind is in the envelope).
struct BodyRef<'a>(&'a Body);

impl Serialize for BodyRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Body::Post(b) => b.serialize(s),
            Body::Vote(b) => b.serialize(s),
            Body::Attest(b) => b.serialize(s),
            Body::List(b) => b.serialize(s),
            Body::ListAdd(b) => b.serialize(s),
            Body::ListRemove(b) => b.serialize(s),
            Body::Group(b) => b.serialize(s),
            Body::Label(b) => b.serialize(s),
            Body::Report(b) => b.serialize(s),
            Body::Appeal(b) => b.serialize(s),
            Body::Rotate(b) => b.serialize(s),
            Body::Revoke(b) => b.serialize(s),
            Body::Link(b) => b.serialize(s),
            Body::Incept(b) => b.serialize(s),
            Body::Poll(b) => b.serialize(s),
            Body::Ballot(b) => b.serialize(s),
            Body::Credential(b) => b.serialize(s),
            Body::CredentialRevoke(b) => b.serialize(s),
            Body::Dismiss(b) => b.serialize(s),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn {
    v: u64,
    kind: String,
    #[serde(with = "serde_bytes")]
    author: Vec<u8>,
    at: u64,
    body: Ipld,
    sig: Signature,
}

/// Encodes an object's envelope, with or without the signature.
pub(crate) fn encode_envelope(
    object: &Object,
    sig: Option<&Signature>,
) -> Result<Vec<u8>, ValidationError> {
    let env = EnvelopeOut {
        v: OBJECT_VERSION,
        kind: object.kind().as_str(),
        author: &object.author,
        at: object.at,
        body: BodyRef(&object.body),
        sig,
    };
    serde_ipld_dagcbor::to_vec(&env).map_err(|e| ValidationError::Malformed(short(e.to_string())))
}

/// Decodes an envelope into a typed object and its signature. Does not check bounds,
/// canonical form or the signature.
pub(crate) fn decode_envelope(bytes: &[u8]) -> Result<(Object, Signature), ValidationError> {
    let env: EnvelopeIn = serde_ipld_dagcbor::from_slice(bytes)
        .map_err(|e| ValidationError::Malformed(short(e.to_string())))?;
    if env.v != OBJECT_VERSION {
        return Err(ValidationError::UnsupportedVersion(env.v));
    }
    let kind =
        Kind::parse(&env.kind).ok_or_else(|| ValidationError::UnknownKind(short(env.kind)))?;
    let author = PublicKey::from_bytes(&env.author).map_err(|_| ValidationError::InvalidKey)?;
    let body = decode_body(kind, env.body)?;
    Ok((
        Object {
            author,
            at: env.at,
            body,
        },
        env.sig,
    ))
}

/// Fast path for input in canonical layout: the envelope's fixed frame is parsed by hand and
/// the body is decoded straight into its typed struct, then re-encoded and compared. Returns
/// `None` whenever anything differs from the canonical layout or fails to decode: the
/// generic path ([`decode_envelope`] plus a full re-encoding) then decides, so errors are
/// always reported by one code path. `Some` means: canonical, decoded, keys valid.
pub(crate) fn decode_canonical(bytes: &[u8]) -> Option<(Object, Signature)> {
    let mut r = Reader { b: bytes, i: 0 };
    r.expect(&[0xa6, 0x61, b'v', 0x01, 0x62, b'a', b't'])?;
    let at = r.uint()?;
    r.expect(&[0x63, b's', b'i', b'g', 0x58, 0x40])?;
    let sig = Signature(r.take(64)?.try_into().ok()?);
    r.expect(&[0x64, b'b', b'o', b'd', b'y'])?;
    let body_start = r.i;
    r.skip_item(0)?;
    let body_bytes = &bytes[body_start..r.i];
    r.expect(&[0x64, b'k', b'i', b'n', b'd'])?;
    let head = r.take(1)?[0];
    if !(0x61..=0x77).contains(&head) {
        return None;
    }
    let kind = Kind::parse(std::str::from_utf8(r.take(usize::from(head - 0x60))?).ok()?)?;
    r.expect(&[0x66, b'a', b'u', b't', b'h', b'o', b'r', 0x58, 0x20])?;
    let author = PublicKey::from_bytes(r.take(32)?).ok()?;
    if r.i != bytes.len() {
        return None;
    }
    let body = decode_body_bytes(kind, body_bytes)?;
    let reencoded = serde_ipld_dagcbor::to_vec(&BodyRef(&body)).ok()?;
    if reencoded != body_bytes {
        return None;
    }
    Some((Object { author, at, body }, sig))
}

fn decode_body_bytes(kind: Kind, b: &[u8]) -> Option<Body> {
    fn de<T: serde::de::DeserializeOwned>(b: &[u8]) -> Option<T> {
        serde_ipld_dagcbor::from_slice(b).ok()
    }
    Some(match kind {
        Kind::Post => Body::Post(de(b)?),
        Kind::Vote => Body::Vote(de(b)?),
        Kind::Attest => Body::Attest(de(b)?),
        Kind::List => Body::List(de(b)?),
        Kind::ListAdd => Body::ListAdd(de(b)?),
        Kind::ListRemove => Body::ListRemove(de(b)?),
        Kind::Group => Body::Group(de(b)?),
        Kind::Label => Body::Label(de(b)?),
        Kind::Report => Body::Report(de(b)?),
        Kind::Appeal => Body::Appeal(de(b)?),
        Kind::Rotate => Body::Rotate(de(b)?),
        Kind::Revoke => Body::Revoke(de(b)?),
        Kind::Link => Body::Link(de(b)?),
        Kind::Incept => Body::Incept(de(b)?),
        Kind::Poll => Body::Poll(de(b)?),
        Kind::Ballot => Body::Ballot(de(b)?),
        Kind::Credential => Body::Credential(de(b)?),
        Kind::CredentialRevoke => Body::CredentialRevoke(de(b)?),
        Kind::Dismiss => Body::Dismiss(de(b)?),
    })
}

/// A cursor over canonical CBOR, just enough to walk the envelope frame.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.i.checked_add(n)?;
        let out = self.b.get(self.i..end)?;
        self.i = end;
        Some(out)
    }
    fn expect(&mut self, want: &[u8]) -> Option<()> {
        (self.take(want.len())? == want).then_some(())
    }
    /// A head's argument, in shortest form only.
    fn arg(&mut self, info: u8) -> Option<u64> {
        let v = match info {
            0..=23 => return Some(u64::from(info)),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        };
        let min = match info {
            24 => 24,
            25 => 0x100,
            26 => 0x1_0000,
            _ => 0x1_0000_0000,
        };
        (v >= min).then_some(v)
    }
    fn uint(&mut self) -> Option<u64> {
        let h = self.take(1)?[0];
        if h >> 5 != 0 {
            return None;
        }
        self.arg(h & 0x1f)
    }
    /// Skips one data item (definite lengths only), at most 16 levels deep.
    fn skip_item(&mut self, depth: u8) -> Option<()> {
        if depth > 16 {
            return None;
        }
        let h = self.take(1)?[0];
        let n = self.arg(h & 0x1f)?;
        match h >> 5 {
            0 | 1 | 7 => Some(()),
            2 | 3 => self.take(usize::try_from(n).ok()?).map(|_| ()),
            4 => (0..n).try_for_each(|_| self.skip_item(depth + 1)),
            5 => (0..n).try_for_each(|_| {
                self.skip_item(depth + 1)?;
                self.skip_item(depth + 1)
            }),
            _ => self.skip_item(depth + 1), // tag 6: its one item
        }
    }
}

fn decode_body(kind: Kind, ipld: Ipld) -> Result<Body, ValidationError> {
    fn de<T: serde::de::DeserializeOwned>(ipld: Ipld) -> Result<T, ValidationError> {
        ipld_core::serde::from_ipld(ipld).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("invalid-key") {
                ValidationError::InvalidKey
            } else {
                ValidationError::InvalidBody(short(msg))
            }
        })
    }
    Ok(match kind {
        Kind::Post => Body::Post(de(ipld)?),
        Kind::Vote => Body::Vote(de(ipld)?),
        Kind::Attest => Body::Attest(de(ipld)?),
        Kind::List => Body::List(de(ipld)?),
        Kind::ListAdd => Body::ListAdd(de(ipld)?),
        Kind::ListRemove => Body::ListRemove(de(ipld)?),
        Kind::Group => Body::Group(de(ipld)?),
        Kind::Label => Body::Label(de(ipld)?),
        Kind::Report => Body::Report(de(ipld)?),
        Kind::Appeal => Body::Appeal(de(ipld)?),
        Kind::Rotate => Body::Rotate(de(ipld)?),
        Kind::Revoke => Body::Revoke(de(ipld)?),
        Kind::Link => Body::Link(de(ipld)?),
        Kind::Incept => Body::Incept(de(ipld)?),
        Kind::Poll => Body::Poll(de(ipld)?),
        Kind::Ballot => Body::Ballot(de(ipld)?),
        Kind::Credential => Body::Credential(de(ipld)?),
        Kind::CredentialRevoke => Body::CredentialRevoke(de(ipld)?),
        Kind::Dismiss => Body::Dismiss(de(ipld)?),
    })
}

/// The signed bytes (`encoding without sig`) cut out of a canonical full encoding: the map
/// header drops from 6 to 5 entries and the `sig` entry, third in canonical order, is removed.
/// Returns `None` if the bytes do not have the expected layout.
pub(crate) fn prefixed_message_from_encoded(encoded: &[u8]) -> Option<Vec<u8>> {
    // a6 | 61 'v' 01 | 62 'a' 't' <uint> | 63 's' 'i' 'g' 58 40 <64 bytes> | rest…
    if encoded.len() < 8 || encoded[0] != 0xa6 || encoded[1..4] != [0x61, b'v', 0x01] {
        return None;
    }
    if encoded[4..7] != [0x62, b'a', b't'] {
        return None;
    }
    let uint_len = match encoded[7] {
        0x00..=0x17 => 1,
        0x18 => 2,
        0x19 => 3,
        0x1a => 5,
        0x1b => 9,
        _ => return None,
    };
    let sig_start = 7 + uint_len;
    let sig_end = sig_start + 4 + 2 + 64;
    if encoded.len() < sig_end
        || encoded[sig_start..sig_start + 6] != [0x63, b's', b'i', b'g', 0x58, 0x40]
    {
        return None;
    }
    let mut out =
        Vec::with_capacity(encoded.len() - 70 + vouch_identity::Domain::Object.prefix().len());
    out.extend_from_slice(vouch_identity::Domain::Object.prefix());
    out.push(0xa5);
    out.extend_from_slice(&encoded[1..sig_start]);
    out.extend_from_slice(&encoded[sig_end..]);
    Some(out)
}

/// Error texts from decoders can quote input; keep them short.
fn short(mut s: String) -> String {
    const MAX: usize = 200;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(file: &str) -> Vec<Vec<u8>> {
        let text = match file {
            "valid" => include_str!("../../../../specs/vectors/objects-valid.json"),
            _ => include_str!("../../../../specs/vectors/objects-invalid.json"),
        };
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        json["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| hex::decode(v["bytes"].as_str().unwrap()).unwrap())
            .collect()
    }

    /// Whatever the fast path accepts, the generic path accepts as the same object with the
    /// same canonical bytes; and every valid vector takes the fast path.
    #[test]
    fn fast_path_agrees_with_generic_path() {
        for bytes in vectors("valid") {
            let fast = decode_canonical(&bytes).expect("valid vector takes the fast path");
            let generic = decode_envelope(&bytes).unwrap();
            assert_eq!(fast, generic);
            assert_eq!(encode_envelope(&fast.0, Some(&fast.1)).unwrap(), bytes);
        }
        let mut fast_taken = 0;
        for bytes in vectors("invalid") {
            // Also every single-byte truncation and bit flip of the invalid vectors.
            let mut variants = vec![bytes.clone()];
            for i in (0..bytes.len()).step_by(7) {
                let mut b = bytes.clone();
                b[i] ^= 0x10;
                variants.push(b);
            }
            for b in variants {
                if let Some(fast) = decode_canonical(&b) {
                    fast_taken += 1;
                    assert_eq!(decode_envelope(&b).unwrap(), fast);
                    assert_eq!(encode_envelope(&fast.0, Some(&fast.1)).unwrap(), b);
                }
            }
        }
        // Invalid-by-bounds and bad-signature vectors are canonical: the fast path decodes them.
        assert!(fast_taken > 10, "{fast_taken}");
    }
}
