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

/// Each YAML document of `text`, as an editor hands it to the JSON Schema (YAML
/// 1.2 scalars, as `validate` reads them).
fn documents(text: &str) -> Vec<serde_json::Value> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_multiple_with_options::<serde_json::Value>(text, options)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// The JSON Schema and `validate` agree. Every document of every valid fixture
/// and example passes the schema (so an editor never flags what bedform accepts),
/// and every invalid fixture that says `# schema: rejects` is refused by the
/// schema too (so an editor flags what bedform refuses, where a schema can say
/// it: types and shapes, not naming rules or references).
#[test]
fn the_schema_and_validate_agree_on_every_fixture() {
    let schema = bedform::manifest::schema::manifest_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let yaml_in = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("yaml"))
            .collect();
        files.sort();
        files
    };
    let mut accepted = yaml_in(&root.join("tests/fixtures/valid"));
    for example in std::fs::read_dir(root.join("examples")).unwrap() {
        let example = example.unwrap().path();
        if example.is_dir() {
            accepted.extend(yaml_in(&example));
        }
    }
    let mut checked = 0;
    for file in &accepted {
        let text = std::fs::read_to_string(file).unwrap();
        for document in documents(&text) {
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} is valid for bedform but not for the schema: {errors:?}",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} documents checked");
    let mut refused = 0;
    for file in yaml_in(&root.join("tests/fixtures/invalid")) {
        // Some fixtures are not text at all.
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if !text.lines().any(|l| l.trim() == "# schema: rejects") {
            continue;
        }
        let docs = documents(&text);
        assert!(
            docs.iter().any(|d| !validator.is_valid(d)),
            "{} is refused by bedform but the schema accepts it",
            file.display()
        );
        refused += 1;
    }
    assert!(
        refused >= 3,
        "only {refused} fixtures say `# schema: rejects`"
    );
}
