//! Smoke checks: a prompt sent to what serves a model (a provisioned throughput, an
//! on-demand deployment) through the Bedrock Runtime Converse API, and what the
//! answer must satisfy (an expected substring, a latency limit); and a
//! guardrail's tests ([`crate::kinds::guardrail::testing`]). `bedform check`
//! runs them; `apply --wait` runs those of the objects it created or changed. A
//! check only reads: it changes nothing in the account, and it is no part of the
//! object's spec (it never causes a change).

use std::collections::BTreeSet;
use std::time::Instant;

use crate::cloud::Cloud;
use crate::kinds::Kind;
use crate::model::{Address, DesiredStack, ObservedAccount, ObservedResource, TAG_ADDRESS};

/// Longest excerpt of an answer shown when the expected text is missing.
const EXCERPT_CHARS: usize = 120;

pub use crate::model::check::{Answer, DEFAULT_MAX_TOKENS, SmokeCheck};

/// How one throughput's check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed {
        latency_ms: u64,
    },
    /// The model answered, but not as the check requires.
    Failed {
        latency_ms: u64,
        reasons: Vec<String>,
    },
    /// The request itself failed.
    Error {
        error: String,
    },
    /// Not run, and why.
    Skipped {
        reason: String,
    },
}

/// One throughput's check result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub address: Address,
    /// The provisioned model checked, when one was found.
    pub aws_name: Option<String>,
    pub verdict: Verdict,
}

impl CheckResult {
    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Failed { .. } | Verdict::Error { .. })
    }

    /// `ProvisionedThroughput/support-bot (support-bot-1a2b3c4d): passed in 230 ms`.
    pub fn line(&self) -> String {
        let label = match &self.aws_name {
            Some(name) if *name != self.address.name => format!("{} ({name})", self.address),
            _ => self.address.to_string(),
        };
        match &self.verdict {
            Verdict::Passed { latency_ms } => format!("{label}: passed in {latency_ms} ms"),
            Verdict::Failed {
                latency_ms,
                reasons,
            } => format!("{label}: FAILED in {latency_ms} ms: {}", reasons.join("; ")),
            Verdict::Error { error } => format!("{label}: FAILED: {error}"),
            Verdict::Skipped { reason } => format!("{label}: skipped, {reason}"),
        }
    }
}

/// Judges an answer that took `latency_ms` against the check.
pub fn judge(check: &SmokeCheck, answer: &Answer, latency_ms: u64) -> Verdict {
    let mut reasons = Vec::new();
    if let Some(expected) = &check.expect
        && !answer.text.contains(expected.as_str())
    {
        let stopped = match answer.stop_reason.as_deref() {
            Some("max_tokens") => format!(
                " (the answer was cut at maxTokens {}; a larger `maxTokens` may let it through)",
                check.max_tokens
            ),
            _ => String::new(),
        };
        reasons.push(format!(
            "the answer does not contain {expected:?}; {}{stopped}",
            excerpt(&answer.text)
        ));
    }
    if let Some(limit) = check.max_latency_ms
        && latency_ms > limit
    {
        reasons.push(format!(
            "it took {latency_ms} ms, over the limit of {limit} ms (`maxLatencyMs`)"
        ));
    }
    if reasons.is_empty() {
        Verdict::Passed { latency_ms }
    } else {
        Verdict::Failed {
            latency_ms,
            reasons,
        }
    }
}

/// The answer, or its start when it is long, on one line and quoted.
fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "the answer is empty".to_string();
    }
    let short: String = flat.chars().take(EXCERPT_CHARS).collect();
    if short.len() < flat.len() {
        format!("it begins {:?}", format!("{short}…"))
    } else {
        format!("it reads {short:?}")
    }
}

/// The object that serves a declared resource: the one carrying its address
/// tag, preferring one ready under the declared name (during a replacement two
/// exist); else an object of that name.
fn serving<'a>(
    observed: &'a ObservedAccount,
    stack: &str,
    address: &'a Address,
    aws_name: &str,
    ready_status: &str,
) -> Option<&'a ObservedResource> {
    let address_text = address.to_string();
    let mut owned: Vec<&ObservedResource> = observed
        .of_kind(&address.kind)
        .filter(|o| o.owned_by(stack) && o.tag(TAG_ADDRESS) == Some(address_text.as_str()))
        .collect();
    owned.sort_by_key(|o| {
        (
            o.status.as_deref() != Some(ready_status),
            o.aws_name != aws_name,
        )
    });
    owned
        .first()
        .copied()
        .or_else(|| observed.find(&address.kind, aws_name))
}

