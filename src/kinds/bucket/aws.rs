//! S3 buckets: name, policy, encryption, public-access block, versioning, tags.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use crate::cloud::aws::{Aws, READ_CONCURRENCY, classify, ensure_ours, tag_map};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::bucket::state::{BucketState, Sse};
use crate::kinds::state::state_of;
use crate::model::ObservedResource;
use crate::model::Scope;
use crate::model::plan::Op;

pub const KIND: &str = "Bucket";

/// Buckets of the stack's region that are declared or carry the stack's tag.
/// ListBuckets is asked only for names that start as the declared ones do, so
/// other teams' buckets stay out of its answer; should the tagging index list one
/// of the stack's buckets outside that prefix (left behind, no longer declared),
/// the region's buckets are listed again without it.
pub async fn observe(
    aws: &Aws,
    reads: &crate::cloud::aws::Reads<'_>,
) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    let declared: Vec<&String> = scope.declared.get(KIND).into_iter().flatten().collect();
    let owned = async {
        // This stack's buckets come with their tags in pages; only declared buckets
        // the index does not list as this stack's need a tag read of their own.
        Ok::<_, CloudError>(
            reads
                .owned(aws, "s3")
                .await?
                .into_iter()
                .filter_map(|(arn, tags)| {
                    Some((arn.strip_prefix("arn:aws:s3:::")?.to_string(), tags))
                })
                .collect::<BTreeMap<String, BTreeMap<String, String>>>(),
        )
    };
    let (names, mut owned) = if scope.everything {
        futures::try_join!(list_buckets(aws, ""), owned)?
    } else if declared.is_empty() {
        // Nothing declared: only what the index lists as the stack's is looked for.
        let owned = owned.await?;
        let prefix = common_prefix(owned.keys());
        let names = match prefix {
            Some(prefix) => list_buckets(aws, prefix).await?,
            None => Vec::new(),
        };
        (names, owned)
    } else {
        let prefix = common_prefix(declared.iter().copied()).unwrap_or_default();
        let (names, owned) = futures::try_join!(list_buckets(aws, prefix), owned)?;
        if owned.keys().all(|name| name.starts_with(prefix)) {
            (names, owned)
        } else {
            (list_buckets(aws, "").await?, owned)
        }
    };
    let wanted: Vec<(String, Option<BTreeMap<String, String>>)> = names
        .into_iter()
        .filter_map(|name| match owned.remove(&name) {
            Some(tags) => Some((name, Some(tags))),
            None => scope.declares(KIND, &name).then_some((name, None)),
        })
        .collect();
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(wanted)
        .map(|(name, tags)| async move { read(aws, scope, &name, tags, false).await })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The longest start all `names` share (none for no names).
fn common_prefix<'a>(mut names: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    let first = names.next()?;
    let mut prefix = first.as_str();
    for name in names {
        let shared = prefix
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map_or(prefix.len().min(name.len()), |((i, _), _)| i);
        prefix = &prefix[..shared];
    }
    Some(prefix)
}

/// The names of the region's buckets that start with `prefix` (every one for
/// ""), every page.
async fn list_buckets(aws: &Aws, prefix: &str) -> Result<Vec<String>, CloudError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .s3
            .list_buckets()
            .bucket_region(&aws.region)
            .set_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| classify("s3:ListAllMyBuckets", "the account", e))?;
        names.extend(
            page.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_string)),
        );
        token = page.continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(names)
}

pub async fn get(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    read(aws, &Scope::default(), name, None, true).await
}

/// The bucket's tags, or none when there is no such bucket.
async fn bucket_tags(
    aws: &Aws,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, CloudError> {
    match aws.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(Some(tag_map(
            out.tag_set().iter().map(|t| (t.key(), t.value())),
        ))),
        Err(e) => {
            let e = classify("s3:GetBucketTagging", &format!("bucket {name}"), e);
            if e.class == ErrorClass::NotFound && e.message.contains("NoSuchBucket") {
                Ok(None)
            } else if not_found(&e) {
                Ok(Some(BTreeMap::new()))
            } else {
                Err(e)
            }
        }
    }
}

