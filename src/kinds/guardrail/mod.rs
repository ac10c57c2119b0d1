//! `kind: Guardrail`: an Amazon Bedrock guardrail (`CreateGuardrail`), the
//! policies every model call that names it goes through, and its numbered
//! versions.
//!
//! Choices the API leaves open, as bedform makes them:
//! - The manifest names the policies as `GetGuardrail` returns them
//!   (`contentPolicy.filters`, `topicPolicy.topics`, `wordPolicy.words`, ...);
//!   bedform sends them as the create and update requests name them
//!   (`contentPolicyConfig.filtersConfig`, ...). Entries are compared as sets
//!   (sorted by type or name), and members equal to the API's defaults are left
//!   out of the comparison (see [`policy`]).
//! - Every change, a new name included, updates the DRAFT in place
//!   (`UpdateGuardrail`): the guardrail keeps its id, which callers name, and its
//!   versions. Nothing replaces it.
//! - With `publishVersion: true`, a plan publishes a version
//!   (`CreateGuardrailVersion`) whenever the newest version does not hold what
//!   the manifest declares. Each version bedform publishes carries the hash of
//!   its content in its description, so a re-run after an interrupted apply
//!   publishes no second version for one change. A new name or new tags alone
//!   publish nothing: they do not change what the guardrail does. Older versions
//!   are kept; deleting the guardrail (`state: absent`, or removing it from the
//!   manifests) deletes them with it.
//! - `${NAME.version}` is the version the plan leaves newest: the one it
//!   publishes (its number is known in advance, as AWS numbers versions in
//!   order, and apply checks AWS gave it that number) or the newest that holds
//!   the declared content.
//! - `kmsKeyId` takes a key ARN: AWS returns the key's ARN, so an alias could
//!   not be compared.
//! - The blocked messages, the description and the topics' definitions and
//!   examples are sensitive in the API and masked in plans; topic names, filter
//!   types and strengths stay visible, so a reviewer sees what changes.
//! - A plan warns about every way a change loosens the guardrail (a policy or
//!   entry removed, a strength or threshold lowered, blocking turned into
//!   masking or detection only).

pub mod aws;
pub mod policy;
pub mod sandbox;
pub mod sdk;
pub mod testing;
mod validate;
mod version;

