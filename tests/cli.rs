//! The binary end to end against the sandbox: the README's flow, exit codes, the
//! guards of apply.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, assert_contains, bedform};
use tempfile::TempDir;

/// One bedform run in a temporary folder with its own sandbox.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: TempDir::new().unwrap(),
        };
        // A fast clock: jobs train in a moment.
        std::fs::create_dir_all(env.dir.path().join(".bedform")).unwrap();
        env
    }

    /// Copies an example into the temp folder and returns its path.
    fn example(&self, name: &str) -> PathBuf {
        common::copy_example(self.dir.path(), name)
    }

    fn edit(&self, file: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{} has no `{from}`", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
    }

    #[must_use]
    fn run(&self, args: &[&str]) -> Output {
        common::run(self.dir.path(), args)
    }

    fn sandbox_file(&self) -> PathBuf {
        self.dir.path().join(".bedform/sandbox.json")
    }
}

#[test]
fn quickstart_plan_apply_wait_then_no_changes() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let stack = stack.to_str().unwrap();
    let first = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", stack])
        .expect(2);
    assert_contains(
        &first.stdout,
        "Plan: 7 to create, 0 to update, 0 to replace, 0 to delete.",
    );
    let applied = env
        .run(&["--sandbox", "apply", "--auto-approve", "--wait", stack])
        .expect(0);
    assert_contains(&applied.stdout, "Apply complete.");
    // Without a terminal, waiting prints plain progress lines.
    assert_contains(&applied.stderr, "InProgress");
    assert_contains(&applied.stderr, "InService");
    let again = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", stack])
        .expect(0);
    assert_contains(&again.stdout, "No changes.");
    assert!(env.sandbox_file().exists());
}

#[test]
fn model_units_change_is_a_replacement_and_rename_an_update() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        "--wait",
        stack.to_str().unwrap(),
    ])
    .expect(0);
    let manifest = stack.join("distillation.yaml");
    env.edit(&manifest, "modelUnits: 1", "modelUnits: 2");
    let plan = env
        .run(&[
            "--sandbox",
            "plan",
            "--detailed-exitcode",
            stack.to_str().unwrap(),
        ])
        .expect(2);
    assert_contains(&plan.stdout, "# ProvisionedThroughput/support-bot");
    assert_contains(&plan.stdout, "must be replaced");
    assert_contains(&plan.stdout, "modelUnits: 1 -> 2   # forces replacement");
    assert_contains(
        &plan.stdout,
        "cannot be updated on a provisioned throughput",
    );
    assert_contains(
        &plan.stdout,
        "0 to create, 0 to update, 1 to replace, 0 to delete.",
    );

    env.edit(
        &manifest,
        "modelUnits: 2",
        "modelUnits: 1\n  provisionedModelName: support-bot-v2",
    );
    let plan = env
        .run(&[
            "--sandbox",
            "plan",
            "--detailed-exitcode",
            stack.to_str().unwrap(),
        ])
        .expect(2);
    assert_contains(&plan.stdout, "will be updated in-place");
    assert_contains(
        &plan.stdout,
        r#"provisionedModelName: "support-bot" -> "support-bot-v2""#,
    );
    assert!(
        !plan.stdout.contains("Changed outside bedform"),
        "a rename is not drift:\n{}",
        plan.stdout
    );
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        stack.to_str().unwrap(),
    ])
    .expect(0);
    env.run(&[
        "--sandbox",
        "plan",
        "--detailed-exitcode",
        stack.to_str().unwrap(),
    ])
    .expect(0);
}

#[test]
fn commitment_purchase_needs_allow_commitment() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "commitment: none",
        "commitment: oneMonth",
    );
    let path = stack.to_str().unwrap();
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert_contains(
        &plan.stdout,
        "oneMonth commitment; apply needs --allow-commitment",
    );
    let refused = env
        .run(&["--sandbox", "apply", "--auto-approve", path])
        .expect(1);
    assert_contains(&refused.stderr, "--allow-commitment");
    // Nothing was created.
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert_contains(&plan.stdout, "Plan: 7 to create");
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        "--allow-commitment",
        "--wait",
        path,
    ])
    .expect(0);
    env.run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(0);
}

