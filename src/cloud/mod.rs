//! The narrow interface to an AWS account ([`Cloud`]), and the connections behind
//! it: the AWS SDK clients ([`aws`]), the sandbox's store and clock ([`sandbox`]),
//! the stack lock ([`lock`]) and how errors are classified ([`error`]). The two
//! implementations of [`Cloud`] are in [`crate::account`], which asks each kind's
//! faces; apply and the commands see only this trait.

pub mod aws;
pub mod error;
pub mod lock;
pub mod sandbox;

use std::collections::BTreeMap;

use async_trait::async_trait;

pub use crate::model::Scope;
use crate::model::check::Answer;
use crate::model::plan::Op;
use crate::model::{LockLocation, ObservedAccount, ObservedResource};
pub use error::{CloudError, ErrorClass};
use lock::StackLock;

/// An AWS account as bedform sees it.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// The account the credentials belong to.
    async fn caller_account(&self) -> Result<String, CloudError>;
    /// Reads what the stack declares or owns in the region (list-based).
    async fn observe(&self, scope: &Scope) -> Result<ObservedAccount, CloudError>;
    /// Reads one object, for waits.
    async fn get(&self, kind: &str, name: &str) -> Result<Option<ObservedResource>, CloudError>;
    /// Performs one operation of a plan.
    async fn execute(&self, op: &Op) -> Result<(), CloudError>;
    /// Adds `tags` to an existing object, keeping its other tags and changing
    /// nothing else (`bedform import`).
    async fn add_tags(
        &self,
        kind: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let _ = tags;
        Err(CloudError::new(
            ErrorClass::Fatal,
            format!("tag {kind} {name}"),
            "this account cannot tag objects",
        ))
    }
    /// Where apply takes the stack's lock in this account, given the Stack's
    /// `spec.lock`; none when the stack declares no lock and the account needs one.
    fn stack_lock(&self, location: Option<&LockLocation>) -> Option<StackLock> {
        let _ = location;
        None
    }
    /// How often waits read what converges. Real jobs and throughput change over
    /// minutes, and Bedrock's `Get*` calls have low rate quotas.
    fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(10)
    }
    /// Why this account cannot run model inference (smoke checks), if it cannot.
    fn inference_unavailable(&self) -> Option<&'static str> {
        Some("this account cannot run model inference")
    }
    /// Whether this account's prices come from the AWS Price List (AWS does;
    /// the sandbox plans with bedform's table alone).
    fn reads_price_list(&self) -> bool {
        false
    }
    /// The AWS Price List's Amazon Bedrock products in `region`, as the JSON
    /// documents `GetProducts` returns.
    async fn price_list(&self, region: &str) -> Result<Vec<String>, CloudError> {
        let _ = region;
        Err(CloudError::new(
            ErrorClass::Fatal,
            "pricing:GetProducts",
            "this account has no price list",
        ))
    }
    /// Why this account cannot run guardrail tests, if it cannot.
    fn guardrails_unavailable(&self) -> Option<&'static str> {
        Some("this account cannot run guardrails")
    }
    /// Sends `text` through guardrail `guardrail_id` (named `name`) at `version`
    /// (a number or `DRAFT`) with the Bedrock Runtime `ApplyGuardrail` API.
    async fn apply_guardrail(
        &self,
        guardrail_id: &str,
        version: &str,
        name: &str,
        source: crate::model::check::GuardrailSource,
        text: &str,
    ) -> Result<crate::model::check::GuardrailOutcome, CloudError> {
        let _ = (guardrail_id, source, text);
        Err(CloudError::new(
            ErrorClass::Fatal,
            format!("bedrock:ApplyGuardrail on guardrail {name} version {version}"),
            self.guardrails_unavailable()
                .unwrap_or("this account cannot run guardrails"),
        ))
    }
    /// Sends `prompt` as one user message to the provisioned model `model_arn`
    /// (named `name`, for messages) through the Converse API.
    async fn converse(
        &self,
        model_arn: &str,
        name: &str,
        prompt: &str,
        max_tokens: u32,
    ) -> Result<Answer, CloudError> {
        let _ = (model_arn, prompt, max_tokens);
        Err(CloudError::new(
            ErrorClass::Fatal,
            format!("bedrock:InvokeModel on provisioned throughput {name}"),
            self.inference_unavailable()
                .unwrap_or("this account cannot run model inference"),
        ))
    }
}
