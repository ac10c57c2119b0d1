//! The planner's lifecycle rules, shared by the kinds whose objects are simply
//! created, updated in place, replaced or deleted. They name no kind: a kind's
//! [`KindBehaviour`] says what differs.
//! Declared resources are planned in [`declared`], objects the stack owns that
//! nothing declares any more in [`orphan`], objects made once from a source in
//! [`create_once`].

pub mod create_once;
pub mod declared;
pub mod orphan;

pub use declared::*;
pub use orphan::*;

#[cfg(test)]
mod tests;
