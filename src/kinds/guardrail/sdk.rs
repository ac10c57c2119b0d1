//! A guardrail's state to and from the SDK's types: the request's `*Config`
//! members (`contentPolicyConfig.filtersConfig`) from the state, and the state
//! from `GetGuardrail`'s answer (`contentPolicy.filters`).

use aws_sdk_bedrock::operation::get_guardrail::GetGuardrailOutput;
use aws_sdk_bedrock::types as sdk;

use super::GuardrailState;
use super::policy::*;
use crate::cloud::error::{CloudError, ErrorClass};

fn built<T>(
    result: Result<T, aws_smithy_types::error::operation::BuildError>,
    op: &str,
) -> Result<T, CloudError> {
    result.map_err(|e| CloudError::new(ErrorClass::Validation, op, e.to_string()))
}

/// The policies of a `CreateGuardrail` or `UpdateGuardrail` request.
pub struct RequestPolicies {
    pub content: Option<sdk::GuardrailContentPolicyConfig>,
    pub topic: Option<sdk::GuardrailTopicPolicyConfig>,
    pub word: Option<sdk::GuardrailWordPolicyConfig>,
    pub sensitive: Option<sdk::GuardrailSensitiveInformationPolicyConfig>,
    pub grounding: Option<sdk::GuardrailContextualGroundingPolicyConfig>,
    pub reasoning: Option<sdk::GuardrailAutomatedReasoningPolicyConfig>,
    pub cross_region: Option<sdk::GuardrailCrossRegionConfig>,
}

fn action<T: for<'a> From<&'a str>>(a: Option<GuardrailAction>) -> Option<T> {
    a.map(|a| T::from(a.as_str()))
}

fn pii_action(a: GuardrailSensitiveInformationAction) -> sdk::GuardrailSensitiveInformationAction {
    sdk::GuardrailSensitiveInformationAction::from(a.as_str())
}

