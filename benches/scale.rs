//! How plan and apply scale: figures, not assertions.
//!
//! For generated stacks of 10, 100 and 500 resources against moto_server (through
//! the test proxy, which counts requests by operation and can add latency), prints
//! API calls by operation, plan and apply wall time and peak memory; and `validate`
//! time and memory for 1,000 resources.
//!
//! Then the dimension that matters for a plan: the same small stack (a bucket, a
//! log group, two roles, invocation logging and a customization job) settled in
//! accounts of growing foreign size, where other teams keep F roles, F log groups,
//! 0.3 F buckets and 0.1 F customization jobs with their custom models. For each F
//! it prints the settled plan's calls by operation, wall time at 0, 20 and 100 ms
//! added latency (the median of five plans each), the critical path's depth in
//! round trips (the difference of the 0 and 100 ms wall times over 100 ms) and
//! peak memory: first as the stack is, then with the Stack's `rolePath` (applying
//! it replaces the stack's roles into the path), which IAM's listing needs to
//! leave other teams' roles out.
//!
//! Run: `cargo bench --bench scale` (after `./scripts/test` installed moto_server).
//! `BEDFORM_BENCH_SIZES=10,100` and `BEDFORM_BENCH_LATENCIES_MS=0,20` choose what
//! runs; `BEDFORM_BENCH_FOREIGN=0,1000,5000` the foreign sizes (`none` skips them).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A stack of `n` resources: log groups, buckets and roles in turn.
fn generated_stack(n: usize) -> String {
    let mut text = String::from(
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: scale}\nspec:\n  region: us-east-1\n  tags: {team: bench}\n",
    );
    for i in 0..n {
        let _ = match i % 3 {
            0 => write!(
                text,
                "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: group-{i}}}\nspec:\n  logGroupName: /bench/group-{i}\n  retentionDays: 30\n"
            ),
            1 => write!(
                text,
                "---\napiVersion: bedform/v1\nkind: Bucket\nmetadata: {{name: bucket-{i}}}\nspec:\n  bucketName: bench-bucket-{i}\n"
            ),
            _ => write!(
                text,
                "---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: role-{i}}}\nspec:\n  assumedBy: bedrock\n  inlinePolicies:\n    read:\n      Version: \"2012-10-17\"\n      Statement:\n        - {{Effect: Allow, Action: [s3:GetObject], Resource: \"arn:aws:s3:::bench-bucket-{i}/*\"}}\n"
            ),
        };
    }
    text
}

struct Measured {
    wall: Duration,
    /// bedform's own CPU time, user and system.
    cpu: Duration,
    peak_rss_kib: i64,
    ok: bool,
}

impl Measured {
    /// `1.23 s, CPU 0.12 s (10% of wall), peak memory 50 MiB`.
    fn figures(&self) -> String {
        format!(
            "{:.2} s, bedform CPU {:.2} s ({:.0}% of wall), peak memory {} MiB{}",
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            100.0 * self.cpu.as_secs_f64() / self.wall.as_secs_f64().max(1e-9),
            self.peak_rss_kib / 1024,
            if self.ok { "" } else { " (FAILED)" }
        )
    }
}

