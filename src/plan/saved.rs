//! The file `plan --out` writes and `apply --plan` reads, and the checks that make a
//! saved plan exact: the JSON plan plus a checksum of its content, so that an edited
//! or truncated file is refused, and a comparison with the account as it is now, so
//! that a stale plan is refused naming what changed. Text in, text out: the command
//! layer reads and writes the file.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::{FORMAT_VERSION, Plan, fingerprints};
use crate::model::ObservedAccount;

/// The field of a saved plan that carries its checksum: the SHA-256 of the canonical
/// JSON of the plan without this field.
pub const CHECKSUM_FIELD: &str = "checksum";

/// Why a saved plan file cannot be read.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SavedPlanError {
    #[error("it is not complete JSON, so it was truncated or edited ({0})")]
    NotJson(String),
    #[error("it is not a bedform plan ({0})")]
    NotAPlan(String),
    #[error(
        "it has plan format {found}, and this bedform reads only format {FORMAT_VERSION}; make it again with this bedform's plan --out"
    )]
    Format { found: String },
    #[error("it has no {CHECKSUM_FIELD}; only files written by plan --out can be applied")]
    NoChecksum,
    #[error("it was edited after plan wrote it (its {CHECKSUM_FIELD} does not match its content)")]
    Edited,
}

/// The plan as saved: its own fields, then the checksum.
#[derive(Serialize)]
struct Saved<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    checksum: String,
}

fn checksum(plan_json: &Value) -> String {
    crate::hash::digest(plan_json)
}

/// The text of a saved plan: pretty JSON with a `checksum` field.
pub fn encode(plan: &Plan) -> Result<String, serde_json::Error> {
    let saved = Saved {
        plan,
        checksum: checksum(&serde_json::to_value(plan)?),
    };
    let mut text = serde_json::to_string_pretty(&saved)?;
    text.push('\n');
    Ok(text)
}

/// Reads a saved plan, refusing one of another format, without a checksum, or
/// whose content does not match its checksum.
pub fn decode(text: &str) -> Result<Plan, SavedPlanError> {
    let mut value: Value =
        serde_json::from_str(text).map_err(|e| SavedPlanError::NotJson(e.to_string()))?;
    let Some(fields) = value.as_object_mut() else {
        return Err(SavedPlanError::NotAPlan("not a JSON object".into()));
    };
    // The format first: another format may checksum differently.
    match fields.get("format_version") {
        Some(Value::String(found)) if found == FORMAT_VERSION => {}
        Some(Value::String(found)) => {
            return Err(SavedPlanError::Format {
                found: found.clone(),
            });
        }
        _ => return Err(SavedPlanError::NotAPlan("no format_version".into())),
    }
    let claimed = match fields.remove(CHECKSUM_FIELD) {
        Some(Value::String(claimed)) => claimed,
        Some(_) => return Err(SavedPlanError::Edited),
        None => return Err(SavedPlanError::NoChecksum),
    };
    if checksum(&value) != claimed {
        return Err(SavedPlanError::Edited);
    }
    serde_json::from_value(value).map_err(|e| SavedPlanError::NotAPlan(e.to_string()))
}

/// How an observed object differs from when the plan was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    Changed,
    /// Not there when the plan was made.
    New,
    /// There when the plan was made, not now.
    Gone,
}

impl Difference {
    pub fn as_str(self) -> &'static str {
        match self {
            Difference::Changed => "changed",
            Difference::New => "new",
            Difference::Gone => "gone",
        }
    }
}

/// An observed object that is not as it was when the plan was made.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StaleObject {
    /// `Kind/aws-name`, as in [`Plan::observed_fingerprints`].
    pub key: String,
    pub difference: Difference,
}

impl fmt::Display for StaleObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // AWS names may hold slashes (log groups); kinds never do.
        let (kind, name) = self.key.split_once('/').unwrap_or(("", &self.key));
        write!(f, "{kind} {name} ({})", self.difference.as_str())
    }
}

/// Why a saved plan does not fit the account it is applied to.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Mismatch {
    #[error("it was made for account {planned}, but the credentials are for account {found}")]
    Account { planned: String, found: String },
    #[error("it was made for region {planned}, not {found}")]
    Region { planned: String, found: String },
    #[error(
        "the account changed since it was made (stale plan): {}. Run plan again",
        list(.0)
    )]
    Stale(Vec<StaleObject>),
}

fn list(objects: &[StaleObject]) -> String {
    objects
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `observed`, read now with the plan's scope, is the account and the
/// state the plan was made from.
pub fn verify(plan: &Plan, observed: &ObservedAccount) -> Result<(), Mismatch> {
    if observed.account_id != plan.account_id {
        return Err(Mismatch::Account {
            planned: plan.account_id.clone(),
            found: observed.account_id.clone(),
        });
    }
    if observed.region != plan.region {
        return Err(Mismatch::Region {
            planned: plan.region.clone(),
            found: observed.region.clone(),
        });
    }
    let stale = stale_objects(plan, observed);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::Stale(stale))
    }
}