pub fn request(state: &GuardrailState, op: &str) -> Result<RequestPolicies, CloudError> {
    let content = match &state.content_policy {
        None => None,
        Some(p) => {
            let mut filters = Vec::new();
            for f in &p.filters {
                let modalities = |m: &Option<Vec<GuardrailModality>>| {
                    m.as_ref().map(|m| {
                        m.iter()
                            .map(|m| sdk::GuardrailModality::from(m.as_str()))
                            .collect()
                    })
                };
                filters.push(built(
                    sdk::GuardrailContentFilterConfig::builder()
                        .r#type(sdk::GuardrailContentFilterType::from(f.kind.as_str()))
                        .input_strength(sdk::GuardrailFilterStrength::from(
                            f.input_strength.as_str(),
                        ))
                        .output_strength(sdk::GuardrailFilterStrength::from(
                            f.output_strength.as_str(),
                        ))
                        .set_input_modalities(modalities(&f.input_modalities))
                        .set_output_modalities(modalities(&f.output_modalities))
                        .set_input_action(action(f.input_action))
                        .set_output_action(action(f.output_action))
                        .set_input_enabled(f.input_enabled)
                        .set_output_enabled(f.output_enabled)
                        .build(),
                    op,
                )?);
            }
            let tier = match &p.tier {
                Some(t) => Some(built(
                    sdk::GuardrailContentFiltersTierConfig::builder()
                        .tier_name(sdk::GuardrailContentFiltersTierName::from(
                            t.tier_name.as_str(),
                        ))
                        .build(),
                    op,
                )?),
                None => None,
            };
            Some(built(
                sdk::GuardrailContentPolicyConfig::builder()
                    .set_filters_config(Some(filters))
                    .set_tier_config(tier)
                    .build(),
                op,
            )?)
        }
    };
    let topic = match &state.topic_policy {
        None => None,
        Some(p) => {
            let mut topics = Vec::new();
            for t in &p.topics {
                topics.push(built(
                    sdk::GuardrailTopicConfig::builder()
                        .name(&t.name)
                        .definition(&t.definition)
                        .set_examples(t.examples.clone())
                        .r#type(sdk::GuardrailTopicType::Deny)
                        .set_input_action(action(t.input_action))
                        .set_output_action(action(t.output_action))
                        .set_input_enabled(t.input_enabled)
                        .set_output_enabled(t.output_enabled)
                        .build(),
                    op,
                )?);
            }
            let tier = match &p.tier {
                Some(t) => Some(built(
                    sdk::GuardrailTopicsTierConfig::builder()
                        .tier_name(sdk::GuardrailTopicsTierName::from(t.tier_name.as_str()))
                        .build(),
                    op,
                )?),
                None => None,
            };
            Some(built(
                sdk::GuardrailTopicPolicyConfig::builder()
                    .set_topics_config(Some(topics))
                    .set_tier_config(tier)
                    .build(),
                op,
            )?)
        }
    };
    let word = match &state.word_policy {
        None => None,
        Some(p) => {
            let mut words = Vec::new();
            for w in p.words.iter().flatten() {
                words.push(built(
                    sdk::GuardrailWordConfig::builder()
                        .text(&w.text)
                        .set_input_action(action(w.input_action))
                        .set_output_action(action(w.output_action))
                        .set_input_enabled(w.input_enabled)
                        .set_output_enabled(w.output_enabled)
                        .build(),
                    op,
                )?);
            }
            let mut lists = Vec::new();
            for l in p.managed_word_lists.iter().flatten() {
                lists.push(built(
                    sdk::GuardrailManagedWordsConfig::builder()
                        .r#type(sdk::GuardrailManagedWordsType::from(l.kind.as_str()))
                        .set_input_action(action(l.input_action))
                        .set_output_action(action(l.output_action))
                        .set_input_enabled(l.input_enabled)
                        .set_output_enabled(l.output_enabled)
                        .build(),
                    op,
                )?);
            }
            Some(
                sdk::GuardrailWordPolicyConfig::builder()
                    .set_words_config((!words.is_empty()).then_some(words))
                    .set_managed_word_lists_config((!lists.is_empty()).then_some(lists))
                    .build(),
            )
        }
    };
    let sensitive = match &state.sensitive_information_policy {
        None => None,
        Some(p) => {
            let mut entities = Vec::new();
            for e in p.pii_entities.iter().flatten() {
                entities.push(built(
                    sdk::GuardrailPiiEntityConfig::builder()
                        .r#type(sdk::GuardrailPiiEntityType::from(e.kind.as_str()))
                        .action(pii_action(e.action))
                        .set_input_action(e.input_action.map(pii_action))
                        .set_output_action(e.output_action.map(pii_action))
                        .set_input_enabled(e.input_enabled)
                        .set_output_enabled(e.output_enabled)
                        .build(),
                    op,
                )?);
            }
            let mut regexes = Vec::new();
            for r in p.regexes.iter().flatten() {
                regexes.push(built(
                    sdk::GuardrailRegexConfig::builder()
                        .name(&r.name)
                        .set_description(r.description.clone())
                        .pattern(&r.pattern)
                        .action(pii_action(r.action))
                        .set_input_action(r.input_action.map(pii_action))
                        .set_output_action(r.output_action.map(pii_action))
                        .set_input_enabled(r.input_enabled)
                        .set_output_enabled(r.output_enabled)
                        .build(),
                    op,
                )?);
            }
            Some(
                sdk::GuardrailSensitiveInformationPolicyConfig::builder()
                    .set_pii_entities_config((!entities.is_empty()).then_some(entities))
                    .set_regexes_config((!regexes.is_empty()).then_some(regexes))
                    .build(),
            )
        }
    };
    let grounding = match &state.contextual_grounding_policy {
        None => None,
        Some(p) => {
            let mut filters = Vec::new();
            for f in &p.filters {
                filters.push(built(
                    sdk::GuardrailContextualGroundingFilterConfig::builder()
                        .r#type(sdk::GuardrailContextualGroundingFilterType::from(
                            f.kind.as_str(),
                        ))
                        .threshold(f.threshold)
                        .set_action(action(f.action))
                        .set_enabled(f.enabled)
                        .build(),
                    op,
                )?);
            }
            let tier = match &p.tier {
                Some(t) => Some(built(
                    sdk::GuardrailContextualGroundingTierConfig::builder()
                        .tier_name(sdk::GuardrailContextualGroundingTierName::from(
                            t.tier_name.as_str(),
                        ))
                        .build(),
                    op,
                )?),
                None => None,
            };
            Some(built(
                sdk::GuardrailContextualGroundingPolicyConfig::builder()
                    .set_filters_config(Some(filters))
                    .set_tier_config(tier)
                    .build(),
                op,
            )?)
        }
    };
    let reasoning = match &state.automated_reasoning_policy {
        None => None,
        Some(p) => Some(built(
            sdk::GuardrailAutomatedReasoningPolicyConfig::builder()
                .set_policies(Some(p.policies.clone()))
                .set_confidence_threshold(p.confidence_threshold)
                .build(),
            op,
        )?),
    };
    let cross_region = match &state.cross_region_config {
        None => None,
        Some(c) => Some(built(
            sdk::GuardrailCrossRegionConfig::builder()
                .guardrail_profile_identifier(&c.guardrail_profile_identifier)
                .build(),
            op,
        )?),
    };
    Ok(RequestPolicies {
        content,
        topic,
        word,
        sensitive,
        grounding,
        reasoning,
        cross_region,
    })
}

