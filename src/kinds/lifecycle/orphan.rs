//! An object the stack owns that no declared resource claims: deleted or
//! forgotten as its deletion policy says, unless its guard refuses.

use crate::kinds::face::{KindBehaviour, PlanCx};
use crate::model::plan::{Action, Change, Op};
use crate::model::{
    Address, DeletionPolicy, ObservedResource, TAG_ADDRESS, TAG_DELETION_POLICY,
    TAG_PREVENT_DESTROY, is_bedform_tag,
};

use super::declared::prevent_destroy;

/// The address an orphan carries in its ownership tag.
pub fn orphan_address(observed: &ObservedResource) -> Address {
    observed
        .tag(TAG_ADDRESS)
        .and_then(Address::parse)
        .unwrap_or_else(|| Address::new(observed.kind.clone(), observed.aws_name.clone()))
}

/// The deletion policy recorded on an orphan.
pub fn orphan_deletion_policy(observed: &ObservedResource) -> DeletionPolicy {
    match observed.tag(TAG_DELETION_POLICY) {
        Some("delete") => DeletionPolicy::Delete,
        _ => DeletionPolicy::Retain,
    }
}

/// The refusal for an orphan that still carries `preventDestroy`, if it does.
pub fn orphan_guard(observed: &ObservedResource) -> Option<Change> {
    (observed.tag(TAG_PREVENT_DESTROY) == Some("true")).then(|| {
        prevent_destroy(
            &orphan_address(observed),
            &observed.aws_name,
            "it is no longer declared and would be deleted",
        )
    })
}

/// Plans an owned object that is no longer declared: delete it.
pub fn plan_orphan(
    _behaviour: &(impl KindBehaviour + ?Sized),
    _cx: &PlanCx<'_>,
    observed: &ObservedResource,
) -> Vec<Change> {
    if let Some(refusal) = orphan_guard(observed) {
        return vec![refusal];
    }
    vec![
        Change::new(
            orphan_address(observed),
            observed.aws_name.clone(),
            Action::Delete,
        )
        .because("it is no longer declared")
        .with_op(Op::Delete {
            kind: observed.kind.clone(),
            name: observed.aws_name.clone(),
            empty_first: false,
        }),
    ]
}

/// Plans an owned data-holding object (bucket, log group) that is no longer
/// declared: deleted only with `deletionPolicy: delete`, otherwise kept and released.
pub fn plan_orphan_with_data(observed: &ObservedResource, data: Option<String>) -> Vec<Change> {
    if let Some(refusal) = orphan_guard(observed) {
        return vec![refusal];
    }
    let address = orphan_address(observed);
    match orphan_deletion_policy(observed) {
        DeletionPolicy::Retain => {
            let keys: Vec<String> = observed
                .tags
                .keys()
                .filter(|k| is_bedform_tag(k))
                .cloned()
                .collect();
            vec![
                Change::new(address, observed.aws_name.clone(), Action::Forget)
                    .because("it is no longer declared; `deletionPolicy: retain` keeps it in AWS, released from this stack")
                    .with_op(Op::Untag {
                        kind: observed.kind.clone(),
                        name: observed.aws_name.clone(),
                        keys,
                    }),
            ]
        }
        DeletionPolicy::Delete => {
            let mut change = Change::new(address, observed.aws_name.clone(), Action::Delete)
                .because("it is no longer declared and has `deletionPolicy: delete`")
                .with_op(Op::Delete {
                    kind: observed.kind.clone(),
                    name: observed.aws_name.clone(),
                    empty_first: data.is_some(),
                });
            if let Some(data) = data {
                change.deletes_data = true;
                change = change.warn(format!("deletes {data}"));
            }
            vec![change]
        }
    }
}
