//! `schemas/bedform.schema.json` is generated from the Rust types and must equal what
//! `bedform schema` prints.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn committed_schema_equals_generated() {
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/bedform.schema.json"),
    )
    .expect("schemas/bedform.schema.json exists");
    let generated = bedform::manifest::schema::manifest_schema_text();
    assert!(
        committed == generated,
        "schemas/bedform.schema.json is out of date: run `cargo run -- schema > schemas/bedform.schema.json`"
    );
}

#[test]
fn schema_command_prints_the_schema() {
    let output = Command::cargo_bin("bedform")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        bedform::manifest::schema::manifest_schema_text()
    );
}

#[test]
fn schema_covers_every_kind_and_rejects_unknown_fields() {
    let schema = bedform::manifest::schema::manifest_schema();
    let kinds: Vec<&str> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    let mut expected = vec!["Stack"];
    expected.extend(bedform::kinds::RESOURCE_KINDS);
    assert_eq!(kinds, expected);
    let bucket = &schema["$defs"]["BucketSpec"];
    assert_eq!(bucket["additionalProperties"], serde_json::json!(false));
    assert!(bucket["properties"]["allowBedrockLogDelivery"].is_object());
    assert_eq!(
        schema["$defs"]["ProvisionedThroughputSpec"]["required"],
        serde_json::json!(["model", "modelUnits"])
    );
}

#[test]
fn every_example_file_names_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.starts_with(
                    "# yaml-language-server: $schema=../../schemas/bedform.schema.json"
                ),
                "{} does not start with the $schema comment",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 7,
        "expected the example manifests, found {checked}"
    );
}
