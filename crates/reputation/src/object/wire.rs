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