#[test]
fn apply_without_a_terminal_or_approval_changes_nothing() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let path = stack.to_str().unwrap();
    let refused = env.run(&["--sandbox", "apply", path]).expect(1);
    assert_contains(&refused.stderr, "--auto-approve");
    let plan = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(2);
    assert_contains(&plan.stdout, "to create");
}

#[test]
fn saved_plan_applies_exactly_and_refuses_when_stale() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let path = stack.to_str().unwrap();
    let plan_file = env.dir.path().join("reviewed.json");
    let plan_file = plan_file.to_str().unwrap();
    let saved = env
        .run(&["--sandbox", "plan", "--out", plan_file, path])
        .expect(0);
    // The hint reaches the same account: it keeps `--sandbox`.
    assert_contains(
        &saved.stderr,
        &format!("apply it with: bedform --sandbox apply --plan {plan_file}"),
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    assert_eq!(json["format_version"], bedform::plan::FORMAT_VERSION);
    env.run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(0);
    env.run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(0);
    // The same plan again: the account has changed since it was made.
    let stale = env
        .run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(1);
    assert_contains(&stale.stderr, "stale plan");
}

#[test]
fn wrong_account_is_refused_before_anything_is_read() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    // A sandbox created for another account.
    env.run(&["--sandbox", "plan", path]).expect(0);
    let text = std::fs::read_to_string(env.sandbox_file()).unwrap();
    std::fs::write(
        env.sandbox_file(),
        text.replace("123456789012", "999999999999"),
    )
    .unwrap();
    let refused = env.run(&["--sandbox", "plan", path]).expect(1);
    assert_contains(&refused.stderr, "999999999999");
    assert_contains(&refused.stderr, "declares accountId 123456789012");
}

#[test]
fn corrupt_sandbox_file_is_an_error_and_left_untouched() {
    let env = Env::new();
    let stack = env.example("logging-only");
    std::fs::write(env.sandbox_file(), b"{ not json").unwrap();
    let out = env
        .run(&["--sandbox", "plan", stack.to_str().unwrap()])
        .expect(1);
    assert_contains(&out.stderr, "is not a bedform sandbox");
    assert_eq!(std::fs::read(env.sandbox_file()).unwrap(), b"{ not json");
}

#[test]
fn json_and_markdown_formats() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    let json = env
        .run(&["--sandbox", "plan", "--format", "json", path])
        .expect(0);
    let plan: bedform::plan::Plan = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan.summary.create, 7);
    let markdown = env
        .run(&["--sandbox", "plan", "--format", "markdown", path])
        .expect(0);
    assert!(
        markdown
            .stdout
            .starts_with("### bedform plan: `support-bot`"),
        "{}",
        markdown.stdout
    );
    assert_contains(&markdown.stdout, "<details>");
    assert_contains(&markdown.stdout, "starts a customization job");
}

#[test]
fn colour_only_when_asked_for_and_on_a_terminal() {
    let env = Env::new();
    let stack = env.example("logging-only");
    // Output is captured (not a terminal): no escape codes even without NO_COLOR.
    let out = bedform(env.dir.path())
        .env_remove("NO_COLOR")
        .args(["--sandbox", "plan", stack.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn without_sandbox_says_how_to_proceed() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let out = env.run(&["plan", stack.to_str().unwrap()]).expect(1);
    assert_contains(&out.stderr, "--sandbox");
}

#[test]
fn validate_reports_and_exits_one() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "modelUnits: 1",
        "modelUnits: 0",
    );
    let out = env.run(&["validate", stack.to_str().unwrap()]).expect(1);
    assert_contains(&out.stderr, "distillation.yaml:");
    assert_contains(&out.stderr, "`modelUnits` is 0; it must be at least 1");
}

