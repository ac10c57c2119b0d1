//! The kinds of object bedform knows, by name. What each kind is and does lives in
//! its folder under `kinds/`; this is only the name every layer can use.

use std::fmt;

/// Every kind of object bedform plans for. A manifest declares each of them;
/// `CustomModel` is also the kind of the model a `CustomizationJob` produces
/// (observed and owned by its job).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Bucket,
    LogGroup,
    IamRole,
    InvocationLogging,
    ModelAccess,
    CustomizationJob,
    CustomModel,
    ProvisionedThroughput,
    CustomModelDeployment,
    ImportedModel,
    DataRetention,
    InferenceProfile,
    LogDelivery,
    Guardrail,
    GuardrailEnforcement,
}

impl Kind {
    /// Every kind, in the order the manifests document them.
    pub const ALL: [Kind; 15] = [
        Kind::Bucket,
        Kind::LogGroup,
        Kind::IamRole,
        Kind::InvocationLogging,
        Kind::ModelAccess,
        Kind::CustomizationJob,
        Kind::CustomModel,
        Kind::ProvisionedThroughput,
        Kind::CustomModelDeployment,
        Kind::ImportedModel,
        Kind::DataRetention,
        Kind::InferenceProfile,
        Kind::LogDelivery,
        Kind::Guardrail,
        Kind::GuardrailEnforcement,
    ];

    /// The kind's name, as manifests, plans and ownership tags write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Bucket => "Bucket",
            Kind::LogGroup => "LogGroup",
            Kind::IamRole => "IamRole",
            Kind::InvocationLogging => "InvocationLogging",
            Kind::ModelAccess => "ModelAccess",
            Kind::CustomizationJob => "CustomizationJob",
            Kind::CustomModel => "CustomModel",
            Kind::ProvisionedThroughput => "ProvisionedThroughput",
            Kind::CustomModelDeployment => "CustomModelDeployment",
            Kind::ImportedModel => "ImportedModel",
            Kind::DataRetention => "DataRetention",
            Kind::InferenceProfile => "InferenceProfile",
            Kind::LogDelivery => "LogDelivery",
            Kind::Guardrail => "Guardrail",
            Kind::GuardrailEnforcement => "GuardrailEnforcement",
        }
    }

    /// The kind named `name`, if bedform knows it.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether a manifest may declare an object of this kind by itself.
    pub fn declarable(self) -> bool {
        match self {
            Kind::Bucket
            | Kind::LogGroup
            | Kind::IamRole
            | Kind::InvocationLogging
            | Kind::ModelAccess
            | Kind::CustomizationJob
            | Kind::CustomModel
            | Kind::ProvisionedThroughput
            | Kind::CustomModelDeployment
            | Kind::ImportedModel
            | Kind::DataRetention
            | Kind::InferenceProfile
            | Kind::LogDelivery
            | Kind::Guardrail
            | Kind::GuardrailEnforcement => true,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
