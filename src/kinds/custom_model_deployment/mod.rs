//! `kind: CustomModelDeployment`: a custom model served on demand
//! (`CreateCustomModelDeployment`), billed per token with no hourly charge and no
//! throughput purchase.
//!
//! Choices the API leaves open, as bedform makes them:
//! - `UpdateCustomModelDeployment` changes only the model, so a retrain swaps the
//!   new model in place once it is trained, and the deployment keeps its ARN.
//! - The name and the description cannot be updated. A new name replaces the
//!   deployment: the new one is created first, then the old one deleted. A new
//!   description also replaces it, but the name is still taken, so the old one is
//!   deleted first and requests fail until the new one is Active. Either way the
//!   ARN callers use changes, and the plan says so.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::Diagnostic;
use crate::kinds::face::{
    Common, LowerCx, Lowered, ResourceSpec, State, ValidateCx, validate_tags,
};
use crate::kinds::smoke_check::CheckSpec;
use crate::model::DeletionPolicy;
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

pub mod aws;
mod plan;
pub mod sandbox;
pub mod state;
pub use plan::*;
pub use state::DeploymentState;

pub const KIND: &str = "CustomModelDeployment";
pub const CREATING: &str = "Creating";
pub const ACTIVE: &str = "Active";
pub const FAILED: &str = "Failed";
/// While an update swaps the model (`updateDetails.updateStatus`), the
/// deployment is observed with its update's status: it goes on serving the
/// previous model meanwhile.
pub const UPDATING: &str = "Updating";
pub const UPDATE_FAILED: &str = "UpdateFailed";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomModelDeploymentSpec {
    /// The custom model served: `{ref: JOB}` for the model a CustomizationJob
    /// trains, `{ref: MODEL}` for a CustomModel, or a custom model ARN.
    pub model: Spanned<RefOr>,
    /// `modelDeploymentName`; defaults to metadata.name. It cannot be changed in
    /// place: a new name replaces the deployment (and its ARN).
    #[serde(default)]
    pub deployment_name: Option<Spanned<String>>,
    /// Cannot be changed in place: a new description replaces the deployment.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// `absent` deletes the deployment.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
    /// A smoke test that `bedform check` and `apply --wait` send to the deployment
    /// once it is Active. Not part of the AWS object.
    #[serde(default)]
    pub check: Option<Spanned<CheckSpec>>,
}

impl CustomModelDeploymentSpec {
    fn name<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.deployment_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

impl ResourceSpec for CustomModelDeploymentSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        cx.check_literal("model", &self.model, |m| {
            if m.starts_with("arn:") {
                crate::names::check_arn(m, Some("bedrock"))?;
            }
            if m.starts_with("arn:") && m.contains(":custom-model/") {
                Ok(())
            } else {
                Err(crate::names::NameError::Rule(
                    "a deployment serves a custom model: `{ref: JOB}` or a custom model ARN (arn:aws:bedrock:REGION:ACCOUNT:custom-model/...); a foundation model is served on demand without one",
                ))
            }
        });
        let name = self.name(cx.name);
        let name_pos = self.deployment_name.as_ref().map_or(cx.doc_pos, |n| n.pos);
        if let Err(problem) = crate::names::check_model_name(name) {
            cx.error(name_pos, format!("`deploymentName` `{name}` {problem}"));
        }
        if let Some(description) = &self.description
            && let Err(problem) = crate::names::check_deployment_description(&description.value)
        {
            cx.error(description.pos, format!("`description` {problem}"));
        }
        validate_tags(cx, self.tags.as_ref());
        if let Some(check) = &self.check {
            check.value.validate(cx, check.pos);
        }
    }

    fn smoke_check(&self) -> Option<crate::model::check::SmokeCheck> {
        self.check.as_ref().map(|c| c.value.lower())
    }

    fn references(&self) -> Vec<Reference> {
        Reference::from_field("model", &self.model, &["CustomizationJob", "CustomModel"])
            .into_iter()
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let attrs = crate::kinds::state::attrs_of(&DeploymentState {
            model: cx.model(&self.model)?,
            description: self.description.as_ref().map(|d| d.value.clone()),
        });
        Ok(Lowered {
            aws_name: self.name(cx.name).to_string(),
            arn: None,
            model: None,
            attrs,
            hash_extra: Some(serde_json::json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}