#[test]
fn plan_prices_a_purchase_from_the_users_price_table() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "commitment: none",
        "commitment: oneMonth",
    );
    let path = stack.to_str().unwrap();
    // bedform's own table has no Nova prices: said unknown.
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert_contains(
        &plan.stdout,
        "ProvisionedThroughput/support-bot: 1 × custom model of amazon.nova-lite-v1:0, one-month commitment: price unknown",
    );
    let prices = env.dir.path().join("prices.yaml");
    std::fs::write(
        &prices,
        "source: our rate card\ndate: \"2026-11-01\"\nprices:\n  - {model: amazon.nova-lite-v1:0, region: us-east-1, custom: true, oneMonth: 12.25}\n",
    )
    .unwrap();
    let prices_arg = prices.to_str().unwrap();
    let plan = env
        .run(&[
            "--sandbox",
            "--prices",
            prices_arg,
            "plan",
            "--format",
            "markdown",
            path,
        ])
        .expect(0);
    assert_contains(
        &plan.stdout,
        "| `ProvisionedThroughput/support-bot` | custom model of `amazon.nova-lite-v1:0` | 1 | one-month commitment (730 h) | $12.25 | $12.25 | $8,942.50 |",
    );
    assert_contains(&plan.stdout, "our rate card, as of 2026-11-01");
    // A broken table stops the plan before the account is read.
    std::fs::write(&prices, "source: x\nprices: [{model: m}]\n").unwrap();
    let failed = env
        .run(&["--sandbox", "--prices", prices_arg, "plan", path])
        .expect(1);
    assert_contains(&failed.stderr, "prices.yaml");
    assert!(failed.stdout.is_empty(), "{}", failed.stdout);
}

#[test]
fn a_markdown_plan_is_cut_to_the_length_asked_for() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    let whole = env
        .run(&["--sandbox", "plan", "--format", "markdown", path])
        .expect(0);
    assert!(whole.stdout.len() > 3_000, "{} bytes", whole.stdout.len());
    assert!(!whole.stdout.contains("Cut to fit"));
    let cut = env
        .run(&[
            "--sandbox",
            "plan",
            "--format",
            "markdown",
            "--max-length",
            "3000",
            path,
        ])
        .expect(0);
    assert!(cut.stdout.len() <= 3_000, "{} bytes", cut.stdout.len());
    assert_contains(
        &cut.stdout,
        "Cut to fit a pull-request comment (3000 characters)",
    );
    // The counts survive any cut.
    assert_contains(&cut.stdout, "Plan: 7 to create");
    // Too short for the counts and the note: refused before the account is read.
    let refused = env
        .run(&[
            "--sandbox",
            "plan",
            "--format",
            "markdown",
            "--max-length",
            "10",
            path,
        ])
        .expect(1);
    assert_contains(&refused.stderr, "--max-length");
}

