//! `kind: InferenceProfile`: an application inference profile
//! (`CreateInferenceProfile`), through which an application calls a model so
//! that its usage carries the profile's cost-allocation tags.
//!
//! Choices the API leaves open, as bedform makes them:
//! - Everything but the tags is create-only: a new `model` or `description`
//!   deletes the profile and creates it again under the same name, and a new
//!   name creates the new profile first. Callers use the profile's ARN, which
//!   changes either way, so the plan warns about it.
//! - AWS does not return the model or system profile a profile was copied from
//!   (only the models it routes to), so bedform records the declared `model` in
//!   the profile's `bedform:copy-from` tag and compares against that.
//! - The description is sensitive in the API: plans show it masked.

pub mod aws;
pub mod sandbox;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::diag::Diagnostic;
use crate::kinds::face::{
    Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, PlanCx, ResourceSpec,
    ValidateCx, validate_tags,
};
use crate::kinds::facts::{BEDROCK_TAGS, Inference, KindFacts, no_status};
use crate::kinds::smoke_check::CheckSpec;
use crate::model::plan::{Action, Change};
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;
use crate::syntax::spanned::{KeyedMap, Spanned};

pub const KIND: &str = "InferenceProfile";
/// The tag that records what a profile was copied from.
pub const TAG_COPY_FROM: &str = "bedform:copy-from";
pub const ACTIVE: &str = "ACTIVE";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InferenceProfileSpec {
    /// Defaults to metadata.name. 1 to 64 letters and digits, each followed by at
    /// most one space, `_` or `-`.
    #[serde(default)]
    pub inference_profile_name: Option<Spanned<String>>,
    /// What the profile routes to (`modelSource.copyFrom`): a foundation model id
    /// or ARN, or a system-defined inference profile id (`us.amazon.nova-pro-v1:0`)
    /// or ARN. Create-only.
    pub model: Spanned<String>,
    /// 1 to 200 letters, digits, `:` and `.`, each followed by at most one space,
    /// `_` or `-`. Create-only; sensitive in the API.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    #[serde(default)]
    pub prevent_destroy: bool,
    /// The cost-allocation tags of the application's usage. Updated in place.
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
    /// A smoke test that `bedform check` and `apply --wait` send through the
    /// profile. Not part of the AWS object.
    #[serde(default)]
    pub check: Option<Spanned<CheckSpec>>,
}

/// A profile's desired state: what `CreateInferenceProfile` takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileState {
    /// The model or system profile copied from, as declared (an id or an ARN).
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn rule_check(
    text: &str,
    min: usize,
    max: usize,
    first: fn(char) -> bool,
    rule: &'static str,
) -> Result<(), crate::names::NameError> {
    let len = text.chars().count();
    if !(min..=max).contains(&len) {
        return Err(crate::names::NameError::Length { min, max, len });
    }
    // `(X[ _-]?)+`: a character of X, then at most one separator, and again.
    let mut after_separator = true;
    for c in text.chars() {
        let separator = matches!(c, ' ' | '_' | '-');
        if separator && after_separator || !separator && !first(c) {
            return Err(crate::names::NameError::Rule(rule));
        }
        after_separator = separator;
    }
    Ok(())
}

/// `InferenceProfileName`: `([0-9a-zA-Z][ _-]?)+`, 1 to 64 characters.
pub fn check_profile_name(name: &str) -> Result<(), crate::names::NameError> {
    rule_check(
        name,
        1,
        64,
        |c| c.is_ascii_alphanumeric(),
        "must start with a letter or digit and hold only letters, digits, and single spaces, `-` or `_` between them",
    )
}

/// `InferenceProfileDescription`: `([0-9a-zA-Z:.][ _-]?)+`, 1 to 200 characters.
pub fn check_profile_description(text: &str) -> Result<(), crate::names::NameError> {
    rule_check(
        text,
        1,
        200,
        |c| c.is_ascii_alphanumeric() || c == ':' || c == '.',
        "may hold only letters, digits, `:` and `.`, each followed by at most one space, `-` or `_`",
    )
}