/// A value AWS returned that this bedform has no name for.
fn unknown(what: &str, value: &str, object: &str) -> CloudError {
    CloudError::new(
        ErrorClass::Fatal,
        "bedrock:GetGuardrail",
        format!(
            "{object}: AWS returned {what} `{value}`, which this bedform does not know; a newer bedform may"
        ),
    )
}

fn known<T>(parsed: Option<T>, what: &str, value: &str, object: &str) -> Result<T, CloudError> {
    parsed.ok_or_else(|| unknown(what, value, object))
}

fn read_action(a: Option<&str>, object: &str) -> Result<Option<GuardrailAction>, CloudError> {
    a.map(|a| known(GuardrailAction::parse(a), "the action", a, object))
        .transpose()
}

fn read_pii_action(
    a: Option<&str>,
    object: &str,
) -> Result<Option<GuardrailSensitiveInformationAction>, CloudError> {
    a.map(|a| {
        known(
            GuardrailSensitiveInformationAction::parse(a),
            "the action",
            a,
            object,
        )
    })
    .transpose()
}

fn read_tier(name: Option<&str>, object: &str) -> Result<Option<GuardrailTier>, CloudError> {
    name.map(|n| {
        known(GuardrailTierName::parse(n), "the tier", n, object)
            .map(|tier_name| GuardrailTier { tier_name })
    })
    .transpose()
}

