//! How the planner treats an import: started once under a name that carries the
//! source's hash, followed until it completes, and its previous generation
//! deleted once the new one is imported and nothing of the stack serves it.

use serde_json::{Value, json};

use super::*;
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported, PlanCx};
use crate::kinds::facts::{BEDROCK_TAGS, Inference, KindFacts, StatusClass};
use crate::kinds::lifecycle::create_once::{self, CreateOnce};
use crate::model::plan::Change;
use crate::model::{DesiredResource, ObservedResource};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With the jobs: after what serves models, before roles and buckets.
    teardown_rank: 1,
    singleton: false,
    // `imported-model/ID`: AWS chooses the id.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: import_status_class,
    // The import job runs after AWS accepted it.
    converges: true,
    replacement_waits_until_ready: false,
    // A failed import is not sent again on its own.
    retried_only_when_asked: true,
    not_exported_because: None,
    stages: &[],
    inference: Some(Inference {
        ready_status: COMPLETED,
    }),
    made_by: None,
    tags: Some(BEDROCK_TAGS),
};

/// `ModelImportJobStatus`.
fn import_status_class(status: &str) -> StatusClass {
    match status {
        IN_PROGRESS => StatusClass::Transitional,
        COMPLETED => StatusClass::Ready,
        FAILED => StatusClass::Failed,
        _ => StatusClass::Undocumented,
    }
}

const BILLING: &str = "an imported model is billed for its storage each month and, while it serves requests, for the model copies that run it, per Custom Model Unit-minute, not per token: bedform does not price it (the AWS Price List's Custom Model Import products are not mapped; see the Amazon Bedrock pricing page)";

fn create_once(desired: &DesiredResource) -> CreateOnce {
    CreateOnce {
        ready_status: COMPLETED,
        failed_status: FAILED,
        what: "import",
        created_warning: format!(
            "a new import from `{}`: {BILLING}",
            desired.attr_str("sourceS3Uri").unwrap_or_default()
        ),
        used_while_made: &["roleArn", "vpcConfig"],
    }
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::ImportedModel
    }
    fn name_member(&self) -> &'static str {
        "importedModelName"
    }
    fn name_field(&self) -> String {
        "`importedModelName` (a prefix the source hash follows)".into()
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed.status.as_deref() == Some(COMPLETED)
    }

    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let hash = import_hash(&observed.attrs);
        let Some(prefix) = observed
            .aws_name
            .strip_suffix(&hash)
            .and_then(|p| p.strip_suffix('-'))
        else {
            return Err(NotExported::Undeclarable(
                "its name does not end in the hash of its source, which bedform gives every import; a document of it would import the model again",
            ));
        };
        let source = observed
            .attrs
            .get("sourceS3Uri")
            .and_then(Value::as_str)
            .ok_or(NotExported::Missing("source"))?;
        let role = observed
            .attrs
            .get("roleArn")
            .and_then(Value::as_str)
            .ok_or(NotExported::Missing("role"))?;
        let mut out = Exported::default();
        out.set("importedModelName", json!(prefix));
        out.set("source", json!({"s3Uri": source}));
        out.set("role", json!(role));
        if let Some(key) = observed.attrs.get("kmsKeyId").filter(|k| !k.is_null()) {
            out.set("kmsKeyId", key.clone());
        }
        if let Some(vpc) = observed.attrs.get("vpcConfig").filter(|v| !v.is_null()) {
            out.set("vpcConfig", vpc.clone());
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        create_once::plan(cx, desired, &create_once(desired))
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        create_once::plan_orphan(observed, cx, "imported model")
    }
}
