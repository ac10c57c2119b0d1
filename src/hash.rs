//! Stable hashes of normalised values: the spec hash written as a tag, the short
//! hash in job and model names, and idempotency tokens.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of the canonical JSON of `value` (object keys sorted).
pub fn digest(value: &Value) -> String {
    // serde_json's Map is ordered by key, so serialisation is canonical.
    let canonical = serde_json::to_vec(value).unwrap_or_default();
    hex(&Sha256::digest(&canonical))
}

pub fn digest_str(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spec hash carried in the `bedform:spec-hash` tag.
pub fn spec_hash(value: &Value) -> String {
    digest(value)[..16].to_string()
}

/// The short hash appended to job and custom-model names.
pub fn short_hash(value: &Value) -> String {
    digest(value)[..8].to_string()
}

/// A `clientRequestToken` derived from what the create means, so a re-run can never
/// create a second one. AWS accepts up to 256 characters of `[a-zA-Z0-9-]`.
pub fn client_request_token(stack: &str, address: &str, aws_name: &str, spec_hash: &str) -> String {
    let seed = format!("{stack}\n{address}\n{aws_name}\n{spec_hash}");
    format!("bedform-{}", &digest_str(&seed)[..40])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":[1,2]}"#).unwrap();
        let b = json!({"a": [1, 2], "b": 1});
        assert_eq!(spec_hash(&a), spec_hash(&b));
        assert_ne!(spec_hash(&a), spec_hash(&json!({"a": [2, 1], "b": 1})));
    }

    #[test]
    fn tokens_are_deterministic_and_distinct() {
        let t1 = client_request_token("s", "Kind/a", "n", "h1");
        assert_eq!(t1, client_request_token("s", "Kind/a", "n", "h1"));
        assert_ne!(t1, client_request_token("s", "Kind/a", "n", "h2"));
        assert!(t1.len() <= 256 && t1.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
