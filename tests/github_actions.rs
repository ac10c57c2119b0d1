//! The GitHub Actions examples (`examples/github-actions/*.yml`) are workflows
//! GitHub would run, and every bedform command in them is one this bedform accepts:
//! a renamed flag or command breaks this test, not a team's pipeline.

use std::path::Path;

use bedform::cli::{Cli, Command};
use clap::Parser;
use serde_json::Value;

/// The example workflows, by file name.
const EXAMPLES: [&str; 3] = ["bedform.yml", "drift.yml", "monorepo.yml"];

/// An example workflow of `examples/github-actions/`.
fn example(file: &str) -> Value {
    yaml(&format!("examples/github-actions/{file}"))
}

/// The pull request and merge workflow.
fn workflow() -> Value {
    example("bedform.yml")
}

fn job<'a>(workflow: &'a Value, name: &str) -> &'a Value {
    workflow["jobs"]
        .get(name)
        .unwrap_or_else(|| panic!("no job `{name}`"))
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("a job has a list of steps")
}

fn step_uses<'a>(job: &'a Value, action: &str) -> Vec<&'a Value> {
    steps(job)
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
        .collect()
}

// ------------------------------------------------------------- shell commands

/// A word or an operator of a shell line.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// `;`, `&&`, `||`, `|`, `&`: ends a simple command.
    Separator(String),
    /// `>`, `>>`, `<`: the next word is a file.
    Redirect,
}

/// Splits one line of a `run:` script as a shell would, with every `$VAR`,
/// `${VAR}` and `${{ expression }}` replaced by a placeholder word.
fn tokens(line: &str) -> Vec<Token> {
    let line = replace_expressions(line);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let end_word = |out: &mut Vec<Token>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            out.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word(&mut out, &mut word, &mut in_word),
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                let mut quoted = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => quoted.extend(chars.next()),
                        c => quoted.push(c),
                    }
                }
                word.push_str(&expand(&quoted));
            }
            '$' => {
                in_word = true;
                let mut name = String::from("$");
                if chars.peek() == Some(&'{') {
                    for c in chars.by_ref() {
                        name.push(c);
                        if c == '}' {
                            break;
                        }
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if !(c.is_ascii_alphanumeric() || c == '_' || c == '?') {
                            break;
                        }
                        name.push(c);
                        chars.next();
                    }
                }
                word.push_str(&expand(&name));
            }
            ';' | '&' | '|' => {
                end_word(&mut out, &mut word, &mut in_word);
                let mut op = c.to_string();
                if chars.peek() == Some(&c) {
                    op.push(c);
                    chars.next();
                }
                out.push(Token::Separator(op));
            }
            '>' | '<' => {
                end_word(&mut out, &mut word, &mut in_word);
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                out.push(Token::Redirect);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut out, &mut word, &mut in_word);
    out
}

/// `${{ ... }}` becomes the word `expression`.
fn replace_expressions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        out.push_str("expression");
        rest = match rest[start..].find("}}") {
            Some(end) => &rest[start + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Every `$VAR` and `${VAR}` in `text` becomes the variable's name in lower case.
fn expand(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '?') {
                break;
            }
            name.push(c);
            chars.next();
        }
        if braced {
            chars.next();
        }
        if name.is_empty() {
            out.push('$');
        }
        out.push_str(&name.to_lowercase());
    }
    out
}

/// A bedform command line of a script: its arguments (redirections left out) and
/// the separator that follows it (`||` says its failure is handled).
#[derive(Debug)]
struct BedformLine {
    args: Vec<String>,
    followed_by: Option<String>,
}

/// The bedform commands of a `run:` script.
fn bedform_lines(script: &str) -> Vec<BedformLine> {
    let script = script.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in script.lines() {
        let mut command: Vec<String> = Vec::new();
        let mut redirected = false;
        let mut tokens = tokens(line).into_iter().peekable();
        loop {
            let token = tokens.next();
            match token {
                Some(Token::Word(word)) if redirected => {
                    let _ = word;
                    redirected = false;
                }
                Some(Token::Word(word)) => command.push(word),
                Some(Token::Redirect) => redirected = true,
                Some(Token::Separator(_)) | None => {
                    // Shell keywords and assignments before the command itself.
                    let start = command
                        .iter()
                        .position(|w| {
                            !matches!(w.as_str(), "if" | "then" | "else" | "elif" | "do" | "!")
                                && !w.contains('=')
                        })
                        .unwrap_or(command.len());
                    if command.get(start).map(String::as_str) == Some("bedform") {
                        let followed_by = match &token {
                            Some(Token::Separator(op)) => Some(op.clone()),
                            _ => None,
                        };
                        found.push(BedformLine {
                            args: command[start..].to_vec(),
                            followed_by,
                        });
                    }
                    command.clear();
                    if token.is_none() {
                        break;
                    }
                }
            }
        }
    }
    found
}

