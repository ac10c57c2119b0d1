//! `kind: GuardrailEnforcement`: the account's enforced guardrail in a region
//! (`Put/List/DeleteEnforcedGuardrailConfiguration`), applied to every model
//! invocation there. A singleton setting: removed only by `state: absent`,
//! never by omission.
//!
//! Choices the API leaves open, as bedform makes them:
//! - `version: latest` is the newest version bedform publishes of the declared
//!   guardrail (`${NAME.version}`), so publishing a new version moves the
//!   enforcement to it in the same apply; a number pins one version.
//! - `guardrail` names a declared Guardrail (`{ref: NAME}`), or the name of one
//!   managed elsewhere, which then needs a numbered `version`.
//! - `modelEnforcement` left out means every model; an enforcement AWS reports
//!   for all models (`includedModels: [ALL]`, none excluded) reads the same.
//! - Every change is a warning in the plan: it governs every model invocation in
//!   the region.

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
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::Spanned;

pub const KIND: &str = "GuardrailEnforcement";
/// The AWS name of the singleton.
pub const AWS_NAME: &str = "enforced-guardrail";

/// `SelectiveGuardingMode`.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SelectiveGuardingMode {
    SELECTIVE,
    COMPREHENSIVE,
}

impl SelectiveGuardingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectiveGuardingMode::SELECTIVE => "SELECTIVE",
            SelectiveGuardingMode::COMPREHENSIVE => "COMPREHENSIVE",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SELECTIVE" => Some(SelectiveGuardingMode::SELECTIVE),
            "COMPREHENSIVE" => Some(SelectiveGuardingMode::COMPREHENSIVE),
            _ => None,
        }
    }
}

/// `selectiveContentGuarding`: which parts of a request the guardrail reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelectiveContentGuarding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SelectiveGuardingMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<SelectiveGuardingMode>,
}

/// `modelEnforcement`: the models it applies to (`ALL`, or model ids), and those
/// it leaves out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelEnforcement {
    pub included_models: Vec<String>,
    #[serde(default)]
    pub excluded_models: Vec<String>,
}

impl ModelEnforcement {
    /// `None` for every model, the API's meaning when it is left out.
    pub fn canonical(mut self) -> Option<ModelEnforcement> {
        self.included_models.sort();
        self.excluded_models.sort();
        (self.included_models != ["ALL"] || !self.excluded_models.is_empty()).then_some(self)
    }
}

/// `latest` or a version number.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnforcedVersion {
    Number(u64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailEnforcementSpec {
    /// The guardrail enforced: `{ref: NAME}` of a declared Guardrail, or the
    /// name of one managed elsewhere. Required unless `state: absent`.
    #[serde(default)]
    pub guardrail: Option<Spanned<RefOr>>,
    /// `latest` (the newest version bedform published of the declared
    /// guardrail) or a version number. Required unless `state: absent`.
    #[serde(default)]
    pub version: Option<Spanned<EnforcedVersion>>,
    #[serde(default)]
    pub selective_content_guarding: Option<SelectiveContentGuarding>,
    /// Left out: every model.
    #[serde(default)]
    pub model_enforcement: Option<Spanned<ModelEnforcement>>,
    /// `absent` removes the account's enforced guardrail; omitting the
    /// document leaves it alone.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
}

/// The enforcement's desired state: what `PutEnforcedGuardrailConfiguration`
/// takes, with the guardrail by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnforcementState {
    pub guardrail: String,
    /// A version number (`${NAME.version}` until planned).
    pub guardrail_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selective_content_guarding: Option<SelectiveContentGuarding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_enforcement: Option<ModelEnforcement>,
}

fn model_pattern(included: bool) -> &'static str {
    if included {
        r"ALL|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}(/[a-z0-9]{12}){0,1}"
    } else {
        r"([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}(/[a-z0-9]{12}){0,1}"
    }
}

