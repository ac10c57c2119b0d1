//! bedform: Amazon Bedrock as code. Manifests are loaded and validated into desired
//! state, the account is read into observed state, a pure planner compares them, and
//! the executor applies the plan.

pub mod account;
pub mod adopt;
pub mod apply;
pub mod check;
pub mod cli;
pub mod cloud;
pub mod diag;
pub mod exit;
pub mod export;
pub mod files;
pub mod hash;
pub mod kinds;
pub mod manifest;
pub mod model;
pub mod models;
pub mod names;
pub mod output;
pub mod plan;
pub mod policy;
pub mod pricing;
pub mod render;
pub mod status;
pub mod syntax;

pub use exit::ExitStatus;