/// The observed objects that changed, appeared or disappeared since the plan was
/// made, sorted by kind and name.
pub fn stale_objects(plan: &Plan, observed: &ObservedAccount) -> Vec<StaleObject> {
    let now = fingerprints(observed);
    let then = &plan.observed_fingerprints;
    let mut stale: Vec<StaleObject> = Vec::new();
    for (key, hash) in &now {
        let difference = match then.get(key) {
            Some(planned) if planned == hash => continue,
            Some(_) => Difference::Changed,
            None => Difference::New,
        };
        stale.push(StaleObject {
            key: key.clone(),
            difference,
        });
    }
    for key in then.keys().filter(|key| !now.contains_key(*key)) {
        stale.push(StaleObject {
            key: key.clone(),
            difference: Difference::Gone,
        });
    }
    stale.sort();
    stale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, ObservedResource};
    use crate::plan::{Action, Change, FieldDiff};
    use serde_json::json;

    fn account(resources: Vec<ObservedResource>) -> ObservedAccount {
        ObservedAccount {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            observed_at: "2026-01-15T12:00:00Z".into(),
            resources,
        }
    }

    fn object(kind: &str, name: &str) -> ObservedResource {
        ObservedResource {
            kind: kind.into(),
            aws_name: name.into(),
            ..ObservedResource::default()
        }
    }

    fn plan_of(observed: &ObservedAccount) -> Plan {
        Plan {
            format_version: FORMAT_VERSION.into(),
            bedform_version: "test".into(),
            stack: "demo".into(),
            account_id: observed.account_id.clone(),
            region: observed.region.clone(),
            observed_fingerprints: fingerprints(observed),
            scope: Default::default(),
            lock: None,
            changes: Vec::new(),
            summary: Default::default(),
        }
    }

    #[test]
    fn a_saved_plan_reads_back_as_itself() {
        let mut plan = plan_of(&account(vec![object("CustomizationJob", "job-1")]));
        // Numbers that need all 17 digits to read back exactly.
        let mut change = Change::new(
            Address::new("CustomizationJob", "job"),
            "job-1",
            Action::Update,
        );
        change.fields.push(FieldDiff {
            path: "hyperParameters.learningRate".into(),
            before: Some(json!(0.1 + 0.2)),
            after: Some(json!(1.234_567_890_123_456_7e-5)),
            forces_replacement: false,
            sensitive: false,
        });
        plan.changes.push(change);
        let text = encode(&plan).expect("encode");
        assert_eq!(decode(&text), Ok(plan));
    }

    #[test]
    fn edited_truncated_and_unsummed_files_are_refused() {
        let plan = plan_of(&account(vec![object("Bucket", "data")]));
        let text = encode(&plan).expect("encode");
        assert_eq!(
            decode(&text.replace("\"demo\"", "\"dema\"")),
            Err(SavedPlanError::Edited)
        );
        assert!(matches!(
            decode(&text[..text.len() / 2]),
            Err(SavedPlanError::NotJson(_))
        ));
        let unsummed = serde_json::to_string(&plan).expect("json");
        assert_eq!(decode(&unsummed), Err(SavedPlanError::NoChecksum));
        let old = text.replace(
            &format!("\"format_version\": \"{FORMAT_VERSION}\""),
            "\"format_version\": \"1.0\"",
        );
        assert_eq!(
            decode(&old),
            Err(SavedPlanError::Format {
                found: "1.0".into()
            })
        );
    }

    #[test]
    fn progress_is_not_a_change_but_status_is() {
        let mut job = object("CustomizationJob", "job-1");
        job.status = Some("InProgress".into());
        job.facts.insert("stage".into(), json!("Validation"));
        job.facts.insert("progress".into(), json!(0.1));
        let before = account(vec![job.clone(), object("LogGroup", "/bedrock/x")]);
        let plan = plan_of(&before);

        job.facts.insert("stage".into(), json!("Training"));
        job.facts.insert("progress".into(), json!(0.5));
        let progressed = account(vec![object("LogGroup", "/bedrock/x"), job.clone()]);
        assert_eq!(verify(&plan, &progressed), Ok(()));
        // Data arriving in a bucket that already held some is not a change either;
        // a bucket becoming non-empty is (it decides whether a delete is allowed).
        let mut bucket = object("Bucket", "logs");
        bucket.facts.insert("objectCount".into(), json!(3));
        let base = account(vec![bucket.clone()]);
        let plan_with_bucket = plan_of(&base);
        bucket.facts.insert("objectCount".into(), json!(900));
        assert_eq!(
            verify(&plan_with_bucket, &account(vec![bucket.clone()])),
            Ok(())
        );
        bucket.facts.insert("objectCount".into(), json!(0));
        assert!(verify(&plan_with_bucket, &account(vec![bucket])).is_err());

        job.status = Some("Completed".into());
        let changed = account(vec![job, object("Bucket", "y")]);
        let Err(Mismatch::Stale(stale)) = verify(&plan, &changed) else {
            panic!("not stale");
        };
        let names: Vec<String> = stale.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "Bucket y (new)",
                "CustomizationJob job-1 (changed)",
                "LogGroup /bedrock/x (gone)"
            ]
        );
    }
}
