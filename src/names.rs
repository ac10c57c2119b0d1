//! AWS naming rules, checked offline so a bad name fails in `validate`, not halfway
//! through an apply.

/// Why a name, identifier or tag is not one AWS accepts. Displayed after the
/// name it concerns (`` `bucketName` `Acme` must be ... ``).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be {min} to {max} characters long (it is {len})")]
    Length { min: usize, max: usize, len: usize },
    #[error("is {len} characters; AWS takes at most {max}")]
    TooLong { max: usize, len: usize },
    /// A character the name may not hold, shown escaped when it is invisible.
    #[error("holds `{shown}`, {rule}")]
    Character { shown: String, rule: &'static str },
    /// A rule of the name's pattern, in words.
    #[error("{0}")]
    Rule(&'static str),
    #[error("`{uri}` is not an S3 URI (s3://bucket/key)")]
    NotS3Uri { uri: String },
    #[error("bucket `{bucket}` in `{uri}` {problem}")]
    BucketInUri {
        bucket: String,
        uri: String,
        #[source]
        problem: Box<NameError>,
    },
    #[error("S3 URIs are at most 1024 characters")]
    LongS3Uri,
    #[error("`{arn}` is not an ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)")]
    NotArn { arn: String },
    #[error("`{arn}` is an ARN of service `{found}`, expected `{wanted}`")]
    ArnService {
        arn: String,
        found: String,
        wanted: String,
    },
    #[error("`{arn}` has an account id that is not 12 digits")]
    ArnAccount { arn: String },
    #[error("`{model}` is not a model id or ARN")]
    Model { model: String },
    #[error("`{id}` is not an AWS account id (12 digits)")]
    AccountId { id: String },
    #[error("`{region}` is not an AWS region name")]
    Region { region: String },
    #[error("tag key `{key}` must be 1 to 128 characters")]
    TagKeyLength { key: String },
    #[error("tag key `{key}`: the `{prefix}` prefix is reserved{why}")]
    ReservedTagKey {
        key: String,
        prefix: &'static str,
        why: &'static str,
    },
    #[error("tag `{key}`: values are at most 256 characters")]
    TagValueLength { key: String },
}

fn len_between(text: &str, min: usize, max: usize) -> Result<(), NameError> {
    let len = text.chars().count();
    if len < min || len > max {
        return Err(NameError::Length { min, max, len });
    }
    Ok(())
}

/// `metadata.name`: lowercase letters, digits and hyphens, like a DNS label.
pub fn check_address_name(name: &str) -> Result<(), NameError> {
    len_between(name, 1, 63)?;
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(NameError::Rule(
            "must be lowercase letters, digits and hyphens, not starting or ending with a hyphen",
        ))
    }
}

/// S3 general-purpose bucket names.
pub fn check_bucket_name(name: &str) -> Result<(), NameError> {
    len_between(name, 3, 63)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(NameError::Rule(
            "may hold only lowercase letters, digits, dots and hyphens",
        ));
    }
    let first = name.chars().next().unwrap_or('-');
    let last = name.chars().last().unwrap_or('-');
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(NameError::Rule("must begin and end with a letter or digit"));
    }
    if name.contains("..") {
        return Err(NameError::Rule("must not contain two adjacent dots"));
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err(NameError::Rule("must not be formatted as an IP address"));
    }
    if name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
    {
        return Err(NameError::Rule("uses a prefix or suffix S3 reserves"));
    }
    Ok(())
}

/// IAM role names.
pub fn check_role_name(name: &str) -> Result<(), NameError> {
    len_between(name, 1, 64)?;
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        Ok(())
    } else {
        Err(NameError::Rule(
            "may hold only letters, digits and + = , . @ _ -",
        ))
    }
}

/// IAM paths: `/` or `/a/b/`.
pub fn check_iam_path(path: &str) -> Result<(), NameError> {
    len_between(path, 1, 512)?;
    if !path.starts_with('/') || !path.ends_with('/') || path == "//" {
        return Err(NameError::Rule("must begin and end with `/`"));
    }
    if path.chars().all(|c| ('!'..='~').contains(&c)) {
        Ok(())
    } else {
        Err(NameError::Rule(
            "may hold only printable ASCII without spaces",
        ))
    }
}

/// CloudWatch Logs log group names.
pub fn check_log_group_name(name: &str) -> Result<(), NameError> {
    len_between(name, 1, 512)?;
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
    {
        Ok(())
    } else {
        Err(NameError::Rule(
            "may hold only letters, digits and _ - / . #",
        ))
    }
}

