//! Exit codes: a documented contract.

/// What a run of bedform ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; for `plan --detailed-exitcode`, no changes.
    Success = 0,
    /// An error: invalid manifests, a refused plan, a failed apply.
    Error = 1,
    /// `plan --detailed-exitcode` only: there are changes.
    Changes = 2,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}