fn not_found(e: &CloudError) -> bool {
    e.class == ErrorClass::NotFound
}

/// Reads one bucket, with its `tags` when they are known already; only its tags
/// unless it is declared or owned (or `full`).
async fn read(
    aws: &Aws,
    scope: &Scope,
    name: &str,
    tags: Option<BTreeMap<String, String>>,
    full: bool,
) -> Result<Option<ObservedResource>, CloudError> {
    let object = format!("bucket {name}");
    let tags = match tags {
        Some(tags) => tags,
        None => match bucket_tags(aws, name).await? {
            Some(tags) => tags,
            None => return Ok(None),
        },
    };
    let owned = tags
        .get(crate::model::TAG_STACK)
        .is_some_and(|s| s == &scope.stack);
    if !full && !owned && !scope.declares(KIND, name) {
        return Ok(None);
    }
    let policy = async {
        Ok::<_, CloudError>(match aws.s3.get_bucket_policy().bucket(name).send().await {
            Ok(out) => out
                .policy()
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
                .map(|p| crate::policy::normalise(&p))
                .unwrap_or(Value::Null),
            Err(e) => {
                let e = classify("s3:GetBucketPolicy", &object, e);
                if !not_found(&e) {
                    return Err(e);
                }
                Value::Null
            }
        })
    };
    let encryption = async {
        Ok::<_, CloudError>(
            match aws.s3.get_bucket_encryption().bucket(name).send().await {
                Ok(out) => {
                    let rule = out
                        .server_side_encryption_configuration()
                        .and_then(|c| c.rules().first())
                        .and_then(|r| r.apply_server_side_encryption_by_default());
                    match rule {
                        Some(r) if r.sse_algorithm() == &ServerSideEncryption::AwsKms => {
                            crate::kinds::face::strip_nulls(
                                json!({"sse": "kms", "kmsKeyId": r.kms_master_key_id()}),
                            )
                        }
                        _ => json!({"sse": "s3"}),
                    }
                }
                Err(e) => {
                    let e = classify("s3:GetEncryptionConfiguration", &object, e);
                    if !not_found(&e) {
                        return Err(e);
                    }
                    json!({"sse": "s3"})
                }
            },
        )
    };
    let block = async {
        Ok::<_, CloudError>(
            match aws.s3.get_public_access_block().bucket(name).send().await {
                Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                    c.block_public_acls() == Some(true)
                        && c.ignore_public_acls() == Some(true)
                        && c.block_public_policy() == Some(true)
                        && c.restrict_public_buckets() == Some(true)
                }),
                Err(e) => {
                    let e = classify("s3:GetBucketPublicAccessBlock", &object, e);
                    if !not_found(&e) {
                        return Err(e);
                    }
                    false
                }
            },
        )
    };
    let versioning = async {
        Ok::<_, CloudError>(
            match aws.s3.get_bucket_versioning().bucket(name).send().await {
                Ok(out) => out.status() == Some(&BucketVersioningStatus::Enabled),
                // Some emulators answer under another root element than AWS's
                // VersioningConfiguration, which the SDK rejects; the status inside is
                // the same element.
                Err(e) if aws.emulator && crate::cloud::aws::errors::is_unreadable(&e) => {
                    let body = crate::cloud::aws::errors::unread_body(&e).unwrap_or_default();
                    crate::errln!(
                        "warning: the endpoint answered GetBucketVersioning of bucket {name} in a form AWS does not use; reading its Status element"
                    );
                    body.contains("<Status>Enabled</Status>")
                }
                Err(e) => return Err(classify("s3:GetBucketVersioning", &object, e)),
            },
        )
    };
    let objects = async {
        Ok::<_, CloudError>(
            aws.s3
                .list_objects_v2()
                .bucket(name)
                .max_keys(1000)
                .send()
                .await
                .map_err(|e| classify("s3:ListBucket", &object, e))?
                .key_count()
                .unwrap_or(0),
        )
    };
    // S3 has no call that returns a bucket's settings together: the five reads
    // go out at once.
    let (policy, encryption, block, versioning, objects) =
        tokio::try_join!(policy, encryption, block, versioning, objects)?;
    let attrs = Map::from_iter([
        ("policy".to_string(), policy),
        ("encryption".to_string(), encryption),
        ("blockPublicAccess".to_string(), json!(block)),
        ("versioning".to_string(), json!(versioning)),
    ]);
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: name.to_string(),
        arn: Some(format!("arn:aws:s3:::{name}")),
        attrs,
        tags,
        facts: Map::from_iter([("objectCount".to_string(), json!(objects))]),
        ..ObservedResource::default()
    }))
}

