//! Bedrock Runtime: the Converse call that smoke checks send to a provisioned
//! model, and the ApplyGuardrail call that guardrail tests send.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message,
};

use super::{Aws, classify};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::model::check::{Answer, GuardrailOutcome, GuardrailSource, PolicyAction};

/// Converse is authorised by `bedrock:InvokeModel`: errors name that action.
const OPERATION: &str = "bedrock:InvokeModel";

pub async fn converse(
    aws: &Aws,
    model_arn: &str,
    name: &str,
    prompt: &str,
    max_tokens: u32,
) -> Result<Answer, CloudError> {
    let object = format!("provisioned throughput {name}");
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(prompt.to_string()))
        .build()
        .map_err(|e| CloudError::new(ErrorClass::Validation, OPERATION, e.to_string()))?;
    let out = aws
        .runtime
        .converse()
        .model_id(model_arn)
        .messages(message)
        .inference_config(
            InferenceConfiguration::builder()
                .max_tokens(i32::try_from(max_tokens).unwrap_or(i32::MAX))
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify(OPERATION, &object, e))?;
    let text = match out.output() {
        Some(ConverseOutput::Message(message)) => message
            .content()
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    Ok(Answer {
        text,
        stop_reason: Some(out.stop_reason().as_str().to_string()),
    })
}

/// Sends `text` through guardrail `id` at `version` (`ApplyGuardrail`) and
/// says what its policies did.
pub async fn apply_guardrail(
    aws: &Aws,
    id: &str,
    version: &str,
    name: &str,
    source: GuardrailSource,
    text: &str,
) -> Result<GuardrailOutcome, CloudError> {
    use aws_sdk_bedrockruntime::types::{
        GuardrailContentBlock, GuardrailContentSource, GuardrailTextBlock,
    };
    const OPERATION: &str = "bedrock:ApplyGuardrail";
    let object = format!("guardrail {name} version {version}");
    let block = GuardrailTextBlock::builder()
        .text(text)
        .build()
        .map_err(|e| CloudError::new(ErrorClass::Validation, OPERATION, e.to_string()))?;
    let out = aws
        .runtime
        .apply_guardrail()
        .guardrail_identifier(id)
        .guardrail_version(version)
        .source(GuardrailContentSource::from(source.as_str()))
        .content(GuardrailContentBlock::Text(block))
        .send()
        .await
        .map_err(|e| classify(OPERATION, &object, e))?;
    let mut acted = Vec::new();
    let mut push = |policy: &str, what: &str, action: &str| {
        if action != "NONE" {
            acted.push(PolicyAction {
                policy: policy.to_string(),
                what: what.to_string(),
                action: action.to_string(),
            });
        }
    };
    for a in out.assessments() {
        if let Some(p) = a.topic_policy() {
            for t in p.topics() {
                push("topicPolicy", t.name(), t.action().as_str());
            }
        }
        if let Some(p) = a.content_policy() {
            for f in p.filters() {
                push("contentPolicy", f.r#type().as_str(), f.action().as_str());
            }
        }
        if let Some(p) = a.word_policy() {
            for w in p.custom_words() {
                push("wordPolicy", w.r#match(), w.action().as_str());
            }
            for w in p.managed_word_lists() {
                push("wordPolicy", w.r#type().as_str(), w.action().as_str());
            }
        }
        if let Some(p) = a.sensitive_information_policy() {
            for e in p.pii_entities() {
                push(
                    "sensitiveInformationPolicy",
                    e.r#type().as_str(),
                    e.action().as_str(),
                );
            }
            for r in p.regexes() {
                push(
                    "sensitiveInformationPolicy",
                    r.name().unwrap_or("regex"),
                    r.action().as_str(),
                );
            }
        }
        if let Some(p) = a.contextual_grounding_policy() {
            for f in p.filters() {
                push(
                    "contextualGroundingPolicy",
                    f.r#type().as_str(),
                    f.action().as_str(),
                );
            }
        }
    }
    let output: Vec<&str> = out.outputs().iter().filter_map(|o| o.text()).collect();
    Ok(GuardrailOutcome {
        action: out.action().as_str().to_string(),
        acted,
        output: (!output.is_empty()).then(|| output.join("\n")),
    })
}
