//! The AWS account through the SDK: every kind's AWS face read concurrently into
//! one observation, and each operation sent to the face of its kind.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::cloud::aws::{Aws, Reads, now_rfc3339};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::lock::StackLock;
use crate::cloud::{Cloud, Scope};
use crate::kinds::aws_face::AwsFace;
use crate::model::check::Answer;
use crate::model::plan::Op;
use crate::model::{Kind, LockLocation, ObservedAccount, ObservedResource};

/// How the kind's objects are read and written through the AWS SDK: the
/// registry, one line per kind.
pub fn face(kind: Kind) -> &'static dyn AwsFace {
    use crate::kinds as r;
    match kind {
        Kind::Bucket => &r::bucket::aws::AWS,
        Kind::LogGroup => &r::log_group::aws::AWS,
        Kind::IamRole => &r::iam_role::aws::AWS,
        Kind::InvocationLogging => &r::invocation_logging::aws::AWS,
        Kind::ModelAccess => &r::model_access::aws::AWS,
        Kind::CustomizationJob => &r::customization_job::aws::AWS,
        Kind::CustomModel => &r::customization_job::custom_model_aws::CUSTOM_MODEL_AWS,
        Kind::ProvisionedThroughput => &r::provisioned_throughput::aws::AWS,
        Kind::CustomModelDeployment => &r::custom_model_deployment::aws::AWS,
        Kind::ImportedModel => &r::imported_model::aws::AWS,
        Kind::DataRetention => &r::data_retention::aws::AWS,
        Kind::InferenceProfile => &r::inference_profile::aws::AWS,
        Kind::LogDelivery => &r::log_delivery::aws::AWS,
        Kind::Guardrail => &r::guardrail::aws::AWS,
        Kind::GuardrailEnforcement => &r::guardrail_enforcement::aws::AWS,
    }
}

/// An operation on a kind this bedform does not know (a plan from another version).
fn unknown_kind(kind: &str, what: &str) -> CloudError {
    CloudError::new(
        ErrorClass::Validation,
        what.to_string(),
        format!("`{kind}` is not a kind this bedform manages"),
    )
}

#[async_trait]
impl Cloud for Aws {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.account().await
    }

    async fn observe(&self, scope: &Scope) -> Result<ObservedAccount, CloudError> {
        let account = self.account().await?;
        let observed_at = now_rfc3339();
        let reads = Reads::new(scope);
        let per_kind =
            futures::future::try_join_all(Kind::ALL.map(|kind| face(kind).observe(self, &reads)))
                .await?;
        let mut resources: Vec<ObservedResource> = per_kind.into_iter().flatten().collect();
        for kind in Kind::ALL {
            face(kind).after_read(&mut resources);
        }
        resources.sort_by(|a, b| (&a.kind, &a.aws_name).cmp(&(&b.kind, &b.aws_name)));
        Ok(ObservedAccount {
            account_id: account,
            region: self.region.clone(),
            observed_at,
            resources,
        })
    }

    async fn get(&self, kind: &str, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        // A kind this bedform does not know has nothing it could read.
        match Kind::parse(kind) {
            Some(known) => face(known).get(self, name).await,
            None => Ok(None),
        }
    }

    async fn execute(&self, op: &Op) -> Result<(), CloudError> {
        let kind = Kind::parse(op.kind()).ok_or_else(|| unknown_kind(op.kind(), &op.describe()))?;
        face(kind).execute(self, op).await
    }

    async fn add_tags(
        &self,
        kind: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let known = Kind::parse(kind).ok_or_else(|| unknown_kind(kind, name))?;
        face(known).add_tags(self, name, tags).await
    }

    fn inference_unavailable(&self) -> Option<&'static str> {
        None
    }

    fn guardrails_unavailable(&self) -> Option<&'static str> {
        None
    }

    fn reads_price_list(&self) -> bool {
        true
    }

    async fn price_list(&self, region: &str) -> Result<Vec<String>, CloudError> {
        crate::cloud::aws::price_list::products(self, region).await
    }

    async fn apply_guardrail(
        &self,
        guardrail_id: &str,
        version: &str,
        name: &str,
        source: crate::model::check::GuardrailSource,
        text: &str,
    ) -> Result<crate::model::check::GuardrailOutcome, CloudError> {
        crate::cloud::aws::apply_guardrail(self, guardrail_id, version, name, source, text).await
    }

    fn poll_interval(&self) -> Duration {
        // An endpoint URL usually means an emulator, whose objects converge in
        // seconds.
        if self.emulator {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        }
    }

    async fn converse(
        &self,
        model_arn: &str,
        name: &str,
        prompt: &str,
        max_tokens: u32,
    ) -> Result<Answer, CloudError> {
        crate::cloud::aws::converse(self, model_arn, name, prompt, max_tokens).await
    }

    fn stack_lock(&self, location: Option<&LockLocation>) -> Option<StackLock> {
        location.map(|location| StackLock::S3 {
            client: self.s3.clone(),
            location: location.clone(),
        })
    }
}
