//! How the account's enforced guardrail is read and written through the SDK
//! (`Put/List/DeleteEnforcedGuardrailConfiguration`). The configuration names
//! its guardrail by id: the read looks its name up (`GetGuardrail`), and a put
//! finds the declared guardrail's id by its name.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_bedrock::types::{
    AccountEnforcedGuardrailInferenceInputConfiguration,
    AccountEnforcedGuardrailOutputConfiguration, SelectiveGuardingMode as ApiMode,
};
use serde_json::{Map, json};

use super::{
    AWS_NAME, EnforcementState, KIND, ModelEnforcement, SelectiveContentGuarding,
    SelectiveGuardingMode,
};
use crate::cloud::aws::bedrock::unsupported;
use crate::cloud::aws::{Aws, Reads, classify, errors::is_unimplemented};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::state::{attrs_of, state_of};
use crate::model::ObservedResource;
use crate::model::plan::Op;

const OBJECT: &str = "the account's enforced guardrail";

/// The region's configuration, if there is one.
async fn configuration(
    aws: &Aws,
) -> Result<Option<AccountEnforcedGuardrailOutputConfiguration>, CloudError> {
    match aws
        .bedrock
        .list_enforced_guardrails_configuration()
        .send()
        .await
    {
        Ok(out) => Ok(out.guardrails_config().first().cloned()),
        Err(e) if aws.emulator && is_unimplemented(&e) => {
            crate::errln!(
                "warning: the endpoint does not implement bedrock:ListEnforcedGuardrailsConfiguration; planning as if no guardrail were enforced"
            );
            Ok(None)
        }
        Err(e) => Err(classify(
            "bedrock:ListEnforcedGuardrailsConfiguration",
            "the region",
            e,
        )),
    }
}

async fn read(aws: &Aws) -> Result<Option<ObservedResource>, CloudError> {
    let Some(config) = configuration(aws).await? else {
        return Ok(None);
    };
    let id = config.guardrail_id().unwrap_or_default().to_string();
    // The guardrail's name, as manifests name it; its id when it is gone.
    let name = match aws
        .bedrock
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
    {
        Ok(g) => g.name().to_string(),
        Err(e) => {
            let e = classify("bedrock:GetGuardrail", OBJECT, e);
            if e.class != ErrorClass::NotFound {
                return Err(e);
            }
            id.clone()
        }
    };
    let mode = |m: Option<&ApiMode>| m.and_then(|m| SelectiveGuardingMode::parse(m.as_str()));
    let state = EnforcementState {
        guardrail: name,
        guardrail_version: config.guardrail_version().unwrap_or_default().to_string(),
        selective_content_guarding: config.selective_content_guarding().map(|s| {
            SelectiveContentGuarding {
                system: mode(s.system()),
                messages: mode(s.messages()),
            }
        }),
        model_enforcement: config.model_enforcement().and_then(|m| {
            ModelEnforcement {
                included_models: m.included_models().to_vec(),
                excluded_models: m.excluded_models().to_vec(),
            }
            .canonical()
        }),
    };
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: AWS_NAME.into(),
        attrs: attrs_of(&state),
        facts: Map::from_iter([
            ("configId".to_string(), json!(config.config_id())),
            ("guardrailId".to_string(), json!(id)),
        ]),
        ..ObservedResource::default()
    }))
}

async fn put(aws: &Aws, attrs: &Map<String, serde_json::Value>) -> Result<(), CloudError> {
    let op = "bedrock:PutEnforcedGuardrailConfiguration";
    let state: EnforcementState = state_of(attrs, op)?;
    let Some((id, _)) = crate::kinds::guardrail::aws::find(aws, &state.guardrail).await? else {
        return Err(CloudError::new(
            ErrorClass::NotFound,
            op,
            format!("guardrail {} does not exist", state.guardrail),
        ));
    };
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        CloudError::new(ErrorClass::Validation, op, e.to_string())
    };
    let config = AccountEnforcedGuardrailInferenceInputConfiguration::builder()
        .guardrail_identifier(id)
        .guardrail_version(&state.guardrail_version)
        .set_selective_content_guarding(state.selective_content_guarding.as_ref().map(|s| {
            aws_sdk_bedrock::types::SelectiveContentGuarding::builder()
                .set_system(s.system.map(|m| ApiMode::from(m.as_str())))
                .set_messages(s.messages.map(|m| ApiMode::from(m.as_str())))
                .build()
        }))
        .set_model_enforcement(
            state
                .model_enforcement
                .as_ref()
                .map(|m| {
                    aws_sdk_bedrock::types::ModelEnforcement::builder()
                        .set_included_models(Some(m.included_models.clone()))
                        .set_excluded_models(Some(m.excluded_models.clone()))
                        .build()
                        .map_err(invalid)
                })
                .transpose()?,
        )
        .build()
        .map_err(invalid)?;
    let existing = configuration(aws).await?;
    aws.bedrock
        .put_enforced_guardrail_configuration()
        .set_config_id(existing.and_then(|c| c.config_id().map(str::to_string)))
        .guardrail_inference_config(config)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(op, OBJECT, e))
}

/// The kind's AWS face.
pub struct Face;
pub static AWS: Face = Face;

#[async_trait]
impl AwsFace for Face {
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        // Read only where declared: it is never planned by omission.
        if !reads.scope.declares(KIND, AWS_NAME) {
            return Ok(Vec::new());
        }
        Ok(read(aws).await?.into_iter().collect())
    }
    async fn get(&self, aws: &Aws, _name: &str) -> Result<Option<ObservedResource>, CloudError> {
        read(aws).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create { attrs, .. } | Op::Update { attrs, .. } => put(aws, attrs).await,
            Op::Delete { .. } => {
                let Some(id) = configuration(aws)
                    .await?
                    .and_then(|c| c.config_id().map(str::to_string))
                else {
                    return Ok(());
                };
                crate::cloud::aws::bedrock::gone_is_done(
                    aws.bedrock
                        .delete_enforced_guardrail_configuration()
                        .config_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| {
                            classify("bedrock:DeleteEnforcedGuardrailConfiguration", OBJECT, e)
                        }),
                )
            }
            Op::Untag { .. } | Op::StopJob { .. } => Err(unsupported(
                op,
                "the enforced guardrail is a setting without tags",
            )),
        }
    }
    async fn add_tags(
        &self,
        _aws: &Aws,
        _name: &str,
        _tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        Ok(())
    }
}