/// Parses a bedform command line with bedform's own parser.
fn parse(line: &BedformLine) -> Cli {
    Cli::try_parse_from(&line.args)
        .unwrap_or_else(|e| panic!("bedform rejects `{}`:\n{e}", line.args.join(" ")))
}

/// Every bedform command of every step, with the step it is in.
fn all_bedform_lines(workflow: &Value) -> Vec<(String, &Value, BedformLine)> {
    let mut all = Vec::new();
    for (job_name, job) in workflow["jobs"].as_object().expect("jobs") {
        for step in steps(job) {
            if let Some(script) = step["run"].as_str() {
                for line in bedform_lines(script) {
                    all.push((job_name.clone(), step, line));
                }
            }
        }
    }
    all
}

// ---------------------------------------------------------------------- tests

#[test]
fn shell_lines_are_split_as_a_shell_would() {
    let lines = bedform_lines(
        "code=0\nbedform plan \"$STACK\" --out plan.json > plan.md || code=$?\nif [ \"$X\" = true ]; then\n  bedform apply --plan ${{ steps.a.outputs.file }} \\\n    --auto-approve | tee -a \"$GITHUB_STEP_SUMMARY\"\nfi\n",
    );
    let args: Vec<Vec<String>> = lines.iter().map(|l| l.args.clone()).collect();
    assert_eq!(
        args,
        [
            vec!["bedform", "plan", "stack", "--out", "plan.json"],
            vec!["bedform", "apply", "--plan", "expression", "--auto-approve"],
        ]
    );
    assert_eq!(lines[0].followed_by.as_deref(), Some("||"));
    assert_eq!(lines[1].followed_by.as_deref(), Some("|"));
}

#[test]
fn a_renamed_flag_or_command_is_caught() {
    for script in [
        "bedform plan bedrock --output plan.json",
        "bedform aply --plan plan.json",
        "bedform apply --plan plan.json --yes",
    ] {
        let lines = bedform_lines(script);
        assert_eq!(lines.len(), 1, "{script}");
        assert!(
            Cli::try_parse_from(&lines[0].args).is_err(),
            "`{script}` was accepted"
        );
    }
}

#[test]
fn runs_on_pull_requests_and_on_pushes_to_main_with_oidc() {
    let workflow = workflow();
    let on = &workflow["on"];
    assert!(on.get("pull_request").is_some(), "on: {on}");
    let branches = on["push"]["branches"].as_array().expect("push.branches");
    assert!(branches.iter().any(|b| b == "main"), "{branches:?}");

    let permissions = &workflow["permissions"];
    assert_eq!(permissions["id-token"], "write");
    assert_eq!(permissions["contents"], "read");
    assert_eq!(permissions["pull-requests"], "write");
    // A job's own permissions replace the workflow's: the apply job names its own.
    let apply = job(&workflow, "apply");
    assert_eq!(apply["permissions"]["id-token"], "write");
    assert_eq!(apply["permissions"]["actions"], "read");

    for name in ["plan", "apply"] {
        let credentials = step_uses(
            job(&workflow, name),
            "aws-actions/configure-aws-credentials",
        );
        assert_eq!(credentials.len(), 1, "job `{name}` assumes one role");
        let role = credentials[0]["with"]["role-to-assume"]
            .as_str()
            .unwrap_or_default();
        assert!(role.contains("${{"), "job `{name}` role: {role}");
        assert!(
            credentials[0]["with"].get("aws-access-key-id").is_none(),
            "OIDC, not stored keys"
        );
    }
}

#[test]
fn every_step_runs_something_and_every_action_is_pinned() {
    let workflow = workflow();
    let jobs = workflow["jobs"].as_object().expect("jobs");
    assert!(jobs.contains_key("plan") && jobs.contains_key("apply"));
    for file in EXAMPLES {
        steps_run_something_and_actions_are_pinned(file, &example(file));
    }
}

