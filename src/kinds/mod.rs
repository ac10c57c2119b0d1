//! The kinds of object bedform manages. Everything particular to a kind lives in
//! its folder (`kinds/<kind>/`): its typed manifest spec, validation and lowering,
//! its plan rules, its typed state, and its AWS and sandbox faces. This file is the
//! registry of the faces the planner uses: each [`Kind`]'s facts ([`KindFacts`]),
//! behaviour ([`KindBehaviour`]) and typed state, and the spec types a manifest
//! declares. The faces that do I/O are registered where they are used
//! ([`crate::account`]). The engine asks a [`Kind`] instead of matching on kind
//! names, so a kind that forgets one of these does not compile.

use serde::de::MapAccess;

pub mod aws_face;
pub mod face;
pub mod facts;
pub mod lifecycle;
pub mod sandbox_face;
pub mod smoke_check;
pub mod state;
pub use crate::model::Kind;
pub use face::*;
pub use facts::*;

pub mod bucket;
pub mod custom_model_deployment;
pub mod customization_job;
pub mod data_retention;
pub mod guardrail;
pub mod guardrail_enforcement;
pub mod iam_role;
pub mod imported_model;
pub mod inference_profile;
pub mod invocation_logging;
pub mod log_delivery;
pub mod log_group;
pub mod model_access;
pub mod provisioned_throughput;
pub mod stack;

