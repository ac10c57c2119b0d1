//! `kind: DataRetention`: the account's Bedrock data retention mode in a region
//! (`Get/PutAccountDataRetention`), a singleton setting. Removed only by
//! `state: absent`, never by omission.
//!
//! Choices the API leaves open, as bedform makes them:
//! - `state: absent` sets the mode `inherit` ("no data retention mode is set at
//!   this scope"), and an account whose mode is `inherit` has no setting to plan.
//! - Every change of mode is a warning in the plan: it governs what happens to
//!   the request data of every invocation in the region.

pub mod aws;
pub mod sandbox;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::kinds::face::{
    Adoption, Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, PlanCx,
    ResourceSpec, State, ValidateCx,
};
use crate::kinds::facts::{KindFacts, no_status};
use crate::model::plan::{Action, Change};
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;

pub const KIND: &str = "DataRetention";
/// The AWS name of the singleton.
pub const AWS_NAME: &str = "account-data-retention";
/// The mode that sets nothing at the account's scope.
pub const INHERIT: &str = "inherit";

/// `DataRetentionMode`, as the API spells it: `default` (each model's standard
/// data handling), `none` (zero data retention), `aws_review` (AWS may review
/// request data, not shared with the model provider), `provider_data_share`
/// (request data may be shared with the model provider), `inherit` (no mode set
/// at the account's scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DataRetentionMode {
    #[serde(rename = "default")]
    Default,
    #[serde(rename = "none")]
    None,
    #[serde(rename = "aws_review")]
    AwsReview,
    #[serde(rename = "provider_data_share")]
    ProviderDataShare,
    #[serde(rename = "inherit")]
    Inherit,
}

impl DataRetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DataRetentionMode::Default => "default",
            DataRetentionMode::None => "none",
            DataRetentionMode::AwsReview => "aws_review",
            DataRetentionMode::ProviderDataShare => "provider_data_share",
            DataRetentionMode::Inherit => INHERIT,
        }
    }
}

/// The setting's desired state: `PutAccountDataRetention`'s `mode`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetentionState {
    pub mode: DataRetentionMode,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataRetentionSpec {
    /// `default`, `none` (zero retention), `aws_review`, `provider_data_share`
    /// or `inherit`. Required unless `state: absent`.
    #[serde(default)]
    pub mode: Option<crate::syntax::spanned::Spanned<DataRetentionMode>>,
    /// `absent` sets `inherit`; omitting the document leaves the mode alone.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
}

impl ResourceSpec for DataRetentionSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: None,
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        match (&self.mode, self.state) {
            (None, State::Present) => cx.error_hint(
                cx.doc_pos,
                "DataRetention needs a `mode`",
                "add `mode: none` (zero retention) or another of default, aws_review, provider_data_share, inherit; or `state: absent`",
            ),
            (Some(mode), State::Absent) => cx.error(
                mode.pos,
                "`mode` with `state: absent`: absent sets the mode `inherit`; leave `mode` out",
            ),
            _ => {}
        }
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, _cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let attrs = match &self.mode {
            Some(mode) => crate::kinds::state::attrs_of(&RetentionState { mode: mode.value }),
            None => serde_json::Map::new(),
        };
        Ok(Lowered {
            aws_name: AWS_NAME.into(),
            arn: None,
            model: None,
            attrs,
            hash_extra: None,
        })
    }
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With invocation logging: settings of the region, after what serves models.
    teardown_rank: 3,
    singleton: true,
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: None,
    made_by: None,
    tags: None,
};

/// What a mode means for request data, for the plan's warning.
fn meaning(mode: &str) -> &'static str {
    match mode {
        "none" => "zero data retention",
        "default" => "each model's standard data handling",
        "aws_review" => "AWS may review request data",
        "provider_data_share" => "request data may be shared with the model provider",
        "inherit" => "no mode set for the account",
        _ => "a mode this bedform does not know",
    }
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::DataRetention
    }
    fn export_document_name(&self, _observed: &ObservedResource) -> Option<String> {
        Some("data-retention".into())
    }
    fn adoption(&self) -> Adoption {
        Adoption::NotNeeded(
            "data retention is a setting of the account and region, not an object that takes tags: bedform plans it from its document alone (and resets it only on `state: absent`), so there is nothing to import",
        )
    }
    /// A mode other than the standard handling: the account left at `default`
    /// (or `inherit`) behaves the same without a document.
    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed
            .attrs
            .get("mode")
            .and_then(serde_json::Value::as_str)
            != Some("default")
    }
    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mode = observed
            .attrs
            .get("mode")
            .cloned()
            .ok_or(NotExported::Missing("mode"))?;
        let mut out = Exported::default();
        out.set("mode", mode);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let before = cx
            .find(KIND, AWS_NAME)
            .and_then(|o| o.attrs.get("mode").and_then(serde_json::Value::as_str))
            .unwrap_or(INHERIT)
            .to_string();
        let mut changes = crate::kinds::lifecycle::plan_declared(self, cx, desired);
        let after = if desired.absent {
            INHERIT.to_string()
        } else {
            desired.attr_str("mode").unwrap_or(INHERIT).to_string()
        };
        for change in changes
            .iter_mut()
            .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Delete))
        {
            change.governs = true;
            change.warnings.push(format!(
                "changes the account's data retention in {} from `{before}` ({}) to `{after}` ({}), for every model invocation in the region",
                cx.observed.region,
                meaning(&before),
                meaning(&after)
            ));
            if change.action == Action::Delete {
                change.reason =
                    Some("it is declared `state: absent`, which sets the mode `inherit`".into());
            }
        }
        changes
    }

    /// Never reset by omission: it carries no ownership tags.
    fn plan_orphan(&self, _cx: &PlanCx<'_>, _observed: &ObservedResource) -> Vec<Change> {
        Vec::new()
    }
}