fn steps_run_something_and_actions_are_pinned(file: &str, workflow: &Value) {
    let jobs = workflow["jobs"].as_object().expect("jobs");
    assert!(!jobs.is_empty(), "{file} has jobs");
    for (name, job) in jobs {
        let name = format!("{file}: {name}");
        assert!(job["runs-on"].is_string(), "job `{name}` has runs-on");
        for step in steps(job) {
            let uses = step["uses"].as_str();
            let run = step["run"].as_str();
            assert!(
                uses.is_some() != run.is_some(),
                "job `{name}`: a step has exactly one of uses and run: {step}"
            );
            // A local action is pinned by the checkout that brought it.
            if let Some(path) = uses.and_then(|u| u.strip_prefix("./")) {
                let fetched = steps(job).iter().any(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("actions/checkout@"))
                        && s["with"]["path"] == path
                        && s["with"]["ref"]
                            .as_str()
                            .is_some_and(|r| r.contains("vars."))
                });
                assert!(
                    fetched,
                    "job `{name}`: `{path}` is not checked out at a pinned ref"
                );
                continue;
            }
            if let Some(uses) = uses {
                let (action, version) = uses
                    .split_once('@')
                    .unwrap_or_else(|| panic!("`{uses}` is not pinned"));
                assert_eq!(action.split('/').count(), 2, "`{uses}`");
                let tag = version.strip_prefix('v').is_some_and(|v| {
                    v.split('.')
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                });
                let sha = version.len() == 40 && version.bytes().all(|b| b.is_ascii_hexdigit());
                assert!(
                    tag || sha,
                    "`{uses}` is pinned to neither a version nor a commit"
                );
            }
        }
    }
}

#[test]
fn every_bedform_command_is_one_bedform_accepts() {
    for (file, at_least) in EXAMPLES.into_iter().zip([4, 1, 2]) {
        let workflow = example(file);
        let lines = all_bedform_lines(&workflow);
        assert!(lines.len() >= at_least, "{file}: {lines:#?}");
        for (_, _, line) in &lines {
            parse(line);
        }
    }
}

#[test]
fn pull_requests_validate_then_save_and_post_the_plan() {
    let workflow = workflow();
    let lines = all_bedform_lines(&workflow);
    let in_plan_job: Vec<Cli> = lines
        .iter()
        .filter(|(job, _, _)| job == "plan")
        .map(|(_, _, line)| parse(line))
        .collect();
    assert!(
        matches!(
            in_plan_job.first().map(|c| &c.command),
            Some(Command::Validate { .. })
        ),
        "validate comes first: {in_plan_job:#?}"
    );

    let (_, plan_step, plan_line) = lines
        .iter()
        .find(|(_, _, line)| matches!(parse(line).command, Command::Plan(_)))
        .expect("a plan command");
    let Command::Plan(plan) = parse(plan_line).command else {
        unreachable!()
    };
    assert!(plan.detailed_exitcode);
    assert_eq!(plan.format, bedform::render::Format::Markdown);
    // Exit code 2 means changes: a successful plan, not a failed step.
    assert_eq!(
        plan_line.followed_by.as_deref(),
        Some("||"),
        "{plan_line:?}"
    );
    let saved = plan.out.expect("plan --out");

    // The saved plan is uploaded under the name the apply job downloads.
    let plan_job = job(&workflow, "plan");
    let upload = step_uses(plan_job, "actions/upload-artifact");
    assert_eq!(upload.len(), 1);
    assert_eq!(upload[0]["with"]["path"].as_str(), saved.to_str());
    let artifact = upload[0]["with"]["name"].as_str().expect("artifact name");
    let scripts: String = steps(job(&workflow, "apply"))
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        scripts.contains(&format!("--name {artifact}")),
        "the apply job downloads `{artifact}`"
    );

    // The markdown plan is posted by a later step of the same job.
    let plan_id = plan_step["id"].as_str().expect("the plan step has an id");
    let comment = step_uses(plan_job, "actions/github-script");
    assert_eq!(comment.len(), 1);
    let script = comment[0]["with"]["script"].as_str().unwrap_or_default();
    assert!(script.contains("plan.md") && script.contains("createComment"));
    assert!(
        comment[0]["if"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("steps.{plan_id}."))),
        "the comment follows the plan step"
    );
}