impl InferenceProfileSpec {
    fn name<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.inference_profile_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

impl ResourceSpec for InferenceProfileSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let name = self.name(cx.name);
        let pos = self
            .inference_profile_name
            .as_ref()
            .map_or(cx.doc_pos, |n| n.pos);
        if let Err(problem) = check_profile_name(name) {
            cx.error(pos, format!("`inferenceProfileName` `{name}` {problem}"));
        }
        let model = &self.model.value;
        if !model.contains("${") {
            let ok = if model.starts_with("arn:") {
                model.contains(":foundation-model/") || model.contains(":inference-profile/")
            } else {
                crate::models::looks_like_model_id(model)
            };
            if !ok {
                cx.error_hint(
                    self.model.pos,
                    format!("`model` `{model}` is not a foundation model or system inference profile"),
                    "write a model id (amazon.nova-pro-v1:0), a system profile id (us.amazon.nova-pro-v1:0) or the ARN of either",
                );
            }
        }
        if let Some(description) = &self.description
            && let Err(problem) = check_profile_description(&description.value)
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
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let attrs = crate::kinds::state::attrs_of(&ProfileState {
            model: cx.interpolate(&self.model),
            description: self.description.as_ref().map(|d| d.value.clone()),
        });
        Ok(Lowered {
            aws_name: self.name(cx.name).to_string(),
            arn: None,
            model: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

/// The foundation model id a declared `model` routes to: a system profile's
/// without its geography prefix.
fn base_model(model: &str) -> String {
    let id = crate::models::normalise_model(model);
    let id = id
        .rsplit_once(":inference-profile/")
        .map_or(id.as_str(), |(_, id)| id)
        .to_string();
    ["us.", "eu.", "apac.", "global.", "us-gov."]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .map_or(id.clone(), str::to_string)
}

/// Whether every model the observed profile routes to is `model`'s.
fn routes_to(observed: &ObservedResource, model: &str) -> bool {
    let base = base_model(model);
    let routes = observed
        .facts
        .get("models")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    !routes.is_empty()
        && routes.iter().all(|r| {
            r.as_str()
                .map(crate::models::normalise_model)
                .is_some_and(|m| m == base)
        })
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With what serves models.
    teardown_rank: 0,
    singleton: false,
    // `application-inference-profile/ID`: AWS chooses the id.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    // The only status is ACTIVE, from the create on.
    status_class: no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: Some(Inference {
        ready_status: ACTIVE,
    }),
    made_by: None,
    tags: Some(BEDROCK_TAGS),
};

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::InferenceProfile
    }
    fn name_member(&self) -> &'static str {
        "inferenceProfileName"
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }
    fn forces_replacement(&self, field: &str) -> bool {
        matches!(field, "model" | "description")
    }

    /// Those whose source is known: recorded by bedform, or the one model a
    /// profile routes to.
    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed.attrs.get("model").is_some_and(|m| !m.is_null())
    }
    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let model = observed
            .attrs
            .get("model")
            .cloned()
            .ok_or(NotExported::Missing("model it copies"))?;
        let mut out = Exported::default();
        out.set("inferenceProfileName", json!(observed.aws_name));
        out.set("model", model);
        if let Some(d) = observed.attrs.get("description").filter(|d| !d.is_null()) {
            out.set("description", d.clone());
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let mut changes = crate::kinds::lifecycle::plan_declared(self, cx, desired);
        // A profile made outside bedform (adopted) has no record of what it was
        // copied from: it matches when it routes only to the declared model.
        if let Some(observed) = cx.find(KIND, &desired.aws_name)
            && observed.facts.get("copyFromRecorded") == Some(&serde_json::Value::Bool(false))
            && routes_to(observed, desired.attr_str("model").unwrap_or_default())
        {
            for change in changes.iter_mut().filter(|c| c.address == desired.address) {
                change.fields.retain(|f| f.path != "model");
                change.notes.push(format!(
                    "it routes only to `{}`, so it is taken as copied from the declared `model`; bedform records that with its next tag change",
                    base_model(desired.attr_str("model").unwrap_or_default())
                ));
                if change.action == Action::Replace
                    && !change.fields.iter().any(|f| f.forces_replacement)
                {
                    change.action = if change.fields.is_empty() {
                        Action::NoOp
                    } else {
                        Action::Update
                    };
                    change.ops = if change.fields.is_empty() {
                        Vec::new()
                    } else {
                        vec![crate::model::plan::Op::Update {
                            kind: KIND.into(),
                            name: desired.aws_name.clone(),
                            attrs: desired.attrs.clone(),
                            tags: desired.tags_with_ownership(cx.stack()),
                            fields: vec!["tags".into()],
                            current_name: None,
                        }]
                    };
                    change.reason = None;
                }
            }
        }
        for change in &mut changes {
            // The API marks the description sensitive.
            for field in change.fields.iter_mut().filter(|f| f.path == "description") {
                field.sensitive = true;
            }
            if change.action == Action::Replace {
                change.warnings.push(format!(
                    "the new profile gets a new ARN: callers that invoke `{}` by its ARN must be pointed at the new one",
                    change.aws_name
                ));
            }
        }
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        let mut changes = crate::kinds::lifecycle::plan_orphan(self, cx, observed);
        for change in changes.iter_mut().filter(|c| c.action == Action::Delete) {
            change
                .warnings
                .push("requests through this profile fail after the delete".into());
        }
        changes
    }
}
