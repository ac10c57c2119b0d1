//! Bedrock Runtime: the Converse call that smoke checks send to a provisioned model.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message,
};

use super::{Aws, classify};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::model::check::Answer;

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
