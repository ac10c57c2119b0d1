//! What must hold before apply sends anything: no refused change, something to
//! do, no commitment purchase without `--allow-commitment`, and the user's
//! approval (a confirmed prompt or `--auto-approve`). Pure: the command layer
//! asks the question when [`Gate::Confirm`] says so.

use std::fmt;

use crate::plan::Plan;

/// What the user allowed for this apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Allowed {
    /// `--allow-commitment`: the plan may buy throughput with a commitment term.
    pub commitment: bool,
    /// `--auto-approve`: no prompt.
    pub auto_approve: bool,
    /// Standard input is a terminal, so a prompt can be answered.
    pub can_prompt: bool,
}

/// Whether apply may go on.
#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    /// Nothing is sent, and the run fails with this.
    Refused(Refusal),
    /// Nothing to do: the run succeeds without sending anything.
    NothingToDo,
    /// Ask the user; only `yes` goes on.
    Confirm,
    /// Approved already (`--auto-approve`).
    Proceed,
}

/// Why apply sends nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The plan holds changes it refuses (`x`) or objects it does not manage (`?`).
    Blocked,
    /// The plan buys these throughputs under commitment, without `--allow-commitment`.
    Commitment(Vec<String>),
    /// Approval is needed and no one can give it at a prompt.
    NoPrompt,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Blocked => write!(
                f,
                "the plan has refused changes (marked x or ?); nothing was changed"
            ),
            Refusal::Commitment(purchases) => write!(
                f,
                "this plan buys provisioned throughput with a commitment term: {}. Re-run with --allow-commitment to buy it; nothing was changed",
                purchases.join("; ")
            ),
            Refusal::NoPrompt => write!(
                f,
                "apply needs confirmation but standard input is not a terminal; pass --auto-approve (after reviewing the plan). Nothing was changed"
            ),
        }
    }
}

/// Decides whether `plan` may be applied with what the user `allowed`. The
/// checks run in this order, so the most serious reason is the one given.
pub fn gate(plan: &Plan, allowed: Allowed) -> Gate {
    if plan.blocking().next().is_some() {
        return Gate::Refused(Refusal::Blocked);
    }
    if !plan.has_changes() {
        return Gate::NothingToDo;
    }
    let purchases: Vec<String> = plan
        .purchases()
        .map(|(c, p)| {
            format!(
                "{} ({} × {}, {})",
                c.address, p.model_units, p.model, p.commitment
            )
        })
        .collect();
    if !purchases.is_empty() && !allowed.commitment {
        return Gate::Refused(Refusal::Commitment(purchases));
    }
    match (allowed.auto_approve, allowed.can_prompt) {
        (true, _) => Gate::Proceed,
        (false, true) => Gate::Confirm,
        (false, false) => Gate::Refused(Refusal::NoPrompt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;
    use crate::plan::{Action, Change, Purchase, Summary};

    fn plan_of(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: crate::plan::FORMAT_VERSION.into(),
            bedform_version: "test".into(),
            stack: "demo".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            observed_fingerprints: Default::default(),
            scope: Default::default(),
            lock: None,
            changes,
            summary: Summary::default(),
        }
    }

    fn change(kind: &str, action: Action) -> Change {
        Change::new(Address::new(kind, "x"), "x", action)
    }

    /// A throughput created under `commitment` (the planner records a purchase only
    /// for a commitment term).
    fn purchase(commitment: &str) -> Change {
        let mut c = change("ProvisionedThroughput", Action::Create);
        c.purchase = Some(Purchase {
            commitment: commitment.into(),
            model_units: 2,
            model: "amazon.nova-lite-v1:0".into(),
        });
        c
    }

    /// A throughput created hourly: no purchase.
    fn hourly() -> Change {
        change("ProvisionedThroughput", Action::Create)
    }

    const EVERYTHING: Allowed = Allowed {
        commitment: true,
        auto_approve: true,
        can_prompt: true,
    };

    #[test]
    fn a_committed_purchase_needs_allow_commitment_even_when_auto_approved() {
        let plan = plan_of(vec![purchase("sixMonths")]);
        let refused = gate(
            &plan,
            Allowed {
                commitment: false,
                ..EVERYTHING
            },
        );
        let Gate::Refused(refusal) = refused else {
            panic!("not refused: {refused:?}");
        };
        assert_eq!(
            refusal,
            Refusal::Commitment(vec![
                "ProvisionedThroughput/x (2 × amazon.nova-lite-v1:0, sixMonths)".into()
            ])
        );
        assert!(refusal.to_string().contains("--allow-commitment"));
        assert_eq!(gate(&plan, EVERYTHING), Gate::Proceed);
    }

    #[test]
    fn refused_changes_block_whatever_is_allowed() {
        for action in [Action::Refused, Action::Unmanaged] {
            let plan = plan_of(vec![purchase("oneMonth"), change("IamRole", action)]);
            assert_eq!(gate(&plan, EVERYTHING), Gate::Refused(Refusal::Blocked));
        }
    }

    #[test]
    fn approval_is_asked_for_unless_given() {
        let plan = plan_of(vec![hourly()]);
        let asked = Allowed {
            auto_approve: false,
            ..EVERYTHING
        };
        assert_eq!(gate(&plan, asked), Gate::Confirm);
        let unattended = Allowed {
            can_prompt: false,
            ..asked
        };
        assert_eq!(gate(&plan, unattended), Gate::Refused(Refusal::NoPrompt));
        // An hourly throughput is an ordinary change: no commitment flag needed.
        let hourly = Allowed {
            commitment: false,
            ..EVERYTHING
        };
        assert_eq!(gate(&plan, hourly), Gate::Proceed);
    }

    #[test]
    fn a_plan_without_changes_sends_nothing_and_asks_nothing() {
        let plan = plan_of(vec![change("Bucket", Action::NoOp)]);
        let nobody = Allowed::default();
        assert_eq!(gate(&plan, nobody), Gate::NothingToDo);
    }
}