/// Retention periods CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Bedrock job names (`JobName`): `[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*`, 1 to 63
/// characters.
pub fn check_job_name(name: &str) -> Result<(), NameError> {
    len_between(name, 1, 63)?;
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-+.".contains(c));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(NameError::Rule(
            "must start with a letter or digit and hold only letters, digits and - + .",
        ))
    }
}

/// Custom model names (`CustomModelName`: `([0-9a-zA-Z][_-]?){1,63}`), deployment
/// names (`ModelDeploymentName`, the same pattern) and provisioned model names
/// (`ProvisionedModelName`: `([0-9a-zA-Z][_-]?)+`), all
/// 1 to 63 characters: letters and digits, each followed by at most one `_` or `-`.
pub fn check_model_name(name: &str) -> Result<(), NameError> {
    len_between(name, 1, 63)?;
    let mut previous_was_separator = true;
    for c in name.chars() {
        let separator = c == '-' || c == '_';
        if !(c.is_ascii_alphanumeric() || separator) || (separator && previous_was_separator) {
            return Err(NameError::Rule(
                "must start with a letter or digit and hold only letters, digits, and single `-` or `_` between them",
            ));
        }
        previous_was_separator = separator;
    }
    Ok(())
}

/// Custom model deployment descriptions (`CustomModelDeploymentDescription`): 1
/// to 2,048 characters of any kind (`.*`).
pub fn check_deployment_description(text: &str) -> Result<(), NameError> {
    len_between(text, 1, 2048)
}

/// IAM role descriptions (`roleDescriptionType`): at most 1,000 characters of tab,
/// line breaks, printable ASCII and Latin-1.
pub fn check_role_description(text: &str) -> Result<(), NameError> {
    let len = text.chars().count();
    if len > 1000 {
        return Err(NameError::TooLong { max: 1000, len });
    }
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    match text.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(bad) => Err(NameError::Character {
            shown: crate::diag::printable(&bad.to_string()).into_owned(),
            rule: "which IAM does not allow in a role description (printable ASCII and Latin-1 only)",
        }),
    }
}

/// `s3://bucket/key...`
pub fn check_s3_uri(uri: &str) -> Result<(), NameError> {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return Err(NameError::NotS3Uri {
            uri: uri.to_string(),
        });
    };
    let bucket = rest.split('/').next().unwrap_or("");
    check_bucket_name(bucket).map_err(|problem| NameError::BucketInUri {
        bucket: bucket.to_string(),
        uri: uri.to_string(),
        problem: Box::new(problem),
    })?;
    if uri.len() > 1024 {
        return Err(NameError::LongS3Uri);
    }
    Ok(())
}

/// The bucket of an S3 URI.
pub fn s3_bucket(uri: &str) -> Option<&str> {
    uri.strip_prefix("s3://")?.split('/').next()
}

/// A Lambda function's ARN as Bedrock takes it (`LambdaArn`): at most 512
/// characters, `arn:aws:lambda:REGION:ACCOUNT:function:NAME`, with an optional
/// `:$LATEST`, version or alias.
pub fn check_lambda_arn(arn: &str) -> Result<(), NameError> {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:[a-zA-Z0-9\-_.]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?$",
        )
        .expect("a valid pattern")
    });
    len_between(arn, 1, 512)?;
    if PATTERN.is_match(arn) {
        Ok(())
    } else {
        Err(NameError::Rule(
            "is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally :VERSION or :ALIAS)",
        ))
    }
}

/// A SageMaker AI model package's ARN (`ModelPackageArn`).
pub fn check_model_package_arn(arn: &str) -> Result<(), NameError> {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/\S{1,2048}$",
        )
        .expect("a valid pattern")
    });
    if PATTERN.is_match(arn) {
        Ok(())
    } else {
        Err(NameError::Rule(
            "is not a SageMaker model package ARN (arn:aws:sagemaker:REGION:ACCOUNT:model-package/NAME)",
        ))
    }
}

/// A KMS key's ARN (`KmsKeyArn`), no alias.
pub fn check_kms_key_arn(arn: &str) -> Result<(), NameError> {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:key/[a-zA-Z0-9-]{36}$")
            .expect("a valid pattern")
    });
    if PATTERN.is_match(arn) {
        Ok(())
    } else {
        Err(NameError::Rule(
            "is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); CreateCustomModel takes no alias",
        ))
    }
}

