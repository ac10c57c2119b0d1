//! The AWS face of a kind: how its objects are read and written through the
//! official SDK. The adapter ([`crate::account::aws`]) asks each kind's face, keyed
//! by [`crate::model::Kind`], and knows no kind itself.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::cloud::aws::{Aws, Reads};
use crate::cloud::error::CloudError;
use crate::model::ObservedResource;
use crate::model::plan::Op;

#[async_trait]
pub trait AwsFace: Sync {
    /// Reads the kind's objects that the stack declares or owns (`reads.scope`),
    /// in the normalised shape the manifests lower to.
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError>;
    /// Rewrites what this kind's objects say of others once every kind is read (a
    /// throughput names its custom model by ARN, the manifests by name).
    fn after_read(&self, all: &mut [ObservedResource]) {
        let _ = all;
    }
    /// Reads one object by its AWS name, for waits.
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError>;
    /// Performs one operation of a plan on an object of this kind.
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError>;
    /// Adds `tags` to an existing object, keeping its other tags and changing
    /// nothing else (`bedform import`).
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError>;
}

/// The AWS face of a kind whose folder's `aws.rs` has the four functions
/// `observe(aws, reads)`, `get(aws, name)`, `execute(aws, op)` and
/// `add_tags(aws, name, tags)`: a `Face` and its `AWS` static that call them.
#[macro_export]
macro_rules! aws_face_of_functions {
    () => {
        /// The kind's AWS face.
        pub struct Face;
        pub static AWS: Face = Face;

        #[async_trait::async_trait]
        impl $crate::kinds::aws_face::AwsFace for Face {
            async fn observe(
                &self,
                aws: &$crate::cloud::aws::Aws,
                reads: &$crate::cloud::aws::Reads<'_>,
            ) -> Result<Vec<$crate::model::ObservedResource>, $crate::cloud::error::CloudError>
            {
                observe(aws, reads).await
            }
            async fn get(
                &self,
                aws: &$crate::cloud::aws::Aws,
                name: &str,
            ) -> Result<Option<$crate::model::ObservedResource>, $crate::cloud::error::CloudError>
            {
                get(aws, name).await
            }
            async fn execute(
                &self,
                aws: &$crate::cloud::aws::Aws,
                op: &$crate::model::plan::Op,
            ) -> Result<(), $crate::cloud::error::CloudError> {
                execute(aws, op).await
            }
            async fn add_tags(
                &self,
                aws: &$crate::cloud::aws::Aws,
                name: &str,
                tags: &std::collections::BTreeMap<String, String>,
            ) -> Result<(), $crate::cloud::error::CloudError> {
                add_tags(aws, name, tags).await
            }
        }
    };
}
