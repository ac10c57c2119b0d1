//! How the account's data retention is read and written through the SDK
//! (`Get/PutAccountDataRetention`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_bedrock::types::DataRetentionMode as ApiMode;
use serde_json::json;

use super::{AWS_NAME, INHERIT, KIND, RetentionState};
use crate::cloud::aws::bedrock::unsupported;
use crate::cloud::aws::{Aws, Reads, classify, errors::is_unimplemented};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::state::state_of;
use crate::model::ObservedResource;
use crate::model::plan::Op;

/// The region's mode; none when it is `inherit` (nothing set at the account).
async fn read(aws: &Aws) -> Result<Option<ObservedResource>, CloudError> {
    let out = match aws.bedrock.get_account_data_retention().send().await {
        Ok(out) => out,
        Err(e) if aws.emulator && is_unimplemented(&e) => {
            crate::errln!(
                "warning: the endpoint does not implement bedrock:GetAccountDataRetention; planning as if no data retention mode were set"
            );
            return Ok(None);
        }
        Err(e) => return Err(classify("bedrock:GetAccountDataRetention", "the region", e)),
    };
    let mode = out.mode().as_str();
    Ok((mode != INHERIT).then(|| ObservedResource {
        kind: KIND.into(),
        aws_name: AWS_NAME.into(),
        attrs: serde_json::Map::from_iter([("mode".to_string(), json!(mode))]),
        ..ObservedResource::default()
    }))
}

async fn put(aws: &Aws, mode: &str) -> Result<(), CloudError> {
    aws.bedrock
        .put_account_data_retention()
        .mode(ApiMode::from(mode))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("bedrock:PutAccountDataRetention", "the region", e))
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
            Op::Create { attrs, .. } | Op::Update { attrs, .. } => {
                let state: RetentionState = state_of(attrs, "bedrock:PutAccountDataRetention")?;
                put(aws, state.mode.as_str()).await
            }
            Op::Delete { .. } => put(aws, INHERIT).await,
            Op::Untag { .. } | Op::StopJob { .. } => {
                Err(unsupported(op, "data retention is a setting without tags"))
            }
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