#[test]
fn a_misspelled_path_is_one_error_that_names_the_folder_meant() {
    let env = Env::new();
    env.example("quickstart");
    let out = env.run(&["validate", "quickstrat"]).expect(1);
    assert_contains(
        &out.stderr,
        "quickstrat: no such file or folder; did you mean `quickstart`?",
    );
    assert_contains(&out.stderr, "1 error found.");
    assert!(!out.stderr.contains("Stack"), "{}", out.stderr);
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line_definition() {
    let dir = tempfile::TempDir::new().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _bedform"),
        ("zsh", "#compdef bedform"),
        ("fish", "complete -c bedform"),
    ] {
        let out = common::run(dir.path(), ["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}:\n{}", out.stdout);
        for command in ["validate", "plan", "apply", "unlock", "export"] {
            assert!(out.stdout.contains(command), "{shell} lacks {command}");
        }
        assert!(out.stdout.contains("detailed-exitcode"), "{shell}");
    }
    let man = common::run(dir.path(), ["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH bedform"));
    assert!(
        man.stdout.contains("Amazon Bedrock as code"),
        "{}",
        man.stdout
    );
    let unknown = common::run(dir.path(), ["completions", "tcsh"]);
    assert_eq!(unknown.code, 1);
}

// ------------------------------------------------------------------ --help

/// The README, whose commands these tests hold to the binary.
fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// A command's visible arguments, as clap shows them in its help.
fn visible(command: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
}

/// `a|c|b` as `a|b|c`: the order of a value's alternatives is the writer's.
fn normalize(word: &str) -> String {
    let mut alternatives: Vec<&str> = word.split('|').collect();
    alternatives.sort();
    alternatives.join("|")
}

/// How an argument's value is written: its value name, or its possible values
/// joined by `|` where the value is one of a set.
fn value_shape(arg: &clap::Arg) -> String {
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !possible.is_empty() {
        return normalize(&possible.join("|"));
    }
    arg.get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

#[test]
fn help_shows_a_commands_own_flags_first_and_the_global_ones_it_reads_apart() {
    let env = Env::new();
    let plan = env.run(&["plan", "--help"]).expect(0);
    let global = plan
        .stdout
        .find("Global flags:")
        .unwrap_or_else(|| panic!("{}", plan.stdout));
    for own in ["--out", "--format", "--max-length", "--retry-failed"] {
        let at = plan.stdout.find(own).unwrap_or_else(|| panic!("no {own}"));
        assert!(
            at < global,
            "{own} is after the global flags:\n{}",
            plan.stdout
        );
    }
    for flag in ["--sandbox", "--profile", "--prices", "--log-level"] {
        let at = plan
            .stdout
            .rfind(flag)
            .unwrap_or_else(|| panic!("no {flag}"));
        assert!(at > global, "{flag} is among plan's own:\n{}", plan.stdout);
    }
    // The arguments and --format's values are described.
    assert_contains(&plan.stdout, "Manifest files or folders");
    assert_contains(&plan.stdout, "markdown: ");
    assert_contains(&plan.stdout, "at least 2000");

    // validate reads no account: no account flags in its help.
    let validate = env.run(&["validate", "--help"]).expect(0);
    for flag in [
        "--sandbox",
        "--profile",
        "--region",
        "--endpoint-url",
        "--prices",
    ] {
        assert!(
            !validate.stdout.contains(flag),
            "{flag}:\n{}",
            validate.stdout
        );
    }
    assert_contains(&validate.stdout, "--log-level");
    // Only plan and apply price anything.
    let status = env.run(&["status", "--help"]).expect(0);
    assert!(!status.stdout.contains("--prices"), "{}", status.stdout);
    assert_contains(&status.stdout, "--sandbox");
    let schema = env.run(&["schema", "--help"]).expect(0);
    assert!(!schema.stdout.contains("Global flags"), "{}", schema.stdout);
}

#[test]
fn every_argument_of_every_command_is_described() {
    let mut command = bedform::cli::command();
    // Built, as when it parses: each command holds the global flags it shows.
    command.build();
    let mut seen = 0;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        assert!(
            sub.get_about().is_some(),
            "`{}` has no description",
            sub.get_name()
        );
        for arg in visible(sub) {
            seen += 1;
            assert!(
                arg.get_help()
                    .is_some_and(|h| !h.to_string().trim().is_empty()),
                "`{} {}` has no description",
                sub.get_name(),
                arg.get_id()
            );
        }
    }
    assert!(seen > 40, "{seen} arguments");
}

/// The README's synopsis of each command: the words after `bedform
/// [GLOBAL FLAGS] COMMAND` of each of its lines (continuations joined), with
/// whether the line names the global flags.
fn readme_synopsis() -> Vec<(String, bool, Vec<String>)> {
    let readme = readme();
    let block = readme
        .split("## Commands\n\n```\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a code block under ## Commands");
    let mut lines: Vec<String> = Vec::new();
    for line in block.lines() {
        if line.starts_with("bedform ") {
            lines.push(line.to_string());
        } else {
            let last = lines.last_mut().expect("a continuation after a command");
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    lines
        .iter()
        .map(|line| {
            let rest = line.strip_prefix("bedform ").unwrap();
            let (global, rest) = match rest.strip_prefix("[GLOBAL FLAGS] ") {
                Some(rest) => (true, rest),
                None => (false, rest),
            };
            let mut words = rest
                .split_whitespace()
                .map(|w| normalize(w.trim_matches(['[', ']'])));
            let name = words.next().unwrap();
            (name, global, words.collect())
        })
        .collect()
}

#[test]
fn the_readme_synopsis_is_the_command_line_clap_accepts() {
    let mut command = bedform::cli::command();
    // Built, as when it parses: each command holds the global flags it shows.
    command.build();
    let synopsis = readme_synopsis();
    let mut described: Vec<&str> = synopsis.iter().map(|(n, _, _)| n.as_str()).collect();
    described.dedup();
    let commands: Vec<&str> = command
        .get_subcommands()
        .map(|s| s.get_name())
        .filter(|n| *n != "help")
        .collect();
    let mut sorted = described.clone();
    sorted.sort();
    let mut expected = commands.clone();
    expected.sort();
    assert_eq!(
        sorted, expected,
        "the README lists every command, once each"
    );

    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let lines: Vec<_> = synopsis.iter().filter(|(n, _, _)| n == name).collect();
        // Flags with how their values are written, and the positionals' words.
        let mut readme_flags = std::collections::BTreeMap::new();
        let mut readme_positionals = std::collections::BTreeSet::new();
        for (_, global, words) in &lines {
            let reads_globals = visible(sub).any(|a| a.is_global_set());
            assert_eq!(*global, reads_globals, "`{name}`: [GLOBAL FLAGS]");
            let mut words = words.iter().peekable();
            while let Some(word) = words.next() {
                if let Some(flag) = word.strip_prefix("--") {
                    let arg = visible(sub)
                        .find(|a| a.get_long() == Some(flag))
                        .unwrap_or_else(|| panic!("`{name}` has no --{flag}"));
                    let value = if arg.get_action().takes_values() {
                        words.next().cloned()
                    } else {
                        None
                    };
                    readme_flags.insert(flag.to_string(), value);
                } else {
                    readme_positionals.insert(word.trim_end_matches("...").to_string());
                }
            }
        }
        let own: std::collections::BTreeMap<String, Option<String>> = visible(sub)
            .filter(|a| !a.is_global_set() && !a.is_positional())
            .map(|a| {
                let value = a.get_action().takes_values().then(|| value_shape(a));
                (a.get_long().unwrap().to_string(), value)
            })
            .collect();
        assert_eq!(readme_flags, own, "`{name}`: the README's flags and clap's");
        let positionals: std::collections::BTreeSet<String> = visible(sub)
            .filter(|a| a.is_positional())
            .flat_map(|a| {
                let shape = value_shape(a);
                if shape.contains('|') {
                    vec![shape]
                } else {
                    shape.split(' ').map(str::to_string).collect()
                }
            })
            .collect();
        assert_eq!(
            readme_positionals, positionals,
            "`{name}`: the README's arguments and clap's"
        );
    }

    // The global flags' table lists exactly clap's global flags.
    let readme = readme();
    let table = readme
        .split("Global flags:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the global flags' table");
    let listed: std::collections::BTreeMap<String, Option<String>> = table
        .lines()
        .filter_map(|row| row.strip_prefix("| `--"))
        .map(|row| {
            let cell = row.split('`').next().unwrap();
            let mut words = cell.split(' ');
            let flag = words.next().unwrap().to_string();
            (flag, words.next().map(str::to_string))
        })
        .collect();
    let global: std::collections::BTreeMap<String, Option<String>> = visible(&command)
        .filter(|a| a.is_global_set())
        .map(|a| {
            let value = a.get_action().takes_values().then(|| {
                a.get_value_names()
                    .map(|n| {
                        n.iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_else(|| a.get_id().as_str().to_uppercase())
            });
            (a.get_long().unwrap().to_string(), value)
        })
        .collect();
    assert_eq!(listed, global, "the README's global flags and clap's");
}

/// The code blocks of the README section titled `title`, in order.
fn readme_blocks(title: &str) -> Vec<String> {
    let readme = readme();
    let section = readme
        .split(&format!("\n## {title}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("no README section `{title}`"));
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readmes_two_set_up_commands_install_and_run_the_quickstart_and_the_tests() {
    let blocks = readme_blocks("Try it");
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    // One line: install, then the quickstart on the sandbox, each step on the
    // success of the one before.
    let quickstart: Vec<&str> = blocks[0].trim().split(" && ").collect();
    assert_eq!(quickstart[0], "cargo install --locked --path .");
    assert!(quickstart.len() >= 3, "{quickstart:?}");
    // The installed binary is the one these tests run: follow the rest as given.
    let env = Env::new();
    std::fs::create_dir(env.dir.path().join("examples")).unwrap();
    common::copy_example(&env.dir.path().join("examples"), "quickstart");
    for (step, line) in quickstart[1..].iter().enumerate() {
        let args: Vec<&str> = line
            .strip_prefix("bedform ")
            .unwrap_or_else(|| panic!("`{line}` does not run bedform"))
            .split(' ')
            .collect();
        assert!(args.contains(&"--sandbox"), "`{line}` needs no AWS account");
        let out = env.run(&args);
        assert_eq!(out.code, 0, "`{line}`:\n{}\n{}", out.stdout, out.stderr);
        if step == 0 {
            assert_contains(&out.stdout, "to create");
        }
    }
    let last = env
        .run(&["--sandbox", "plan", "examples/quickstart"])
        .expect(0);
    assert_contains(&last.stdout, "No changes");

    // The other runs every test: the script CI runs.
    assert_eq!(blocks[1].trim(), "./scripts/test");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test");
    let mode = std::os::unix::fs::PermissionsExt::mode(&script.metadata().unwrap().permissions());
    assert!(mode & 0o111 != 0, "scripts/test is not executable");
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(ci.contains("exec ./scripts/test"), "{ci}");
    let test = std::fs::read_to_string(&script).unwrap();
    assert!(test.contains("cargo test --all-targets"), "{test}");
}

// ------------------------------------------------------------------ graph

#[test]
fn graph_draws_the_manifests_offline_and_a_saved_plan_on_them() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    let mermaid = env.run(&["graph", path]).expect(0);
    assert!(
        mermaid.stdout.starts_with("flowchart LR\n"),
        "{}",
        mermaid.stdout
    );
    assert!(mermaid.stdout.contains(" --> "));
    assert!(!mermaid.stdout.contains("Legend"));
    let dot = env.run(&["graph", "--format", "dot", path]).expect(0);
    assert!(
        dot.stdout.starts_with("digraph bedform {"),
        "{}",
        dot.stdout
    );

    // With the saved plan: every node is to be created.
    env.run(&["--sandbox", "plan", "--out", "plan.json", path])
        .expect(0);
    let planned = env.run(&["graph", "--plan", "plan.json", path]).expect(0);
    assert_contains(&planned.stdout, "[\"+ IamRole/");
    assert_contains(&planned.stdout, "[\"+ create\"]:::create");
    assert_contains(&planned.stdout, "subgraph legend");

    // Or planned there and then: the same actions.
    let live = env
        .run(&["--sandbox", "graph", "--read-account", path])
        .expect(0);
    assert_eq!(live.stdout, planned.stdout);
    let both = env.run(&["graph", "--read-account", "--plan", "plan.json", path]);
    assert_eq!(both.code, 1, "--plan and --read-account conflict");

    // A plan of another stack is refused.
    env.edit(
        &stack.join("stack.yaml"),
        "name: support-bot",
        "name: other-bot",
    );
    let other = env.run(&["graph", "--plan", "plan.json", path]).expect(1);
    assert_contains(&other.stderr, "is a plan of stack `support-bot`");
}

#[test]
fn graph_of_an_invalid_folder_reports_what_validate_reports() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(&stack.join("distillation.yaml"), "ref: ", "ref: no-such-");
    let path = stack.to_str().unwrap();
    let validate = env.run(&["validate", path]).expect(1);
    let graph = env.run(&["graph", path]).expect(1);
    assert_eq!(graph.stderr, validate.stderr);
    assert!(graph.stdout.is_empty(), "{}", graph.stdout);
    assert_contains(&graph.stderr, "no-such-");
}

#[test]
fn the_readme_shows_the_quickstarts_graph_as_the_command_draws_it() {
    let env = Env::new();
    env.example("quickstart");
    let drawn = env.run(&["graph", "quickstart"]).expect(0);
    let readme = readme();
    let shown = readme
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a mermaid block in the README");
    assert_eq!(
        shown, drawn.stdout,
        "regenerate it with `bedform graph examples/quickstart`"
    );
}