/// `arn:partition:service:region:account:resource`.
pub fn check_arn(arn: &str, service: Option<&str>) -> Result<(), NameError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || !matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov")
        || parts[5].is_empty()
    {
        return Err(NameError::NotArn {
            arn: arn.to_string(),
        });
    }
    if let Some(service) = service
        && parts[2] != service
    {
        return Err(NameError::ArnService {
            arn: arn.to_string(),
            found: parts[2].to_string(),
            wanted: service.to_string(),
        });
    }
    // AWS managed policies carry `aws` as their account (arn:aws:iam::aws:policy/...).
    if !parts[4].is_empty()
        && parts[4] != "aws"
        && (parts[4].len() != 12 || !parts[4].chars().all(|c| c.is_ascii_digit()))
    {
        return Err(NameError::ArnAccount {
            arn: arn.to_string(),
        });
    }
    Ok(())
}

/// AWS account ids: 12 digits.
pub fn check_account_id(id: &str) -> Result<(), NameError> {
    if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(NameError::AccountId { id: id.to_string() })
    }
}

/// Region names like `us-east-1`.
pub fn check_region(region: &str) -> Result<(), NameError> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(NameError::Region {
            region: region.to_string(),
        })
    }
}

/// Tag keys and values, as every service here accepts them.
pub fn check_tag(key: &str, value: &str) -> Result<(), NameError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(NameError::TagKeyLength {
            key: key.to_string(),
        });
    }
    if key.starts_with("aws:") {
        return Err(NameError::ReservedTagKey {
            key: key.to_string(),
            prefix: "aws:",
            why: "",
        });
    }
    if key.starts_with("bedform:") {
        return Err(NameError::ReservedTagKey {
            key: key.to_string(),
            prefix: "bedform:",
            why: " for ownership tags",
        });
    }
    if value.chars().count() > 256 {
        return Err(NameError::TagValueLength {
            key: key.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        assert!(check_bucket_name("acme-support-bot-training").is_ok());
        assert!(check_bucket_name("Acme").is_err());
        assert!(check_bucket_name("ab").is_err());
        assert!(check_bucket_name("a..b").is_err());
        assert!(check_bucket_name("192.168.1.1").is_err());
        assert!(check_bucket_name("-abc").is_err());
    }

    #[test]
    fn bedrock_names() {
        assert!(check_job_name("support-bot-1a2b3c4d").is_ok());
        assert!(check_job_name("v1.2+rc--x").is_ok());
        assert!(check_job_name("-x").is_err());
        assert!(check_job_name(&"a".repeat(64)).is_err());
        assert!(check_job_name("has space").is_err());
        assert!(check_model_name("support_bot-1a2b3c4d").is_ok());
        assert!(check_model_name("v1.2").is_err());
        assert!(check_model_name("a--b").is_err());
        assert!(check_model_name("_a").is_err());
    }

    #[test]
    fn arns_and_uris() {
        assert!(check_arn("arn:aws:iam::123456789012:role/x", Some("iam")).is_ok());
        assert!(check_arn("arn:aws:iam::123456789012:role/x", Some("s3")).is_err());
        assert!(check_arn("not-an-arn", None).is_err());
        assert!(check_arn("arn:aws:iam::12345:role/x", None).is_err());
        assert!(check_arn("arn:aws:iam::aws:policy/ReadOnlyAccess", Some("iam")).is_ok());
        assert!(check_s3_uri("s3://bucket-name/prefix/").is_ok());
        assert!(check_s3_uri("https://bucket/x").is_err());
        assert!(check_s3_uri("s3://B/x").is_err());
    }

    #[test]
    fn misc() {
        assert!(check_role_name("bedrock-distillation").is_ok());
        assert!(check_role_name("bad name").is_err());
        assert!(check_log_group_name("/bedrock/model-invocations").is_ok());
        assert!(check_log_group_name("bad name").is_err());
        assert!(check_iam_path("/service-role/").is_ok());
        assert!(check_iam_path("service-role").is_err());
        assert!(check_region("us-east-1").is_ok());
        assert!(check_region("useast1").is_err());
        assert!(check_account_id("123456789012").is_ok());
        assert!(check_account_id("1234").is_err());
        assert!(check_tag("bedform:x", "v").is_err());
    }
}