pub use version::{
    VERSION_MARK, VersionPlan, content_hash, publishes_versions, recorded_content,
    version_description, version_plan, versions,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use crate::diag::Diagnostic;
use crate::kinds::face::{
    Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, PlanCx, ResourceSpec,
    State, ValidateCx, validate_tags,
};
use crate::kinds::facts::{BEDROCK_TAGS, KindFacts, StatusClass};
use crate::model::check::{GuardrailExpectation, GuardrailSource, GuardrailTest};
use crate::model::plan::{Action, Change, FieldDiff, Op};
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;
use crate::syntax::spanned::{KeyedMap, Spanned};
use policy::*;

pub const KIND: &str = "Guardrail";
pub const READY: &str = "READY";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailSpec {
    /// Defaults to metadata.name. 1 to 50 letters, digits, `-` and `_`.
    #[serde(default)]
    pub guardrail_name: Option<Spanned<String>>,
    /// 1 to 200 characters.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// What a caller is told when the guardrail blocks a prompt (1 to 500
    /// characters). Required unless `state: absent`.
    #[serde(default)]
    pub blocked_input_messaging: Option<Spanned<String>>,
    /// What a caller is told when the guardrail blocks an answer (1 to 500
    /// characters). Required unless `state: absent`.
    #[serde(default)]
    pub blocked_outputs_messaging: Option<Spanned<String>>,
    #[serde(default)]
    pub content_policy: Option<Spanned<GuardrailContentPolicy>>,
    #[serde(default)]
    pub topic_policy: Option<Spanned<GuardrailTopicPolicy>>,
    #[serde(default)]
    pub word_policy: Option<Spanned<GuardrailWordPolicy>>,
    #[serde(default)]
    pub sensitive_information_policy: Option<Spanned<GuardrailSensitiveInformationPolicy>>,
    #[serde(default)]
    pub contextual_grounding_policy: Option<Spanned<GuardrailContextualGroundingPolicy>>,
    #[serde(default)]
    pub automated_reasoning_policy: Option<Spanned<GuardrailAutomatedReasoningPolicy>>,
    #[serde(default)]
    pub cross_region_config: Option<Spanned<GuardrailCrossRegionConfig>>,
    /// The ARN of the KMS key that encrypts the guardrail.
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
    /// Publish a numbered version (`CreateGuardrailVersion`) with each applied
    /// change of the policies; `${NAME.version}` names the newest.
    #[serde(default)]
    pub publish_version: bool,
    /// Texts sent through the guardrail (`ApplyGuardrail`) by `bedform check`
    /// and `apply --wait`, and what it must do with each. Not part of the AWS
    /// object.
    #[serde(default)]
    pub tests: Vec<Spanned<GuardrailTestSpec>>,
    /// `absent` deletes the guardrail with its versions.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

/// One guardrail test: `{input: "Which stocks should I buy?", expect: blocked}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailTestSpec {
    /// The text sent through the guardrail.
    pub input: Spanned<String>,
    /// `blocked` (a policy blocks it), `allowed` (none blocks it) or
    /// `anonymized` (none blocks it, and sensitive information in it is masked).
    pub expect: GuardrailExpectation,
    /// `INPUT` (a prompt, the default) or `OUTPUT` (a model's answer).
    #[serde(default)]
    pub source: GuardrailSource,
}

/// A guardrail's desired state: what `CreateGuardrail` and `UpdateGuardrail`
/// take, canonical (see [`policy`]), with whether versions are published and,
/// in an operation, the version it publishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub blocked_input_messaging: String,
    pub blocked_outputs_messaging: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_policy: Option<GuardrailContentPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_policy: Option<GuardrailTopicPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word_policy: Option<GuardrailWordPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_information_policy: Option<GuardrailSensitiveInformationPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contextual_grounding_policy: Option<GuardrailContextualGroundingPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_reasoning_policy: Option<GuardrailAutomatedReasoningPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_config: Option<GuardrailCrossRegionConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_version: bool,
    /// In an operation only: the version it publishes once the DRAFT holds the
    /// declared content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

/// The version an operation publishes: its number as planned, and the hash of
/// the content it freezes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Publish {
    pub version: String,
    pub content: String,
}

impl GuardrailState {
    /// The same state in canonical form.
    pub fn canonical(mut self) -> GuardrailState {
        self.content_policy = self.content_policy.map(GuardrailContentPolicy::canonical);
        self.topic_policy = self.topic_policy.map(GuardrailTopicPolicy::canonical);
        self.word_policy = self.word_policy.and_then(GuardrailWordPolicy::canonical);
        self.sensitive_information_policy = self
            .sensitive_information_policy
            .and_then(GuardrailSensitiveInformationPolicy::canonical);
        self.contextual_grounding_policy = self
            .contextual_grounding_policy
            .map(GuardrailContextualGroundingPolicy::canonical);
        self.automated_reasoning_policy = self
            .automated_reasoning_policy
            .map(GuardrailAutomatedReasoningPolicy::canonical);
        // A profile named by its ARN is the profile its id names: AWS returns both.
        if let Some(config) = &mut self.cross_region_config
            && let Some((_, id)) = config
                .guardrail_profile_identifier
                .rsplit_once(":guardrail-profile/")
        {
            config.guardrail_profile_identifier = id.to_string();
        }
        self
    }
}

/// `GuardrailName`: 1 to 50 of `[0-9a-zA-Z-_]`.
pub fn check_guardrail_name(name: &str) -> Result<(), crate::names::NameError> {
    let len = name.chars().count();
    if !(1..=50).contains(&len) {
        return Err(crate::names::NameError::Length {
            min: 1,
            max: 50,
            len,
        });
    }
    if !validate::matches("[0-9a-zA-Z-_]+", name) {
        return Err(crate::names::NameError::Rule(
            "may hold only letters, digits, `-` and `_`",
        ));
    }
    Ok(())
}

/// `GuardrailTopicName`: 1 to 100 of `[0-9a-zA-Z-_ !?.]`.
pub fn check_topic_name(name: &str) -> Result<(), crate::names::NameError> {
    let len = name.chars().count();
    if !(1..=100).contains(&len) {
        return Err(crate::names::NameError::Length {
            min: 1,
            max: 100,
            len,
        });
    }
    if !validate::matches("[0-9a-zA-Z-_ !?.]+", name) {
        return Err(crate::names::NameError::Rule(
            "may hold only letters, digits, spaces and `-_!?.`",
        ));
    }
    Ok(())
}

