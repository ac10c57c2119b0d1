//! Prices from the AWS Price List: read at plan time through the SDK
//! (`GetProducts`, served by the stub of the moto proxy from recorded answers in
//! the API's format, held to botocore's `pricing` model), in pages, cached for a
//! day, mapped only where bedform knows what a product prices, and replaced by
//! bedform's table with a note when the credentials may not read it; `--prices
//! FILE` still comes first; `bedform prices` says what bedform knows.

mod common;
mod support;

use support::Moto;
use tempfile::TempDir;

const THROUGHPUT: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: priced}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: lite}
spec:
  model: amazon.nova-2-lite-v1:0
  modelUnits: 2
  commitment: none
"#;

fn products_read(moto: &Moto) -> u64 {
    moto.counts()
        .get("pricing:GetProducts")
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_plan_prices_a_throughput_from_the_price_list_beside_its_on_demand_price() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), THROUGHPUT).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    // Two units at the Price List's no-commitment rate, in the human plan.
    common::assert_contains(
        &plan.stdout,
        "2 × amazon.nova-2-lite-v1:0, no-commitment: $60.50 per unit-hour = $121.00 per hour",
    );
    common::assert_contains(
        &plan.stdout,
        "Prices from the AWS Price List (pricing:GetProducts, service code AmazonBedrock, effective ",
    );
    // The same hour on demand, at the model's regional token prices (not the
    // cross-region ones, which share every attribute but the usage type).
    common::assert_contains(
        &plan.stdout,
        "On demand, amazon.nova-2-lite-v1:0 costs $0.00033 per 1,000 input tokens and $0.00275 per 1,000 output tokens",
    );
    common::assert_contains(
        &plan.stdout,
        "the throughput's $121.00 per hour buys 366,666,667 input or 44,000,000 output tokens an hour on demand",
    );
    // Every page was read: 19 products, two a page.
    assert_eq!(products_read(&moto), 10);
    // The next plan uses the day's cached read.
    let markdown = run(&["plan", "--format", "markdown", "stack.yaml"]).expect(0);
    assert_eq!(products_read(&moto), 10);
    common::assert_contains(&markdown.stdout, "break-even");
    let json = run(&["plan", "--format", "json", "stack.yaml"]).expect(0);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let cost = &plan["changes"][0]["cost"];
    assert_eq!(cost["usd_per_unit_hour"], 60.5, "{cost:#}");
    assert_eq!(cost["on_demand"]["usdPer1kInput"], 0.00033, "{cost:#}");
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn denied_the_price_list_a_plan_prices_from_the_table_and_says_why() {
    let moto = Moto::start();
    moto.deny(&["pricing:GetProducts"]);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), THROUGHPUT).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    common::assert_contains(
        &plan.stdout,
        "price unknown: no no-commitment price for `amazon.nova-2-lite-v1:0` in us-east-1 in the price tables",
    );
    common::assert_contains(
        &plan.stdout,
        "the AWS Price List could not be read (pricing:GetProducts was denied to these credentials), so prices come from the other tables",
    );
    // A denied read is not cached: allowed again, the next plan reads it.
    moto.deny(&[]);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    common::assert_contains(&plan.stdout, "$60.50 per unit-hour");
}

#[test]
fn the_users_table_comes_before_the_price_list() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), THROUGHPUT).unwrap();
    std::fs::write(
        dir.path().join("rates.yaml"),
        "source: our rate card\ndate: \"2026-11-01\"\nprices:\n  - {model: amazon.nova-2-lite-v1:0, region: us-east-1, noCommitment: 50.00}\n",
    )
    .unwrap();
    let plan = common::run_with(
        dir.path(),
        &moto.env(),
        ["--prices", "rates.yaml", "plan", "stack.yaml"],
    )
    .expect(0);
    common::assert_contains(&plan.stdout, "$50.00 per unit-hour = $100.00 per hour");
    common::assert_contains(&plan.stdout, "rates.yaml (our rate card, as of 2026-11-01)");
    // On-demand prices the user's table lacks still come from the Price List.
    common::assert_contains(&plan.stdout, "$0.00033 per 1,000 input tokens");
}

#[test]
fn prices_says_what_bedform_knows_for_a_region() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let out = run(&["--region", "us-east-1", "prices"]).expect(0);
    for part in [
        "Prices bedform knows for us-east-1 (USD):",
        "the AWS Price List (pricing:GetProducts, service code AmazonBedrock, effective ",
        "  amazon.nova-lite-v1:0: on demand $0.00006 per 1,000 input tokens and $0.00024 per 1,000 output tokens",
        "  amazon.nova-2-lite-v1:0: no commitment $60.50 per model unit-hour; one month $55.00 per model unit-hour; on demand $0.00033",
        // Custom models' own rows, told apart by their usage type.
        "  amazon.nova-2-lite-v1:0 (custom models): on demand $0.0003 per 1,000 input tokens and $0.0025 per 1,000 output tokens",
        "bedform's price table (https://aws.amazon.com/bedrock/pricing/, as of 2025-03):",
        // Claude 2.0, Qwen, batch, cross-region, customization and storage rows.
        "The AWS Price List holds 7 more Amazon Bedrock product(s) in us-east-1 that bedform does not map",
    ] {
        common::assert_contains(&out.stdout, part);
    }
    // One model, in a region whose Price List lacks it.
    let out = run(&["--region", "us-east-2", "prices", "amazon.nova-pro-v1:0"]).expect(0);
    common::assert_contains(
        &out.stdout,
        "No table prices `amazon.nova-pro-v1:0` in us-east-2: bedform says its price is unknown",
    );
    let out = run(&["--region", "us-east-2", "prices", "amazon.nova-lite-v1:0"]).expect(0);
    common::assert_contains(&out.stdout, "amazon.nova-lite-v1:0: on demand $0.00006");
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn the_sandbox_prices_from_the_table_alone() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), THROUGHPUT).unwrap();
    let out = common::run(dir.path(), ["--sandbox", "--region", "us-east-1", "prices"]).expect(0);
    common::assert_contains(&out.stdout, "Note: the sandbox reads no AWS Price List.");
    assert!(
        !out.stdout.contains("the AWS Price List ("),
        "{}",
        out.stdout
    );
}

#[test]
fn a_deployment_says_what_its_tokens_cost_as_far_as_the_tables_know() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = common::copy_example(dir.path(), "distill-and-serve");
    let plan =
        common::run_with(dir.path(), &moto.env(), ["plan", stack.to_str().unwrap()]).expect(0);
    common::assert_contains(
        &plan.stdout,
        "its price per token is unknown: no price table gives an on-demand price for custom models of `amazon.nova-lite-v1:0` in us-east-1; give one with --prices FILE (`amazon.nova-lite-v1:0` itself costs $0.00006 per 1,000 input tokens and $0.00024 per 1,000 output tokens on demand",
    );
}
