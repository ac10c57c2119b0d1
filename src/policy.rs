//! IAM policy documents compared as values: statement order, the order of `Action`,
//! `NotAction`, `Resource`, `NotResource` (and principal and condition value) lists,
//! and one-item lists versus their item do not count as differences.

use serde_json::{Map, Value};

const SET_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// The canonical form of a policy document.
pub fn normalise(document: &Value) -> Value {
    let Value::Object(map) = document else {
        return document.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = if key == "Statement" {
            let mut statements: Vec<Value> = match value {
                Value::Array(items) => items.iter().map(normalise_statement).collect(),
                other => vec![normalise_statement(other)],
            };
            statements.sort_by_key(|s| serde_json::to_string(s).unwrap_or_default());
            statements.dedup();
            Value::Array(statements)
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn normalise_statement(statement: &Value) -> Value {
    let Value::Object(map) = statement else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = if SET_KEYS.contains(&key.as_str()) {
            set_value(value)
        } else if key == "Principal" || key == "NotPrincipal" || key == "Condition" {
            nested_sets(value)
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// Objects whose leaves are sets of strings (`Principal`, `Condition`).
fn nested_sets(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), nested_sets(v)))
                .collect(),
        ),
        other => set_value(other),
    }
}

/// A string or list of strings as a sorted list, or its only item.
fn set_value(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items = items.clone();
            items.sort_by_key(|v| serde_json::to_string(v).unwrap_or_default());
            items.dedup();
            if items.len() == 1 {
                items.remove(0)
            } else {
                Value::Array(items)
            }
        }
        other => other.clone(),
    }
}

/// IAM returns policy documents URL-encoded.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What is wrong with a policy document's shape, for `validate`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a policy document must be a mapping with `Version` and `Statement`")]
    NotAMapping,
    #[error("a policy document needs `Statement`")]
    NoStatement,
    #[error("`Statement` is empty")]
    EmptyStatement,
    #[error("each statement must be a mapping")]
    StatementNotAMapping,
    #[error("each statement needs `Effect: Allow` or `Effect: Deny`")]
    Effect,
    #[error("each statement needs `Action` or `NotAction`")]
    NoAction,
    #[error("`Version` must be \"2012-10-17\"")]
    Version,
    #[error(
        "`Principal.AWS` `{value}` is neither `*`, a 12-digit account id nor an IAM ARN: {problem}"
    )]
    Principal {
        value: String,
        problem: crate::names::NameError,
    },
}

/// Checks the AWS principals of a statement: `*`, an account id, or an ARN
/// (`arn:aws:iam::ACCOUNT:root`, a role, a user...).
fn check_principals(statement: &serde_json::Map<String, Value>) -> Result<(), PolicyError> {
    let aws = statement
        .get("Principal")
        .and_then(|p| p.get("AWS"))
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        });
    for principal in aws.filter_map(Value::as_str) {
        if principal == "*" || crate::names::check_account_id(principal).is_ok() {
            continue;
        }
        let checked = if principal.starts_with("arn:") {
            crate::names::check_arn(principal, None)
        } else {
            crate::names::check_account_id(principal)
        };
        if let Err(problem) = checked {
            return Err(PolicyError::Principal {
                value: principal.to_string(),
                problem,
            });
        }
    }
    Ok(())
}

/// Problems with a policy document's shape, for `validate`.
pub fn check_document(document: &Value) -> Result<(), PolicyError> {
    let Value::Object(map) = document else {
        return Err(PolicyError::NotAMapping);
    };
    let Some(statements) = map.get("Statement") else {
        return Err(PolicyError::NoStatement);
    };
    let statements: Vec<&Value> = match statements {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    if statements.is_empty() {
        return Err(PolicyError::EmptyStatement);
    }
    for statement in statements {
        let Value::Object(s) = statement else {
            return Err(PolicyError::StatementNotAMapping);
        };
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => return Err(PolicyError::Effect),
        }
        if !s.contains_key("Action") && !s.contains_key("NotAction") {
            return Err(PolicyError::NoAction);
        }
        check_principals(s)?;
    }
    if let Some(version) = map.get("Version")
        && version.as_str() != Some("2012-10-17")
        && version.as_str() != Some("2008-10-17")
    {
        return Err(PolicyError::Version);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_and_single_items_do_not_matter() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]},
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
        ]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}
        ]});
        assert_eq!(normalise(&a), normalise(&b));
        let c = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}
        ]});
        assert_ne!(normalise(&a), normalise(&c));
    }

    #[test]
    fn decodes_iam_encoding() {
        assert_eq!(
            url_decode("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(url_decode("100%"), "100%");
    }

    #[test]
    fn checks_shape() {
        assert!(check_document(&json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})).is_ok());
        assert!(
            check_document(&json!({"Statement": [{"Effect": "Maybe", "Action": "s3:*"}]})).is_err()
        );
        assert!(check_document(&json!("x")).is_err());
    }
}
