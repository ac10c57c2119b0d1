//! Finding the stack's own objects in pages, through the Resource Groups Tagging
//! API, instead of reading every object's tags one call at a time.
//!
//! The tagging index trails the services by a little: an object tagged a moment ago
//! may not be listed yet. Callers therefore still read, one by one, the tags of
//! declared objects that the index did not list as this stack's, so a fresh object
//! is never mistaken for someone else's; in a settled account that is none.
//!
//! The kinds whose objects are found by name in one listing of the region
//! (provisioned throughput, guardrails, inference profiles, deployments, imports,
//! log delivery sources)
//! list it only when the stack declares such an object or the index lists one of
//! the stack's ([`needs_listing`]); apply waits for the index after creating one,
//! and `import` after adopting one ([`await_indexed`]).

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
        // The most a page may hold by resources (1 to 100) and by tags (100 to
        // 500): a page that meets either limit ends there, and a tag limit of 100
        // ends one after some 25 of the stack's objects.
        .resources_per_page(100)
        .tags_per_page(500)
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

/// Whether a kind (`kind`, with objects of the ARN `types`) must list the region
/// to find the stack's objects. It must when the stack declares one of them (they
/// are found by name in the listing), when everything is read (`export`), or when
/// the tagging index lists one of the stack's objects of those types (`owned`, the
/// ARNs it listed as the stack's): the listing then finds them with the rest.
///
/// Otherwise the stack owns none. AWS documents that `GetResources` covers every
/// resource type but IAM users and roles, and apply waits after each create of
/// such a kind until the index lists the new object ([`await_indexed`]), so an
/// index that lists none of the stack's objects of a type is not one that trails.
pub fn needs_listing<'a>(
    scope: &crate::model::Scope,
    kind: &str,
    owned: impl IntoIterator<Item = &'a String>,
    types: &[&str],
) -> bool {
    scope.everything
        || scope.declares_kind(kind)
        || owned.into_iter().any(|arn| types.contains(&arn_type(arn)))
}

/// How long apply waits for the tagging index to list an object it made.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits until the tagging index lists `arn` (`object` in messages), made with
/// `tags`, as the stack's, so that a plan made right after this apply finds it
/// through the index even once it is no longer declared. The object is made
/// either way: past [`INDEX_WAIT`], or when the index cannot be read, a warning
/// says what a plan may miss until the index catches up.
pub async fn await_indexed(aws: &Aws, arn: &str, tags: &BTreeMap<String, String>, object: &str) {
    let Some(stack) = tags.get(crate::model::TAG_STACK) else {
        return;
    };
    let started = std::time::Instant::now();
    let problem = loop {
        let listed = aws
            .tagging
            .get_resources()
            .resource_arn_list(arn)
            .send()
            .await;
        match listed {
            Ok(page) => {
                let ours = page.resource_tag_mapping_list().iter().any(|m| {
                    m.resource_arn() == Some(arn)
                        && m.tags().iter().any(|t| {
                            t.key() == crate::model::TAG_STACK && t.value() == stack.as_str()
                        })
                });
                if ours {
                    return;
                }
            }
            Err(e) => break classify("tag:GetResources", object, e).to_string(),
        }
        if started.elapsed() >= INDEX_WAIT {
            break format!(
                "the tagging index has not listed it after {} s",
                INDEX_WAIT.as_secs()
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    crate::errln!(
        "warning: {object} is made, but {problem}; until the index lists it, a plan of this stack that no longer declares it will not find it"
    );
}

/// The resource type of an ARN: `custom-model` of
/// `arn:aws:bedrock:REGION:ACCOUNT:custom-model/...`, `delivery-source` of
/// `arn:aws:logs:REGION:ACCOUNT:delivery-source:NAME`.
pub fn arn_type(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource.split(['/', ':']).next().unwrap_or_default()
}

/// The service of an ARN (`arn:PARTITION:SERVICE:...`).
pub fn service_of(arn: &str) -> &str {
    arn.split(':').nth(2).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;

    const GUARDRAIL: &str = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abcdefghijkl";
    const SOURCE: &str = "arn:aws:logs:us-east-1:123456789012:delivery-source:logs-of-demo";

    fn scope() -> Scope {
        Scope {
            stack: "demo".into(),
            ..Scope::default()
        }
    }

    #[test]
    fn a_kind_lists_the_region_only_when_the_stack_may_own_one_of_its_objects() {
        let none: Vec<String> = Vec::new();
        let owned = vec![GUARDRAIL.to_string(), SOURCE.to_string()];
        // Nothing declared, nothing of its types in the index: no listing.
        assert!(!needs_listing(&scope(), "Guardrail", &none, &["guardrail"]));
        assert!(!needs_listing(
            &scope(),
            "InferenceProfile",
            &owned,
            &["application-inference-profile"]
        ));
        // The index lists one of the stack's: list, to find it by name.
        assert!(needs_listing(&scope(), "Guardrail", &owned, &["guardrail"]));
        assert!(needs_listing(
            &scope(),
            "LogDelivery",
            &owned,
            &["delivery-source"]
        ));
        // Declared: found by name in the listing.
        let mut declared = scope();
        declared.declare("Guardrail", "support");
        assert!(needs_listing(&declared, "Guardrail", &none, &["guardrail"]));
        // Another kind declared does not count.
        assert!(!needs_listing(
            &declared,
            "InferenceProfile",
            &none,
            &["application-inference-profile"]
        ));
        // `export` reads everything.
        let everything = Scope {
            everything: true,
            ..scope()
        };
        assert!(needs_listing(
            &everything,
            "Guardrail",
            &none,
            &["guardrail"]
        ));
    }
}
