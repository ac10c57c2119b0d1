//! What bedform knows about foundation models offline: how to normalise a model
//! reference, which family a model belongs to, and whether it can teach or be taught
//! in distillation.

/// `arn:aws:bedrock:REGION::foundation-model/ID` → `ID`; other values unchanged.
pub fn normalise_model(model: &str) -> String {
    if let Some((_, id)) = model.split_once(":foundation-model/")
        && model.starts_with("arn:")
    {
        return id.to_string();
    }
    model.to_string()
}

/// The ARN of a foundation model id in a region.
pub fn foundation_model_arn(region: &str, id: &str) -> String {
    format!("arn:aws:bedrock:{region}::foundation-model/{id}")
}

/// A custom model's identity in desired and observed state.
pub fn custom_model_identity(name: &str) -> String {
    format!("custom-model/{name}")
}

pub fn custom_model_name(identity: &str) -> Option<&str> {
    identity.strip_prefix("custom-model/")
}

/// Provider prefix of a model id (`amazon`, `anthropic`, `meta`...). Cross-region
/// inference profile prefixes (`us.`, `eu.`, `apac.`, `global.`) are skipped.
pub fn provider(model_id: &str) -> &str {
    let id = strip_geo_prefix(model_id);
    id.split('.').next().unwrap_or(id)
}

fn strip_geo_prefix(model_id: &str) -> &str {
    for prefix in ["us.", "eu.", "apac.", "global.", "us-gov."] {
        if let Some(rest) = model_id.strip_prefix(prefix) {
            return rest;
        }
    }
    model_id
}

/// The model family used for the distillation rule "teacher and student of the same
/// family": Amazon Nova, Anthropic Claude, Meta Llama.
pub fn family(model_id: &str) -> Option<&'static str> {
    let id = strip_geo_prefix(model_id);
    if id.starts_with("amazon.nova-") {
        Some("Amazon Nova")
    } else if id.starts_with("anthropic.claude") {
        Some("Anthropic Claude")
    } else if id.starts_with("meta.llama") {
        Some("Meta Llama")
    } else {
        None
    }
}

/// Models that Bedrock Model Distillation offers only as students, never as
/// teachers (the user guide's "Supported models and Regions for Amazon Bedrock
/// Model Distillation"). A model missing here is not judged: AWS adds teachers.
const STUDENTS_ONLY: &[&str] = &[
    "amazon.nova-lite-v1:0",
    "amazon.nova-micro-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-2-1b-instruct-v1:0",
    "meta.llama3-2-3b-instruct-v1:0",
];

/// Teachers of each family, for the hint when a student is named as a teacher.
pub fn teachers_of(family: &str) -> &'static str {
    match family {
        "Amazon Nova" => "amazon.nova-premier-v1:0, amazon.nova-pro-v1:0",
        "Anthropic Claude" => {
            "anthropic.claude-3-5-sonnet-20240620-v1:0, anthropic.claude-3-5-sonnet-20241022-v2:0"
        }
        "Meta Llama" => {
            "meta.llama3-1-405b-instruct-v1:0, meta.llama3-1-70b-instruct-v1:0, meta.llama3-3-70b-instruct-v1:0"
        }
        _ => "the larger models of the student's family",
    }
}

/// Whether `model_id` is offered only as a distillation student.
pub fn is_student_only(model_id: &str) -> bool {
    STUDENTS_ONLY.contains(&strip_geo_prefix(model_id))
}

/// Whether a model id looks like a foundation model id (`provider.name...`).
pub fn looks_like_model_id(model: &str) -> bool {
    let id = strip_geo_prefix(model);
    match id.split_once('.') {
        Some((provider, rest)) => {
            !provider.is_empty()
                && provider.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:_".contains(c))
        }
        None => false,
    }
}

/// Models sold through AWS Marketplace need an agreement before first use; Amazon's
/// own do not.
pub fn needs_agreement(model_id: &str) -> bool {
    !matches!(provider(model_id), "amazon")
}

/// Anthropic models need the one-time use-case form.
pub fn needs_use_case_form(model_id: &str) -> bool {
    provider(model_id) == "anthropic"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_and_id_are_the_same_model() {
        assert_eq!(
            normalise_model("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"),
            "amazon.nova-lite-v1:0"
        );
        assert_eq!(
            normalise_model("amazon.nova-lite-v1:0"),
            "amazon.nova-lite-v1:0"
        );
    }

    #[test]
    fn families() {
        assert_eq!(
            family("amazon.nova-pro-v1:0"),
            family("us.amazon.nova-lite-v1:0")
        );
        assert_ne!(
            family("amazon.nova-pro-v1:0"),
            family("anthropic.claude-3-haiku-20240307-v1:0")
        );
        assert_eq!(family("mistral.x"), None);
        assert!(looks_like_model_id(
            "anthropic.claude-3-5-haiku-20241022-v1:0"
        ));
        assert!(!looks_like_model_id("nova"));
        assert!(needs_agreement("anthropic.claude-3-haiku-20240307-v1:0"));
        assert!(!needs_agreement("amazon.nova-pro-v1:0"));
    }
}