impl GuardrailSpec {
    fn name<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.guardrail_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

impl ResourceSpec for GuardrailSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        validate::spec(self, cx);
        validate_tags(cx, self.tags.as_ref());
    }

    fn guardrail_tests(&self) -> Vec<GuardrailTest> {
        self.tests
            .iter()
            .map(|t| GuardrailTest {
                input: t.value.input.value.clone(),
                expect: t.value.expect,
                source: t.value.source,
            })
            .collect()
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let aws_name = self.name(cx.name).to_string();
        if self.state == State::Absent {
            return Ok(Lowered {
                aws_name,
                arn: None,
                model: None,
                attrs: Map::new(),
                hash_extra: None,
            });
        }
        let text = |t: &Option<Spanned<String>>| t.as_ref().map(|t| cx.interpolate(t));
        let state = GuardrailState {
            description: text(&self.description),
            blocked_input_messaging: text(&self.blocked_input_messaging).unwrap_or_default(),
            blocked_outputs_messaging: text(&self.blocked_outputs_messaging).unwrap_or_default(),
            content_policy: self.content_policy.as_ref().map(|p| p.value.clone()),
            topic_policy: self.topic_policy.as_ref().map(|p| p.value.clone()),
            word_policy: self.word_policy.as_ref().map(|p| p.value.clone()),
            sensitive_information_policy: self
                .sensitive_information_policy
                .as_ref()
                .map(|p| p.value.clone()),
            contextual_grounding_policy: self
                .contextual_grounding_policy
                .as_ref()
                .map(|p| p.value.clone()),
            automated_reasoning_policy: self
                .automated_reasoning_policy
                .as_ref()
                .map(|p| p.value.clone()),
            cross_region_config: self.cross_region_config.as_ref().map(|c| c.value.clone()),
            kms_key_id: text(&self.kms_key_id),
            publish_version: self.publish_version,
            publish: None,
        }
        .canonical();
        Ok(Lowered {
            aws_name,
            arn: None,
            model: None,
            attrs: crate::kinds::state::attrs_of(&state),
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

/// A guardrail's status: `CREATING`, `UPDATING` and `VERSIONING` on the way to
/// `READY`; `FAILED`; `DELETING`.
fn status_class(status: &str) -> StatusClass {
    match status {
        "CREATING" | "UPDATING" | "VERSIONING" | "DELETING" => StatusClass::Transitional,
        READY => StatusClass::Ready,
        "FAILED" => StatusClass::Failed,
        _ => StatusClass::Undocumented,
    }
}

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With what serves models: an account's enforcement goes first.
    teardown_rank: 1,
    singleton: false,
    // `guardrail/ID`: AWS chooses the id.
    arn_known_before_apply: false,
    permission_fields: &[],
    // Nested in the topics; the blocked messages and the description are
    // top-level fields, marked sensitive by the plan.
    sensitive_members: &["definition", "examples"],
    status_class,
    // The face waits for READY itself: a version can only be published then.
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: None,
    made_by: None,
    tags: Some(BEDROCK_TAGS),
};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

impl Behaviour {
    /// A rename planned as a replacement becomes an update in place:
    /// `UpdateGuardrail` takes the new name, and the id and versions stay.
    fn rename_in_place(&self, change: &mut Change, desired: &DesiredResource, cx: &PlanCx<'_>) {
        if change.action != Action::Replace {
            return;
        }
        let Some(old) = change.ops.iter().find_map(|op| match op {
            Op::Delete { name, .. } if *name != desired.aws_name => Some(name.clone()),
            _ => None,
        }) else {
            return;
        };
        let fields: Vec<String> = change
            .fields
            .iter()
            .map(|f| f.path.clone())
            .filter(|p| p != self.name_member())
            .chain(["name".to_string()])
            .collect();
        change.action = Action::Update;
        change.create_before_destroy = false;
        change.reason = Some(format!(
            "renamed from `{old}` in place (`UpdateGuardrail`): its id and versions stay"
        ));
        change.ops = vec![Op::Update {
            kind: KIND.into(),
            name: desired.aws_name.clone(),
            attrs: desired.attrs.clone(),
            tags: desired.tags_with_ownership(cx.stack()),
            fields,
            current_name: Some(old),
        }];
        for field in &mut change.fields {
            field.forces_replacement = false;
        }
    }

    /// Adds the version the change publishes, turning a no-op into an update.
    fn publish(
        &self,
        change: &mut Change,
        desired: &DesiredResource,
        plan: &VersionPlan,
        stack: &str,
    ) {
        let Some(number) = plan.publishes else {
            return;
        };
        let publish = json!({"version": number.to_string(), "content": plan.content});
        if change.ops.is_empty() {
            change.ops.push(Op::Update {
                kind: KIND.into(),
                name: desired.aws_name.clone(),
                attrs: desired.attrs.clone(),
                tags: desired.tags_with_ownership(stack),
                fields: Vec::new(),
                current_name: None,
            });
        }
        for op in &mut change.ops {
            match op {
                Op::Create { attrs, .. } => {
                    attrs.insert("publish".into(), publish.clone());
                }
                Op::Update { attrs, fields, .. } => {
                    attrs.insert("publish".into(), publish.clone());
                    fields.push("version".into());
                }
                _ => {}
            }
        }
        if change.action == Action::NoOp {
            change.action = Action::Update;
            change.drift = false;
        }
        change.fields.push(FieldDiff {
            path: "version".into(),
            before: plan.newest.map(|n| json!(n.to_string())),
            after: Some(json!(number.to_string())),
            forces_replacement: false,
            sensitive: false,
        });
        change.notes.push(match plan.newest {
            Some(newest) => format!(
                "publishes version {number} of what the DRAFT then holds; versions up to {newest} are kept"
            ),
            None => format!("publishes version {number} of what the DRAFT then holds"),
        });
    }
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::Guardrail
    }
    fn name_member(&self) -> &'static str {
        "guardrailName"
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }
    fn not_held(&self) -> &'static [&'static str] {
        &["publishVersion", "publish"]
    }

    fn plan_attribute(
        &self,
        cx: &PlanCx<'_>,
        desired: &DesiredResource,
        attr: &str,
    ) -> Option<Result<String, String>> {
        if attr != "version" {
            return None;
        }
        if !publishes_versions(desired) {
            return Some(Err(format!(
                "Guardrail `{}` does not set `publishVersion: true`, so bedform publishes no version of it to name",
                desired.address.name
            )));
        }
        Some(
            version_plan(cx, desired)
                .current()
                .map(|n| n.to_string())
                .ok_or_else(|| format!("Guardrail `{}` has no version", desired.address.name)),
        )
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, _observed: &ObservedResource) -> bool {
        true
    }
    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        out.set("guardrailName", json!(observed.aws_name));
        for (key, value) in &observed.attrs {
            out.set(key, value.clone());
        }
        if !versions(observed).is_empty() {
            out.set("publishVersion", json!(true));
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let versions = version_plan(cx, desired);
        // What AWS holds has no `publishVersion`: compare the content alone.
        let mut content = desired.clone();
        content.attrs.remove("publishVersion");
        let before = cx
            .find(KIND, &desired.aws_name)
            .or_else(|| cx.owned_for(KIND, &desired.address).into_iter().next())
            .and_then(|o| crate::kinds::state::state_of::<GuardrailState>(&o.attrs, "read").ok());
        let mut changes = crate::kinds::lifecycle::plan_declared(self, cx, &content);
        for change in changes.iter_mut().filter(|c| c.address == desired.address) {
            if change.aws_name != desired.aws_name && change.action != Action::Replace {
                continue;
            }
            self.rename_in_place(change, desired, cx);
            for op in &mut change.ops {
                if let Op::Create { attrs, .. } | Op::Update { attrs, .. } = op {
                    attrs.clone_from(&desired.attrs);
                }
            }
            if matches!(
                change.action,
                Action::Create | Action::Update | Action::NoOp
            ) {
                self.publish(change, desired, &versions, cx.stack());
            }
            if change.action == Action::Update
                && let Some(before) = &before
                && let Ok(after) =
                    crate::kinds::state::state_of::<GuardrailState>(&content.attrs, "read")
            {
                for loosened in policy::loosenings(before, &after) {
                    change.governs = true;
                    change
                        .warnings
                        .push(format!("loosens the guardrail: {loosened}"));
                }
            }
            if change.action == Action::Delete {
                change.warnings.push(
                    "deletes the guardrail with all its versions: calls that name it fail".into(),
                );
            }
        }
        for change in &mut changes {
            for field in &mut change.fields {
                if matches!(
                    field.path.as_str(),
                    "description" | "blockedInputMessaging" | "blockedOutputsMessaging"
                ) {
                    field.sensitive = true;
                }
            }
        }
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        let mut changes = crate::kinds::lifecycle::plan_orphan(self, cx, observed);
        for change in changes.iter_mut().filter(|c| c.action == Action::Delete) {
            change.warnings.push(
                "deletes the guardrail with all its versions: calls that name it fail".into(),
            );
        }
        changes
    }
}

