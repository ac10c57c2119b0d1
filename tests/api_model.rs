//! The manifest against the AWS service models (botocore's `service-2.json`, the
//! models the AWS SDKs are made from, installed with moto): bedform demands nothing
//! the API does not, and accepts nothing the API rejects.
//!
//! - Names, descriptions and tags are probed: every string of up to three
//!   characters from an alphabet of the characters that matter, and strings at and
//!   beyond the length bounds, must be accepted by bedform exactly when the model's
//!   pattern and lengths accept them. The models' patterns are Java regular
//!   expressions that AWS matches against the whole value.
//! - Every field the JSON Schema (`schemas/bedform.schema.json`) requires is one the
//!   API requires, or bedform's own (and the table below says why).
//! - Every value of a manifest enum is one of the API's.
//! - Counts the API bounds (validation locations, subnets, filters, model units)
//!   are bounded alike by `validate`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use bedform::kinds::{Kind, TagRules};
use bedform::manifest::{Loaded, load_text, validate};
use bedform::names;
use regex::Regex;
use serde_json::Value;

// ------------------------------------------------------------- the models

struct Models(BTreeMap<&'static str, Value>);

impl Models {
    fn load() -> Models {
        Models(
            ["bedrock", "iam", "logs", "s3"]
                .into_iter()
                .map(|service| (service, support::service_model(service)))
                .collect(),
        )
    }

    fn shape(&self, service: &str, name: &str) -> &Value {
        let shape = &self.0[service]["shapes"][name];
        assert!(shape.is_object(), "{service} has no shape `{name}`");
        shape
    }

    /// The shape a member of a structure refers to.
    fn member(&self, service: &str, structure: &str, member: &str) -> &Value {
        let name = self.shape(service, structure)["members"][member]["shape"]
            .as_str()
            .unwrap_or_else(|| panic!("{service} `{structure}` has no member `{member}`"));
        self.shape(service, name)
    }

    fn bounds(&self, service: &str, name: &str) -> Bounds {
        Bounds::of(self.shape(service, name))
    }
}

/// A string shape's lengths and pattern, or a list's, map's or number's bounds.
struct Bounds {
    min: usize,
    max: Option<usize>,
    pattern: Option<Regex>,
}

impl Bounds {
    fn of(shape: &Value) -> Bounds {
        Bounds {
            min: shape["min"].as_u64().unwrap_or(0) as usize,
            max: shape["max"].as_u64().map(|m| m as usize),
            pattern: shape["pattern"].as_str().map(java_pattern),
        }
    }

    fn accepts(&self, text: &str) -> bool {
        let len = text.chars().count();
        len >= self.min
            && self.max.is_none_or(|max| len <= max)
            && self.pattern.as_ref().is_none_or(|p| p.is_match(text))
    }
}

/// A service model's pattern (Java's dialect, matched against the whole value) as
/// a Rust regex: `\w`, `\s` and `\d` are ASCII classes in Java, Unicode in Rust.
fn java_pattern(pattern: &str) -> Regex {
    let mut out = String::new();
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next().expect("a pattern does not end in `\\`");
                let class = match next {
                    'w' => "A-Za-z0-9_",
                    's' => " \\t\\n\\x0B\\x0C\\r",
                    'd' => "0-9",
                    _ => {
                        out.push('\\');
                        out.push(next);
                        continue;
                    }
                };
                if in_class {
                    out.push_str(class);
                } else {
                    out.push_str(&format!("[{class}]"));
                }
            }
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Regex::new(&format!("^(?:{out})$"))
        .unwrap_or_else(|e| panic!("pattern `{pattern}` does not compile: {e}"))
}

// ------------------------------------------------------------- the probes

/// The characters whose treatment differs between names: letters of both cases,
/// digits, the punctuation some names allow, white space, and non-ASCII letters.
const ALPHABET: &[char] = &[
    'a', 'Z', '7', '-', '_', '.', '+', '=', ',', '@', '/', '#', ':', '*', '!', '~', ' ', '\t',
    '\u{b}', '\u{a0}', 'é', '€', '\u{2028}',
];

/// Every string of up to three characters of the alphabet, and strings around the
/// bounds' lengths made by stretching the middle of one the API accepts.
fn probes(bounds: &Bounds) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut shorter = vec![String::new()];
    for _ in 0..3 {
        let longer: Vec<String> = shorter
            .iter()
            .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
            .collect();
        out.extend(longer.iter().cloned());
        shorter = longer;
    }
    if let Some(base) = out
        .iter()
        .find(|s| s.chars().count() == 3 && bounds.accepts(s))
        .cloned()
    {
        let chars: Vec<char> = base.chars().collect();
        let stretch = |n: usize| -> String {
            let mut s = String::from(chars[0]);
            s.extend(std::iter::repeat_n(chars[1], n.saturating_sub(2)));
            s.push(chars[2]);
            s
        };
        let mut lengths = vec![bounds.min.max(3), bounds.min.max(3) + 1];
        if let Some(max) = bounds.max {
            lengths.extend([max.saturating_sub(1), max, max + 1]);
        }
        out.extend(lengths.into_iter().filter(|n| *n >= 3).map(stretch));
    }
    out
}

