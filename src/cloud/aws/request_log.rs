//! Every AWS request bedform sends, logged at `debug` (`--log-level debug`): the
//! service and operation, where it went, the answer's status, how long it took and
//! which attempt it was. Only those: no header (credentials, signatures), no query
//! string and no body (a use-case form, a policy) is ever logged.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor every client of [`super::Aws`] carries.
#[derive(Debug, Default)]
pub struct RequestLog;

/// When the current attempt was sent, and where.
#[derive(Debug, Clone)]
struct Sent {
    at: Instant,
    target: String,
}

impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "bedform request log"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = target(context.request().uri()).to_string();
        cfg.interceptor_state().store_put(Sent {
            at: Instant::now(),
            target,
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return Ok(());
        }
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_default();
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        let (ms, target) = cfg
            .load::<Sent>()
            .map(|sent| (sent.at.elapsed().as_millis(), sent.target.as_str()))
            .unwrap_or_default();
        match context.response() {
            Some(response) => tracing::debug!(
                target: "bedform::aws",
                "{service} {operation} {target}: {} in {ms} ms (attempt {attempt})",
                response.status().as_u16()
            ),
            None => tracing::debug!(
                target: "bedform::aws",
                "{service} {operation} {target}: no answer after {ms} ms (attempt {attempt})"
            ),
        }
        Ok(())
    }
}

/// `https://host/path` of a request URI, without its query string.
fn target(uri: &str) -> &str {
    uri.split(['?', '#']).next().unwrap_or(uri)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_target_leaves_the_query_out() {
        assert_eq!(
            super::target("https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc"),
            "https://bucket.s3.amazonaws.com/key"
        );
        assert_eq!(
            super::target("https://iam.amazonaws.com/"),
            "https://iam.amazonaws.com/"
        );
    }
}