impl Kind {
    /// What the engine needs to know of the kind: the registry, one line per kind.
    pub fn facts(self) -> &'static KindFacts {
        use crate::kinds as r;
        match self {
            Kind::Bucket => &r::bucket::FACTS,
            Kind::LogGroup => &r::log_group::FACTS,
            Kind::IamRole => &r::iam_role::FACTS,
            Kind::InvocationLogging => &r::invocation_logging::FACTS,
            Kind::ModelAccess => &r::model_access::FACTS,
            Kind::CustomizationJob => &r::customization_job::FACTS,
            Kind::CustomModel => &r::customization_job::CUSTOM_MODEL_FACTS,
            Kind::ProvisionedThroughput => &r::provisioned_throughput::FACTS,
            Kind::CustomModelDeployment => &r::custom_model_deployment::FACTS,
            Kind::ImportedModel => &r::imported_model::FACTS,
            Kind::DataRetention => &r::data_retention::FACTS,
            Kind::InferenceProfile => &r::inference_profile::FACTS,
            Kind::LogDelivery => &r::log_delivery::FACTS,
            Kind::Guardrail => &r::guardrail::FACTS,
            Kind::GuardrailEnforcement => &r::guardrail_enforcement::FACTS,
        }
    }

    /// How the planner treats the kind: the registry, one line per kind.
    pub fn behaviour(self) -> &'static dyn KindBehaviour {
        use crate::kinds as r;
        match self {
            Kind::Bucket => &r::bucket::BEHAVIOUR,
            Kind::LogGroup => &r::log_group::BEHAVIOUR,
            Kind::IamRole => &r::iam_role::BEHAVIOUR,
            Kind::InvocationLogging => &r::invocation_logging::BEHAVIOUR,
            Kind::ModelAccess => &r::model_access::BEHAVIOUR,
            Kind::CustomizationJob => &r::customization_job::BEHAVIOUR,
            Kind::CustomModel => &r::customization_job::CUSTOM_MODEL_BEHAVIOUR,
            Kind::ProvisionedThroughput => &r::provisioned_throughput::BEHAVIOUR,
            Kind::CustomModelDeployment => &r::custom_model_deployment::BEHAVIOUR,
            Kind::ImportedModel => &r::imported_model::BEHAVIOUR,
            Kind::DataRetention => &r::data_retention::BEHAVIOUR,
            Kind::InferenceProfile => &r::inference_profile::BEHAVIOUR,
            Kind::LogDelivery => &r::log_delivery::BEHAVIOUR,
            Kind::Guardrail => &r::guardrail::BEHAVIOUR,
            Kind::GuardrailEnforcement => &r::guardrail_enforcement::BEHAVIOUR,
        }
    }

    /// A declared resource's attributes read back through the kind's typed state
    /// and written out again, for the kinds whose create and update send their
    /// declared state (`None` for the others: model access sends a change, not
    /// its declared state; a custom model is made by its job). Lowering and the
    /// faces use the same type, so this returns the attributes unchanged.
    pub fn typed_attrs(
        self,
        attrs: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Result<serde_json::Map<String, serde_json::Value>, crate::cloud::error::CloudError>>
    {
        use crate::kinds as r;
        use crate::kinds::state::{attrs_of, state_of};
        fn again<T: serde::Serialize + serde::de::DeserializeOwned>(
            attrs: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<serde_json::Map<String, serde_json::Value>, crate::cloud::error::CloudError>
        {
            state_of::<T>(attrs, "read the state back").map(|state| attrs_of(&state))
        }
        match self {
            Kind::Bucket => Some(again::<r::bucket::state::BucketState>(attrs)),
            Kind::LogGroup => Some(again::<r::log_group::LogGroupState>(attrs)),
            Kind::IamRole => Some(again::<r::iam_role::state::RoleState>(attrs)),
            Kind::InvocationLogging => {
                Some(again::<r::invocation_logging::state::LoggingState>(attrs))
            }
            Kind::ModelAccess => None,
            Kind::CustomizationJob => Some(again::<r::customization_job::JobState>(attrs)),
            Kind::CustomModel => Some(again::<r::customization_job::CustomModelState>(attrs)),
            Kind::ProvisionedThroughput => {
                Some(again::<r::provisioned_throughput::ThroughputState>(attrs))
            }
            Kind::CustomModelDeployment => {
                Some(again::<r::custom_model_deployment::DeploymentState>(attrs))
            }
            Kind::ImportedModel => Some(again::<r::imported_model::ImportState>(attrs)),
            Kind::DataRetention => Some(again::<r::data_retention::RetentionState>(attrs)),
            Kind::InferenceProfile => Some(again::<r::inference_profile::ProfileState>(attrs)),
            Kind::LogDelivery => Some(again::<r::log_delivery::DeliveryState>(attrs)),
            Kind::Guardrail => Some(again::<r::guardrail::GuardrailState>(attrs)),
            Kind::GuardrailEnforcement => {
                Some(again::<r::guardrail_enforcement::EnforcementState>(attrs))
            }
        }
    }

    /// Where deletes of `kind` (a name from a plan or the account) go in a
    /// teardown; a kind this bedform does not know goes last, after all it knows.
    pub fn teardown_rank_of(kind: &str) -> u8 {
        Kind::parse(kind).map_or(u8::MAX, |k| k.facts().teardown_rank)
    }

    /// Members marked sensitive by any kind.
    pub fn sensitive_members() -> impl Iterator<Item = &'static str> {
        Kind::ALL
            .into_iter()
            .flat_map(|kind| kind.facts().sensitive_members.iter().copied())
    }

    /// What `status` of an object of `kind` means; a kind this bedform does not
    /// know has no statuses it could follow.
    pub fn status_class_of(kind: &str, status: &str) -> StatusClass {
        Kind::parse(kind).map_or(StatusClass::Undocumented, |k| {
            (k.facts().status_class)(status)
        })
    }

    /// The stages an object of `kind` reports while it converges.
    pub fn stages_of(kind: &str) -> &'static [Stage] {
        Kind::parse(kind).map_or(&[], |k| k.facts().stages)
    }

    /// Whether creates and updates of `kind` are followed after AWS accepted them.
    pub fn converges(kind: &str) -> bool {
        Kind::parse(kind).is_some_and(|k| k.facts().converges)
    }
}

// The kinds a manifest declares, each once: its spec type and its folder.
macro_rules! registry {
    ($($kind:ident => $module:ident :: $spec:ident),* $(,)?) => {
        /// A parsed resource spec of any kind.
        #[derive(Debug, Clone)]
        #[allow(clippy::large_enum_variant)] // one per document, never moved in bulk
        pub enum AnySpec {
            $($kind($module::$spec)),*
        }

        /// Resource kinds, in the order they are documented.
        pub const RESOURCE_KINDS: &[&str] = &[$(stringify!($kind)),*];

        impl AnySpec {
            pub fn kind(&self) -> &'static str {
                match self {
                    $(AnySpec::$kind(_) => stringify!($kind)),*
                }
            }
            pub fn spec(&self) -> &dyn ResourceSpec {
                match self {
                    $(AnySpec::$kind(spec) => spec),*
                }
            }
            /// Reads the `spec` value of a document of `kind`; `None` for an unknown kind.
            pub fn next_value_for<'de, A: MapAccess<'de>>(
                kind: &str,
                map: &mut A,
            ) -> Result<Option<AnySpec>, A::Error> {
                match kind {
                    $(stringify!($kind) => Ok(Some(AnySpec::$kind(map.next_value()?))),)*
                    _ => Ok(None),
                }
            }
        }

        /// The planner's view of a kind; `None` for a kind this bedform does not know.
        pub fn behaviour(kind: &str) -> Option<&'static dyn KindBehaviour> {
            crate::kinds::Kind::parse(kind).map(crate::kinds::Kind::behaviour)
        }

        /// JSON Schema of one document per kind (the Stack document included).
        pub fn document_schemas(generator: &mut schemars::SchemaGenerator) -> Vec<schemars::Schema> {
            let mut schemas = vec![crate::syntax::schema::document_schema::<stack::StackSpec>("Stack", generator)];
            $(schemas.push(crate::syntax::schema::document_schema::<$module::$spec>(stringify!($kind), generator));)*
            schemas
        }
    };
}

