//! The decide call: its request (items) and its answer.

use serde::{Deserialize, Serialize};

use super::*;

/// Most items in one decide call.
pub(crate) const MAX_DECIDE_ITEMS: usize = 1000;

/// One item to decide: exactly one of `post` (a stored post's CID), `object` (a signed post,
/// base64 of its DAG-CBOR bytes) or `author` (a `did:key`, optionally in `group`). Read from
/// a JSON object only (see [`DecideRequest`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ItemJson {
    /// A post this node stores, by CID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    /// A signed post given inline (standard base64 of its bytes); validated, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// An author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The group the author question is about (`<owner did:key>/<name>`); only with `author`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// `POST /v1/viewers/{viewer}/decide`. It and [`ItemJson`] deserialize by hand from JSON
/// objects only (derived impls would also read arrays, which the API does not document), so
/// the hot path parses the body in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct DecideRequest {
    /// The items, at most [`MAX_DECIDE_ITEMS`].
    pub items: Vec<ItemJson>,
    /// Every reason, including those that had no effect, with trust paths.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum ItemField {
    Post,
    Object,
    Author,
    Group,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum DecideField {
    Items,
    Explain,
}

impl<'de> Deserialize<'de> for ItemJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ItemJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an item object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ItemJson, A::Error> {
                let mut out = ItemJson::default();
                while let Some(field) = m.next_key::<ItemField>()? {
                    let slot = match field {
                        ItemField::Post => &mut out.post,
                        ItemField::Object => &mut out.object,
                        ItemField::Author => &mut out.author,
                        ItemField::Group => &mut out.group,
                    };
                    *slot = m.next_value()?;
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for DecideRequest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DecideRequest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decide request object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<DecideRequest, A::Error> {
                let mut items = None;
                let mut explain = false;
                while let Some(field) = m.next_key::<DecideField>()? {
                    match field {
                        DecideField::Items => items = Some(m.next_value()?),
                        DecideField::Explain => explain = m.next_value()?,
                    }
                }
                let items = items.ok_or_else(|| serde::de::Error::missing_field("items"))?;
                Ok(DecideRequest { items, explain })
            }
        }
        d.deserialize_map(V)
    }
}

/// An error answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ErrorJson {
    /// The stable code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// One item's answer: a decision, or why the item could not be decided. Read back by
/// looking for `error` (serde's `untagged` cannot read floats when a dependency turns on
/// serde_json's `arbitrary_precision`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum ItemResultJson {
    /// The decision.
    Decision(DecisionJson),
    /// The item was not understood (unknown post, invalid object, bad key).
    Error {
        /// The error.
        error: ErrorJson,
    },
}

impl<'de> Deserialize<'de> for ItemResultJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut v = serde_json::Value::deserialize(d)?;
        match v.get_mut("error").map(serde_json::Value::take) {
            Some(e) => serde_json::from_value(e)
                .map(|error| ItemResultJson::Error { error })
                .map_err(D::Error::custom),
            None => serde_json::from_value(v)
                .map(ItemResultJson::Decision)
                .map_err(D::Error::custom),
        }
    }
}

/// The answer to a decide call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DecideResponse {
    /// The viewer.
    pub viewer: String,
    /// The store seq the viewer's view reflects.
    pub seq: i64,
    /// When the view was built (ms since the epoch).
    pub built_at: u64,
    /// One answer per item, in order.
    pub decisions: Vec<ItemResultJson>,
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn decide_answers_read_back() {
        let text = r#"{"viewer":"did:key:z6MktsLs7ByDkjGWBmDQMgZin2gPpd2H4i8PWmz1qVua7dmq","seq":12,"built_at":1,"decisions":[{"verdict":"hide","score":0.0,"reasons":[{"code":"list-block","effect":"hide","sentence":"x","subject":"did:key:z6Mkfi2W1cpVi1GEzScHLmPVBYqRGodLeEj8ghLZ1cpELxrV","objects":["bafyreiegulyyyqcfzf2oaz6kjm7bwyda4shruck2u6ip76xx6vd37gfoky"],"list":"a/b","curator":"c","note":"sells pills","weight":1.0,"count":1}]},{"error":{"code":"not-found","message":"m"}}]}"#;
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let d: Result<DecisionJson, _> = serde_json::from_value(v["decisions"][0].clone());
        assert!(d.is_ok(), "{d:?}");
        let r: DecideResponse = serde_json::from_str(text).unwrap();
        assert_eq!(r.decisions.len(), 2);
        let req: DecideRequest = serde_json::from_str(
            r#"{"items":[{"author":"a","group":null},{"post":"p"}],"explain":true}"#,
        )
        .unwrap();
        assert_eq!(req.items[0].author.as_deref(), Some("a"));
        assert_eq!(req.items[1].post.as_deref(), Some("p"));
        assert!(req.explain);
        for bad in [
            r#"[[{"post":"p"}], false]"#,
            r#"{"items":[["p", null, null, null]]}"#,
            r#"{"items":[{"nope":1}]}"#,
            r#"{"explain":true}"#,
            r#"{"items":[],"x":1}"#,
        ] {
            assert!(serde_json::from_str::<DecideRequest>(bad).is_err(), "{bad}");
        }
        assert!(matches!(r.decisions[1], ItemResultJson::Error { .. }));
    }
}
