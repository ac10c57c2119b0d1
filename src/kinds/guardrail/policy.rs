//! A guardrail's policies, with the API's member names (`GetGuardrail`'s:
//! `contentPolicy.filters`, `topicPolicy.topics`, ...) and limits. The same types
//! are the manifest's spec and the state compared with AWS, in a canonical form:
//! entries sorted by what identifies them, and members equal to the API's
//! defaults left out (an action `BLOCK`, `*Enabled: true`, modalities `[TEXT]`,
//! the `CLASSIC` tier, a topic's type `DENY`), so that a manifest that leaves a
//! default out and one that writes it mean the same, whatever AWS echoes back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An enum of the API: its variants are spelled as the API spells them.
macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident [$($variant:ident),* $(,)?]) => {
        $(#[$doc])*
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name { $($variant),* }
        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),* }
            }
            /// The variant the API spells `text`, if this bedform knows it.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $(stringify!($variant) => Some($name::$variant),)* _ => None }
            }
        }
    };
}

api_enum!(
    /// `GuardrailContentFilterType`.
    GuardrailContentFilterType [SEXUAL, VIOLENCE, HATE, INSULTS, MISCONDUCT, PROMPT_ATTACK]
);
api_enum!(
    /// `GuardrailFilterStrength`, weakest first.
    GuardrailFilterStrength [NONE, LOW, MEDIUM, HIGH]
);
api_enum!(
    /// `GuardrailModality`.
    GuardrailModality [TEXT, IMAGE]
);
api_enum!(
    /// What a filter, topic or word does when it detects something: `BLOCK` (the
    /// default) or `NONE` (detect only).
    GuardrailAction [BLOCK, NONE]
);
api_enum!(
    /// `GuardrailSensitiveInformationAction`.
    GuardrailSensitiveInformationAction [BLOCK, ANONYMIZE, NONE]
);
api_enum!(
    /// A policy's safeguard tier (`CLASSIC` unless set).
    GuardrailTierName [CLASSIC, STANDARD]
);
api_enum!(
    /// `GuardrailTopicType`.
    GuardrailTopicType [DENY]
);
api_enum!(
    /// `GuardrailManagedWordsType`.
    GuardrailManagedWordsType [PROFANITY]
);
api_enum!(
    /// `GuardrailContextualGroundingFilterType`.
    GuardrailContextualGroundingFilterType [GROUNDING, RELEVANCE]
);
api_enum!(
    /// `GuardrailPiiEntityType`.
    GuardrailPiiEntityType [
        ADDRESS, AGE, AWS_ACCESS_KEY, AWS_SECRET_KEY, CA_HEALTH_NUMBER,
        CA_SOCIAL_INSURANCE_NUMBER, CREDIT_DEBIT_CARD_CVV, CREDIT_DEBIT_CARD_EXPIRY,
        CREDIT_DEBIT_CARD_NUMBER, DRIVER_ID, EMAIL, INTERNATIONAL_BANK_ACCOUNT_NUMBER,
        IP_ADDRESS, LICENSE_PLATE, MAC_ADDRESS, NAME, PASSWORD, PHONE, PIN, SWIFT_CODE,
        UK_NATIONAL_HEALTH_SERVICE_NUMBER, UK_NATIONAL_INSURANCE_NUMBER,
        UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER, URL, USERNAME, US_BANK_ACCOUNT_NUMBER,
        US_BANK_ROUTING_NUMBER, US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER,
        US_PASSPORT_NUMBER, US_SOCIAL_SECURITY_NUMBER, VEHICLE_IDENTIFICATION_NUMBER,
    ]
);

/// A policy's tier: `{tierName: STANDARD}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailTier {
    pub tier_name: GuardrailTierName,
}