pub async fn execute(aws: &Aws, op: &Op) -> Result<(), CloudError> {
    match op {
        Op::Create {
            name, attrs, tags, ..
        } => {
            let object = format!("bucket {name}");
            // Ownership tags go with the create: a bucket made by an apply killed
            // before a later PutBucketTagging would be "not managed" forever.
            let mut configuration = CreateBucketConfiguration::builder();
            if !tags.is_empty() {
                configuration = configuration.set_tags(Some(tag_set(&object, tags)?));
            }
            if aws.region != "us-east-1" {
                configuration = configuration
                    .location_constraint(BucketLocationConstraint::from(aws.region.as_str()));
            }
            let configuration = configuration.build();
            let mut create = aws.s3.create_bucket().bucket(name);
            if configuration != CreateBucketConfiguration::builder().build() {
                create = create.create_bucket_configuration(configuration);
            }
            // Read before create: in us-east-1 CreateBucket answers 200 for a bucket
            // the account already owns, so its answer cannot tell whose it is.
            let existing = match bucket_tags(aws, name).await {
                Ok(found) => found,
                // Another account's bucket: CreateBucket says so more plainly.
                Err(e) if e.class == ErrorClass::AccessDenied => None,
                Err(e) => return Err(e),
            };
            match existing {
                Some(found) => ensure_ours("s3:CreateBucket", &object, tags, Some(&found))?,
                None => {
                    if let Err(e) = create.send().await {
                        let e = classify("s3:CreateBucket", &object, e);
                        if !e.message.starts_with("BucketAlreadyOwnedByYou") {
                            return Err(e);
                        }
                        // Made in between: carry on only if it is ours.
                        let found = bucket_tags(aws, name).await?;
                        ensure_ours("s3:CreateBucket", &object, tags, found.as_ref())?;
                    }
                }
            }
            // Again, for a bucket that was already ours and for endpoints that
            // ignore tags on create.
            put_tags(aws, name, tags).await?;
            configure(aws, name, attrs, false).await
        }
        Op::Update {
            name,
            attrs,
            tags,
            fields,
            ..
        } => {
            put_tags(aws, name, tags).await?;
            configure(aws, name, attrs, fields.iter().any(|f| f == "versioning")).await
        }
        Op::Delete {
            name, empty_first, ..
        } => {
            let object = format!("bucket {name}");
            if *empty_first {
                empty(aws, name).await?;
            }
            match aws.s3.delete_bucket().bucket(name).send().await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let e = classify("s3:DeleteBucket", &object, e);
                    if e.message.starts_with("NoSuchBucket") {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
            }
        }
        Op::Untag { name, keys, .. } => {
            let Some(current) = get(aws, name).await? else {
                return Ok(());
            };
            let kept: BTreeMap<String, String> = current
                .tags
                .into_iter()
                .filter(|(k, _)| !keys.contains(k))
                .collect();
            put_tags(aws, name, &kept).await
        }
        Op::StopJob { .. } => Err(CloudError::new(
            ErrorClass::Fatal,
            "s3",
            "not an S3 operation",
        )),
    }
}

/// Adds `tags` to the bucket's tag set, keeping the others (S3 replaces the set
/// whole, so it is read first).
pub async fn add_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("bucket {name}");
    let mut all = match aws.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => tag_map(out.tag_set().iter().map(|t| (t.key(), t.value()))),
        Err(e) => {
            let e = classify("s3:GetBucketTagging", &object, e);
            if !not_found(&e) || e.message.contains("NoSuchBucket") {
                return Err(e);
            }
            BTreeMap::new()
        }
    };
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    put_tags(aws, name, &all).await
}

