//! A job's `hyperParameters`: the values a manifest writes, the bounds every base
//! model shares for fine-tuning and continued pre-training, and reinforcement
//! fine-tuning's own members and ranges (`RFTHyperParameters`).

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HyperParameter {
    Text(String),
    Integer(i64),
    Number(f64),
}

impl HyperParameter {
    /// The value as a number, if it is one (AWS takes every value as a string).
    fn number(&self) -> Option<f64> {
        match self {
            HyperParameter::Text(s) => s.trim().parse().ok(),
            HyperParameter::Integer(i) => Some(*i as f64),
            HyperParameter::Number(n) => Some(*n),
        }
    }

    /// Why the value of the hyper-parameter `name` is one no base model takes.
    /// The bounds are those every model's documentation shares; the exact ranges
    /// depend on the base model, and AWS checks those. Other names are particular
    /// to some models and left to AWS.
    pub(super) fn out_of_range(&self, name: &str) -> Option<&'static str> {
        let whole = |n: f64| n.fract() == 0.0;
        let n = self.number();
        match name {
            "epochCount" | "batchSize" => match n {
                Some(n) if whole(n) && n >= 1.0 => None,
                _ => Some("must be a whole number of at least 1"),
            },
            "learningRateWarmupSteps" => match n {
                Some(n) if whole(n) && n >= 0.0 => None,
                _ => Some("must be a whole number of at least 0"),
            },
            "learningRate" => match n {
                Some(n) if n > 0.0 && n <= 1.0 => None,
                _ => Some("must be a number above 0 and at most 1"),
            },
            _ => None,
        }
    }

    /// Why the value of RFT's hyper-parameter `name` is not one the API takes
    /// (`RFTHyperParameters`), or that `name` is not one of them.
    pub(super) fn rft_problem(&self, name: &str) -> Option<String> {
        let n = self.number();
        let whole = |min: f64, max: Option<f64>| -> Option<String> {
            match n {
                Some(n) if n.fract() == 0.0 && n >= min && max.is_none_or(|m| n <= m) => None,
                _ => Some(match max {
                    Some(max) => format!("must be a whole number from {min} to {max}"),
                    None => format!("must be a whole number of at least {min}"),
                }),
            }
        };
        match name {
            "epochCount" => whole(1.0, Some(50.0)),
            "batchSize" => whole(16.0, Some(512.0)),
            "trainingSamplePerPrompt" => whole(2.0, Some(16.0)),
            "evalInterval" => whole(1.0, Some(100.0)),
            "maxPromptLength" | "inferenceMaxTokens" => whole(1.0, None),
            "learningRate" => match n {
                Some(n) if (1e-7..=1e-3).contains(&n) => None,
                _ => Some("must be a number from 0.0000001 to 0.001".into()),
            },
            "reasoningEffort" => match self {
                HyperParameter::Text(t) if ["low", "medium", "high"].contains(&t.as_str()) => None,
                _ => Some("must be `low`, `medium` or `high`".into()),
            },
            _ => Some(format!(
                "is not a reinforcementFineTuning hyper-parameter (those are {})",
                RFT_HYPER_PARAMETERS.join(", ")
            )),
        }
    }

    /// The value as AWS's RFT hyper-parameters hold it: a learning rate as the
    /// 32-bit float the API takes (so it reads back as written here).
    pub(super) fn as_rft_string(&self, name: &str) -> String {
        match (name, self.number()) {
            ("learningRate", Some(n)) => (n as f32).to_string(),
            (_, Some(n)) if name != "reasoningEffort" && n.fract() == 0.0 => (n as i64).to_string(),
            _ => self.as_api_string(),
        }
    }

    pub(super) fn as_api_string(&self) -> String {
        match self {
            HyperParameter::Text(s) => s.clone(),
            HyperParameter::Integer(i) => i.to_string(),
            HyperParameter::Number(n) => n.to_string(),
        }
    }
}

/// The members of `RFTHyperParameters`.
pub const RFT_HYPER_PARAMETERS: &[&str] = &[
    "epochCount",
    "batchSize",
    "learningRate",
    "maxPromptLength",
    "trainingSamplePerPrompt",
    "inferenceMaxTokens",
    "reasoningEffort",
    "evalInterval",
];

/// RFT's hyper-parameters that no other type of job takes.
pub(super) const RFT_ONLY_HYPER_PARAMETERS: &[&str] = &[
    "maxPromptLength",
    "trainingSamplePerPrompt",
    "inferenceMaxTokens",
    "reasoningEffort",
    "evalInterval",
];