registry! {
    Bucket => bucket::BucketSpec,
    LogGroup => log_group::LogGroupSpec,
    IamRole => iam_role::IamRoleSpec,
    InvocationLogging => invocation_logging::InvocationLoggingSpec,
    ModelAccess => model_access::ModelAccessSpec,
    CustomizationJob => customization_job::CustomizationJobSpec,
    CustomModel => customization_job::CustomModelSpec,
    ProvisionedThroughput => provisioned_throughput::ProvisionedThroughputSpec,
    CustomModelDeployment => custom_model_deployment::CustomModelDeploymentSpec,
    ImportedModel => imported_model::ImportedModelSpec,
    DataRetention => data_retention::DataRetentionSpec,
    InferenceProfile => inference_profile::InferenceProfileSpec,
    LogDelivery => log_delivery::LogDeliverySpec,
    Guardrail => guardrail::GuardrailSpec,
    GuardrailEnforcement => guardrail_enforcement::GuardrailEnforcementSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_face_in_the_registry_is_its_kinds() {
        for kind in Kind::ALL {
            assert_eq!(kind.behaviour().kind(), kind);
            assert_eq!(
                kind.behaviour().taggable(),
                kind.facts().tags.is_some(),
                "{kind}"
            );
        }
    }

    #[test]
    fn names_round_trip_and_match_the_manifest_kinds() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        let declarable: Vec<&str> = Kind::ALL
            .into_iter()
            .filter(|k| k.declarable())
            .map(Kind::as_str)
            .collect();
        assert_eq!(declarable, RESOURCE_KINDS);
        assert_eq!(Kind::parse("Nonsense"), None);
    }

    #[test]
    fn each_kind_says_what_the_engine_must_treat_specially() {
        use Kind::*;
        let singletons: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().singleton)
            .collect();
        assert_eq!(
            singletons,
            [
                InvocationLogging,
                ModelAccess,
                DataRetention,
                GuardrailEnforcement
            ]
        );
        let arn_unknown: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.declarable() && !k.facts().arn_known_before_apply)
            .collect();
        assert_eq!(
            arn_unknown,
            [
                InvocationLogging,
                ModelAccess,
                CustomizationJob,
                CustomModel,
                CustomModelDeployment,
                ImportedModel,
                DataRetention,
                InferenceProfile,
                LogDelivery,
                Guardrail,
                GuardrailEnforcement
            ]
        );
        assert_eq!(
            IamRole.facts().permission_fields,
            ["trustPolicy", "inlinePolicies", "managedPolicyArns"]
        );
        assert_eq!(Bucket.facts().permission_fields, ["policy"]);
        for kind in [
            LogGroup,
            InvocationLogging,
            ModelAccess,
            CustomizationJob,
            ProvisionedThroughput,
            CustomModelDeployment,
            ImportedModel,
        ] {
            assert!(kind.facts().permission_fields.is_empty(), "{kind}");
        }
        let converging: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().converges)
            .collect();
        assert_eq!(
            converging,
            [
                CustomizationJob,
                CustomModel,
                ProvisionedThroughput,
                CustomModelDeployment,
                ImportedModel
            ]
        );
        let waiting: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().replacement_waits_until_ready)
            .collect();
        assert_eq!(waiting, [ProvisionedThroughput, CustomModelDeployment]);
        let serving: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().inference.is_some())
            .collect();
        assert_eq!(
            serving,
            [
                ProvisionedThroughput,
                CustomModelDeployment,
                ImportedModel,
                InferenceProfile
            ]
        );
        let retried: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().retried_only_when_asked)
            .collect();
        assert_eq!(retried, [CustomizationJob, ImportedModel]);
        let not_exported: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.declarable() && k.facts().not_exported_because.is_some())
            .collect();
        assert_eq!(not_exported, [ModelAccess, CustomModel, LogDelivery]);
        let sensitive: Vec<&str> = Kind::sensitive_members().collect();
        assert_eq!(
            sensitive,
            [
                "useCaseForm",
                "requestMetadataFilters",
                "definition",
                "examples"
            ]
        );
    }

    #[test]
    fn teardown_removes_dependents_before_what_they_depend_on() {
        use Kind::*;
        let order = [
            CustomModelDeployment,
            CustomizationJob,
            CustomModel,
            InvocationLogging,
            ModelAccess,
            IamRole,
        ];
        for pair in order.windows(2) {
            assert!(
                pair[0].facts().teardown_rank < pair[1].facts().teardown_rank,
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
        // A guardrail cannot be deleted while the account enforces it.
        assert!(GuardrailEnforcement.facts().teardown_rank < Guardrail.facts().teardown_rank);
        // Both serve a model: they go together, before it.
        assert_eq!(
            ProvisionedThroughput.facts().teardown_rank,
            CustomModelDeployment.facts().teardown_rank
        );
        // Buckets and log groups hold what the others wrote: last of all.
        for last in [Bucket, LogGroup] {
            assert!(IamRole.facts().teardown_rank < last.facts().teardown_rank);
        }
        assert!(Kind::teardown_rank_of("Unknown") > Bucket.facts().teardown_rank);
    }

    #[test]
    fn tags_follow_each_service_model() {
        use std::collections::BTreeMap;
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let bedrock = Kind::CustomizationJob.facts().tags.unwrap();
        let iam = Kind::IamRole.facts().tags.unwrap();
        assert_eq!((bedrock.max_tags, iam.max_tags), (200, 50));
        assert!(
            bedrock
                .problems(&tags(&[
                    ("team", "ml-platform"),
                    ("cost center", "a/b:c=d+e@f")
                ]))
                .is_empty()
        );
        assert_eq!(bedrock.problems(&tags(&[("équipe", "ml")])).len(), 1);
        assert!(iam.problems(&tags(&[("équipe", "ml")])).is_empty());
        assert_eq!(iam.problems(&tags(&[("team", "ml;drop")])).len(), 1);
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(iam.problems(&many).len(), 1);
        assert!(Kind::InvocationLogging.facts().tags.is_none());
        assert!(Kind::ModelAccess.facts().tags.is_none());
    }

    #[test]
    fn statuses_mean_what_aws_documents() {
        use Kind::*;
        use StatusClass::*;
        let table = [
            (CustomizationJob, "InProgress", Transitional),
            (CustomizationJob, "Stopping", Transitional),
            (CustomizationJob, "Completed", Ready),
            (CustomizationJob, "Queued", Undocumented),
            (CustomizationJob, "Failed", Failed),
            (CustomizationJob, "Stopped", Failed),
            (ProvisionedThroughput, "Creating", Transitional),
            (ProvisionedThroughput, "Updating", Transitional),
            (ProvisionedThroughput, "InService", Ready),
            (ProvisionedThroughput, "Failed", Failed),
            (CustomModel, "Active", Ready),
            (CustomModel, "Creating", Transitional),
            (CustomModel, "Failed", Failed),
            (CustomModelDeployment, "Creating", Transitional),
            (CustomModelDeployment, "Updating", Transitional),
            (CustomModelDeployment, "Active", Ready),
            (CustomModelDeployment, "Failed", Failed),
            (CustomModelDeployment, "UpdateFailed", Failed),
            (CustomModelDeployment, "ACTIVE", Undocumented),
            (ImportedModel, "InProgress", Transitional),
            (ImportedModel, "Completed", Ready),
            (ImportedModel, "Failed", Failed),
            (Guardrail, "CREATING", Transitional),
            (Guardrail, "VERSIONING", Transitional),
            (Guardrail, "READY", Ready),
            (Guardrail, "FAILED", Failed),
            (Guardrail, "Ready", Undocumented),
            (Bucket, "InProgress", Ready),
            (IamRole, "Failed", Ready),
        ];
        for (kind, status, class) in table {
            assert_eq!(
                (kind.facts().status_class)(status),
                class,
                "{kind} {status}"
            );
            assert_eq!(Kind::status_class_of(kind.as_str(), status), class);
        }
    }
}
