//! What the Bedrock kinds share on the wire: tags by ARN (read, added, removed)
//! and the index of the stack's Bedrock objects from the Resource Groups Tagging
//! API.

use std::collections::BTreeMap;

use aws_sdk_bedrock::types::Tag;

use super::tagged::arn_type;
use super::{Aws, classify};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

/// The most a Bedrock listing may return a page (`maxResults`, 1 to 1,000 in every
/// `List*` of the API): without it AWS picks a page size, and an account full of
/// other teams' objects costs more pages.
pub const MAX_RESULTS: i32 = 1000;

pub fn invalid(operation: &str, e: impl std::fmt::Display) -> CloudError {
    CloudError::new(ErrorClass::Validation, operation, e.to_string())
}

pub async fn tags_of(
    aws: &Aws,
    arn: &str,
    object: &str,
) -> Result<BTreeMap<String, String>, CloudError> {
    let out = aws
        .bedrock
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| classify("bedrock:ListTagsForResource", object, e))?;
    Ok(super::tag_map(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

/// The stack's Bedrock objects with their tags, from the Resource Groups Tagging
/// API in pages. Whether that index covers a type of Bedrock object (custom models,
/// customization jobs, provisioned throughput) is not something bedform assumes: a
/// type counts as covered once the index lists one of the stack's objects of it.
/// Objects of other types have their tags read one by one, as do declared objects
/// the index does not list (it trails fresh tags by a little).
pub struct TagIndex {
    owned: BTreeMap<String, BTreeMap<String, String>>,
    covered: std::collections::BTreeSet<String>,
}

impl TagIndex {
    /// The index of the stack's Bedrock objects `owned` (tags by ARN).
    pub fn new(owned: BTreeMap<String, BTreeMap<String, String>>) -> TagIndex {
        let covered = owned.keys().map(|arn| arn_type(arn).to_string()).collect();
        TagIndex { owned, covered }
    }

    /// The tags of the object at `arn`, or none when it is neither this stack's nor
    /// `declared`, so its tags do not matter. Where the index is not known to cover
    /// the object's type, the tags of an undeclared object are read only when it
    /// `may_be_ours`: a kind whose names bedform makes (a job's, a custom model's,
    /// which end in the spec hash) says no for names it could not have made, so
    /// other teams' objects cost no reads.
    pub async fn tags(
        &self,
        aws: &Aws,
        arn: &str,
        object: &str,
        declared: bool,
        may_be_ours: bool,
    ) -> Result<Option<BTreeMap<String, String>>, CloudError> {
        match self.lookup(arn, declared, may_be_ours) {
            Lookup::Known(tags) => Ok(Some(tags.clone())),
            Lookup::NotNeeded => Ok(None),
            Lookup::Read => tags_of(aws, arn, object).await.map(Some),
        }
    }

    /// Whether a kind whose objects have the ARN `types` must list the region to
    /// find the stack's own (see [`tagged::needs_listing`]).
    ///
    /// [`tagged::needs_listing`]: super::tagged::needs_listing
    pub fn needs_listing(&self, scope: &Scope, kind: &str, types: &[&str]) -> bool {
        super::tagged::needs_listing(scope, kind, self.owned.keys(), types)
    }

    fn lookup(&self, arn: &str, declared: bool, may_be_ours: bool) -> Lookup<'_> {
        if let Some(tags) = self.owned.get(arn) {
            return Lookup::Known(tags);
        }
        if !declared && (!may_be_ours || self.covered.contains(arn_type(arn))) {
            return Lookup::NotNeeded;
        }
        Lookup::Read
    }
}

/// What the tag index knows of one object.
#[derive(Debug, PartialEq)]
enum Lookup<'a> {
    /// The stack's, with these tags.
    Known(&'a BTreeMap<String, String>),
    /// Not the stack's, and not declared: its tags do not matter.
    NotNeeded,
    /// Unknown to the index: read its tags.
    Read,
}

pub fn owned_or_declared(
    scope: &Scope,
    kind: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> bool {
    tags.get(crate::model::TAG_STACK)
        .is_some_and(|s| s == &scope.stack)
        || scope.declares(kind, name)
}

pub fn bedrock_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("bedrock:TagResource", e))
}

/// Adds `tags` to `found` (a job, custom model or throughput read by its face),
/// keeping its other tags. `object` names it for messages.
pub async fn add_tags_to(
    aws: &Aws,
    found: Option<ObservedResource>,
    object: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let arn = found.and_then(|o| o.arn).ok_or_else(|| {
        CloudError::new(
            ErrorClass::NotFound,
            format!("bedrock:TagResource on {object}"),
            "it does not exist or takes no tags",
        )
    })?;
    aws.bedrock
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(bedrock_tags(tags)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("bedrock:TagResource", object, e))
}