impl ResourceSpec for GuardrailEnforcementSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: None,
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        if self.state == State::Absent {
            if let Some(g) = &self.guardrail {
                cx.error(
                    g.pos,
                    "`guardrail` with `state: absent`: absent removes the account's enforced guardrail, whichever it is; leave `guardrail` out",
                );
            }
            return;
        }
        let Some(guardrail) = &self.guardrail else {
            cx.error_hint(
                cx.doc_pos,
                "GuardrailEnforcement needs a `guardrail`",
                "add `guardrail: {ref: NAME}` naming a declared Guardrail, or `state: absent`",
            );
            return;
        };
        match &self.version {
            None => cx.error_hint(
                cx.doc_pos,
                "GuardrailEnforcement needs a `version`",
                "add `version: latest` (the newest version bedform publishes) or a version number",
            ),
            Some(v) => match &v.value {
                EnforcedVersion::Number(0) => {
                    cx.error(v.pos, "`version` 0 is no version; versions start at 1")
                }
                EnforcedVersion::Number(n) if *n > 99_999_999 => {
                    cx.error(v.pos, format!("`version` {n} is more than 8 digits"))
                }
                EnforcedVersion::Number(_) => {}
                EnforcedVersion::Text(text) if text == "latest" => {
                    if guardrail.as_ref_name().is_none() {
                        cx.error_hint(
                            v.pos,
                            "`version: latest` needs `guardrail: {ref: NAME}`: bedform knows the versions only of a guardrail it publishes",
                            "name a version number for a guardrail managed elsewhere",
                        );
                    }
                }
                EnforcedVersion::Text(text) => cx.error_hint(
                    v.pos,
                    format!("`version` `{text}` is neither `latest` nor a version number"),
                    "write `latest` or a number such as 3",
                ),
            },
        }
        if let Some(m) = &self.model_enforcement {
            if m.value.included_models.is_empty() {
                cx.error(
                    m.pos,
                    "`modelEnforcement.includedModels` is empty; write `[ALL]` for every model",
                );
            }
            for (included, list) in [
                (true, &m.value.included_models),
                (false, &m.value.excluded_models),
            ] {
                for model in list {
                    let ok = regex::Regex::new(&format!("^(?:{})$", model_pattern(included)))
                        .is_ok_and(|re| re.is_match(model));
                    if !ok {
                        cx.error(
                            m.pos,
                            format!(
                                "`modelEnforcement`: `{model}` is not a model id{}",
                                if included { " or `ALL`" } else { "" }
                            ),
                        );
                    }
                }
            }
        }
    }

    fn references(&self) -> Vec<Reference> {
        self.guardrail
            .as_ref()
            .and_then(|g| Reference::from_field("guardrail", g, &[crate::kinds::guardrail::KIND]))
            .into_iter()
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let attrs = match (&self.guardrail, &self.version) {
            (Some(guardrail), Some(version)) => {
                let guardrail_version = match (&version.value, guardrail.as_ref_name()) {
                    (EnforcedVersion::Number(n), _) => n.to_string(),
                    (EnforcedVersion::Text(t), Some(name)) if t == "latest" => {
                        format!("${{{name}.version}}")
                    }
                    (EnforcedVersion::Text(t), _) => t.clone(),
                };
                crate::kinds::state::attrs_of(&EnforcementState {
                    guardrail: cx.aws_name(guardrail)?,
                    guardrail_version,
                    selective_content_guarding: self.selective_content_guarding.clone(),
                    model_enforcement: self
                        .model_enforcement
                        .as_ref()
                        .and_then(|m| m.value.clone().canonical()),
                })
            }
            _ => serde_json::Map::new(),
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
    // Before the guardrail it enforces, which cannot be deleted while enforced.
    teardown_rank: 0,
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

/// `guardrail `NAME` version N`, of an enforcement's attributes.
fn described(attrs: &serde_json::Map<String, serde_json::Value>) -> String {
    let field = |k: &str| {
        attrs
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
    };
    format!(
        "guardrail `{}` version {}",
        field("guardrail"),
        field("guardrailVersion")
    )
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::GuardrailEnforcement
    }
    fn export_document_name(&self, _observed: &ObservedResource) -> Option<String> {
        Some("guardrail-enforcement".into())
    }
    fn adoption(&self) -> Adoption {
        Adoption::NotNeeded(
            "the enforced guardrail is a setting of the account and region, not an object that takes tags: bedform plans it from its document alone (and removes it only on `state: absent`), so there is nothing to import",
        )
    }
    fn export_selects(&self, _cx: &ExportCx<'_>, _observed: &ObservedResource) -> bool {
        true
    }
    fn export_needs(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        observed
            .attrs
            .get("guardrail")
            .and_then(serde_json::Value::as_str)
            .map(|g| (crate::kinds::guardrail::KIND.to_string(), g.to_string()))
            .into_iter()
            .collect()
    }
    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let guardrail = observed
            .attrs
            .get("guardrail")
            .and_then(serde_json::Value::as_str)
            .ok_or(NotExported::Missing("guardrail"))?;
        let version = observed
            .attrs
            .get("guardrailVersion")
            .and_then(serde_json::Value::as_str)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(NotExported::Missing("guardrail version"))?;
        let mut out = Exported::default();
        out.set(
            "guardrail",
            cx.reference_or(crate::kinds::guardrail::KIND, guardrail, guardrail),
        );
        out.set("version", serde_json::json!(version));
        for key in ["selectiveContentGuarding", "modelEnforcement"] {
            if let Some(v) = observed.attrs.get(key) {
                out.set(key, v.clone());
            }
        }
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let before = cx.find(KIND, AWS_NAME).map(|o| described(&o.attrs));
        let mut changes = crate::kinds::lifecycle::plan_declared(self, cx, desired);
        let region = &cx.observed.region;
        for change in &mut changes {
            let warning = match (change.action, &before) {
                (Action::Create, _) => format!(
                    "enforces {} on every model invocation in {region}",
                    described(&desired.attrs)
                ),
                (Action::Update, Some(before)) => format!(
                    "changes the guardrail enforced on every model invocation in {region} from {before} to {}",
                    described(&desired.attrs)
                ),
                (Action::Delete, Some(before)) => {
                    change.reason = Some(
                        "it is declared `state: absent`, which removes the account's enforced guardrail"
                            .into(),
                    );
                    format!(
                        "removes the account's enforced guardrail ({before}): model invocations in {region} are no longer guarded unless they name a guardrail"
                    )
                }
                _ => continue,
            };
            change.governs = true;
            change.warnings.push(warning);
        }
        changes
    }

    /// Never removed by omission: it carries no ownership tags.
    fn plan_orphan(&self, _cx: &PlanCx<'_>, _observed: &ObservedResource) -> Vec<Change> {
        Vec::new()
    }
}
