//! The connection to AWS through the official SDK for Rust: the clients, the
//! credentials and retry settings, error classification, and what every kind's
//! AWS face shares (tags, the tagging index). What is read and written for each
//! kind is in its folder (`kinds/<kind>/aws.rs`); [`crate::account::aws`] puts
//! them together behind [`crate::cloud::Cloud`].

pub mod bedrock;
pub mod errors;
pub mod price_list;
mod request_log;
mod runtime;
pub mod tagged;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use crate::cloud::error::{CloudError, ErrorClass};
use crate::model::Scope;
pub use errors::classify;
pub use runtime::{apply_guardrail, converse};

/// How many reads run at once.
pub const READ_CONCURRENCY: usize = 8;

/// The most one page of a CloudWatch Logs `Describe*` listing may hold (the
/// `limit` maximum of DescribeLogGroups, DescribeDeliverySources and
/// DescribeDeliveries); asked for explicitly, since only DescribeLogGroups
/// documents its default.
pub const LOGS_PAGE: i32 = 50;

/// Where and as whom to connect.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    pub region: String,
    pub profile: Option<String>,
    /// An emulator's endpoint (S3 then uses path-style addressing).
    pub endpoint_url: Option<String>,
}

/// Where the Price List Query API is asked (its endpoints are in a few regions
/// and each answers for all).
pub const PRICE_LIST_REGION: &str = "us-east-1";

pub struct Aws {
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) tagging: aws_sdk_resourcegroupstagging::Client,
    pub(crate) bedrock: aws_sdk_bedrock::Client,
    pub(crate) runtime: aws_sdk_bedrockruntime::Client,
    /// The Price List Query API, which answers from us-east-1 for every region.
    pub(crate) pricing: aws_sdk_pricing::Client,
    pub(crate) region: String,
    /// The shared-config profile asked for, for messages.
    profile: Option<String>,
    /// An endpoint URL was given: the other end may be an emulator.
    pub(crate) emulator: bool,
    account: tokio::sync::OnceCell<String>,
}

impl Aws {
    /// Loads the standard credential chain (environment, profiles, SSO, IMDS).
    pub async fn connect(settings: &AwsSettings) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(settings.region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(retry) = default_retry(std::env::var("AWS_RETRY_MODE").ok().as_deref()) {
            loader = loader.retry_config(retry);
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &settings.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        // Every client logs its requests (at `--log-level debug`).
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .interceptor(request_log::RequestLog)
                        .build(),
                )
            };
        }
        let pricing_config = aws_sdk_pricing::config::Builder::from(&config)
            .region(aws_config::Region::new(PRICE_LIST_REGION))
            .interceptor(request_log::RequestLog)
            .build();
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(settings.endpoint_url.is_some())
            .interceptor(request_log::RequestLog)
            .build();
        Aws {
            sts: client!(aws_sdk_sts),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            iam: client!(aws_sdk_iam),
            logs: client!(aws_sdk_cloudwatchlogs),
            tagging: client!(aws_sdk_resourcegroupstagging),
            bedrock: client!(aws_sdk_bedrock),
            runtime: client!(aws_sdk_bedrockruntime),
            pricing: aws_sdk_pricing::Client::from_conf(pricing_config),
            region: settings.region.clone(),
            profile: settings.profile.clone(),
            emulator: settings.endpoint_url.is_some(),
            account: tokio::sync::OnceCell::new(),
        }
    }

    pub(crate) async fn account(&self) -> Result<String, CloudError> {
        self.account
            .get_or_try_init(|| async {
                let identity = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| {
                        let mut e = classify("sts:GetCallerIdentity", "the caller", e);
                        // Name the profile asked for: it may not exist or have no keys.
                        if let Some(profile) = &self.profile
                            && e.message.starts_with("no AWS credentials found")
                        {
                            e.message = format!(
                                "no AWS credentials found for profile `{profile}` (is it in ~/.aws/config or ~/.aws/credentials, or does it need `aws sso login --profile {profile}`?); `--sandbox` needs none"
                            );
                        }
                        e
                    })?;
                identity.account().map(str::to_string).ok_or_else(|| {
                    CloudError::new(
                        ErrorClass::Fatal,
                        "sts:GetCallerIdentity",
                        "the response has no account id",
                    )
                })
            })
            .await
            .cloned()
    }
}