fn seconds(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// Runs the bedform binary and measures its wall time and its own peak memory
/// (`wait4` on its pid: the emulator's processes are not counted).
fn run_bedform(args: &[&str], env: &[(&'static str, String)], dir: &Path) -> Measured {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_bedform"));
    let started = Instant::now();
    let child = Command::new(binary)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("NO_COLOR", "1")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run bedform");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 reaps exactly this child and writes only into `status` and
    // `usage`; the `Child` handle is never waited on afterwards.
    let (reaped, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let reaped = libc::wait4(pid, &mut status, 0, &mut usage);
        (reaped, usage)
    };
    drop(child);
    let wall = started.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_kib: if reaped == pid { usage.ru_maxrss } else { -1 },
        ok: reaped == pid && (code == 0 || code == 2),
    }
}

fn counts(moto: &support::Moto) -> BTreeMap<String, u64> {
    moto.counts()
}

fn since(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn print_calls(label: &str, calls: &BTreeMap<String, u64>) {
    let total: u64 = calls.values().sum();
    println!("    {label}: {total} calls");
    for (op, n) in calls {
        println!("      {n:>6}  {op}");
    }
}

/// Calls by operation beside the time the emulator spent answering them (summed
/// over concurrent requests, so it may exceed the wall time).
fn print_timed_calls(label: &str, calls: &BTreeMap<String, u64>, times: &BTreeMap<String, f64>) {
    let total: u64 = calls.values().sum();
    println!("    {label}: {total} calls (calls, then ms the emulator spent answering them)");
    for (op, n) in calls {
        let ms = times.get(op).copied().unwrap_or(0.0) * 1000.0;
        println!("      {n:>6}  {ms:>7.1}  {op}");
    }
}

fn list(var: &str, default: &str) -> Vec<u64> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// The settled stack of the foreign-size runs.
const SMALL_STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: small}
spec: {region: us-east-1, tags: {team: ml}}
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec: {bucketName: small-stack-data, allowBedrockLogDelivery: true}
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec: {logGroupName: /small/invocations, retentionDays: 30}
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: logging-role}
spec:
  roleName: small-logging
  assumedBy: bedrock
  inlinePolicies:
    write:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: [logs:CreateLogStream, logs:PutLogEvents], Resource: "${logs.arn}:*"}
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: job-role}
spec:
  roleName: small-training
  assumedBy: bedrock
  inlinePolicies:
    data:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: [s3:GetObject, s3:PutObject], Resource: ["${data.arn}/*"]}
---
apiVersion: bedform/v1
kind: InvocationLogging
metadata: {name: logging}
spec:
  cloudWatch: {logGroup: {ref: logs}, role: {ref: logging-role}}
  deliver: [text]
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: tuned}
spec:
  type: fineTuning
  baseModel: amazon.nova-micro-v1:0
  trainingData: {s3Uri: "s3://small-stack-data/train.jsonl"}
  output: {s3Uri: "s3://small-stack-data/out/"}
  role: {ref: job-role}
  hyperParameters: {epochCount: 1}
"#;

/// Fills the emulator with what other teams own: `f` roles and log groups, 0.3 `f`
/// buckets, 0.1 `f` customization jobs (each with its custom model), tagged as
/// theirs.
fn populate_foreign(moto: &support::Moto, f: usize) {
    use futures::StreamExt;
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let config = moto.sdk_config().await;
        let iam = aws_sdk_iam::Client::new(&config);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let s3 = support::s3_client(&config);
        let bedrock = aws_sdk_bedrock::Client::new(&config);
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let team = || aws_sdk_iam::types::Tag::builder().key("team").value("other").build();
        let mut work: Vec<futures::future::BoxFuture<'_, ()>> = Vec::new();
        for i in 0..f {
            let (iam, logs) = (iam.clone(), logs.clone());
            work.push(Box::pin(async move {
                iam.create_role()
                    .role_name(format!("other-team-role-{i}"))
                    .assume_role_policy_document(trust)
                    .tags(team().expect("a tag"))
                    .send()
                    .await
                    .expect("CreateRole");
                logs.create_log_group()
                    .log_group_name(format!("/other/team/{i}"))
                    .tags("team", "other")
                    .send()
                    .await
                    .expect("CreateLogGroup");
            }));
        }
        for i in 0..f * 3 / 10 {
            let s3 = s3.clone();
            work.push(Box::pin(async move {
                s3.create_bucket()
                    .bucket(format!("other-team-bucket-{i}"))
                    .send()
                    .await
                    .expect("CreateBucket");
            }));
        }
        for i in 0..f / 10 {
            let bedrock = bedrock.clone();
            work.push(Box::pin(async move {
                let location = |uri: &str| {
                    aws_sdk_bedrock::types::OutputDataConfig::builder()
                        .s3_uri(uri)
                        .build()
                        .expect("an output")
                };
                bedrock
                    .create_model_customization_job()
                    .job_name(format!("other-job-{i}"))
                    .custom_model_name(format!("other-model-{i}"))
                    .role_arn("arn:aws:iam::123456789012:role/other-team-role-0")
                    .base_model_identifier("amazon.nova-micro-v1:0")
                    .training_data_config(
                        aws_sdk_bedrock::types::TrainingDataConfig::builder()
                            .s3_uri("s3://other-team-bucket-0/train.jsonl")
                            .build(),
                    )
                    .output_data_config(location("s3://other-team-bucket-0/out/"))
                    .job_tags(
                        aws_sdk_bedrock::types::Tag::builder()
                            .key("team")
                            .value("other")
                            .build()
                            .expect("a tag"),
                    )
                    .send()
                    .await
                    .expect("CreateModelCustomizationJob");
            }));
        }
        futures::stream::iter(work)
            .buffer_unordered(16)
            .collect::<Vec<()>>()
            .await;
    });
}