#[test]
fn the_merge_applies_the_saved_plan_and_buys_only_when_labelled() {
    let workflow = workflow();
    let applies: Vec<(&Value, bedform::cli::ApplyArgs)> = all_bedform_lines(&workflow)
        .into_iter()
        .filter(|(job, _, _)| job == "apply")
        .filter_map(|(_, step, line)| match parse(&line).command {
            Command::Apply(args) => Some((step, args)),
            _ => None,
        })
        .collect();
    assert!(!applies.is_empty());
    let reports_status = all_bedform_lines(&workflow)
        .iter()
        .filter(|(job, _, _)| job == "apply")
        .any(|(_, _, line)| matches!(parse(line).command, Command::Status(_)));
    assert!(reports_status, "the apply job shows what still converges");
    for (_, args) in &applies {
        assert!(args.paths.is_empty(), "only the saved plan is applied");
        let file = args.plan.as_ref().expect("apply --plan");
        assert_eq!(file.file_name().and_then(|f| f.to_str()), Some("plan.json"));
        assert!(args.auto_approve);
    }
    let buying: Vec<&(&Value, bedform::cli::ApplyArgs)> =
        applies.iter().filter(|(_, a)| a.allow_commitment).collect();
    assert_eq!(buying.len(), 1, "one guarded command may buy a commitment");
    let (step, _) = buying[0];
    let script = step["run"].as_str().unwrap_or_default();
    let guard = step["env"]["ALLOW_COMMITMENT"].as_str().unwrap_or_default();
    assert!(
        script.contains("if [ \"$ALLOW_COMMITMENT\" = true ]"),
        "{script}"
    );
    assert!(
        guard.contains("steps.reviewed.outputs.allow_commitment"),
        "{guard}"
    );
    let reviewed = steps(job(&workflow, "apply"))
        .iter()
        .find(|s| s["id"] == "reviewed")
        .and_then(|s| s["run"].as_str())
        .expect("the step that finds the reviewed plan");
    assert!(reviewed.contains("bedform: allow-commitment"));
    assert!(reviewed.contains("allow=false"), "no label, no purchase");
}

fn repository_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&repository_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The targets of the release workflow's build matrix.
fn release_targets() -> Vec<String> {
    let release = yaml(".github/workflows/release.yml");
    release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a build matrix")
        .iter()
        .map(|t| t["target"].as_str().expect("a target").to_string())
        .collect()
}

#[test]
fn the_example_installs_bedform_with_the_action_and_compiles_nothing() {
    let workflow = workflow();
    for name in ["plan", "apply"] {
        let job = job(&workflow, name);
        let install: Vec<_> = steps(job)
            .iter()
            .filter(|s| s["uses"] == "./.bedform-action")
            .collect();
        assert_eq!(install.len(), 1, "job `{name}` installs bedform once");
        assert_eq!(install[0]["with"]["version"], "${{ vars.BEDFORM_VERSION }}");
        for step in steps(job) {
            let run = step["run"].as_str().unwrap_or_default();
            assert!(!run.contains("cargo"), "job `{name}` compiles: {run}");
        }
    }
}

#[test]
fn the_release_workflow_builds_every_platform_and_publishes_checksums() {
    let release = yaml(".github/workflows/release.yml");
    assert!(release["on"]["push"]["tags"].is_array(), "runs on tags");
    let mut targets = release_targets();
    targets.sort();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-musl",
        ]
    );
    let scripts = |job: &str| -> String {
        steps(&release["jobs"][job])
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let build = scripts("build");
    assert!(
        build.contains("build --release --locked --target"),
        "{build}"
    );
    let publish = scripts("release");
    assert!(
        publish.contains("sha256sum bedform-* > SHA256SUMS"),
        "{publish}"
    );
    assert!(publish.contains("gh release create"), "{publish}");
    assert_eq!(release["jobs"]["release"]["needs"], "build");
    for job in ["build", "release"] {
        for step in steps(&release["jobs"][job]) {
            if let Some(uses) = step["uses"].as_str() {
                assert!(uses.contains("@v"), "`{uses}` is not pinned");
            }
        }
    }
}

