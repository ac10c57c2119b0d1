//! `bedform export`: manifests that declare what an account already has. Each
//! kind says which of its objects it exports and how (`KindBehaviour::export`);
//! this module picks the objects, names the documents, writes them as YAML and
//! checks that what it wrote plans to no change once the objects are adopted.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::kinds::{ExportCx, RESOURCE_KINDS};
use crate::model::ObservedAccount;

/// Kinds `bedform export` writes, in the order the manifests document them.
pub fn exported_kinds() -> Vec<&'static str> {
    crate::kinds::Kind::ALL
        .into_iter()
        .filter(|k| k.declarable() && k.facts().not_exported_because.is_none())
        .map(crate::kinds::Kind::as_str)
        .collect()
}

/// One exported document.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub kind: String,
    pub name: String,
    pub spec: Map<String, Value>,
}

/// What export found.
#[derive(Clone, Debug, Default)]
pub struct Export {
    pub documents: Vec<Document>,
    /// Objects left out, and why.
    pub skipped: Vec<String>,
    /// What the user should review in the documents.
    pub warnings: Vec<String>,
}

/// Why a `--kinds` list is refused.
#[derive(Debug, thiserror::Error)]
pub enum KindsError {
    #[error("`{0}` is not a kind; kinds: {list}", list = RESOURCE_KINDS.join(", "))]
    Unknown(String),
    #[error("`{0}` is not exported: {1}. Exported kinds: {list}", list = exported_kinds().join(", "))]
    NotExported(String, &'static str),
}

/// The kinds to export: `requested`, or every exported kind.
pub fn kinds(requested: &[String]) -> Result<Vec<&'static str>, KindsError> {
    if requested.is_empty() {
        return Ok(exported_kinds());
    }
    let mut kinds = Vec::new();
    for kind in requested {
        let Some(known) = RESOURCE_KINDS.iter().find(|k| **k == kind.as_str()) else {
            return Err(KindsError::Unknown(kind.clone()));
        };
        let not_exported =
            crate::kinds::Kind::parse(known).and_then(|k| k.facts().not_exported_because);
        if let Some(why) = not_exported {
            return Err(KindsError::NotExported(kind.clone(), why));
        }
        kinds.push(*known);
    }
    Ok(kinds)
}

/// A `metadata.name` for an AWS name: lowercase letters, digits and hyphens.
fn document_name(aws_name: &str) -> String {
    let mut name = String::new();
    for c in aws_name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-');
    let name: String = name.chars().take(54).collect();
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() {
        "resource".into()
    } else {
        name
    }
}

/// Chooses the objects of `kinds` to export and writes their documents.
pub fn export(observed: &ObservedAccount, kinds: &[&str]) -> Export {
    let mut cx = ExportCx {
        observed,
        names: BTreeMap::new(),
    };
    let behaviour = |kind: &str| crate::kinds::behaviour(kind);
    // What each kind selects, then what those refer to (within the kinds asked for).
    let mut chosen: BTreeSet<(String, String)> = BTreeSet::new();
    for object in &observed.resources {
        if kinds.contains(&object.kind.as_str())
            && behaviour(&object.kind).is_some_and(|b| b.export_selects(&cx, object))
        {
            chosen.insert((object.kind.clone(), object.aws_name.clone()));
        }
    }
    let mut needed = Vec::new();
    for (kind, name) in &chosen {
        if let (Some(b), Some(object)) = (behaviour(kind), observed.find(kind, name)) {
            needed.extend(b.export_needs(&cx, object));
        }
    }
    let mut export = Export::default();
    for (kind, name) in needed {
        if !kinds.contains(&kind.as_str()) {
            continue;
        }
        if observed.find(&kind, &name).is_some() {
            chosen.insert((kind, name));
        } else {
            export.skipped.push(format!(
                "{kind} `{name}` is referred to but was not found; the reference is written as a literal"
            ));
        }
    }
    // Document names, unique across kinds.
    let mut taken = BTreeSet::new();
    for kind in RESOURCE_KINDS {
        for (k, aws_name) in chosen.iter().filter(|(k, _)| k == kind) {
            let own = observed
                .find(k, aws_name)
                .and_then(|o| behaviour(k).and_then(|b| b.export_document_name(o)));
            let base = document_name(own.as_deref().unwrap_or(aws_name));
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}-{n}");
                n += 1;
            }
            cx.names.insert((k.clone(), aws_name.clone()), name);
        }
    }
    // Referred-to kinds come first in the registry, so a document that cannot be
    // written is dropped before anything refers to it.
    for kind in RESOURCE_KINDS {
        let Some(b) = behaviour(kind) else { continue };
        let objects: Vec<(String, String)> =
            chosen.iter().filter(|(k, _)| k == kind).cloned().collect();
        for key in objects {
            let Some(object) = observed.find(&key.0, &key.1) else {
                continue;
            };
            let name = cx.names.get(&key).cloned().unwrap_or_default();
            match b.export(&cx, object) {
                Ok(exported) => {
                    export.warnings.extend(
                        exported
                            .warnings
                            .into_iter()
                            .map(|w| format!("{kind}/{name}: {w}")),
                    );
                    export.documents.push(Document {
                        kind: kind.to_string(),
                        name,
                        spec: exported.spec,
                    });
                }
                Err(why) => {
                    cx.names.remove(&key);
                    export
                        .skipped
                        .push(format!("{kind} `{}` is not exported: {why}", key.1));
                }
            }
        }
    }
    export
}

