//! The JSON Schema of manifests, generated from the Rust types.

use schemars::{Schema, generate::SchemaSettings};
use serde_json::Value;

pub use crate::syntax::schema::{API_VERSION, document_schema};

/// The whole manifest schema, as `bedform schema` prints it.
pub fn manifest_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let documents: Vec<Value> = crate::kinds::document_schemas(&mut generator)
        .into_iter()
        .map(Schema::to_value)
        .collect();
    let definitions = generator.take_definitions(true);
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://bedform.dev/schemas/bedform.schema.json",
        "title": "bedform manifest (bedform/v1)",
        "description": "One YAML document of a bedform stack. Several documents may share a file.",
        "oneOf": documents,
        "$defs": definitions,
    })
}

/// The schema as pretty-printed JSON with a trailing newline.
pub fn manifest_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&manifest_schema()).unwrap_or_default();
    text.push('\n');
    text
}