#[test]
fn the_action_installs_a_pinned_release_it_has_checked() {
    let action = yaml("action.yml");
    assert_eq!(action["inputs"]["version"]["required"], true);
    assert_eq!(action["runs"]["using"], "composite");
    let run = action["runs"]["steps"][0]["run"]
        .as_str()
        .expect("a run step");
    let script_path = run
        .trim_matches('"')
        .strip_prefix("$GITHUB_ACTION_PATH/")
        .expect("the action runs a script of its own");
    let script = repository_file(script_path);
    // Executable, valid bash, checking the archive against the release's sums.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(script_path);
    let mode = std::os::unix::fs::PermissionsExt::mode(&file.metadata().unwrap().permissions());
    assert!(mode & 0o111 != 0, "{script_path} is not executable");
    let syntax = std::process::Command::new("bash")
        .args(["-n", file.to_str().unwrap()])
        .status()
        .expect("bash runs");
    assert!(syntax.success(), "{script_path} is not valid bash");
    assert!(script.contains("SHA256SUMS") && script.contains("--check"));
    // It asks for exactly the archives the release workflow builds.
    let asked: Vec<&str> = script
        .lines()
        .filter_map(|l| l.split("target=").nth(1))
        .filter_map(|t| t.split_whitespace().next())
        .collect();
    let mut asked: Vec<String> = asked.into_iter().map(str::to_string).collect();
    asked.sort();
    let mut built = release_targets();
    built.sort();
    assert_eq!(asked, built);
    let archive = "bedform-${VERSION}-${target}";
    assert!(script.contains(archive), "{script}");
    let packaged = repository_file(".github/workflows/release.yml");
    assert!(packaged.contains("name=\"bedform-${version}-${{ matrix.target }}\""));
}

#[test]
fn the_dockerfile_builds_the_release_binary_from_files_that_exist() {
    let dockerfile = repository_file("Dockerfile");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut copied = 0;
    for line in dockerfile.lines().filter(|l| l.starts_with("COPY ")) {
        if line.contains("--from=") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(root.join(source).exists(), "COPY of a missing `{source}`");
            copied += 1;
        }
    }
    assert!(copied >= 3, "{dockerfile}");
    assert!(dockerfile.contains("cargo build --release --locked --bin bedform"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/bedform\"]"));
}

/// The one step of `job` whose `id` is `id`.
fn step_with_id<'a>(job: &'a Value, id: &str) -> &'a Value {
    steps(job)
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step with id `{id}`"))
}

/// The steps of `job` whose `if` is exactly `condition`.
fn steps_if<'a>(job: &'a Value, condition: &str) -> Vec<&'a Value> {
    steps(job).iter().filter(|s| s["if"] == condition).collect()
}

#[test]
fn the_drift_workflow_plans_every_stack_nightly_and_files_what_changed() {
    let drift = example("drift.yml");
    let cron = drift["on"]["schedule"][0]["cron"]
        .as_str()
        .expect("a schedule");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert_eq!(drift["permissions"]["issues"], "write");
    assert_eq!(drift["permissions"]["id-token"], "write");
    assert_eq!(drift["permissions"]["contents"], "read");
    assert!(
        drift["permissions"].get("pull-requests").is_none(),
        "it reads, files issues and nothing else"
    );

    let job = job(&drift, "drift");
    let stacks = job["strategy"]["matrix"]["stack"]
        .as_array()
        .expect("a matrix of stacks");
    assert!(!stacks.is_empty());
    assert_eq!(job["strategy"]["fail-fast"], false);

    let lines = all_bedform_lines(&drift);
    let commands: Vec<Command> = lines.iter().map(|(_, _, l)| parse(l).command).collect();
    assert!(
        commands
            .iter()
            .all(|c| matches!(c, Command::Plan(_) | Command::Validate { .. })),
        "the drift workflow only reads: {commands:#?}"
    );
    let (_, plan_step, plan_line) = &lines[0];
    let Command::Plan(plan) = parse(plan_line).command else {
        panic!("{plan_line:?} is not a plan");
    };
    assert!(plan.detailed_exitcode);
    assert_eq!(plan.format, bedform::render::Format::Markdown);
    assert_eq!(plan_line.followed_by.as_deref(), Some("||"));
    assert_eq!(plan_line.args[2], "stack", "it plans the matrix's stack");
    assert_eq!(plan_step["env"]["STACK"], "${{ matrix.stack }}");
    let id = plan_step["id"].as_str().expect("the plan step has an id");

    // Exit 2 (drift) opens or updates the issue with the markdown plan, read
    // from a file; exit 0 closes it; anything else fails the job.
    let filed = steps_if(job, &format!("steps.{id}.outputs.exitcode == '2'"));
    assert_eq!(filed.len(), 1);
    let script = filed[0]["run"].as_str().unwrap_or_default();
    assert!(script.contains("cat plan.md"), "{script}");
    assert!(script.contains("gh issue create") && script.contains("gh issue edit"));
    assert_eq!(script.matches("--body-file body.md").count(), 2, "{script}");
    assert!(!script.contains("${{"), "no expression inside the script");
    let closed = steps_if(job, &format!("steps.{id}.outputs.exitcode == '0'"));
    assert_eq!(closed.len(), 1);
    assert!(
        closed[0]["run"]
            .as_str()
            .is_some_and(|s| s.contains("gh issue close"))
    );
    let failed = steps_if(
        job,
        &format!("steps.{id}.outputs.exitcode != '0' && steps.{id}.outputs.exitcode != '2'"),
    );
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["run"]
            .as_str()
            .is_some_and(|s| s.contains("exit 1"))
    );
}

