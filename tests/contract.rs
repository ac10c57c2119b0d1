//! Contract tests: the same scenarios against the sandbox and against moto_server
//! (through the AWS adapter), asserting that both accounts lead to the same plans.
//! This holds the sandbox to AWS's behaviour for the operations both support.

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use support::Moto;
use tempfile::TempDir;

/// One change of a plan as compared across accounts: address, action, AWS name and
/// the fields that change.
type PlannedChange = (String, String, String, Vec<String>);

/// An account a scenario runs against.
enum Backend {
    Sandbox,
    Moto(Box<Moto>),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sandbox => "sandbox",
            Backend::Moto(_) => "moto",
        }
    }

    fn run(&self, dir: &Path, args: &[&str]) -> (i32, String, String) {
        let mut command = Command::cargo_bin("bedform").unwrap();
        command
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("AWS_ENDPOINT_URL");
        match self {
            Backend::Sandbox => {
                command.arg("--sandbox");
            }
            Backend::Moto(moto) => {
                for (key, value) in moto.env() {
                    command.env(key, value);
                }
            }
        }
        let out = command.args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The plan's changes as (address, action, AWS name, changed fields).
    fn plan(&self, dir: &Path, manifests: &str) -> (i32, Vec<PlannedChange>) {
        let (code, stdout, stderr) = self.run(dir, &["plan", "--format", "json", manifests]);
        let plan: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{}: {e}\n{stdout}\n{stderr}", self.name()));
        let changes = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut fields: Vec<String> = c["fields"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .map(|x| x["path"].as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                fields.sort();
                (
                    c["address"].as_str().unwrap_or_default().to_string(),
                    c["action"].as_str().unwrap_or_default().to_string(),
                    c["aws_name"].as_str().unwrap_or_default().to_string(),
                    fields,
                )
            })
            .collect();
        (code, changes)
    }

    fn apply(&self, dir: &Path, manifests: &str) {
        let (code, stdout, stderr) = self.run(
            dir,
            &[
                "apply",
                "--auto-approve",
                "--wait",
                "--allow-commitment",
                manifests,
            ],
        );
        assert_eq!(code, 0, "{} apply failed\n{stdout}\n{stderr}", self.name());
    }
}

/// Runs `steps` (manifest texts) on both backends: plan, compare, apply, and a
/// final plan that must be clean on both.
fn scenario(steps: &[String]) {
    let backends = [Backend::Sandbox, Backend::Moto(Box::new(Moto::start()))];
    let dirs: Vec<TempDir> = backends.iter().map(|_| TempDir::new().unwrap()).collect();
    for (index, text) in steps.iter().enumerate() {
        let mut plans = Vec::new();
        for (backend, dir) in backends.iter().zip(&dirs) {
            let file = dir.path().join("stack.yaml");
            std::fs::write(&file, text).unwrap();
            plans.push(backend.plan(dir.path(), file.to_str().unwrap()));
        }
        assert_eq!(
            plans[0], plans[1],
            "step {index}: the sandbox (left) and moto (right) plan differently"
        );
        assert!(
            plans[0].1.iter().any(|c| c.1 != "no_op"),
            "step {index} changes nothing, so it compares nothing: {:?}",
            plans[0]
        );
        for (backend, dir) in backends.iter().zip(&dirs) {
            let file = dir.path().join("stack.yaml");
            backend.apply(dir.path(), file.to_str().unwrap());
            let (code, changes) = backend.plan(dir.path(), file.to_str().unwrap());
            let pending: Vec<_> = changes.iter().filter(|c| c.1 != "no_op").collect();
            assert!(
                code == 0 && pending.is_empty(),
                "step {index}: {} is not converged: {pending:?}",
                backend.name()
            );
        }
    }
}

const STACK: &str = "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: contract}\nspec:\n  region: us-east-1\n  accountId: \"123456789012\"\n  tags: {team: ml}\n";

fn doc(kind: &str, name: &str, spec: &str) -> String {
    format!("---\napiVersion: bedform/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}")
}

fn logging_stack(retention: u32, deliver: &str, extra: &str) -> String {
    [
        STACK.to_string(),
        doc("Bucket", "logs-bucket", "  bucketName: contract-logs\n  allowBedrockLogDelivery: true\n  deletionPolicy: delete\n"),
        doc("LogGroup", "logs", &format!("  logGroupName: /contract/invocations\n  retentionDays: {retention}\n")),
        doc(
            "IamRole",
            "writer",
            "  roleName: contract-writer\n  assumedBy: bedrock\n  inlinePolicies:\n    write:\n      Version: \"2012-10-17\"\n      Statement:\n        - {Effect: Allow, Action: [logs:CreateLogStream, logs:PutLogEvents], Resource: \"${logs.arn}:*\"}\n",
        ),
        doc(
            "InvocationLogging",
            "logging",
            &format!("  cloudWatch: {{logGroup: {{ref: logs}}, role: {{ref: writer}}}}\n  s3: {{bucket: {{ref: logs-bucket}}, keyPrefix: logs/}}\n  deliver: {deliver}\n"),
        ),
        extra.to_string(),
    ]
    .concat()
}

#[test]
fn logging_stack_lifecycle() {
    let extra_group = doc(
        "LogGroup",
        "scratch",
        "  logGroupName: /contract/scratch\n  deletionPolicy: delete\n  tags: {team: null, purpose: scratch}\n",
    );
    scenario(&[
        // Everything new.
        logging_stack(30, "[text]", &extra_group),
        // In-place updates: retention, delivery flags, a role policy.
        logging_stack(90, "[text, image, embedding]", &extra_group).replace(
            "logs:PutLogEvents]",
            "logs:PutLogEvents, logs:DescribeLogStreams]",
        ),
        // A resource removed: deleted (deletionPolicy: delete).
        logging_stack(90, "[text, image, embedding]", ""),
        // Logging removed explicitly.
        logging_stack(90, "[text]", "").replace(
            "  deliver: [text]\n",
            "  deliver: [text]\n  state: absent\n",
        ),
    ]);
}

#[test]
fn provisioned_throughput_lifecycle() {
    let serve = |units: u32, name: &str| {
        doc(
            "ProvisionedThroughput",
            "serve",
            &format!(
                "  model: amazon.nova-lite-v1:0\n  modelUnits: {units}\n  provisionedModelName: {name}\n"
            ),
        )
    };
    scenario(&[
        format!("{STACK}{}", serve(1, "contract-serve")),
        // Rename in place.
        format!("{STACK}{}", serve(1, "contract-serving")),
        // More units: replaced, new one first.
        format!("{STACK}{}", serve(2, "contract-serving")),
        // Removed.
        STACK.to_string(),
    ]);
}
