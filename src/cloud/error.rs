//! What an account answers when an operation fails, classified once for every
//! caller (retry, queue, report).

use std::sync::Arc;

/// How an error is handled, decided in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Rate limited: retry with backoff.
    Throttling,
    /// 5xx, connection reset, timeout: retry with backoff.
    Transient,
    /// A role just created is not assumable yet: retry for up to two minutes.
    IamPropagation,
    /// The account's quota is full (customization jobs): queue, not fail.
    QuotaExceeded,
    /// The object is in a state that forbids the operation.
    Conflict,
    NotFound,
    AccessDenied,
    Validation,
    Fatal,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::Throttling | ErrorClass::Transient | ErrorClass::IamPropagation
        )
    }
}

/// An error from the account, naming the operation and object it concerns.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct CloudError {
    pub class: ErrorClass,
    /// What was attempted, e.g. `CreateModelCustomizationJob support-distilled-1a2b3c4d`.
    pub operation: String,
    pub message: String,
    /// The SDK's error it was classified from, kept whole for whoever needs more
    /// than the message (the code, the request id, the HTTP response).
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl CloudError {
    pub fn new(
        class: ErrorClass,
        operation: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CloudError {
            class,
            operation: operation.into(),
            message: message.into(),
            source: None,
        }
    }

    /// A read of one object that found none: nothing, not an error.
    pub fn absent_if_not_found<T>(self) -> Result<Option<T>, CloudError> {
        if self.class == ErrorClass::NotFound {
            Ok(None)
        } else {
            Err(self)
        }
    }

    /// The same error, keeping `source` as its cause.
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}