/// [`add_tags_to`] for a kind found through the tagging index (an object the
/// stack adopts), then waits until the index lists it as the stack's
/// ([`super::tagged::await_indexed`]).
pub async fn add_tags_then_index(
    aws: &Aws,
    found: Option<ObservedResource>,
    object: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let arn = found.as_ref().and_then(|o| o.arn.clone());
    add_tags_to(aws, found, object, tags).await?;
    if let Some(arn) = arn {
        super::tagged::await_indexed(aws, &arn, tags, object).await;
    }
    Ok(())
}

/// Makes the tags of the object at `arn` exactly `tags` (declared tags are
/// authoritative): stale keys removed, the rest added or changed.
pub async fn set_tags(
    aws: &Aws,
    arn: &str,
    object: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let current = tags_of(aws, arn, object).await?;
    let stale = super::stale_tag_keys(current.keys().map(String::as_str), tags);
    if !stale.is_empty() {
        aws.bedrock
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| classify("bedrock:UntagResource", object, e))?;
    }
    aws.bedrock
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(bedrock_tags(tags)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("bedrock:TagResource", object, e))
}

/// Removes the tags `keys` from `found`; nothing to do when it is gone.
pub async fn untag(
    aws: &Aws,
    found: Option<ObservedResource>,
    object: &str,
    keys: &[String],
) -> Result<(), CloudError> {
    let Some(found) = found else {
        return Ok(());
    };
    let arn = found.arn.unwrap_or_default();
    aws.bedrock
        .untag_resource()
        .resource_arn(&arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("bedrock:UntagResource", object, e))
}

/// A delete of what is already gone is done.
pub fn gone_is_done(result: Result<(), CloudError>) -> Result<(), CloudError> {
    match result {
        Err(e) if e.class == ErrorClass::NotFound => Ok(()),
        other => other,
    }
}

/// An operation a kind's API does not have (a plan from another bedform).
pub fn unsupported(op: &Op, why: &str) -> CloudError {
    invalid(&op.describe(), why)
}

#[cfg(test)]
mod tag_index_tests {
    use super::*;

    const JOB: &str = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/abcdefghijkl";
    const OTHER_JOB: &str = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/zzzzzzzzzzzz";
    const THROUGHPUT: &str =
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl";

    fn index(owned: &[&str]) -> TagIndex {
        let owned: BTreeMap<String, BTreeMap<String, String>> = owned
            .iter()
            .map(|arn| {
                let tags = BTreeMap::from([("bedform:stack".to_string(), "demo".to_string())]);
                (arn.to_string(), tags)
            })
            .collect();
        let covered = owned.keys().map(|arn| arn_type(arn).to_string()).collect();
        TagIndex { owned, covered }
    }

    #[test]
    fn the_type_of_an_arn_is_its_resource_kind() {
        assert_eq!(arn_type(JOB), "model-customization-job");
        assert_eq!(arn_type(THROUGHPUT), "provisioned-model");
        assert_eq!(
            arn_type("arn:aws:logs:us-east-1:123456789012:delivery-source:logs-of-demo"),
            "delivery-source"
        );
        assert_eq!(arn_type("not-an-arn"), "");
    }

    #[test]
    fn only_types_the_index_has_shown_it_covers_are_trusted() {
        let index = index(&[JOB]);
        assert!(matches!(index.lookup(JOB, false, true), Lookup::Known(_)));
        // Jobs are covered: an unlisted, undeclared job is someone else's.
        assert_eq!(index.lookup(OTHER_JOB, false, true), Lookup::NotNeeded);
        // ... but a declared one may just be fresh: read it.
        assert_eq!(index.lookup(OTHER_JOB, true, true), Lookup::Read);
        // Throughputs are not known to be covered: read, declared or not.
        assert_eq!(index.lookup(THROUGHPUT, false, true), Lookup::Read);
        // An index that listed nothing proves nothing: what may be ours is read,
        // what bedform could not have named is not.
        let empty = self::index(&[]);
        assert_eq!(empty.lookup(JOB, false, true), Lookup::Read);
        assert_eq!(empty.lookup(JOB, false, false), Lookup::NotNeeded);
        assert_eq!(empty.lookup(JOB, true, false), Lookup::Read);
    }
}
