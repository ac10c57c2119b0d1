//! Turning SDK errors into errors people can act on, classified once for retries.

use aws_sdk_sts::error::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::cloud::error::{CloudError, ErrorClass};

/// Classifies an SDK error from `operation` (an IAM-style action name such as
/// `bedrock:CreateModelCustomizationJob`) on `object`.
pub fn classify<E>(operation: &str, object: &str, error: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let what = format!("{operation} on {object}");
    let classified = match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let status = service.raw().status().as_u16();
            match err.code() {
                Some(code) => {
                    describe(operation, object, code, err.message().unwrap_or(""), status)
                }
                // No error code: the response itself could not be read.
                None => CloudError::new(
                    class_of("", "", status),
                    what,
                    format!("HTTP {status}: {}", DisplayChain(err)),
                ),
            }
        }
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => CloudError::new(
            ErrorClass::Transient,
            what,
            format!("{}", DisplayChain(&error)),
        ),
        SdkError::DispatchFailure(failure) => {
            if failure.is_io() || failure.is_timeout() {
                CloudError::new(
                    ErrorClass::Transient,
                    what,
                    format!("{}", DisplayChain(&error)),
                )
            } else {
                let text = format!("{}", DisplayChain(&error));
                if text.contains("credentials") {
                    CloudError::new(
                        ErrorClass::Fatal,
                        what,
                        "no AWS credentials found: set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or sign in with `aws sso login`; `--sandbox` needs none",
                    )
                } else {
                    CloudError::new(ErrorClass::Fatal, what, text)
                }
            }
        }
        _ => CloudError::new(ErrorClass::Fatal, what, format!("{}", DisplayChain(&error))),
    };
    classified.caused_by(error)
}

/// An answer with no AWS error code and status 404, 500 or 501: an emulator
/// without the operation. A gateway's 502, 503 or 504 is not: the service behind
/// it may well hold objects. Only ever consulted when an endpoint URL is set.
pub fn is_unimplemented<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            service.err().code().is_none() && matches!(status, 404 | 500 | 501)
        }
        _ => false,
    }
}

/// The body of an answer the SDK could not read, as text, when it was read whole.
pub fn unread_body<E>(error: &SdkError<E, HttpResponse>) -> Option<String> {
    match error {
        SdkError::ServiceError(service) => service
            .raw()
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// A 2xx answer whose body could not be read (no error code).
pub fn is_unreadable<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::ServiceError(service) => {
            service.err().code().is_none() && service.raw().status().is_success()
        }
        _ => false,
    }
}

/// The error for an AWS error code and message from `operation` on `object`.
pub fn describe(
    operation: &str,
    object: &str,
    code: &str,
    message: &str,
    status: u16,
) -> CloudError {
    let class = class_of(code, message, status);
    let text = match class {
        ErrorClass::AccessDenied => {
            format!("{code}: {message} (the credentials are not allowed `{operation}` on {object})")
        }
        _ if message.is_empty() => code.to_string(),
        _ => format!("{code}: {message}"),
    };
    CloudError::new(class, format!("{operation} on {object}"), text)
}

/// The class of an error by its code and message (and the raw status line).
pub fn class_of(code: &str, message: &str, status: u16) -> ErrorClass {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "SlowDown"
        | "RequestLimitExceeded"
        | "LimitExceededException"
            if !message.contains("quota") =>
        {
            ErrorClass::Throttling
        }
        "ServiceQuotaExceededException" => ErrorClass::QuotaExceeded,
        "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "InternalServerException"
        | "InternalFailure"
        | "InternalError"
        | "ServiceFailure" => ErrorClass::Transient,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            ErrorClass::AccessDenied
        }
        "ConflictException"
        | "ResourceInUseException"
        | "BucketNotEmpty"
        | "EntityAlreadyExists"
        | "ResourceAlreadyExistsException"
        | "BucketAlreadyExists"
        | "BucketAlreadyOwnedByYou"
        | "DeleteConflict"
        | "OperationAbortedException" => ErrorClass::Conflict,
        "ResourceNotFoundException"
        | "NoSuchEntity"
        | "NoSuchBucket"
        | "NotFound"
        | "NoSuchBucketPolicy"
        | "NoSuchTagSet"
        | "ServerSideEncryptionConfigurationNotFoundError"
        | "NoSuchPublicAccessBlockConfiguration" => ErrorClass::NotFound,
        "ValidationException"
        | "InvalidParameterException"
        | "InvalidParameterValue"
        | "InvalidInput"
        | "MalformedPolicyDocument"
        | "InvalidBucketName"
        | "InvalidArgument" => {
            if is_iam_propagation(message) {
                ErrorClass::IamPropagation
            } else {
                ErrorClass::Validation
            }
        }
        _ if status == 429 => ErrorClass::Throttling,
        _ if (500..600).contains(&status) => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    }
}

