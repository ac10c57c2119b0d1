//! A kind's desired state, typed. Each kind declares its state as a struct in its
//! folder (`kinds/<kind>/state.rs`): lowering writes a resource's attributes from
//! it, and the kind's AWS and sandbox faces read an operation's attributes back
//! into it, so both ends name every field through the same type. A renamed or
//! missing field is a compile error on either side, and attributes that are not
//! the kind's state (a plan written by another bedform) are refused before
//! anything is sent.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::cloud::error::{CloudError, ErrorClass};

/// The attributes `state` stands for, as plans carry and compare them.
pub fn attrs_of<T: Serialize>(state: &T) -> Map<String, Value> {
    match serde_json::to_value(state) {
        Ok(Value::Object(map)) => map,
        // Every state is a struct: it serialises to an object or not at all.
        Ok(other) => Map::from_iter([("value".to_string(), other)]),
        Err(e) => Map::from_iter([("error".to_string(), Value::String(e.to_string()))]),
    }
}

/// The state an operation's attributes hold; `operation` names it in the error.
pub fn state_of<T: DeserializeOwned>(
    attrs: &Map<String, Value>,
    operation: &str,
) -> Result<T, CloudError> {
    T::deserialize(Value::Object(attrs.clone())).map_err(|e| {
        CloudError::new(
            ErrorClass::Validation,
            operation,
            format!(
                "the plan's attributes are not what this bedform sends ({e}); make the plan again with this bedform"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::provisioned_throughput::{Commitment, ThroughputState};
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_state_reads_back_what_it_wrote() {
        let state = ThroughputState {
            model: "custom-model/support-1a2b3c4d".into(),
            model_units: 2,
            commitment: Commitment::SixMonths,
        };
        let attrs = attrs_of(&state);
        assert_eq!(
            Value::Object(attrs.clone()),
            json!({"model": "custom-model/support-1a2b3c4d", "modelUnits": 2, "commitment": "sixMonths"})
        );
        assert_eq!(state_of::<ThroughputState>(&attrs, "op").unwrap(), state);
    }

    #[test]
    fn attributes_that_are_not_the_state_are_refused_before_anything_is_sent() {
        for wrong in [
            json!({"model": "m", "modelUnits": 1}),
            json!({"model": "m", "modelUnits": 1, "commitment": "none", "modelUnit": 1}),
            json!({"model": "m", "modelUnits": "1", "commitment": "none"}),
            json!({"model": "m", "modelUnits": 1, "commitment": "oneYear"}),
        ] {
            let e = state_of::<ThroughputState>(&map(wrong.clone()), "create x").unwrap_err();
            assert_eq!(e.class, ErrorClass::Validation, "{wrong}");
            assert_eq!(e.operation, "create x");
            assert!(e.message.contains("make the plan again"), "{}", e.message);
        }
    }
}