/// How many times each settled plan of the small stack runs.
const PLANS: usize = 5;

/// The small stack settled in accounts of growing foreign size.
fn foreign_runs(sizes: &[u64]) {
    println!(
        "\nA settled stack of 6 resources in accounts of growing foreign size \
         (F roles, F log groups, 0.3 F buckets, 0.1 F jobs and custom models), \
         without and then with the Stack's rolePath:"
    );
    let with_path = SMALL_STACK.replace(
        "spec: {region: us-east-1, tags: {team: ml}}",
        "spec: {region: us-east-1, tags: {team: ml}, rolePath: /small/}",
    );
    assert_ne!(
        with_path, SMALL_STACK,
        "the small stack's Stack line changed"
    );
    for &f in sizes {
        let moto = support::Moto::start();
        populate_foreign(&moto, f as usize);
        let dir = tempfile::TempDir::new().expect("temp dir");
        let file = dir.path().join("stack.yaml");
        let path = file.to_str().unwrap_or_default();
        // The same stack in the same account: applying the second replaces its
        // roles into the path.
        for (label, stack) in [
            ("", SMALL_STACK),
            (", rolePath /small/", with_path.as_str()),
        ] {
            std::fs::write(&file, stack).expect("write manifests");
            let apply = run_bedform(&["apply", "--auto-approve", path], &moto.env(), dir.path());
            let figures = settled(&moto, path, dir.path());
            println!(
                "\n  F = {f}{label}{}:",
                if apply.ok { "" } else { " (apply FAILED)" }
            );
            print_settled(&figures);
        }
    }
}

/// The settled plans of the stack at `path` with 0, 20 and 100 ms added.
fn settled(moto: &support::Moto, path: &str, dir: &Path) -> Vec<Settled> {
    let env = moto.env();
    let mut figures = Vec::new();
    for latency in [0, 20, 100] {
        moto.set_faults(&support::Faults {
            latency_ms: latency,
            ..support::Faults::default()
        });
        let (before, spent) = (counts(moto), moto.times());
        let plan = || run_bedform(&["plan", "--detailed-exitcode", path], &env, dir);
        let cpu_before = emulator_cpu(moto);
        let mut plans = vec![plan()];
        let calls = since(&counts(moto), &before);
        let times = moto
            .times()
            .into_iter()
            .map(|(op, t)| {
                let t = t - spent.get(&op).copied().unwrap_or(0.0);
                (op, t)
            })
            .collect::<BTreeMap<_, _>>();
        // One plan's wall time is noisy at this size: the median of a few.
        plans.extend((1..PLANS).map(|_| plan()));
        let emulator = (emulator_cpu(moto) - cpu_before) / PLANS as f64;
        plans.sort_by_key(|m| m.wall);
        figures.push(Settled {
            latency,
            plan: plans.swap_remove(PLANS / 2),
            emulator,
            calls,
            times,
        });
    }
    moto.clear_faults();
    figures
}