/// The retry settings bedform sets, unless `AWS_RETRY_MODE` (the SDK's own
/// setting) chooses: standard mode, four attempts. Standard rather than adaptive by
/// default: adaptive's client-side rate limiter measures the low send rate of a
/// CLI and answers one throttling error with pauses of up to 20 s on every later
/// request, and apply retries operations itself. `AWS_RETRY_MODE=adaptive`
/// selects it all the same.
fn default_retry(retry_mode_env: Option<&str>) -> Option<RetryConfig> {
    match retry_mode_env {
        Some(mode) if !mode.trim().is_empty() => None,
        _ => Some(RetryConfig::standard().with_max_attempts(4)),
    }
}

/// Tags as a sorted map.
pub(crate) fn tag_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A create found its object already there. bedform carries on configuring it only
/// when it is this stack's object at this address (made by an earlier apply that
/// was cut off); anything else belongs to someone else and is left untouched.
/// `found` holds the object's tags, or none when it vanished in between.
pub(crate) fn ensure_ours(
    operation: &str,
    object: &str,
    declared: &BTreeMap<String, String>,
    found: Option<&BTreeMap<String, String>>,
) -> Result<(), CloudError> {
    use crate::model::{TAG_ADDRESS, TAG_STACK};
    let Some(found) = found else {
        return Err(CloudError::new(
            ErrorClass::Conflict,
            operation,
            format!("{object} was reported to exist, then could not be found; run apply again"),
        ));
    };
    let owner = |key: &str| found.get(key).map(String::as_str);
    let mine = [TAG_STACK, TAG_ADDRESS].iter().all(|key| {
        declared
            .get(*key)
            .is_some_and(|v| owner(key) == Some(v.as_str()))
    });
    if mine {
        return Ok(());
    }
    let whose = match (owner(TAG_STACK), owner(TAG_ADDRESS)) {
        (None, _) => "it carries no bedform:stack tag".to_string(),
        (Some(stack), address) => format!(
            "it is tagged bedform:stack={stack}, bedform:address={}",
            address.unwrap_or("(none)")
        ),
    };
    Err(CloudError::new(
        ErrorClass::Conflict,
        operation,
        format!(
            "{object} already exists and is not managed by this stack ({whose}); \
             bedform changed nothing on it. Adopt it with `bedform import` or declare another name"
        ),
    ))
}

/// The keys to remove so that an object carrying `current` tags ends up with
/// exactly `wanted` (declared tags are authoritative).
pub(crate) fn stale_tag_keys<'a>(
    current: impl IntoIterator<Item = &'a str>,
    wanted: &BTreeMap<String, String>,
) -> Vec<String> {
    current
        .into_iter()
        .filter(|k| !wanted.contains_key(*k))
        .map(str::to_string)
        .collect()
}

/// The current UTC time in RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn smithy_time(t: &aws_smithy_types::DateTime) -> String {
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// What one observation shares between the kinds it reads: the scope, and the
/// index of the stack's Bedrock objects, read once for all Bedrock kinds.
pub struct Reads<'a> {
    pub scope: &'a Scope,
    owned: tokio::sync::OnceCell<BTreeMap<String, BTreeMap<String, String>>>,
    bedrock: tokio::sync::OnceCell<bedrock::TagIndex>,
}

impl<'a> Reads<'a> {
    pub fn new(scope: &'a Scope) -> Reads<'a> {
        Reads {
            scope,
            owned: tokio::sync::OnceCell::new(),
            bedrock: tokio::sync::OnceCell::new(),
        }
    }

    /// Tags by ARN of the stack's objects of `service` (one of
    /// [`tagged::SERVICES`]), from the tagging index: one paged read for all the
    /// services, per observation.
    pub async fn owned(
        &self,
        aws: &Aws,
        service: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, CloudError> {
        let all = self
            .owned
            .get_or_try_init(|| tagged::owned(aws, &self.scope.stack, tagged::SERVICES))
            .await?;
        Ok(all
            .iter()
            .filter(|(arn, _)| tagged::service_of(arn) == service)
            .map(|(arn, tags)| (arn.clone(), tags.clone()))
            .collect())
    }

    /// The stack's Bedrock objects with their tags.
    pub async fn bedrock_index(&self, aws: &Aws) -> Result<&bedrock::TagIndex, CloudError> {
        self.bedrock
            .get_or_try_init(|| async {
                Ok(bedrock::TagIndex::new(self.owned(aws, "bedrock").await?))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryMode;

    #[test]
    fn standard_retries_unless_the_sdk_setting_chooses() {
        let standard = default_retry(None).expect("bedform's default");
        assert_eq!(standard.mode(), RetryMode::Standard);
        assert_eq!(standard.max_attempts(), 4);
        assert!(default_retry(Some("")).is_some());
        // The SDK reads AWS_RETRY_MODE itself when bedform sets nothing.
        assert!(default_retry(Some("adaptive")).is_none());
    }
}
