//! References between resources: `{ref: NAME}` objects and `${NAME.attr}` inside strings.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::spanned::{Pos, Spanned};

/// A field that takes either a literal (an ARN, an id, a name) or `{ref: NAME}`.
#[derive(Clone, Debug, PartialEq)]
pub enum RefOr {
    Ref(String),
    Literal(String),
}

impl RefOr {
    pub fn as_ref_name(&self) -> Option<&str> {
        match self {
            RefOr::Ref(name) => Some(name),
            RefOr::Literal(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for RefOr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefOrVisitor;
        impl<'de> Visitor<'de> for RefOrVisitor {
            type Value = RefOr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a reference `{ref: NAME}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RefOr, E> {
                Ok(RefOr::Literal(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RefOr, E> {
                Ok(RefOr::Literal(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RefOr, A::Error> {
                let mut name: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "ref" {
                        return Err(de::Error::unknown_field(&key, &["ref"]));
                    }
                    if name.is_some() {
                        return Err(de::Error::duplicate_field("ref"));
                    }
                    name = Some(map.next_value()?);
                }
                name.map(RefOr::Ref)
                    .ok_or_else(|| de::Error::missing_field("ref"))
            }
        }
        deserializer.deserialize_any(RefOrVisitor)
    }
}

impl JsonSchema for RefOr {
    fn schema_name() -> Cow<'static, str> {
        "RefOrString".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A literal value, or a reference to another resource of the stack: `{ref: NAME}`.",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"ref": {"type": "string", "description": "metadata.name of the referenced resource"}},
                    "required": ["ref"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// One `${...}` placeholder found in a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `${account}`
    Account,
    /// `${region}`
    Region,
    /// `${NAME.attr}`
    Attr { name: String, attr: String },
    /// Anything else between `${` and `}`, or an unclosed `${`.
    Invalid(String),
}

/// IAM policy variables (`${aws:username}`, `${s3:prefix}`) and IAM's escapes
/// (`${*}`, `${?}`, `${$}`) look like placeholders but are IAM's: bedform keeps them
/// as written. Resource names cannot hold `:`, so there is no ambiguity.
pub fn is_policy_variable(inner: &str) -> bool {
    inner.contains(':') || matches!(inner, "*" | "?" | "$")
}

/// Finds `${...}` placeholders in `text`, with their byte offsets. IAM policy
/// variables are not placeholders and are not returned.
pub fn placeholders(text: &str) -> Vec<(usize, Placeholder)> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        // A placeholder holds no quotes, spaces or brackets. In manifest text the
        // first `}` after an unclosed `${` may close a flow mapping instead.
        let end = after
            .find(|c: char| c == '}' || c.is_whitespace() || "\"'{[],".contains(c))
            .unwrap_or(after.len());
        let inner = &after[..end];
        let closed = after[end..].starts_with('}');
        if !is_policy_variable(inner) {
            let placeholder = if closed {
                parse_placeholder(inner)
            } else {
                Placeholder::Invalid(inner.to_string())
            };
            found.push((offset + start, placeholder));
        }
        let consumed = start + 2 + end + usize::from(closed);
        offset += consumed;
        rest = &rest[consumed..];
    }
    found
}

fn parse_placeholder(inner: &str) -> Placeholder {
    match inner {
        "account" => Placeholder::Account,
        "region" => Placeholder::Region,
        _ => match inner.rsplit_once('.') {
            Some((name, attr)) if !name.is_empty() && !attr.is_empty() => Placeholder::Attr {
                name: name.to_string(),
                attr: attr.to_string(),
            },
            _ => Placeholder::Invalid(inner.to_string()),
        },
    }
}

/// Replaces every placeholder in `text` with what `resolve` returns for it.
pub fn interpolate(text: &str, resolve: &dyn Fn(&Placeholder) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let resolved = if is_policy_variable(inner) {
            None
        } else {
            resolve(&parse_placeholder(inner))
        };
        match resolved {
            Some(value) => out.push_str(&value),
            None => {
                out.push_str("${");
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A reference from one resource to another, found while reading a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub target: String,
    /// The attribute read (`arn`, `name`), or `None` for a `{ref: NAME}`.
    pub attr: Option<String>,
    /// The kinds the field accepts; empty when any kind will do.
    pub expected_kinds: Vec<&'static str>,
    pub pos: Pos,
    /// The field the reference is written in, for messages.
    pub field: String,
}

impl Reference {
    pub fn from_field(
        field: &str,
        value: &Spanned<RefOr>,
        expected_kinds: &[&'static str],
    ) -> Option<Reference> {
        value.as_ref_name().map(|target| Reference {
            target: target.to_string(),
            attr: None,
            expected_kinds: expected_kinds.to_vec(),
            pos: value.pos,
            field: field.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders_with_offsets() {
        let found = placeholders("arn:${training-data.arn}/*:${account}:${oops");
        assert_eq!(
            found,
            vec![
                (
                    4,
                    Placeholder::Attr {
                        name: "training-data".into(),
                        attr: "arn".into()
                    }
                ),
                (27, Placeholder::Account),
                (38, Placeholder::Invalid("oops".into())),
            ]
        );
    }

    #[test]
    fn iam_policy_variables_are_not_placeholders() {
        let text = "${a.arn}/${aws:username}/${*}/${www.amazon.com:user_id}";
        assert_eq!(
            placeholders(text),
            vec![(
                0,
                Placeholder::Attr {
                    name: "a".into(),
                    attr: "arn".into()
                }
            )]
        );
        let out = interpolate(text, &|p| match p {
            Placeholder::Attr { .. } => Some("arn:x".into()),
            _ => Some("WRONG".into()),
        });
        assert_eq!(out, "arn:x/${aws:username}/${*}/${www.amazon.com:user_id}");
    }

    #[test]
    fn interpolates_known_and_keeps_unknown() {
        let out = interpolate("${a.arn}:${region}:${b.arn}", &|p| match p {
            Placeholder::Region => Some("us-east-1".into()),
            Placeholder::Attr { name, .. } if name == "a" => Some("arn:x".into()),
            _ => None,
        });
        assert_eq!(out, "arn:x:us-east-1:${b.arn}");
    }
}
