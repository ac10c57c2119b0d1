//! The envelope every document shares in the JSON Schema: `apiVersion`, `kind`,
//! `metadata.name` and the kind's `spec`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

pub const API_VERSION: &str = "bedform/v1";

/// The schema of one document of `kind` whose `spec` is `T`.
pub fn document_schema<T: JsonSchema>(kind: &str, generator: &mut SchemaGenerator) -> Schema {
    let spec = generator.subschema_for::<T>();
    json_schema!({
        "title": kind,
        "type": "object",
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string",
                        "description": "The address of the resource within the stack; unique across kinds.",
                        "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
                    }
                },
                "required": ["name"],
                "additionalProperties": false
            },
            "spec": spec
        },
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false
    })
}
