//! Exit codes: a documented contract.

/// What a run of bedform ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; for `plan --detailed-exitcode`, no changes; for `status`, all
    /// converged.
    Success = 0,
    /// An error: invalid manifests, a refused plan, a failed apply; for `status`,
    /// a failed job or throughput, or a wait that timed out.
    Error = 1,
    /// `plan --detailed-exitcode`: there are changes. `status`: not converged yet
    /// (something converges, or changes wait for an apply).
    Changes = 2,
    /// Interrupted (Ctrl-C): waiting stopped, or apply stopped sending. Nothing in
    /// AWS was stopped.
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}