/// Runs the discover step's script in a folder holding `stacks/NAME` for each
/// name, and returns what it wrote to `GITHUB_OUTPUT` and whether it succeeded.
fn discover(script: &str, names: &[&str]) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    for name in names {
        std::fs::create_dir_all(dir.path().join("stacks").join(name)).unwrap();
    }
    std::fs::write(dir.path().join("stacks/README.md"), "not a stack").unwrap();
    let output = dir.path().join("output");
    let status = std::process::Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(dir.path())
        .env("GITHUB_OUTPUT", &output)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("bash runs");
    (
        std::fs::read_to_string(&output).unwrap_or_default(),
        status.success(),
    )
}

#[test]
fn the_monorepo_workflow_plans_each_stack_folder_in_its_own_job() {
    let monorepo = example("monorepo.yml");
    let find = step_with_id(job(&monorepo, "discover"), "find");
    assert_eq!(
        job(&monorepo, "discover")["outputs"]["stacks"],
        "${{ steps.find.outputs.stacks }}"
    );
    let script = find["run"].as_str().expect("a script");

    // The stack folders become a JSON list, a file beside them is no stack, and
    // a name that could break a job name or an artifact name fails the run.
    let (output, ok) = discover(script, &["prod", "staging", "team-a.eu"]);
    assert!(ok, "{output}");
    let stacks = output
        .trim()
        .strip_prefix("stacks=")
        .expect("the stacks output");
    let stacks: Vec<String> = serde_json::from_str(stacks).expect("a JSON list");
    assert_eq!(stacks, ["prod", "staging", "team-a.eu"]);
    let (output, ok) = discover(script, &[]);
    assert!(ok);
    assert_eq!(output.trim(), "stacks=[]");
    let (_, ok) = discover(script, &["prod", "a\"b"]);
    assert!(!ok, "a folder name with a quote is refused");

    let plan = job(&monorepo, "plan");
    assert_eq!(plan["needs"], "discover");
    assert_eq!(
        plan["strategy"]["matrix"]["stack"],
        "${{ fromJSON(needs.discover.outputs.stacks) }}"
    );
    assert_eq!(plan["env"]["STACK_DIR"], "stacks/${{ matrix.stack }}");
    let lines = all_bedform_lines(&monorepo);
    let commands: Vec<Command> = lines.iter().map(|(_, _, l)| parse(l).command).collect();
    assert!(matches!(commands.first(), Some(Command::Validate { .. })));
    let Some(Command::Plan(args)) = commands.get(1) else {
        panic!("validate, then plan: {commands:#?}");
    };
    assert!(args.detailed_exitcode && args.out.is_some());
    for (_, _, line) in &lines {
        assert_eq!(line.args[2], "stack_dir", "{line:?} works on its stack");
    }
    // One artifact and one comment per stack.
    let upload = step_uses(plan, "actions/upload-artifact");
    assert_eq!(
        upload[0]["with"]["name"],
        "bedform-plan-${{ matrix.stack }}"
    );
    let comment = step_uses(plan, "actions/github-script");
    let script = comment[0]["with"]["script"].as_str().unwrap_or_default();
    assert!(
        script.contains("<!-- bedform-plan:${stack} -->"),
        "{script}"
    );
    // The stack's name reaches scripts through the environment only.
    for step in steps(plan) {
        let run = step["run"].as_str().unwrap_or_default();
        assert!(!run.contains("matrix."), "{run}");
    }
}