/// Runs the checks of the declared throughputs (all of them, or only those in
/// `only`) against the account as `observed`, one after another so that one
/// check's latency is not another's. Reads only.
pub async fn run(
    cloud: &dyn Cloud,
    desired: &DesiredStack,
    observed: &ObservedAccount,
    only: Option<&BTreeSet<Address>>,
) -> Vec<CheckResult> {
    let stack = desired.stack.name.as_str();
    let unavailable = cloud.inference_unavailable();
    let mut results = Vec::new();
    for (resource, inference) in desired
        .resources
        .iter()
        .filter_map(|r| {
            let inference = Kind::parse(&r.address.kind)?.facts().inference.as_ref()?;
            Some((r, inference))
        })
        .filter(|(r, _)| only.is_none_or(|only| only.contains(&r.address)))
    {
        let skipped = |aws_name: Option<&str>, reason: String| CheckResult {
            address: resource.address.clone(),
            aws_name: aws_name.map(str::to_string),
            verdict: Verdict::Skipped { reason },
        };
        let Some(check) = &resource.check else {
            results.push(skipped(None, "no check declared".into()));
            continue;
        };
        let ready = inference.ready_status;
        let Some(found) = serving(
            observed,
            stack,
            &resource.address,
            &resource.aws_name,
            ready,
        ) else {
            results.push(skipped(None, "it is not created yet".into()));
            continue;
        };
        let name = Some(found.aws_name.as_str());
        if !found.owned_by(stack) {
            results.push(skipped(
                name,
                format!(
                    "`{}` exists but is not managed by this stack",
                    found.aws_name
                ),
            ));
            continue;
        }
        let status = found.status.as_deref().unwrap_or("unknown");
        if status != ready {
            results.push(skipped(name, format!("it is {status}, not {ready}")));
            continue;
        }
        if let Some(why) = unavailable {
            results.push(skipped(name, why.to_string()));
            continue;
        }
        let Some(arn) = found.arn.as_deref() else {
            results.push(skipped(name, "its ARN is unknown".into()));
            continue;
        };
        let started = Instant::now();
        let answer = cloud
            .converse(arn, &found.aws_name, &check.prompt, check.max_tokens)
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let verdict = match answer {
            Ok(answer) => judge(check, &answer, latency_ms),
            // AccessDenied names the action the check needs (`bedrock:InvokeModel`).
            Err(e) => Verdict::Error {
                error: e.to_string(),
            },
        };
        results.push(CheckResult {
            address: resource.address.clone(),
            aws_name: name.map(str::to_string),
            verdict,
        });
    }
    // Guardrails with tests: their texts through ApplyGuardrail.
    for resource in desired
        .resources
        .iter()
        .filter(|r| !r.guardrail_tests.is_empty() && !r.absent)
        .filter(|r| only.is_none_or(|only| only.contains(&r.address)))
    {
        results.push(crate::kinds::guardrail::testing::run(cloud, resource, observed, stack).await);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expect: Option<&str>, max_latency_ms: Option<u64>) -> SmokeCheck {
        SmokeCheck {
            prompt: "Say hello".into(),
            expect: expect.map(str::to_string),
            max_latency_ms,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }

    fn answer(text: &str) -> Answer {
        Answer {
            text: text.into(),
            stop_reason: Some("end_turn".into()),
        }
    }

    #[test]
    fn an_answer_with_the_expected_text_in_time_passes() {
        assert_eq!(
            judge(
                &check(Some("hello"), Some(500)),
                &answer("well, hello"),
                120
            ),
            Verdict::Passed { latency_ms: 120 }
        );
    }

    #[test]
    fn a_missing_substring_fails_with_an_excerpt() {
        let long = format!("Bonjour\n{}", "x".repeat(300));
        let Verdict::Failed { reasons, .. } = judge(&check(Some("hello"), None), &answer(&long), 5)
        else {
            panic!("expected a failure");
        };
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].contains("does not contain \"hello\""),
            "{reasons:?}"
        );
        assert!(
            reasons[0].contains("it begins \"Bonjour xxx"),
            "{reasons:?}"
        );
        assert!(reasons[0].contains('…'), "{reasons:?}");
        assert!(reasons[0].len() < 250, "{reasons:?}");
    }

    #[test]
    fn a_slow_answer_fails_and_both_reasons_are_given() {
        let Verdict::Failed { reasons, .. } =
            judge(&check(Some("hello"), Some(100)), &answer("nope"), 101)
        else {
            panic!("expected a failure");
        };
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[1].contains("101 ms, over the limit of 100 ms"));
    }

    #[test]
    fn a_cut_answer_says_so() {
        let cut = Answer {
            text: "Well".into(),
            stop_reason: Some("max_tokens".into()),
        };
        let Verdict::Failed { reasons, .. } = judge(&check(Some("hello"), None), &cut, 1) else {
            panic!("expected a failure");
        };
        assert!(reasons[0].contains("cut at maxTokens 64"), "{reasons:?}");
    }
}