/// The tests a resource declares, for messages: `test 2 ("Which stocks…")`.
pub fn test_label(index: usize, test: &GuardrailTest) -> String {
    let short: String = test.input.chars().take(60).collect();
    let cut = if short.len() < test.input.len() {
        "…"
    } else {
        ""
    };
    format!("test {} ({:?}{cut})", index + 1, short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(policies: serde_json::Value) -> GuardrailState {
        let mut value = json!({"blockedInputMessaging": "no", "blockedOutputsMessaging": "no"});
        value
            .as_object_mut()
            .unwrap()
            .extend(policies.as_object().unwrap().clone());
        serde_json::from_value::<GuardrailState>(value)
            .unwrap()
            .canonical()
    }

    #[test]
    fn defaults_written_out_and_left_out_mean_the_same() {
        let written = state(json!({
            "contentPolicy": {"filters": [
                {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE", "inputAction": "BLOCK", "inputEnabled": true, "inputModalities": ["TEXT"]},
                {"type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH"}
            ], "tier": {"tierName": "CLASSIC"}},
            "topicPolicy": {"topics": [{"name": "b", "definition": "d", "type": "DENY", "examples": []}, {"name": "a", "definition": "d"}]},
            "sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "ANONYMIZE", "inputAction": "ANONYMIZE"}], "regexes": []},
            "crossRegionConfig": {"guardrailProfileIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail-profile/us.guardrail.v1:0"}
        }));
        let left_out = state(json!({
            "contentPolicy": {"filters": [
                {"type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH"},
                {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"}
            ]},
            "topicPolicy": {"topics": [{"name": "a", "definition": "d"}, {"name": "b", "definition": "d"}]},
            "sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "ANONYMIZE"}]},
            "crossRegionConfig": {"guardrailProfileIdentifier": "us.guardrail.v1:0"}
        }));
        assert_eq!(written, left_out);
        assert!(policy::loosenings(&written, &left_out).is_empty());
    }

    #[test]
    fn each_way_of_letting_more_through_is_a_loosening() {
        let before = state(json!({
            "contentPolicy": {"filters": [{"type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH"}]},
            "wordPolicy": {"words": [{"text": "rival"}]},
            "sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "BLOCK"}]},
            "contextualGroundingPolicy": {"filters": [{"type": "GROUNDING", "threshold": 0.8}]}
        }));
        let after = state(json!({
            "contentPolicy": {"filters": [{"type": "HATE", "inputStrength": "HIGH", "outputStrength": "LOW", "inputEnabled": false}]},
            "sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "ANONYMIZE"}]},
            "contextualGroundingPolicy": {"filters": [{"type": "GROUNDING", "threshold": 0.5}]}
        }));
        assert_eq!(
            policy::loosenings(&before, &after),
            [
                "content filter `HATE`: output strength lowered from HIGH to LOW",
                "content filter `HATE` no longer checks input",
                "the word filters are removed",
                "PII entity `EMAIL`: input action from BLOCK to ANONYMIZE",
                "PII entity `EMAIL`: output action from BLOCK to ANONYMIZE",
                "contextual grounding filter `GROUNDING`: threshold lowered from 0.8 to 0.5",
            ]
        );
        // Tightening is no loosening.
        assert!(policy::loosenings(&after, &before).is_empty());
    }
}