/// The manifest files for `documents`: `stack.yaml` and one file per kind.
pub fn files(
    stack: &str,
    observed: &ObservedAccount,
    documents: &[Document],
) -> Result<BTreeMap<String, String>, serde_saphyr::SerializeError> {
    let header = "# Written by `bedform export`; adopt the objects with `bedform import --all`.\n";
    let mut files = BTreeMap::new();
    let stack_doc = json!({
        "apiVersion": "bedform/v1",
        "kind": "Stack",
        "metadata": {"name": stack},
        "spec": {"region": observed.region, "accountId": observed.account_id},
    });
    files.insert(
        "stack.yaml".to_string(),
        format!("{header}{}", serde_saphyr::to_string(&stack_doc)?),
    );
    for kind in RESOURCE_KINDS {
        let docs: Vec<Value> = documents
            .iter()
            .filter(|d| d.kind == *kind)
            .map(|d| {
                json!({
                    "apiVersion": "bedform/v1",
                    "kind": d.kind,
                    "metadata": {"name": d.name},
                    "spec": d.spec,
                })
            })
            .collect();
        if docs.is_empty() {
            continue;
        }
        files.insert(
            format!("{}.yaml", document_name(&kebab(kind))),
            format!("{header}{}", serde_saphyr::to_string_multiple(&docs)?),
        );
    }
    Ok(files)
}

/// `InvocationLogging` → `invocation-logging`.
fn kebab(kind: &str) -> String {
    let mut out = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Checks the written manifests against the account: they validate, and each
/// document lowers to what its object holds. Returns the problems found.
pub fn check(files: &BTreeMap<String, String>, observed: &ObservedAccount) -> Vec<String> {
    let mut loaded = crate::manifest::Loaded::default();
    for (name, text) in files {
        crate::manifest::load_text(name, text, &mut loaded);
    }
    let desired = match crate::manifest::validate(&loaded, Some(&observed.account_id)) {
        Ok(desired) => desired,
        Err(diagnostics) => {
            return diagnostics
                .iter()
                .map(|d| d.render(&loaded.sources, false))
                .collect();
        }
    };
    let mut problems = Vec::new();
    for resource in &desired.resources {
        let Some(object) = observed.find(&resource.address.kind, &resource.aws_name) else {
            problems.push(format!(
                "{} names `{}`, which the account does not hold",
                resource.address, resource.aws_name
            ));
            continue;
        };
        let Some(behaviour) = crate::kinds::behaviour(&resource.address.kind) else {
            continue;
        };
        for field in crate::kinds::lifecycle::diff_attrs(behaviour, &resource.attrs, &object.attrs)
        {
            problems.push(format!(
                "{}: `{}` is declared as {} but the account holds {}",
                resource.address,
                field.path,
                field.after.map_or("nothing".into(), |v| v.to_string()),
                field.before.map_or("nothing".into(), |v| v.to_string()),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_follow_the_address_rules() {
        assert_eq!(
            document_name("/bedrock/model-invocations"),
            "bedrock-model-invocations"
        );
        assert_eq!(document_name("BedrockLogging_Role"), "bedrocklogging-role");
        assert_eq!(document_name("..."), "resource");
        assert!(crate::names::check_address_name(&document_name(&"A".repeat(80))).is_ok());
        assert_eq!(kebab("ProvisionedThroughput"), "provisioned-throughput");
    }

    #[test]
    fn kinds_are_checked() {
        assert_eq!(
            kinds(&[]).unwrap(),
            [
                "Bucket",
                "LogGroup",
                "IamRole",
                "InvocationLogging",
                "CustomizationJob",
                "ProvisionedThroughput",
                "CustomModelDeployment",
                "ImportedModel",
                "DataRetention",
                "InferenceProfile",
                "Guardrail",
                "GuardrailEnforcement"
            ]
        );
        assert!(matches!(
            kinds(&["ModelAccess".into()]),
            Err(KindsError::NotExported(..))
        ));
        assert!(matches!(
            kinds(&["Nope".into()]),
            Err(KindsError::Unknown(_))
        ));
    }
}
