//! The account as the engine sees it: [`crate::cloud::Cloud`] implemented for AWS
//! and for the sandbox by asking each kind's face (`kinds/<kind>/aws.rs`,
//! `kinds/<kind>/sandbox.rs`) through the registry. Neither implementation names a
//! kind.

pub mod aws;
pub mod sandbox;