/// Messages AWS gives while a new role is not yet assumable.
pub fn is_iam_propagation(message: &str) -> bool {
    message.contains("Could not assume provided IAM role")
        || message.contains("Failed to validate permissions for log group")
        || message.contains("cannot be assumed")
}

/// An error with its sources, on one line.
struct DisplayChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_error_is_kept_as_the_source() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let sdk: SdkError<GetCallerIdentityError, HttpResponse> =
            SdkError::timeout_error("no answer in 60 s");
        let e = classify("sts:GetCallerIdentity", "the caller", sdk);
        assert_eq!(e.class, ErrorClass::Transient);
        let source = std::error::Error::source(&e).expect("the SDK error");
        assert!(source.to_string().contains("timed out"), "{source}");
    }

    #[test]
    fn access_denied_names_the_action_and_object() {
        let e = describe(
            "bedrock:CreateProvisionedModelThroughput",
            "provisioned throughput serve",
            "AccessDeniedException",
            "User is not authorized",
            403,
        );
        assert_eq!(e.class, ErrorClass::AccessDenied);
        assert_eq!(
            e.to_string(),
            "bedrock:CreateProvisionedModelThroughput on provisioned throughput serve: AccessDeniedException: User is not authorized (the credentials are not allowed `bedrock:CreateProvisionedModelThroughput` on provisioned throughput serve)"
        );
        let v = describe(
            "bedrock:CreateModelCustomizationJob",
            "customization job j",
            "ValidationException",
            "Could not assume provided IAM role arn:x",
            400,
        );
        assert_eq!(v.class, ErrorClass::IamPropagation);
    }

    #[test]
    fn classes() {
        assert_eq!(
            class_of("ThrottlingException", "Rate exceeded", 400),
            ErrorClass::Throttling
        );
        assert_eq!(
            class_of("ServiceQuotaExceededException", "", 400),
            ErrorClass::QuotaExceeded
        );
        assert_eq!(
            class_of(
                "ValidationException",
                "Could not assume provided IAM role arn:aws:iam::1:role/x",
                400
            ),
            ErrorClass::IamPropagation
        );
        assert_eq!(
            class_of("ValidationException", "bad field", 400),
            ErrorClass::Validation
        );
        assert_eq!(class_of("ConflictException", "", 409), ErrorClass::Conflict);
        assert_eq!(
            class_of("AccessDeniedException", "", 403),
            ErrorClass::AccessDenied
        );
        assert_eq!(class_of("Weird", "", 503), ErrorClass::Transient);
    }

    fn answer(
        status: u16,
        body: &str,
    ) -> SdkError<aws_sdk_bedrock::operation::list_provisioned_model_throughputs::ListProvisionedModelThroughputsError, HttpResponse>{
        use aws_sdk_bedrock::operation::list_provisioned_model_throughputs::ListProvisionedModelThroughputsError;
        use aws_smithy_types::error::ErrorMetadata;
        let raw = HttpResponse::new(
            status.try_into().expect("a valid status"),
            aws_smithy_types::body::SdkBody::from(body),
        );
        SdkError::service_error(
            ListProvisionedModelThroughputsError::generic(ErrorMetadata::builder().build()),
            raw,
        )
    }

    #[test]
    fn only_an_emulator_missing_the_operation_counts_as_unimplemented() {
        assert!(is_unimplemented(&answer(
            500,
            "<h1>Internal Server Error</h1>"
        )));
        assert!(is_unimplemented(&answer(404, "")));
        // A gateway in front of a real service: the objects behind it exist.
        for status in [502, 503, 504] {
            assert!(
                !is_unimplemented(&answer(status, "Bad Gateway")),
                "{status}"
            );
        }
        assert_eq!(
            unread_body(&answer(200, "<Status>Enabled</Status>")).as_deref(),
            Some("<Status>Enabled</Status>")
        );
    }
}
