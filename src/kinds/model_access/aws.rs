//! How model access is read and written through the SDK: availability per model,
//! Marketplace agreements and the Anthropic use-case form.

use std::collections::BTreeMap;

use aws_sdk_bedrock::primitives::Blob;
use aws_sdk_bedrock::types::OfferType;
use serde_json::{Map, Value, json};

use async_trait::async_trait;

use crate::cloud::aws::bedrock::{self};
use crate::cloud::aws::{Aws, Reads, classify};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::model_access::state::{AccessChange, Offers};
use crate::kinds::state::state_of;
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

const MODEL_ACCESS: &str = "ModelAccess";

async fn observe_model_access(
    aws: &Aws,
    scope: &Scope,
) -> Result<Option<ObservedResource>, CloudError> {
    if scope.models.is_empty() && !scope.use_case_form && !scope.declares_kind(MODEL_ACCESS) {
        return Ok(None);
    }
    let mut agreements = Vec::new();
    let mut availability = Map::new();
    for model in &scope.models {
        let out = aws
            .bedrock
            .get_foundation_model_availability()
            .model_id(model)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:GetFoundationModelAvailability",
                    &format!("model {model}"),
                    e,
                )
            })?;
        let agreement = out
            .agreement_availability()
            .map(|a| a.status().as_str().to_string())
            .unwrap_or_default();
        if agreement == "AVAILABLE" {
            agreements.push(model.clone());
        }
        availability.insert(
            model.clone(),
            json!({
                "agreementAvailability": agreement,
                "authorizationStatus": out.authorization_status().as_str(),
                "entitlementAvailability": out.entitlement_availability().as_str(),
                "regionAvailability": out.region_availability().as_str(),
            }),
        );
    }
    let form = if scope.use_case_form {
        match aws.bedrock.get_use_case_for_model_access().send().await {
            Ok(out) => {
                serde_json::from_slice::<Value>(out.form_data().as_ref()).unwrap_or(Value::Null)
            }
            Err(e) => {
                let e = classify("bedrock:GetUseCaseForModelAccess", "the account", e);
                if e.class == ErrorClass::NotFound {
                    Value::Null
                } else {
                    return Err(e);
                }
            }
        }
    } else {
        Value::Null
    };
    Ok(Some(ObservedResource {
        kind: MODEL_ACCESS.into(),
        aws_name: super::AWS_NAME.into(),
        attrs: Map::from_iter([
            ("agreements".to_string(), json!(agreements)),
            ("useCaseForm".to_string(), form),
        ]),
        facts: Map::from_iter([("availability".to_string(), Value::Object(availability))]),
        ..ObservedResource::default()
    }))
}

async fn update_model_access(aws: &Aws, attrs: &Map<String, Value>) -> Result<(), CloudError> {
    let change: AccessChange = state_of(attrs, "bedrock:UpdateModelAccess")?;
    // The use-case form first: Anthropic's agreements need it on file.
    if let Some(form) = change.use_case_form.as_ref().filter(|v| !v.is_null()) {
        aws.bedrock
            .put_use_case_for_model_access()
            .form_data(Blob::new(form.to_string().into_bytes()))
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:PutUseCaseForModelAccess",
                    "the account's use-case form",
                    e,
                )
            })?;
    }
    for entry in change.create_agreements.iter().flatten() {
        let model = entry.model.as_str();
        let offer_type = match entry.offer_type {
            Offers::All => OfferType::All,
            Offers::Public => OfferType::Public,
        };
        let offers = aws
            .bedrock
            .list_foundation_model_agreement_offers()
            .model_id(model)
            .offer_type(offer_type)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:ListFoundationModelAgreementOffers",
                    &format!("model {model}"),
                    e,
                )
            })?;
        // Offer tokens are volatile: fetched now, never stored or compared.
        let wanted = entry.offer_id.as_deref();
        let offer = offers
            .offers()
            .iter()
            .find(|o| wanted.is_none() || o.offer_id() == wanted)
            .ok_or_else(|| {
                CloudError::new(
                    ErrorClass::NotFound,
                    format!("agreement offers for {model}"),
                    "no matching offer",
                )
            })?;
        aws.bedrock
            .create_foundation_model_agreement()
            .model_id(model)
            .offer_token(offer.offer_token())
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:CreateFoundationModelAgreement",
                    &format!("model {model}"),
                    e,
                )
            })?;
    }
    for model in change.delete_agreements.iter().flatten() {
        aws.bedrock
            .delete_foundation_model_agreement()
            .model_id(model)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:DeleteFoundationModelAgreement",
                    &format!("model {model}"),
                    e,
                )
            })?;
    }
    Ok(())
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
        Ok(observe_model_access(aws, reads.scope)
            .await?
            .into_iter()
            .collect())
    }
    /// Model access never converges, so nothing waits on it.
    async fn get(&self, _aws: &Aws, _name: &str) -> Result<Option<ObservedResource>, CloudError> {
        Ok(None)
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Update { attrs, .. } => update_model_access(aws, attrs).await,
            Op::Create { .. } | Op::Delete { .. } | Op::StopJob { .. } | Op::Untag { .. } => Err(
                bedrock::unsupported(op, "model access is only ever updated"),
            ),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        bedrock::add_tags_to(aws, None, &format!("{MODEL_ACCESS} {name}"), tags).await
    }
}
