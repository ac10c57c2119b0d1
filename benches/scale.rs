//! How plan and apply scale: figures, not assertions.
//!
//! For generated stacks of 10, 100 and 500 resources against moto_server (through
//! the test proxy, which counts requests by operation and can add latency), prints
//! API calls by operation, plan and apply wall time and peak memory; and `validate`
//! time and memory for 1,000 resources.
//!
//! Run: `cargo bench --bench scale` (after `./scripts/test` installed moto_server).
//! `BEDFORM_BENCH_SIZES=10,100` and `BEDFORM_BENCH_LATENCIES_MS=0,20` choose what runs.

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
    peak_rss_kib: i64,
    ok: bool,
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

fn list(var: &str, default: &str) -> Vec<u64> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
    // too, where a benchmark of several minutes has no place.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: a benchmark; run it with `cargo bench --bench scale`");
        return;
    }
    let sizes = list("BEDFORM_BENCH_SIZES", "10,100,500");
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
    println!(
        "validate, 1000 resources: {:.2} s, peak memory {} MiB{}",
        validate.wall.as_secs_f64(),
        validate.peak_rss_kib / 1024,
        if validate.ok { "" } else { " (FAILED)" }
    );

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
                println!(
                    "  {label}: {:.2} s, peak memory {} MiB{}",
                    m.wall.as_secs_f64(),
                    m.peak_rss_kib / 1024,
                    if m.ok { "" } else { " (FAILED)" }
                );
            }
            print_calls("plan (empty account)", &since(&after_plan, &before));
            print_calls(
                "apply (its own plan included)",
                &since(&after_apply, &after_plan),
            );
            print_calls("plan (all exist)", &since(&after_replan, &after_apply));
        }
    }
}