fn print_settled(figures: &[Settled]) {
    for s in figures {
        println!(
            "    settled plan, {} ms added (median of {PLANS}): {}; emulator CPU {:.2} s a plan",
            s.latency,
            s.plan.figures(),
            s.emulator,
        );
    }
    let wall = |latency| {
        figures
            .iter()
            .find(|s| s.latency == latency)
            .map_or(0.0, |s| s.plan.wall.as_secs_f64())
    };
    let depth = (wall(100) - wall(0)) / 0.1;
    println!("    critical path: {depth:.1} round trips");
    print_timed_calls(
        "settled plan, 0 ms added",
        &figures[0].calls,
        &figures[0].times,
    );
}

/// One latency's settled plans of the small stack.
struct Settled {
    latency: u64,
    /// The median plan.
    plan: Measured,
    /// CPU seconds moto_server and the proxy spent, on average, per plan.
    emulator: f64,
    /// Calls by operation, of the first plan.
    calls: BTreeMap<String, u64>,
    /// Seconds the emulator spent answering each operation, of the first plan.
    times: BTreeMap<String, f64>,
}

/// CPU seconds (user and system) moto_server and the proxy have used so far, from
/// `/proc/PID/stat`: against an emulator that answers one request at a time (its
/// Python holds one lock), what it does for a plan adds to the plan's wall time.
fn emulator_cpu(moto: &support::Moto) -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    moto.pids()
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // Fields after the command name, which is in parentheses: utime and
            // stime are the 14th and 15th fields of the line.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let field = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            (field(11) + field(12)) / ticks
        })
        .sum()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
    // too, where a benchmark of several minutes has no place.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: a benchmark; run it with `cargo bench --bench scale`");
        return;
    }
    let sizes = list("BEDFORM_BENCH_SIZES", "10,100,500");
    let foreign = list("BEDFORM_BENCH_FOREIGN", "0,1000,5000");
    let latencies = list("BEDFORM_BENCH_LATENCIES_MS", "0,20");
    println!(
        "bedform scale benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // validate: offline, 1,000 resources.
    let dir = tempfile::TempDir::new().expect("temp dir");
    let file = dir.path().join("stack.yaml");
    std::fs::write(&file, generated_stack(1000)).expect("write manifests");
    let validate = run_bedform(
        &["validate", file.to_str().unwrap_or_default()],
        &[],
        dir.path(),
    );
    println!("validate, 1000 resources: {}", validate.figures());

    for &latency in &latencies {
        for &n in &sizes {
            let moto = support::Moto::start();
            moto.set_faults(&support::Faults {
                latency_ms: latency,
                ..support::Faults::default()
            });
            let dir = tempfile::TempDir::new().expect("temp dir");
            let file = dir.path().join("stack.yaml");
            std::fs::write(&file, generated_stack(n as usize)).expect("write manifests");
            let path = file.to_str().unwrap_or_default();
            let env = moto.env();
            println!("\n{n} resources, {latency} ms added latency per request:");
            let before = counts(&moto);
            let plan = run_bedform(&["plan", path], &env, dir.path());
            let after_plan = counts(&moto);
            let apply = run_bedform(&["apply", "--auto-approve", path], &env, dir.path());
            let after_apply = counts(&moto);
            let replan = run_bedform(&["plan", "--detailed-exitcode", path], &env, dir.path());
            let after_replan = counts(&moto);
            for (label, m) in [
                ("plan (empty account)", &plan),
                ("apply", &apply),
                ("plan (all exist)", &replan),
            ] {
                println!("  {label}: {}", m.figures());
            }
            print_calls("plan (empty account)", &since(&after_plan, &before));
            print_calls(
                "apply (its own plan included)",
                &since(&after_apply, &after_plan),
            );
            print_calls("plan (all exist)", &since(&after_replan, &after_apply));
        }
    }
    foreign_runs(&foreign);
}
