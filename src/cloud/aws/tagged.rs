//! Finding the stack's own objects in pages, through the Resource Groups Tagging
//! API, instead of reading every object's tags one call at a time.
//!
//! The tagging index trails the services by a little: an object tagged a moment ago
//! may not be listed yet. Callers therefore still read, one by one, the tags of
//! declared objects that the index did not list as this stack's, so a fresh object
//! is never mistaken for someone else's; in a settled account that is none.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::{Aws, classify};
use crate::cloud::CloudError;

/// The services whose objects bedform finds through the index: one read for all.
pub const SERVICES: &[&str] = &["s3", "logs", "bedrock"];

/// Tags by ARN of the objects of `services` (`s3`, `logs`, `bedrock`) that carry
/// this stack's `bedform:stack` tag, in one paged read. The filter names services
/// only (moto_server does not match `logs:log-group`); callers keep the ARNs of
/// the objects they look for.
pub async fn owned(
    aws: &Aws,
    stack: &str,
    services: &[&str],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, CloudError> {
    let filter = TagFilter::builder()
        .key(crate::model::TAG_STACK)
        .values(stack)
        .build();
    let mut pages = aws
        .tagging
        .get_resources()
        .tag_filters(filter)
        .set_resource_type_filters(Some(services.iter().map(|s| s.to_string()).collect()))
        .resources_per_page(100)
        .into_paginator()
        .send();
    let mut found = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            classify(
                "tag:GetResources",
                &format!("the objects of stack {stack}"),
                e,
            )
        })?;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            let tags = super::tag_map(mapping.tags().iter().map(|t| (t.key(), t.value())));
            found.insert(arn.to_string(), tags);
        }
    }
    Ok(found)
}

/// The service of an ARN (`arn:PARTITION:SERVICE:...`).
pub fn service_of(arn: &str) -> &str {
    arn.split(':').nth(2).unwrap_or_default()
}
