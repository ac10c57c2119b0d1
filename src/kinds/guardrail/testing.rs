//! Guardrail tests: each declared text sent through the guardrail with the
//! Bedrock Runtime `ApplyGuardrail` API, and what the guardrail did with it held
//! to what the test expects. `bedform check` runs them, and `apply --wait` runs
//! those of the guardrails it changed; a failed test is reported like a failed
//! smoke check, with the text, what was expected, what the guardrail did and
//! which policy acted. The version tested is the newest one bedform published
//! when the guardrail publishes versions, else the DRAFT.

use std::time::Instant;

use crate::check::{CheckResult, Verdict};
use crate::cloud::Cloud;
use crate::model::check::{GuardrailExpectation, GuardrailOutcome, GuardrailTest};
use crate::model::{DesiredResource, ObservedAccount};

/// What the guardrail did, for a message: `topicPolicy topic "x" BLOCKED it`.
fn did(outcome: &GuardrailOutcome) -> String {
    if outcome.acted.is_empty() {
        return "no policy acted on it".into();
    }
    outcome
        .acted
        .iter()
        .map(|a| format!("{} `{}` {} it", a.policy, a.what, a.action))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `outcome` fails `test`, if it does.
pub fn judge(index: usize, test: &GuardrailTest, outcome: &GuardrailOutcome) -> Option<String> {
    let passed = match test.expect {
        GuardrailExpectation::Blocked => outcome.blocked(),
        GuardrailExpectation::Allowed => !outcome.blocked(),
        GuardrailExpectation::Anonymized => !outcome.blocked() && outcome.anonymized(),
    };
    (!passed).then(|| {
        format!(
            "{}: expected {}, but {}",
            super::test_label(index, test),
            test.expect.as_str(),
            did(outcome)
        )
    })
}

/// Runs the tests of the declared guardrail `resource` against the account as
/// `observed`. Reads only.
pub async fn run(
    cloud: &dyn Cloud,
    resource: &DesiredResource,
    observed: &ObservedAccount,
    stack: &str,
) -> CheckResult {
    let result = |aws_name: Option<String>, verdict: Verdict| CheckResult {
        address: resource.address.clone(),
        aws_name,
        verdict,
    };
    let skipped =
        |aws_name: Option<String>, reason: String| result(aws_name, Verdict::Skipped { reason });
    let Some(found) = observed.find(super::KIND, &resource.aws_name) else {
        return skipped(None, "it is not created yet".into());
    };
    if !found.owned_by(stack) {
        return skipped(
            Some(found.aws_name.clone()),
            format!(
                "`{}` exists but is not managed by this stack",
                found.aws_name
            ),
        );
    }
    let status = found.status.as_deref().unwrap_or("unknown");
    if status != super::READY {
        return skipped(
            Some(found.aws_name.clone()),
            format!("it is {status}, not {}", super::READY),
        );
    }
    let version = match super::versions(found).last() {
        Some((n, _)) if resource.attrs.get("publishVersion") == Some(&true.into()) => n.to_string(),
        _ => "DRAFT".to_string(),
    };
    let label = Some(format!("{} version {version}", found.aws_name));
    if let Some(why) = cloud.guardrails_unavailable() {
        return skipped(label, why.to_string());
    }
    let Some(id) = super::aws::id_of(found) else {
        return skipped(label, "its id is unknown".into());
    };
    let started = Instant::now();
    let mut reasons = Vec::new();
    for (index, test) in resource.guardrail_tests.iter().enumerate() {
        match cloud
            .apply_guardrail(id, &version, &found.aws_name, test.source, &test.input)
            .await
        {
            Ok(outcome) => reasons.extend(judge(index, test, &outcome)),
            Err(e) => {
                return result(
                    label,
                    Verdict::Error {
                        error: format!("{}: {e}", super::test_label(index, test)),
                    },
                );
            }
        }
    }
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if reasons.is_empty() {
        result(label, Verdict::Passed { latency_ms })
    } else {
        result(
            label,
            Verdict::Failed {
                latency_ms,
                reasons,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check::{GuardrailSource, PolicyAction};

    fn test(expect: GuardrailExpectation) -> GuardrailTest {
        GuardrailTest {
            input: "Which stocks should I buy?".into(),
            expect,
            source: GuardrailSource::Input,
        }
    }

    fn outcome(acted: &[(&str, &str, &str)]) -> GuardrailOutcome {
        GuardrailOutcome {
            action: if acted.is_empty() {
                "NONE".into()
            } else {
                "GUARDRAIL_INTERVENED".into()
            },
            acted: acted
                .iter()
                .map(|(policy, what, action)| PolicyAction {
                    policy: policy.to_string(),
                    what: what.to_string(),
                    action: action.to_string(),
                })
                .collect(),
            output: None,
        }
    }

    #[test]
    fn a_block_passes_blocked_and_fails_allowed_naming_the_policy() {
        let blocked = outcome(&[("topicPolicy", "investment-advice", "BLOCKED")]);
        assert_eq!(
            judge(0, &test(GuardrailExpectation::Blocked), &blocked),
            None
        );
        let reason = judge(1, &test(GuardrailExpectation::Allowed), &blocked).unwrap();
        assert_eq!(
            reason,
            "test 2 (\"Which stocks should I buy?\"): expected allowed, but topicPolicy `investment-advice` BLOCKED it"
        );
    }

    #[test]
    fn nothing_acting_fails_blocked_and_masking_counts_as_allowed() {
        let none = outcome(&[]);
        let reason = judge(0, &test(GuardrailExpectation::Blocked), &none).unwrap();
        assert!(
            reason.ends_with("expected blocked, but no policy acted on it"),
            "{reason}"
        );
        let masked = outcome(&[("sensitiveInformationPolicy", "EMAIL", "ANONYMIZED")]);
        assert_eq!(
            judge(0, &test(GuardrailExpectation::Allowed), &masked),
            None
        );
        assert_eq!(
            judge(0, &test(GuardrailExpectation::Anonymized), &masked),
            None
        );
        assert!(judge(0, &test(GuardrailExpectation::Anonymized), &none).is_some());
    }
}