/// `contentPolicy`: filters of harmful content, one per type (1 to 6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailContentPolicy {
    pub filters: Vec<GuardrailContentFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<GuardrailTier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailContentFilter {
    #[serde(rename = "type")]
    pub kind: GuardrailContentFilterType,
    pub input_strength: GuardrailFilterStrength,
    /// `NONE` for `PROMPT_ATTACK`, which applies to input only.
    pub output_strength: GuardrailFilterStrength,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_modalities: Option<Vec<GuardrailModality>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_modalities: Option<Vec<GuardrailModality>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

/// `topicPolicy`: denied topics (1 to 30).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailTopicPolicy {
    pub topics: Vec<GuardrailTopic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<GuardrailTier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailTopic {
    /// 1 to 100 letters, digits, spaces and `-_!?.`.
    pub name: String,
    /// What the topic is, 1 to 200 characters (sensitive: masked in plans).
    pub definition: String,
    /// Up to 5 example prompts, each 1 to 100 characters (masked in plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Vec<String>>,
    /// `DENY`, the only type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<GuardrailTopicType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

/// `wordPolicy`: words and phrases (up to 10,000), and managed word lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailWordPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<GuardrailWord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_word_lists: Option<Vec<GuardrailManagedWords>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailWord {
    /// A word or phrase, 1 to 100 characters.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailManagedWords {
    #[serde(rename = "type")]
    pub kind: GuardrailManagedWordsType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

/// `sensitiveInformationPolicy`: PII entities and regular expressions (up to 30).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailSensitiveInformationPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii_entities: Option<Vec<GuardrailPiiEntity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regexes: Option<Vec<GuardrailRegex>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailPiiEntity {
    #[serde(rename = "type")]
    pub kind: GuardrailPiiEntityType,
    /// The action for input and output unless `inputAction`/`outputAction` say
    /// otherwise.
    pub action: GuardrailSensitiveInformationAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailSensitiveInformationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailSensitiveInformationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailRegex {
    /// 1 to 100 characters.
    pub name: String,
    /// 1 to 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The regular expression, 1 to 500 characters.
    pub pattern: String,
    pub action: GuardrailSensitiveInformationAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<GuardrailSensitiveInformationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<GuardrailSensitiveInformationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

/// `contextualGroundingPolicy`: grounding and relevance thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailContextualGroundingPolicy {
    pub filters: Vec<GuardrailContextualGroundingFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<GuardrailTier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailContextualGroundingFilter {
    #[serde(rename = "type")]
    pub kind: GuardrailContextualGroundingFilterType,
    /// From 0 to 0.99: answers scoring below it are blocked.
    pub threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<GuardrailAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `automatedReasoningPolicy`: one or two Automated Reasoning policy ARNs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailAutomatedReasoningPolicy {
    pub policies: Vec<String>,
    /// From 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f64>,
}

/// `crossRegionConfig`: the guardrail profile that routes its evaluations
/// across regions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailCrossRegionConfig {
    /// A profile id (`us.guardrail.v1:0`) or its ARN.
    pub guardrail_profile_identifier: String,
}

/// `Some(x)` unless it is the default.
fn unless<T: PartialEq>(value: Option<T>, default: T) -> Option<T> {
    value.filter(|v| *v != default)
}

fn tier(value: Option<GuardrailTier>) -> Option<GuardrailTier> {
    value.filter(|t| t.tier_name != GuardrailTierName::CLASSIC)
}

fn modalities(value: Option<Vec<GuardrailModality>>) -> Option<Vec<GuardrailModality>> {
    value
        .map(|mut m| {
            m.sort();
            m.dedup();
            m
        })
        .filter(|m| m.as_slice() != [GuardrailModality::TEXT])
}

/// A list with nothing in it is no list.
fn some_list<T>(value: Option<Vec<T>>) -> Option<Vec<T>> {
    value.filter(|v| !v.is_empty())
}

impl GuardrailContentPolicy {
    pub fn canonical(mut self) -> Self {
        for f in &mut self.filters {
            f.input_modalities = modalities(f.input_modalities.take());
            f.output_modalities = modalities(f.output_modalities.take());
            f.input_action = unless(f.input_action, GuardrailAction::BLOCK);
            f.output_action = unless(f.output_action, GuardrailAction::BLOCK);
            f.input_enabled = unless(f.input_enabled, true);
            f.output_enabled = unless(f.output_enabled, true);
        }
        self.filters.sort_by_key(|f| f.kind);
        self.tier = tier(self.tier);
        self
    }
}

impl GuardrailTopicPolicy {
    pub fn canonical(mut self) -> Self {
        for t in &mut self.topics {
            t.examples = some_list(t.examples.take());
            t.kind = unless(t.kind, GuardrailTopicType::DENY);
            t.input_action = unless(t.input_action, GuardrailAction::BLOCK);
            t.output_action = unless(t.output_action, GuardrailAction::BLOCK);
            t.input_enabled = unless(t.input_enabled, true);
            t.output_enabled = unless(t.output_enabled, true);
        }
        self.topics.sort_by(|a, b| a.name.cmp(&b.name));
        self.tier = tier(self.tier);
        self
    }
}

impl GuardrailWordPolicy {
    /// `None` when it holds nothing.
    pub fn canonical(mut self) -> Option<Self> {
        if let Some(words) = &mut self.words {
            for w in words.iter_mut() {
                w.input_action = unless(w.input_action, GuardrailAction::BLOCK);
                w.output_action = unless(w.output_action, GuardrailAction::BLOCK);
                w.input_enabled = unless(w.input_enabled, true);
                w.output_enabled = unless(w.output_enabled, true);
            }
            words.sort_by(|a, b| a.text.cmp(&b.text));
        }
        if let Some(lists) = &mut self.managed_word_lists {
            for l in lists.iter_mut() {
                l.input_action = unless(l.input_action, GuardrailAction::BLOCK);
                l.output_action = unless(l.output_action, GuardrailAction::BLOCK);
                l.input_enabled = unless(l.input_enabled, true);
                l.output_enabled = unless(l.output_enabled, true);
            }
            lists.sort_by_key(|l| l.kind);
        }
        self.words = some_list(self.words);
        self.managed_word_lists = some_list(self.managed_word_lists);
        (self.words.is_some() || self.managed_word_lists.is_some()).then_some(self)
    }
}

impl GuardrailSensitiveInformationPolicy {
    /// `None` when it holds nothing.
    pub fn canonical(mut self) -> Option<Self> {
        if let Some(entities) = &mut self.pii_entities {
            for e in entities.iter_mut() {
                e.input_action = unless(e.input_action, e.action);
                e.output_action = unless(e.output_action, e.action);
                e.input_enabled = unless(e.input_enabled, true);
                e.output_enabled = unless(e.output_enabled, true);
            }
            entities.sort_by_key(|e| e.kind);
        }
        if let Some(regexes) = &mut self.regexes {
            for r in regexes.iter_mut() {
                r.input_action = unless(r.input_action, r.action);
                r.output_action = unless(r.output_action, r.action);
                r.input_enabled = unless(r.input_enabled, true);
                r.output_enabled = unless(r.output_enabled, true);
            }
            regexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.pii_entities = some_list(self.pii_entities);
        self.regexes = some_list(self.regexes);
        (self.pii_entities.is_some() || self.regexes.is_some()).then_some(self)
    }
}

impl GuardrailContextualGroundingPolicy {
    pub fn canonical(mut self) -> Self {
        for f in &mut self.filters {
            f.action = unless(f.action, GuardrailAction::BLOCK);
            f.enabled = unless(f.enabled, true);
        }
        self.filters.sort_by_key(|f| f.kind);
        self.tier = tier(self.tier);
        self
    }
}

impl GuardrailAutomatedReasoningPolicy {
    pub fn canonical(mut self) -> Self {
        self.policies.sort();
        self
    }
}

/// Whether an action member (absent: `BLOCK`) blocks.
fn blocks(action: Option<GuardrailAction>) -> bool {
    action.unwrap_or(GuardrailAction::BLOCK) == GuardrailAction::BLOCK
}

/// How strongly a sensitive-information action acts: block, mask, nothing.
fn rank(action: GuardrailSensitiveInformationAction) -> u8 {
    match action {
        GuardrailSensitiveInformationAction::BLOCK => 2,
        GuardrailSensitiveInformationAction::ANONYMIZE => 1,
        GuardrailSensitiveInformationAction::NONE => 0,
    }
}

/// What gets weaker from `before` to `after` for one side (input or output) of
/// an entry: detection turned off, or its action from blocking to not.
fn side_loosened(
    out: &mut Vec<String>,
    what: &str,
    side: &str,
    (before_on, after_on): (Option<bool>, Option<bool>),
    (before_blocks, after_blocks): (bool, bool),
) {
    let (before_on, after_on) = (before_on.unwrap_or(true), after_on.unwrap_or(true));
    if before_on && !after_on {
        out.push(format!("{what} no longer checks {side}"));
    } else if before_on && before_blocks && !after_blocks {
        out.push(format!("{what} no longer blocks {side}"));
    }
}

/// Every way the guardrail `after` lets through what `before` stopped, as plan
/// warnings (a policy or entry removed, a strength or threshold lowered, an
/// action from blocking to masking or detecting only, a check turned off).
pub fn loosenings(before: &super::GuardrailState, after: &super::GuardrailState) -> Vec<String> {
    let mut out = Vec::new();
    match (&before.content_policy, &after.content_policy) {
        (Some(_), None) => out.push("the content filters are removed".into()),
        (Some(b), Some(a)) => {
            for bf in &b.filters {
                let what = format!("content filter `{}`", bf.kind.as_str());
                let Some(af) = a.filters.iter().find(|f| f.kind == bf.kind) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                for (side, bs, as_) in [
                    ("input", bf.input_strength, af.input_strength),
                    ("output", bf.output_strength, af.output_strength),
                ] {
                    if as_ < bs {
                        out.push(format!(
                            "{what}: {side} strength lowered from {} to {}",
                            bs.as_str(),
                            as_.as_str()
                        ));
                    }
                }
                side_loosened(
                    &mut out,
                    &what,
                    "input",
                    (bf.input_enabled, af.input_enabled),
                    (blocks(bf.input_action), blocks(af.input_action)),
                );
                side_loosened(
                    &mut out,
                    &what,
                    "output",
                    (bf.output_enabled, af.output_enabled),
                    (blocks(bf.output_action), blocks(af.output_action)),
                );
            }
        }
        _ => {}
    }
    match (&before.topic_policy, &after.topic_policy) {
        (Some(_), None) => out.push("the denied topics are removed".into()),
        (Some(b), Some(a)) => {
            for bt in &b.topics {
                let what = format!("denied topic `{}`", bt.name);
                let Some(at) = a.topics.iter().find(|t| t.name == bt.name) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                side_loosened(
                    &mut out,
                    &what,
                    "input",
                    (bt.input_enabled, at.input_enabled),
                    (blocks(bt.input_action), blocks(at.input_action)),
                );
                side_loosened(
                    &mut out,
                    &what,
                    "output",
                    (bt.output_enabled, at.output_enabled),
                    (blocks(bt.output_action), blocks(at.output_action)),
                );
            }
        }
        _ => {}
    }
    match (&before.word_policy, &after.word_policy) {
        (Some(_), None) => out.push("the word filters are removed".into()),
        (Some(b), Some(a)) => {
            let after_words = a.words.as_deref().unwrap_or_default();
            for bw in b.words.as_deref().unwrap_or_default() {
                let what = format!("blocked word `{}`", bw.text);
                let Some(aw) = after_words.iter().find(|w| w.text == bw.text) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                side_loosened(
                    &mut out,
                    &what,
                    "input",
                    (bw.input_enabled, aw.input_enabled),
                    (blocks(bw.input_action), blocks(aw.input_action)),
                );
                side_loosened(
                    &mut out,
                    &what,
                    "output",
                    (bw.output_enabled, aw.output_enabled),
                    (blocks(bw.output_action), blocks(aw.output_action)),
                );
            }
            let after_lists = a.managed_word_lists.as_deref().unwrap_or_default();
            for bl in b.managed_word_lists.as_deref().unwrap_or_default() {
                let what = format!("managed word list `{}`", bl.kind.as_str());
                let Some(al) = after_lists.iter().find(|l| l.kind == bl.kind) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                side_loosened(
                    &mut out,
                    &what,
                    "input",
                    (bl.input_enabled, al.input_enabled),
                    (blocks(bl.input_action), blocks(al.input_action)),
                );
                side_loosened(
                    &mut out,
                    &what,
                    "output",
                    (bl.output_enabled, al.output_enabled),
                    (blocks(bl.output_action), blocks(al.output_action)),
                );
            }
        }
        _ => {}
    }
    match (
        &before.sensitive_information_policy,
        &after.sensitive_information_policy,
    ) {
        (Some(_), None) => out.push("the sensitive information filters are removed".into()),
        (Some(b), Some(a)) => {
            let entries = |p: &GuardrailSensitiveInformationPolicy| -> Vec<(String, SideActions)> {
                let pii = p.pii_entities.iter().flatten().map(|e| {
                    (
                        format!("PII entity `{}`", e.kind.as_str()),
                        SideActions::of(
                            e.action,
                            [e.input_action, e.output_action],
                            [e.input_enabled, e.output_enabled],
                        ),
                    )
                });
                let regexes = p.regexes.iter().flatten().map(|r| {
                    (
                        format!("regex `{}`", r.name),
                        SideActions::of(
                            r.action,
                            [r.input_action, r.output_action],
                            [r.input_enabled, r.output_enabled],
                        ),
                    )
                });
                pii.chain(regexes).collect()
            };
            let after_entries = entries(a);
            for (what, b_sides) in entries(b) {
                let Some((_, a_sides)) = after_entries.iter().find(|(w, _)| *w == what) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                for (i, side) in ["input", "output"].into_iter().enumerate() {
                    let (before_on, before_action) = b_sides.0[i];
                    let (after_on, after_action) = a_sides.0[i];
                    if before_on && !after_on {
                        out.push(format!("{what} no longer checks {side}"));
                    } else if before_on && rank(after_action) < rank(before_action) {
                        out.push(format!(
                            "{what}: {side} action from {} to {}",
                            before_action.as_str(),
                            after_action.as_str()
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    match (
        &before.contextual_grounding_policy,
        &after.contextual_grounding_policy,
    ) {
        (Some(_), None) => out.push("the contextual grounding checks are removed".into()),
        (Some(b), Some(a)) => {
            for bf in &b.filters {
                let what = format!("contextual grounding filter `{}`", bf.kind.as_str());
                let Some(af) = a.filters.iter().find(|f| f.kind == bf.kind) else {
                    out.push(format!("{what} is removed"));
                    continue;
                };
                if af.threshold < bf.threshold {
                    out.push(format!(
                        "{what}: threshold lowered from {} to {}",
                        bf.threshold, af.threshold
                    ));
                }
                side_loosened(
                    &mut out,
                    &what,
                    "answers",
                    (bf.enabled, af.enabled),
                    (blocks(bf.action), blocks(af.action)),
                );
            }
        }
        _ => {}
    }
    if before.automated_reasoning_policy.is_some() && after.automated_reasoning_policy.is_none() {
        out.push("the Automated Reasoning checks are removed".into());
    }
    out
}

/// Per side (input, output): whether it is checked, and the action taken.
struct SideActions([(bool, GuardrailSensitiveInformationAction); 2]);

impl SideActions {
    fn of(
        action: GuardrailSensitiveInformationAction,
        actions: [Option<GuardrailSensitiveInformationAction>; 2],
        enabled: [Option<bool>; 2],
    ) -> SideActions {
        SideActions([0, 1].map(|i| (enabled[i].unwrap_or(true), actions[i].unwrap_or(action))))
    }
}
