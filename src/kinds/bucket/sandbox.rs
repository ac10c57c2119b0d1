//! Buckets on the sandbox: a name taken once, an object count that grows as jobs
//! and users write, and no delete of a bucket that holds objects.

use serde_json::{Value, json};

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, Sandbox, World, err};
use crate::kinds::sandbox_face::{Delete, SandboxFace};
use crate::model::Kind;

const BUCKET: &str = Kind::Bucket.as_str();

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn name_taken(&self) -> &'static str {
        "BucketAlreadyOwnedByYou"
    }
    fn create(
        &self,
        _world: &mut World,
        name: &str,
        object: &mut Object,
        _operation: &str,
        _now: f64,
    ) -> Result<(), CloudError> {
        object.arn = Some(format!("arn:aws:s3:::{name}"));
        object.facts.insert("objectCount".into(), json!(0));
        Ok(())
    }
    fn check_delete(&self, _world: &World, delete: Delete<'_>) -> Result<(), CloudError> {
        let objects = object_count(delete.object);
        if objects > 0 && !delete.empty_first {
            return Err(err(
                ErrorClass::Conflict,
                delete.operation,
                format!("BucketNotEmpty: the bucket holds {objects} objects"),
            ));
        }
        Ok(())
    }
}

fn object_count(bucket: &Object) -> u64 {
    bucket
        .facts
        .get("objectCount")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Puts `count` objects into `bucket`; false when there is no such bucket.
pub fn add_objects(world: &mut World, bucket: &str, count: u64) -> bool {
    let Some(b) = world.get_mut(BUCKET, bucket) else {
        return false;
    };
    let n = object_count(b);
    b.facts.insert("objectCount".into(), json!(n + count));
    true
}

/// An error unless the bucket of the S3 URI `uri` exists.
pub fn check_exists(world: &World, operation: &str, uri: &str) -> Result<(), CloudError> {
    let bucket = crate::names::s3_bucket(uri).unwrap_or_default();
    if world.get(BUCKET, bucket).is_none() {
        return Err(err(
            ErrorClass::Validation,
            operation,
            format!("ValidationException: S3 bucket {bucket} of {uri} does not exist"),
        ));
    }
    Ok(())
}

impl Sandbox {
    /// Puts objects into a bucket, as users and invocation logging do.
    pub fn put_objects(&self, bucket: &str, count: u64) -> Result<(), CloudError> {
        self.with_world("PutObject", |world| {
            if add_objects(world, bucket, count) {
                Ok(())
            } else {
                Err(err(
                    ErrorClass::NotFound,
                    "PutObject",
                    format!("NoSuchBucket: {bucket}"),
                ))
            }
        })
    }
}