fn some_vec<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// The state of what `GetGuardrail` returned (canonical).
pub fn state(out: &GetGuardrailOutput, object: &str) -> Result<GuardrailState, CloudError> {
    let content_policy = match out.content_policy() {
        None => None,
        Some(p) => {
            let mut filters = Vec::new();
            for f in p.filters() {
                let modalities = |m: &[sdk::GuardrailModality]| -> Result<Option<Vec<GuardrailModality>>, CloudError> {
                    let mut out = Vec::new();
                    for m in m {
                        out.push(known(GuardrailModality::parse(m.as_str()), "the modality", m.as_str(), object)?);
                    }
                    Ok(some_vec(out))
                };
                filters.push(GuardrailContentFilter {
                    kind: known(
                        GuardrailContentFilterType::parse(f.r#type().as_str()),
                        "the content filter type",
                        f.r#type().as_str(),
                        object,
                    )?,
                    input_strength: known(
                        GuardrailFilterStrength::parse(f.input_strength().as_str()),
                        "the strength",
                        f.input_strength().as_str(),
                        object,
                    )?,
                    output_strength: known(
                        GuardrailFilterStrength::parse(f.output_strength().as_str()),
                        "the strength",
                        f.output_strength().as_str(),
                        object,
                    )?,
                    input_modalities: modalities(f.input_modalities())?,
                    output_modalities: modalities(f.output_modalities())?,
                    input_action: read_action(f.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_action(f.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: f.input_enabled(),
                    output_enabled: f.output_enabled(),
                });
            }
            Some(GuardrailContentPolicy {
                filters,
                tier: read_tier(p.tier().map(|t| t.tier_name().as_str()), object)?,
            })
        }
    };
    let topic_policy = match out.topic_policy() {
        None => None,
        Some(p) => {
            let mut topics = Vec::new();
            for t in p.topics() {
                topics.push(GuardrailTopic {
                    name: t.name().to_string(),
                    definition: t.definition().to_string(),
                    examples: some_vec(t.examples().to_vec()),
                    kind: t
                        .r#type()
                        .map(|k| {
                            known(
                                GuardrailTopicType::parse(k.as_str()),
                                "the topic type",
                                k.as_str(),
                                object,
                            )
                        })
                        .transpose()?,
                    input_action: read_action(t.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_action(t.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: t.input_enabled(),
                    output_enabled: t.output_enabled(),
                });
            }
            Some(GuardrailTopicPolicy {
                topics,
                tier: read_tier(p.tier().map(|t| t.tier_name().as_str()), object)?,
            })
        }
    };
    let word_policy = match out.word_policy() {
        None => None,
        Some(p) => {
            let mut words = Vec::new();
            for w in p.words() {
                words.push(GuardrailWord {
                    text: w.text().to_string(),
                    input_action: read_action(w.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_action(w.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: w.input_enabled(),
                    output_enabled: w.output_enabled(),
                });
            }
            let mut lists = Vec::new();
            for l in p.managed_word_lists() {
                lists.push(GuardrailManagedWords {
                    kind: known(
                        GuardrailManagedWordsType::parse(l.r#type().as_str()),
                        "the managed word list",
                        l.r#type().as_str(),
                        object,
                    )?,
                    input_action: read_action(l.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_action(l.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: l.input_enabled(),
                    output_enabled: l.output_enabled(),
                });
            }
            Some(GuardrailWordPolicy {
                words: some_vec(words),
                managed_word_lists: some_vec(lists),
            })
        }
    };
    let sensitive_information_policy = match out.sensitive_information_policy() {
        None => None,
        Some(p) => {
            let mut entities = Vec::new();
            for e in p.pii_entities() {
                entities.push(GuardrailPiiEntity {
                    kind: known(
                        GuardrailPiiEntityType::parse(e.r#type().as_str()),
                        "the PII entity type",
                        e.r#type().as_str(),
                        object,
                    )?,
                    action: known(
                        GuardrailSensitiveInformationAction::parse(e.action().as_str()),
                        "the action",
                        e.action().as_str(),
                        object,
                    )?,
                    input_action: read_pii_action(e.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_pii_action(e.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: e.input_enabled(),
                    output_enabled: e.output_enabled(),
                });
            }
            let mut regexes = Vec::new();
            for r in p.regexes() {
                regexes.push(GuardrailRegex {
                    name: r.name().to_string(),
                    description: r.description().map(str::to_string),
                    pattern: r.pattern().to_string(),
                    action: known(
                        GuardrailSensitiveInformationAction::parse(r.action().as_str()),
                        "the action",
                        r.action().as_str(),
                        object,
                    )?,
                    input_action: read_pii_action(r.input_action().map(|a| a.as_str()), object)?,
                    output_action: read_pii_action(r.output_action().map(|a| a.as_str()), object)?,
                    input_enabled: r.input_enabled(),
                    output_enabled: r.output_enabled(),
                });
            }
            Some(GuardrailSensitiveInformationPolicy {
                pii_entities: some_vec(entities),
                regexes: some_vec(regexes),
            })
        }
    };
    let contextual_grounding_policy = match out.contextual_grounding_policy() {
        None => None,
        Some(p) => {
            let mut filters = Vec::new();
            for f in p.filters() {
                filters.push(GuardrailContextualGroundingFilter {
                    kind: known(
                        GuardrailContextualGroundingFilterType::parse(f.r#type().as_str()),
                        "the grounding filter type",
                        f.r#type().as_str(),
                        object,
                    )?,
                    threshold: f.threshold(),
                    action: read_action(f.action().map(|a| a.as_str()), object)?,
                    enabled: f.enabled(),
                });
            }
            Some(GuardrailContextualGroundingPolicy {
                filters,
                tier: read_tier(p.tier().map(|t| t.tier_name().as_str()), object)?,
            })
        }
    };
    let automated_reasoning_policy =
        out.automated_reasoning_policy()
            .map(|p| GuardrailAutomatedReasoningPolicy {
                policies: p.policies().to_vec(),
                confidence_threshold: p.confidence_threshold(),
            });
    let cross_region_config = out
        .cross_region_details()
        .and_then(|d| d.guardrail_profile_id())
        .map(|id| GuardrailCrossRegionConfig {
            guardrail_profile_identifier: id.to_string(),
        });
    Ok(GuardrailState {
        description: out.description().map(str::to_string),
        blocked_input_messaging: out.blocked_input_messaging().to_string(),
        blocked_outputs_messaging: out.blocked_outputs_messaging().to_string(),
        content_policy,
        topic_policy,
        word_policy,
        sensitive_information_policy,
        contextual_grounding_policy,
        automated_reasoning_policy,
        cross_region_config,
        kms_key_id: out.kms_key_arn().map(str::to_string),
        publish_version: false,
        publish: None,
    }
    .canonical())
}
