//! An import's desired state, as `CreateModelImportJob` takes it: the source of
//! the weights, the role Bedrock reads them with, the key and VPC of the job.

use serde::{Deserialize, Serialize};

use crate::kinds::customization_job::state::Vpc;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImportState {
    /// `modelDataSource.s3DataSource.s3Uri`.
    pub source_s3_uri: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<Vpc>,
}