/// The probes on which bedform and the API disagree, described.
fn disagreements(bounds: &Bounds, bedform_accepts: impl Fn(&str) -> bool) -> Vec<String> {
    probes(bounds)
        .into_iter()
        .filter_map(|probe| {
            let aws = bounds.accepts(&probe);
            let ours = bedform_accepts(&probe);
            let shown = if probe.chars().count() > 12 {
                format!("{} characters", probe.chars().count())
            } else {
                format!("{probe:?}")
            };
            (aws != ours).then(|| {
                format!(
                    "{shown}: AWS {}, bedform {}",
                    if aws { "accepts" } else { "rejects" },
                    if ours { "accepts" } else { "rejects" }
                )
            })
        })
        .collect()
}

fn assert_agree(what: &str, bounds: &Bounds, bedform_accepts: impl Fn(&str) -> bool) {
    let found = disagreements(bounds, bedform_accepts);
    assert!(
        found.is_empty(),
        "{what}: bedform and the service model disagree on {} strings, e.g.\n  {}",
        found.len(),
        found
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn the_probes_tell_a_rule_that_differs_from_the_model() {
    // The probes find a rule one character off, one character too long or short.
    let models = Models::load();
    let job_name = models.bounds("bedrock", "JobName");
    assert!(!disagreements(&job_name, |s| names::check_model_name(s).is_ok()).is_empty());
    let too_short = |s: &str| names::check_job_name(s).is_ok() && s.chars().count() < 63;
    let found = disagreements(&job_name, too_short);
    assert_eq!(found, ["63 characters: AWS accepts, bedform rejects"]);
    let lax = |s: &str| names::check_job_name(s).is_ok() || s == "a_";
    assert_eq!(
        disagreements(&job_name, lax),
        ["\"a_\": AWS rejects, bedform accepts"]
    );
}

// ------------------------------------------------------------- names

#[test]
fn names_and_descriptions_follow_the_api_patterns_and_lengths() {
    let models = Models::load();
    type Check = fn(&str) -> Result<(), names::NameError>;
    let pairs: [(&str, &str, Check); 19] = [
        (
            "bedrock",
            "GuardrailName",
            bedform::kinds::guardrail::check_guardrail_name,
        ),
        (
            "bedrock",
            "GuardrailTopicName",
            bedform::kinds::guardrail::check_topic_name,
        ),
        ("bedrock", "JobName", names::check_job_name),
        ("bedrock", "CustomModelName", names::check_model_name),
        ("bedrock", "ProvisionedModelName", names::check_model_name),
        ("bedrock", "ModelDeploymentName", names::check_model_name),
        (
            "bedrock",
            "CustomModelDeploymentDescription",
            names::check_deployment_description,
        ),
        ("bedrock", "LambdaArn", names::check_lambda_arn),
        ("bedrock", "ImportedModelName", names::check_model_name),
        ("bedrock", "ModelPackageArn", names::check_model_package_arn),
        ("bedrock", "KmsKeyArn", names::check_kms_key_arn),
        (
            "bedrock",
            "InferenceProfileName",
            bedform::kinds::inference_profile::check_profile_name,
        ),
        (
            "bedrock",
            "InferenceProfileDescription",
            bedform::kinds::inference_profile::check_profile_description,
        ),
        (
            "logs",
            "DeliverySourceName",
            bedform::kinds::log_delivery::check_delivery_name,
        ),
        (
            "logs",
            "DeliveryDestinationName",
            bedform::kinds::log_delivery::check_delivery_name,
        ),
        ("iam", "roleNameType", names::check_role_name),
        ("iam", "pathType", names::check_iam_path),
        ("iam", "roleDescriptionType", names::check_role_description),
        ("logs", "LogGroupName", names::check_log_group_name),
    ];
    for (service, shape, check) in pairs {
        assert_agree(
            &format!("{service} `{shape}`"),
            &models.bounds(service, shape),
            |s| check(s).is_ok(),
        );
    }
}

#[test]
fn the_create_requests_name_the_shapes_probed() {
    // The shapes above are the ones the create calls bedform makes take.
    let models = Models::load();
    for (service, structure, member, shape) in [
        (
            "bedrock",
            "CreateModelCustomizationJobRequest",
            "jobName",
            "JobName",
        ),
        (
            "bedrock",
            "CreateModelCustomizationJobRequest",
            "customModelName",
            "CustomModelName",
        ),
        (
            "bedrock",
            "CreateProvisionedModelThroughputRequest",
            "provisionedModelName",
            "ProvisionedModelName",
        ),
        (
            "bedrock",
            "CreateCustomModelDeploymentRequest",
            "modelDeploymentName",
            "ModelDeploymentName",
        ),
        (
            "bedrock",
            "CreateCustomModelDeploymentRequest",
            "description",
            "CustomModelDeploymentDescription",
        ),
        ("iam", "CreateRoleRequest", "RoleName", "roleNameType"),
        ("iam", "CreateRoleRequest", "Path", "pathType"),
        (
            "iam",
            "CreateRoleRequest",
            "Description",
            "roleDescriptionType",
        ),
        (
            "logs",
            "CreateLogGroupRequest",
            "logGroupName",
            "LogGroupName",
        ),
    ] {
        assert_eq!(
            models.member(service, structure, member),
            models.shape(service, shape),
            "{service} {structure}.{member}"
        );
    }
}

// ------------------------------------------------------------- tags

/// Whether bedform takes the tag `key: value` on an object of a kind with `rules`.
fn takes_tag(rules: TagRules, key: &str, value: &str) -> bool {
    let tags = BTreeMap::from([(key.to_string(), value.to_string())]);
    names::check_tag(key, value).is_ok() && rules.problems(&tags).is_empty()
}

#[test]
fn tags_follow_the_api_of_each_kind() {
    let models = Models::load();
    // (kind, service, the tag list, its key and value shapes)
    let kinds = [
        (
            Kind::CustomizationJob,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (
            Kind::CustomModel,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (
            Kind::ProvisionedThroughput,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (
            Kind::CustomModelDeployment,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (
            Kind::ImportedModel,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (
            Kind::InferenceProfile,
            "bedrock",
            "TagList",
            "TagKey",
            "TagValue",
        ),
        (Kind::Guardrail, "bedrock", "TagList", "TagKey", "TagValue"),
        (
            Kind::IamRole,
            "iam",
            "tagListType",
            "tagKeyType",
            "tagValueType",
        ),
        (Kind::LogGroup, "logs", "Tags", "TagKey", "TagValue"),
        (Kind::LogDelivery, "logs", "Tags", "TagKey", "TagValue"),
    ];
    for (kind, service, list, key, value) in kinds {
        let rules = kind.facts().tags.expect("the kind takes tags");
        let what = format!("{kind:?} tags ({service})");
        // bedform reserves `aws:` (AWS does too, outside the pattern) and its own
        // `bedform:` prefix; the probes are too short to spell either.
        assert_agree(
            &format!("{what}, keys"),
            &models.bounds(service, key),
            |k| takes_tag(rules, k, "v"),
        );
        assert_agree(
            &format!("{what}, values"),
            &models.bounds(service, value),
            |v| takes_tag(rules, "k", v),
        );
        let max = models.bounds(service, list).max.expect("a most");
        assert_eq!(rules.max_tags, max, "{what}: most tags on one object");
        let many = |n: usize| -> BTreeMap<String, String> {
            (0..n).map(|i| (format!("k{i}"), String::new())).collect()
        };
        assert!(rules.problems(&many(max)).is_empty(), "{what}: {max} tags");
        assert!(
            !rules.problems(&many(max + 1)).is_empty(),
            "{what}: {max} + 1 tags"
        );
    }
    // S3's model bounds neither the tag set nor its keys (its limits, 50 tags of
    // 128 and 256 characters, are in its user guide): the bucket's rules say so.
    assert!(models.shape("s3", "TagSet")["max"].is_null());
    let bucket = Kind::Bucket.facts().tags.expect("buckets take tags");
    assert_eq!(bucket.max_tags, 50);
}

// ------------------------------------------------------------- required fields

/// Where a field a manifest must give goes.
enum Goes {
    /// To a required member of an API structure: (service, structure, member).
    Api(&'static str, &'static str, &'static str),
    /// Nowhere in one request: it is bedform's own, for the reason given.
    Own(&'static str),
}

/// Every field the schema requires, by (definition, field).
const REQUIRED: &[(&str, &str, Goes)] = {
    use Goes::{Api, Own};
    const JOB: &str = "CreateModelCustomizationJobRequest";
    const THROUGHPUT: &str = "CreateProvisionedModelThroughputRequest";
    &[
        (
            "CustomizationJobSpec",
            "baseModel",
            Api("bedrock", JOB, "baseModelIdentifier"),
        ),
        (
            "CustomizationJobSpec",
            "trainingData",
            Api("bedrock", JOB, "trainingDataConfig"),
        ),
        (
            "CustomizationJobSpec",
            "output",
            Api("bedrock", JOB, "outputDataConfig"),
        ),
        (
            "CustomizationJobSpec",
            "role",
            Api("bedrock", JOB, "roleArn"),
        ),
        (
            "Teacher",
            "model",
            Api("bedrock", "TeacherModelConfig", "teacherModelIdentifier"),
        ),
        (
            "InvocationLogsSource",
            "s3Uri",
            Api("bedrock", "InvocationLogsConfig", "invocationLogSource"),
        ),
        (
            "S3Location",
            "s3Uri",
            Api("bedrock", "OutputDataConfig", "s3Uri"),
        ),
        (
            "VpcConfig",
            "subnetIds",
            Api("bedrock", "VpcConfig", "subnetIds"),
        ),
        (
            "VpcConfig",
            "securityGroupIds",
            Api("bedrock", "VpcConfig", "securityGroupIds"),
        ),
        (
            "ProvisionedThroughputSpec",
            "model",
            Api("bedrock", THROUGHPUT, "modelId"),
        ),
        (
            "ProvisionedThroughputSpec",
            "modelUnits",
            Api("bedrock", THROUGHPUT, "modelUnits"),
        ),
        (
            "InferenceProfileSpec",
            "model",
            Api("bedrock", "CreateInferenceProfileRequest", "modelSource"),
        ),
        (
            "LogDeliverySpec",
            "source",
            Own("the delivery source bedform puts: its resourceArn and logType"),
        ),
        (
            "DeliverySource",
            "resourceArn",
            Api("logs", "PutDeliverySourceRequest", "resourceArn"),
        ),
        (
            "DeliverySource",
            "logType",
            Api("logs", "PutDeliverySourceRequest", "logType"),
        ),
        (
            "LogDeliverySpec",
            "destination",
            Api("logs", "CreateDeliveryRequest", "deliveryDestinationArn"),
        ),
        (
            "CustomModelSpec",
            "source",
            Own(
                "CreateCustomModel leaves both modelSourceConfig and customModelDataSource optional, but a model is made from one of them",
            ),
        ),
        (
            "ImportedModelSpec",
            "source",
            Api("bedrock", "CreateModelImportJobRequest", "modelDataSource"),
        ),
        (
            "ImportSource",
            "s3Uri",
            Api("bedrock", "S3DataSource", "s3Uri"),
        ),
        (
            "ImportedModelSpec",
            "role",
            Api("bedrock", "CreateModelImportJobRequest", "roleArn"),
        ),
        (
            "Grader",
            "lambda",
            Api("bedrock", "LambdaGraderConfig", "lambdaArn"),
        ),
        (
            "CustomModelDeploymentSpec",
            "model",
            Api("bedrock", "CreateCustomModelDeploymentRequest", "modelArn"),
        ),
        (
            "CloudWatchConfig",
            "logGroup",
            Api("bedrock", "CloudWatchConfig", "logGroupName"),
        ),
        (
            "S3Config",
            "bucket",
            Api("bedrock", "S3Config", "bucketName"),
        ),
        (
            "ModelOffer",
            "model",
            Api(
                "bedrock",
                "CreateFoundationModelAgreementRequest",
                "modelId",
            ),
        ),
        (
            "UseCaseForm",
            "file",
            Api("bedrock", "PutUseCaseForModelAccessRequest", "formData"),
        ),
        (
            "BucketSpec",
            "bucketName",
            Api("s3", "CreateBucketRequest", "Bucket"),
        ),
        (
            "Encryption",
            "sse",
            Api("s3", "ServerSideEncryptionByDefault", "SSEAlgorithm"),
        ),
        (
            "LogGroupSpec",
            "logGroupName",
            Api("logs", "CreateLogGroupRequest", "logGroupName"),
        ),
        (
            "LockSpec",
            "bucket",
            Api("s3", "PutObjectRequest", "Bucket"),
        ),
        ("LockSpec", "key", Api("s3", "PutObjectRequest", "Key")),
        (
            "StackSpec",
            "region",
            Own(
                "the region every object of the stack lives in: requests take it from their endpoint",
            ),
        ),
        (
            "GuardrailContentPolicy",
            "filters",
            Api("bedrock", "GuardrailContentPolicyConfig", "filtersConfig"),
        ),
        (
            "GuardrailContentFilter",
            "type",
            Api("bedrock", "GuardrailContentFilterConfig", "type"),
        ),
        (
            "GuardrailContentFilter",
            "inputStrength",
            Api("bedrock", "GuardrailContentFilterConfig", "inputStrength"),
        ),
        (
            "GuardrailContentFilter",
            "outputStrength",
            Api("bedrock", "GuardrailContentFilterConfig", "outputStrength"),
        ),
        (
            "GuardrailTier",
            "tierName",
            Api("bedrock", "GuardrailContentFiltersTierConfig", "tierName"),
        ),
        (
            "GuardrailTopicPolicy",
            "topics",
            Api("bedrock", "GuardrailTopicPolicyConfig", "topicsConfig"),
        ),
        (
            "GuardrailTopic",
            "name",
            Api("bedrock", "GuardrailTopicConfig", "name"),
        ),
        (
            "GuardrailTopic",
            "definition",
            Api("bedrock", "GuardrailTopicConfig", "definition"),
        ),
        (
            "GuardrailWord",
            "text",
            Api("bedrock", "GuardrailWordConfig", "text"),
        ),
        (
            "GuardrailManagedWords",
            "type",
            Api("bedrock", "GuardrailManagedWordsConfig", "type"),
        ),
        (
            "GuardrailPiiEntity",
            "type",
            Api("bedrock", "GuardrailPiiEntityConfig", "type"),
        ),
        (
            "GuardrailPiiEntity",
            "action",
            Api("bedrock", "GuardrailPiiEntityConfig", "action"),
        ),
        (
            "GuardrailRegex",
            "name",
            Api("bedrock", "GuardrailRegexConfig", "name"),
        ),
        (
            "GuardrailRegex",
            "pattern",
            Api("bedrock", "GuardrailRegexConfig", "pattern"),
        ),
        (
            "GuardrailRegex",
            "action",
            Api("bedrock", "GuardrailRegexConfig", "action"),
        ),
        (
            "GuardrailContextualGroundingPolicy",
            "filters",
            Api(
                "bedrock",
                "GuardrailContextualGroundingPolicyConfig",
                "filtersConfig",
            ),
        ),
        (
            "GuardrailContextualGroundingFilter",
            "type",
            Api(
                "bedrock",
                "GuardrailContextualGroundingFilterConfig",
                "type",
            ),
        ),
        (
            "GuardrailContextualGroundingFilter",
            "threshold",
            Api(
                "bedrock",
                "GuardrailContextualGroundingFilterConfig",
                "threshold",
            ),
        ),
        (
            "GuardrailAutomatedReasoningPolicy",
            "policies",
            Api(
                "bedrock",
                "GuardrailAutomatedReasoningPolicyConfig",
                "policies",
            ),
        ),
        (
            "GuardrailCrossRegionConfig",
            "guardrailProfileIdentifier",
            Api(
                "bedrock",
                "GuardrailCrossRegionConfig",
                "guardrailProfileIdentifier",
            ),
        ),
        (
            "ModelEnforcement",
            "includedModels",
            Api("bedrock", "ModelEnforcement", "includedModels"),
        ),
        (
            "GuardrailTestSpec",
            "input",
            Own("a guardrail test is bedform's: the text it sends through ApplyGuardrail"),
        ),
        (
            "GuardrailTestSpec",
            "expect",
            Own("a guardrail test is bedform's: what the guardrail must do with its text"),
        ),
        (
            "CheckSpec",
            "prompt",
            Own("a smoke check is bedform's: the prompt it sends through Converse"),
        ),
        (
            "AdoptedNames",
            "jobName",
            Own("written by `bedform export`: the names of a job found in the account"),
        ),
        (
            "AdoptedNames",
            "customModelName",
            Own("written by `bedform export`"),
        ),
        (
            "AdoptedNames",
            "trainingHash",
            Own("written by `bedform export`"),
        ),
    ]
};

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/bedform.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the schema")).expect("JSON")
}

#[test]
fn the_manifest_requires_only_what_the_api_requires() {
    let models = Models::load();
    let schema = schema();
    let definitions = schema["$defs"].as_object().expect("$defs");
    let mut unmapped = Vec::new();
    for (definition, body) in definitions {
        for field in body["required"].as_array().into_iter().flatten() {
            let field = field.as_str().expect("a field name");
            if !REQUIRED
                .iter()
                .any(|(d, f, _)| d == definition && *f == field)
            {
                unmapped.push(format!("{definition}.{field}"));
            }
        }
    }
    assert!(
        unmapped.is_empty(),
        "the schema requires fields the table does not place in the API: {unmapped:?}"
    );
    for (definition, field, goes) in REQUIRED {
        let required = definitions[*definition]["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == field));
        assert!(
            required,
            "{definition}.{field} is no longer required: drop it from the table"
        );
        match goes {
            Goes::Api(service, structure, member) => {
                let shape = models.shape(service, structure);
                assert!(
                    shape["members"][member].is_object(),
                    "{service} {structure} has no member {member}"
                );
                assert!(
                    shape["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|m| m == member)),
                    "{definition}.{field} is required, but {service} {structure}.{member} is optional"
                );
            }
            Goes::Own(why) => assert!(!why.is_empty()),
        }
    }
}

// ------------------------------------------------------------- enums

fn schema_enum(schema: &Value, definition: &str) -> Vec<String> {
    schema["$defs"][definition]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{definition} is not an enum"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn api_enum(models: &Models, service: &str, shape: &str) -> Vec<String> {
    models.shape(service, shape)["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{service} {shape} is not an enum"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// `continuedPreTraining` -> `CONTINUED_PRE_TRAINING`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[test]
fn every_manifest_enum_value_is_one_the_api_takes() {
    let models = Models::load();
    let schema = schema();
    let types = api_enum(&models, "bedrock", "CustomizationType");
    for value in schema_enum(&schema, "CustomizationType") {
        assert!(
            types.contains(&screaming(&value)),
            "type: {value} is not in {types:?}"
        );
    }
    // `none` is the API's commitment left out (no term).
    let durations = api_enum(&models, "bedrock", "CommitmentDuration");
    for value in schema_enum(&schema, "Commitment") {
        let mut api = value.clone();
        api[..1].make_ascii_uppercase();
        assert!(
            value == "none" || durations.contains(&api),
            "commitment: {value} is not in {durations:?}"
        );
    }
    let logging = models.shape("bedrock", "LoggingConfig");
    for value in schema_enum(&schema, "Delivery") {
        let member = format!("{value}DataDeliveryEnabled");
        assert!(
            logging["members"][&member].is_object(),
            "deliver: {value} has no {member} in LoggingConfig"
        );
    }
    // Data retention modes are written as the API spells them.
    let modes = api_enum(&models, "bedrock", "DataRetentionMode");
    let declared = schema_enum(&schema, "DataRetentionMode");
    assert_eq!(
        declared.iter().collect::<std::collections::BTreeSet<_>>(),
        modes.iter().collect::<std::collections::BTreeSet<_>>()
    );
    // A guardrail's enums are the API's, spelled as it spells them.
    let same = |definition: &str, shapes: &[&str]| {
        let declared: std::collections::BTreeSet<String> =
            schema_enum(&schema, definition).into_iter().collect();
        for shape in shapes {
            let api: std::collections::BTreeSet<String> =
                api_enum(&models, "bedrock", shape).into_iter().collect();
            assert_eq!(declared, api, "{definition} against {shape}");
        }
    };
    same(
        "GuardrailContentFilterType",
        &["GuardrailContentFilterType"],
    );
    same("GuardrailFilterStrength", &["GuardrailFilterStrength"]);
    same("GuardrailModality", &["GuardrailModality"]);
    same(
        "GuardrailAction",
        &[
            "GuardrailContentFilterAction",
            "GuardrailTopicAction",
            "GuardrailWordAction",
            "GuardrailContextualGroundingAction",
        ],
    );
    same(
        "GuardrailSensitiveInformationAction",
        &["GuardrailSensitiveInformationAction"],
    );
    same(
        "GuardrailTierName",
        &[
            "GuardrailContentFiltersTierName",
            "GuardrailTopicsTierName",
            "GuardrailContextualGroundingTierName",
        ],
    );
    same("GuardrailTopicType", &["GuardrailTopicType"]);
    same("GuardrailManagedWordsType", &["GuardrailManagedWordsType"]);
    same(
        "GuardrailContextualGroundingFilterType",
        &["GuardrailContextualGroundingFilterType"],
    );
    same("GuardrailPiiEntityType", &["GuardrailPiiEntityType"]);
    same("SelectiveGuardingMode", &["SelectiveGuardingMode"]);
    // `sse: s3 | kms` are S3's `AES256` and `aws:kms`.
    let algorithms = api_enum(&models, "s3", "ServerSideEncryption");
    for value in schema_enum(&schema, "Sse") {
        let api = match value.as_str() {
            "s3" => "AES256",
            "kms" => "aws:kms",
            other => panic!("sse: {other} has no S3 algorithm in this test"),
        };
        assert!(
            algorithms.iter().any(|a| a == api),
            "sse: {value} is not in {algorithms:?}"
        );
    }
}

// ------------------------------------------------------------- counts

const STACK: &str = "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: limits}\nspec: {region: us-east-1}\n---\n";

/// Whether `document` validates (with a Stack).
fn validates(document: &str) -> bool {
    let mut loaded = Loaded::default();
    load_text("limits.yaml", &format!("{STACK}{document}"), &mut loaded);
    validate(&loaded, None).is_ok()
}

fn job(extra: &str) -> String {
    format!(
        "apiVersion: bedform/v1
kind: CustomizationJob
metadata: {{name: limits}}
spec:
  type: fineTuning
  baseModel: amazon.nova-micro-v1:0
  output: {{s3Uri: \"s3://acme-limits/out/\"}}
  role: \"arn:aws:iam::123456789012:role/limits\"
{extra}"
    )
}

fn distillation(filters: &str) -> String {
    format!(
        "apiVersion: bedform/v1
kind: CustomizationJob
metadata: {{name: limits}}
spec:
  type: distillation
  baseModel: amazon.nova-micro-v1:0
  teacher: {{model: amazon.nova-pro-v1:0}}
  trainingData:
    invocationLogs:
      s3Uri: s3://acme-limits/logs/
      requestMetadataFilters: {filters}
  output: {{s3Uri: \"s3://acme-limits/out/\"}}
  role: \"arn:aws:iam::123456789012:role/limits\"
"
    )
}

/// Whether bedform takes exactly the counts from `min` to `max` (probed at 0,
/// min, max and max + 1) of what `document(n)` declares n of.
fn assert_counts(what: &str, bounds: &Bounds, document: impl Fn(usize) -> String) {
    let max = bounds.max.expect("a most");
    for n in [0, bounds.min, max, max + 1] {
        let aws = n >= bounds.min && n <= max;
        assert_eq!(
            validates(&document(n)),
            aws,
            "{what}: {n} (AWS takes {} to {max})",
            bounds.min
        );
    }
}

fn list(n: usize, item: impl Fn(usize) -> String) -> String {
    format!("[{}]", (0..n).map(item).collect::<Vec<_>>().join(", "))
}

/// A reinforcement fine-tuning job with `hyper` as its hyper-parameters.
fn rft(hyper: &str) -> String {
    job(&format!(
        "  trainingData: {{s3Uri: \"s3://acme-limits/train.jsonl\"}}\n  grader: {{lambda: \"arn:aws:lambda:us-east-1:123456789012:function:grade\"}}\n  hyperParameters: {{{hyper}}}\n"
    ))
    .replace("type: fineTuning", "type: reinforcementFineTuning")
}

#[test]
fn rft_hyper_parameters_are_bounded_as_the_api_bounds_them() {
    let models = Models::load();
    let members = &models.shape("bedrock", "RFTHyperParameters")["members"];
    let names: Vec<&str> = members
        .as_object()
        .expect("members")
        .keys()
        .map(String::as_str)
        .collect();
    // bedform knows every member, and no other.
    let mut known = bedform::kinds::customization_job::RFT_HYPER_PARAMETERS.to_vec();
    known.sort_unstable();
    let mut api = names.clone();
    api.sort_unstable();
    assert_eq!(known, api);
    assert!(validates(&rft("epochCount: 2")));
    for name in names {
        let shape = models.member("bedrock", "RFTHyperParameters", name);
        match shape["type"].as_str() {
            Some("integer") => {
                let min = shape["min"].as_i64();
                let max = shape["max"].as_i64();
                // Unbounded counts of tokens: at least 1, as a length is.
                let low = min.unwrap_or(1);
                assert!(validates(&rft(&format!("{name}: {low}"))), "{name}: {low}");
                assert!(
                    !validates(&rft(&format!("{name}: {}", low - 1))),
                    "{name}: {}",
                    low - 1
                );
                if let Some(max) = max {
                    assert!(validates(&rft(&format!("{name}: {max}"))), "{name}: {max}");
                    assert!(
                        !validates(&rft(&format!("{name}: {}", max + 1))),
                        "{name}: {}",
                        max + 1
                    );
                }
                assert!(!validates(&rft(&format!("{name}: 2.5"))), "{name}: 2.5");
            }
            Some("float") => {
                let (min, max) = (
                    shape["min"].as_f64().expect("min"),
                    shape["max"].as_f64().expect("max"),
                );
                assert!(validates(&rft(&format!("{name}: {min}"))), "{name}: {min}");
                assert!(validates(&rft(&format!("{name}: {max}"))), "{name}: {max}");
                assert!(
                    !validates(&rft(&format!("{name}: {}", min / 2.0))),
                    "{name}: below"
                );
                assert!(
                    !validates(&rft(&format!("{name}: {}", max * 2.0))),
                    "{name}: above"
                );
            }
            Some("string") => {
                for value in shape["enum"].as_array().expect("an enum") {
                    let value = value.as_str().unwrap_or_default();
                    assert!(
                        validates(&rft(&format!("{name}: {value}"))),
                        "{name}: {value}"
                    );
                }
                assert!(!validates(&rft(&format!("{name}: none-such"))), "{name}");
            }
            other => panic!("{name}: a {other:?} member"),
        }
    }
}

#[test]
fn counts_are_bounded_as_the_api_bounds_them() {
    let models = Models::load();
    let training = "  trainingData: {s3Uri: \"s3://acme-limits/train.jsonl\"}\n";
    assert_counts(
        "validationData",
        &models.bounds("bedrock", "Validators"),
        |n| {
            job(&format!(
                "{training}  validationData: {}\n",
                list(n, |i| format!("{{s3Uri: \"s3://acme-limits/v{i}.jsonl\"}}"))
            ))
        },
    );
    assert_counts(
        "vpcConfig.subnetIds",
        &models.bounds("bedrock", "SubnetIds"),
        |n| {
            job(&format!(
                "{training}  vpcConfig: {{subnetIds: {}, securityGroupIds: [sg-1]}}\n",
                list(n, |i| format!("subnet-{i}"))
            ))
        },
    );
    assert_counts(
        "vpcConfig.securityGroupIds",
        &models.bounds("bedrock", "SecurityGroupIds"),
        |n| {
            job(&format!(
                "{training}  vpcConfig: {{subnetIds: [subnet-1], securityGroupIds: {}}}\n",
                list(n, |i| format!("sg-{i}"))
            ))
        },
    );
    let filters = models.bounds("bedrock", "RequestMetadataFiltersList");
    for combine in ["andAll", "orAll"] {
        assert_counts(
            &format!("requestMetadataFilters.{combine}"),
            &filters,
            |n| {
                distillation(&format!(
                    "{{{combine}: {}}}",
                    list(n, |i| format!("{{equals: {{k{i}: v}}}}"))
                ))
            },
        );
    }
    let pairs = |n: usize| {
        list(n, |i| format!("k{i}: v"))
            .replace('[', "{")
            .replace(']', "}")
    };
    assert_counts(
        "requestMetadataFilters.equals",
        &models.bounds("bedrock", "RequestMetadataMap"),
        |n| distillation(&format!("{{equals: {}}}", pairs(n))),
    );
    // Model units: a positive integer.
    let units = models.member(
        "bedrock",
        "CreateProvisionedModelThroughputRequest",
        "modelUnits",
    );
    let least = units["min"].as_u64().expect("a least");
    let throughput = |n: u64| {
        format!(
            "apiVersion: bedform/v1\nkind: ProvisionedThroughput\nmetadata: {{name: limits}}\nspec:\n  model: amazon.nova-micro-v1:0\n  modelUnits: {n}\n"
        )
    };
    assert!(validates(&throughput(least)));
    assert!(!validates(&throughput(least - 1)));
}

/// A guardrail with `policy` (a line of its spec).
fn guardrail(policy: &str) -> String {
    format!(
        "apiVersion: bedform/v1\nkind: Guardrail\nmetadata: {{name: limits}}\nspec:\n  blockedInputMessaging: no\n  blockedOutputsMessaging: no\n  {policy}\n"
    )
}

#[test]
fn guardrail_counts_are_bounded_as_the_api_bounds_them() {
    let models = Models::load();
    const TYPES: [&str; 6] = [
        "SEXUAL",
        "VIOLENCE",
        "HATE",
        "INSULTS",
        "MISCONDUCT",
        "PROMPT_ATTACK",
    ];
    let content = models.bounds("bedrock", "GuardrailContentFiltersConfig");
    assert_eq!(content.max, Some(TYPES.len()));
    assert_counts("contentPolicy.filters", &content, |n| {
        guardrail(&format!(
            "contentPolicy: {{filters: {}}}",
            list(n, |i| format!(
                "{{type: {}, inputStrength: HIGH, outputStrength: NONE}}",
                TYPES[i.min(TYPES.len() - 1)]
            ))
        ))
    });
    assert_counts(
        "topicPolicy.topics",
        &models.bounds("bedrock", "GuardrailTopicsConfig"),
        |n| {
            guardrail(&format!(
                "topicPolicy: {{topics: {}}}",
                list(n, |i| format!("{{name: t{i}, definition: d}}"))
            ))
        },
    );
    assert_counts(
        "a topic's examples",
        &models.bounds("bedrock", "GuardrailTopicExamples"),
        |n| {
            guardrail(&format!(
                "topicPolicy: {{topics: [{{name: t, definition: d, examples: {}}}]}}",
                list(n, |i| format!("e{i}"))
            ))
        },
    );
    assert_counts(
        "sensitiveInformationPolicy.regexes",
        &models.bounds("bedrock", "GuardrailRegexesConfig"),
        |n| {
            guardrail(&format!(
                "sensitiveInformationPolicy: {{piiEntities: [{{type: EMAIL, action: BLOCK}}], regexes: {}}}",
                list(n, |i| format!("{{name: r{i}, pattern: x, action: BLOCK}}"))
            ))
        },
    );
    assert_counts(
        "automatedReasoningPolicy.policies",
        &models.bounds(
            "bedrock",
            "GuardrailAutomatedReasoningPolicyConfigPoliciesList",
        ),
        |n| {
            guardrail(&format!(
                "automatedReasoningPolicy: {{policies: {}}}",
                list(n, |i| format!(
                    "\"arn:aws:bedrock:us-east-1:123456789012:automated-reasoning-policy/abcdefghijk{i}\""
                ))
            ))
        },
    );
    // Messages and descriptions: the API's lengths.
    let messaging = models.bounds("bedrock", "GuardrailBlockedMessaging");
    let max = messaging.max.expect("a most");
    let with_message = |n: usize| {
        format!(
            "apiVersion: bedform/v1\nkind: Guardrail\nmetadata: {{name: limits}}\nspec:\n  blockedInputMessaging: \"{}\"\n  blockedOutputsMessaging: no\n  wordPolicy: {{managedWordLists: [{{type: PROFANITY}}]}}\n",
            "m".repeat(n)
        )
    };
    assert!(validates(&with_message(max)));
    assert!(!validates(&with_message(max + 1)));
}

#[test]
fn a_teacher_needs_no_response_length_as_the_api_needs_none() {
    let models = Models::load();
    let teacher = models.shape("bedrock", "TeacherModelConfig");
    let required = teacher["required"].as_array().expect("required members");
    assert!(
        !required
            .iter()
            .any(|m| m == "maxResponseLengthForInference")
    );
    assert!(validates(&distillation("{equals: {project: support}}")));
}