fn tag_set(object: &str, tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            CloudError::new(
                ErrorClass::Validation,
                format!("s3:PutBucketTagging on {object}"),
                e.to_string(),
            )
        })
}

async fn put_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("bucket {name}");
    if tags.is_empty() {
        aws.s3
            .delete_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map_err(|e| classify("s3:PutBucketTagging", &object, e))?;
        return Ok(());
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(tag_set(&object, tags)?))
        .build()
        .map_err(|e| {
            CloudError::new(
                ErrorClass::Validation,
                format!("s3:PutBucketTagging on {object}"),
                e.to_string(),
            )
        })?;
    aws.s3
        .put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketTagging", &object, e))?;
    Ok(())
}

async fn configure(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    versioning_changed: bool,
) -> Result<(), CloudError> {
    let object = format!("bucket {name}");
    let invalid = |op: &str, e: &dyn std::fmt::Display| {
        CloudError::new(
            ErrorClass::Validation,
            format!("{op} on {object}"),
            e.to_string(),
        )
    };
    let state: BucketState = state_of(attrs, &format!("configure {object}"))?;
    let block = state.block_public_access;
    aws.s3
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(block)
                .ignore_public_acls(block)
                .block_public_policy(block)
                .restrict_public_buckets(block)
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketPublicAccessBlock", &object, e))?;
    let mut default =
        ServerSideEncryptionByDefault::builder().sse_algorithm(match state.encryption.sse {
            Sse::Kms => ServerSideEncryption::AwsKms,
            Sse::S3 => ServerSideEncryption::Aes256,
        });
    if let Some(key) = &state.encryption.kms_key_id {
        default = default.kms_master_key_id(key);
    }
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            default
                .build()
                .map_err(|e| invalid("s3:PutEncryptionConfiguration", &e))?,
        )
        .build();
    aws.s3
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| invalid("s3:PutEncryptionConfiguration", &e))?,
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutEncryptionConfiguration", &object, e))?;
    let versioning = state.versioning;
    // A bucket never versioned stays unversioned rather than "Suspended".
    if versioning || versioning_changed {
        let status = if versioning {
            BucketVersioningStatus::Enabled
        } else {
            BucketVersioningStatus::Suspended
        };
        aws.s3
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map_err(|e| classify("s3:PutBucketVersioning", &object, e))?;
    }
    match &state.policy {
        Some(policy) => {
            aws.s3
                .put_bucket_policy()
                .bucket(name)
                .policy(policy.to_string())
                .send()
                .await
                .map_err(|e| classify("s3:PutBucketPolicy", &object, e))?;
        }
        None => {
            aws.s3
                .delete_bucket_policy()
                .bucket(name)
                .send()
                .await
                .map_err(|e| classify("s3:DeleteBucketPolicy", &object, e))?;
        }
    }
    Ok(())
}

/// Deletes every object (the plan said `deletionPolicy: delete` allows it).
async fn empty(aws: &Aws, name: &str) -> Result<(), CloudError> {
    let object = format!("bucket {name}");
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .s3
            .list_objects_v2()
            .bucket(name)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| classify("s3:ListBucket", &object, e))?;
        let ids: Vec<ObjectIdentifier> = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
            .collect();
        if !ids.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .build()
                .map_err(|e| {
                    CloudError::new(
                        ErrorClass::Validation,
                        format!("s3:DeleteObject on {object}"),
                        e.to_string(),
                    )
                })?;
            aws.s3
                .delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify("s3:DeleteObject", &object, e))?;
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

crate::aws_face_of_functions!();

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_common_prefix_of_bucket_names() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let of = |list: &[&str]| common_prefix(names(list).iter()).map(str::to_string);
        assert_eq!(of(&[]), None);
        assert_eq!(of(&["data"]), Some("data".into()));
        assert_eq!(of(&["team-a", "team-b", "team-ab"]), Some("team-".into()));
        assert_eq!(of(&["team-data", "team"]), Some("team".into()));
        assert_eq!(of(&["logs", "data"]), Some(String::new()));
    }
}
