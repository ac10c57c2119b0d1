//! `kind: LogGroup`: a CloudWatch Logs log group, destination of invocation logs.

pub mod aws;
pub mod state;
pub use state::LogGroupState;
pub mod sandbox;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{
    Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, ResourceSpec,
    ValidateCx,
};
use crate::kinds::face::{DeletionPolicySchema, validate_tags};
use crate::kinds::lifecycle;
use crate::model::plan::Change;
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::names::LOG_RETENTION_DAYS;
use crate::syntax::refs::Reference;
use crate::syntax::spanned::{KeyedMap, Spanned};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogGroupSpec {
    pub log_group_name: Spanned<String>,
    /// Days to keep log events; omitted keeps them forever. One of the values
    /// CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...).
    #[serde(default)]
    pub retention_days: Option<Spanned<u32>>,
    /// KMS key ARN that encrypts the log group.
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "DeletionPolicySchema")]
    pub deletion_policy: DeletionPolicy,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

impl ResourceSpec for LogGroupSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: self.deletion_policy,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        if let Err(problem) = crate::names::check_log_group_name(&self.log_group_name) {
            cx.error(self.log_group_name.pos, format!("`logGroupName` {problem}"));
        }
        if let Some(days) = &self.retention_days
            && !LOG_RETENTION_DAYS.contains(&days.value)
        {
            let nearest = LOG_RETENTION_DAYS
                .iter()
                .min_by_key(|d| d.abs_diff(days.value))
                .copied()
                .unwrap_or(30);
            cx.error_hint(
                days.pos,
                format!(
                    "`retentionDays: {}` is not a retention CloudWatch Logs accepts",
                    days.value
                ),
                format!(
                    "the nearest accepted value is {nearest}; accepted: {LOG_RETENTION_DAYS:?}"
                ),
            );
        }
        if let Some(key) = &self.kms_key_id
            && let Err(problem) = crate::names::check_arn(key, Some("kms"))
        {
            cx.error(
                key.pos,
                format!("`kmsKeyId` must be a KMS key ARN: {problem}"),
            );
        }
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let name = cx.interpolate(&self.log_group_name);
        let attrs = crate::kinds::state::attrs_of(&LogGroupState {
            // Validated against the API's list of periods (at most 3653 days).
            retention_days: self.retention_days.as_ref().map(|d| d.value as i32),
            kms_key_id: self.kms_key_id.as_ref().map(|k| cx.interpolate(k)),
        });
        Ok(Lowered {
            arn: Some(format!(
                "arn:aws:logs:{}:{}:log-group:{name}",
                cx.stack.region, cx.account_id
            )),
            aws_name: name,
            model: None,
            attrs,
            hash_extra: Some(
                json!({"deletionPolicy": self.deletion_policy.as_str(), "preventDestroy": self.prevent_destroy}),
            ),
        })
    }
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // Log groups hold what the others wrote: deleted last.
    teardown_rank: 6,
    singleton: false,
    arn_known_before_apply: true,
    permission_fields: &[],
    sensitive_members: &[],
    // AWS reports no status for this kind.
    status_class: crate::kinds::facts::no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: None,
    made_by: None,
    tags: Some(crate::kinds::facts::TagRules {
        max_tags: 50,
        characters: crate::kinds::facts::TagCharacters::Unicode,
    }),
};

fn events(observed: &ObservedResource) -> Option<String> {
    observed
        .fact_u64("storedBytes")
        .filter(|b| *b > 0)
        .map(|b| format!("{b} bytes of log events"))
}

impl KindBehaviour for Behaviour {
    /// `log-group:NAME` or `log-group:NAME:*`; the name holds slashes.
    fn name_in_arn(&self, resource: &str) -> String {
        let group = resource.strip_prefix("log-group:").unwrap_or(resource);
        group.trim_end_matches(":*").to_string()
    }
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::LogGroup
    }
    fn name_member(&self) -> &'static str {
        "logGroupName"
    }

    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        out.set("logGroupName", json!(observed.aws_name));
        if let Some(days) = observed.attrs.get("retentionDays").and_then(Value::as_u64) {
            if !LOG_RETENTION_DAYS.iter().any(|d| u64::from(*d) == days) {
                return Err(NotExported::Retention { days });
            }
            out.set("retentionDays", json!(days));
        }
        out.set(
            "kmsKeyId",
            observed
                .attrs
                .get("kmsKeyId")
                .cloned()
                .unwrap_or(Value::Null),
        );
        out.tags_of(observed);
        Ok(out)
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        // A rename deletes the old group with its events: only with `deletionPolicy: delete`.
        lifecycle::plan_declared(self, cx, desired)
            .into_iter()
            .map(|c| lifecycle::guard_data_deletes(cx, desired.deletion_policy, events, c))
            .collect()
    }

    fn plan_orphan(&self, _cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        lifecycle::plan_orphan_with_data(observed, events(observed))
    }
}
