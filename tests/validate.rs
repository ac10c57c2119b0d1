//! `bedform validate`: every malformed manifest is reported at its exact
//! file:line:col with a message (and a hint where there is one), every error of a run
//! is reported, the examples are valid, and no input makes validation panic.
//!
//! The corpus lives in `tests/fixtures/invalid/`. Each fixture starts with comment
//! lines that say what it must produce, one diagnostic per `# expect:` line, in the
//! order validation reports them:
//!
//! ```text
//! # expect: 8:18: `retentionDays: 31` is not a retention   (LINE:COL: message part)
//! # hint: the nearest accepted value is 30                  (hint of the expect above)
//! # expect: file: the file holds no documents                (in the file, no position)
//! # expect: nowhere: no `Stack` document found               (no file at all)
//! # standalone                                               (no shared Stack added)
//! ```
//!
//! Unless it says `# standalone`, a fixture is validated together with
//! `tests/fixtures/valid/stack-only.yaml`, so it needs no Stack document of its own.
//! A fixture that cannot hold comments (the empty file) keeps them in `NAME.expect`.

mod common;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bedform::diag::Diagnostic;
use bedform::manifest::{self, Loaded};
use proptest::prelude::*;

/// The top of the repository, where the fixtures' paths start.
fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> PathBuf {
    repository().join("tests/fixtures")
}

fn shared_stack() -> PathBuf {
    fixtures_dir().join("valid/stack-only.yaml")
}

/// Where a diagnostic must point.
#[derive(Debug, PartialEq)]
enum Where {
    At { line: u32, col: u32 },
    FileOnly,
    Nowhere,
}

#[derive(Debug)]
struct Expectation {
    place: Where,
    message: String,
    hint: Option<String>,
}

#[derive(Debug)]
struct Fixture {
    path: PathBuf,
    expectations: Vec<Expectation>,
    standalone: bool,
}

/// Reads the `# expect:` / `# hint:` / `# standalone` header of a fixture (or of its
/// `.expect` sidecar).
fn read_fixture(path: &Path) -> Result<Fixture, String> {
    let sidecar = PathBuf::from(format!("{}.expect", path.display()));
    let header_source = if sidecar.exists() { &sidecar } else { path };
    let bytes = std::fs::read(header_source).map_err(|e| format!("{e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut fixture = Fixture {
        path: path.to_path_buf(),
        expectations: Vec::new(),
        standalone: false,
    };
    for line in text.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        let comment = comment.trim();
        if let Some(rest) = comment.strip_prefix("expect:") {
            let rest = rest.trim();
            let (place, message) = if let Some(message) = rest.strip_prefix("file:") {
                (Where::FileOnly, message)
            } else if let Some(message) = rest.strip_prefix("nowhere:") {
                (Where::Nowhere, message)
            } else {
                let mut parts = rest.splitn(3, ':');
                let at_line = parts.next().and_then(|p| p.trim().parse().ok());
                let at_col = parts.next().and_then(|p| p.trim().parse().ok());
                match (at_line, at_col, parts.next()) {
                    (Some(line), Some(col), Some(message)) => (Where::At { line, col }, message),
                    _ => return Err(format!("malformed `# expect:` line: {line}")),
                }
            };
            fixture.expectations.push(Expectation {
                place,
                message: message.trim().to_string(),
                hint: None,
            });
        } else if let Some(hint) = comment.strip_prefix("hint:") {
            let Some(last) = fixture.expectations.last_mut() else {
                return Err("`# hint:` before any `# expect:`".into());
            };
            last.hint = Some(hint.trim().to_string());
        } else if comment == "standalone" {
            fixture.standalone = true;
        }
    }
    if fixture.expectations.is_empty() {
        return Err("no `# expect:` line".into());
    }
    Ok(fixture)
}

fn invalid_fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join("invalid"))
        .expect("tests/fixtures/invalid exists")
        .map(|entry| entry.expect("readable fixture folder").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
}

/// Loads and validates `paths`, failing the test if validation takes long: none of
/// the inputs here, hostile ones included, may make it slow.
fn validate_paths(paths: &[PathBuf]) -> (Loaded, Vec<Diagnostic>) {
    let started = Instant::now();
    let loaded = manifest::load(paths);
    let diagnostics = match manifest::validate(&loaded, None) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    };
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "validating {paths:?} took {took:?}"
    );
    (loaded, diagnostics)
}

fn describe(loaded: &Loaded, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(
            out,
            "    [{}] {} (hint: {})",
            d.location(&loaded.sources),
            d.message,
            d.hint.as_deref().unwrap_or("-")
        );
    }
    out
}

/// What is wrong with `diagnostic` against `expected`, if anything.
fn mismatch(
    fixture: &Fixture,
    loaded: &Loaded,
    diagnostic: &Diagnostic,
    expected: &Expectation,
) -> Option<String> {
    let file = fixture.path.display().to_string();
    let want_location = match expected.place {
        Where::At { line, col } => format!("{file}:{line}:{col}"),
        Where::FileOnly => file,
        Where::Nowhere => String::new(),
    };
    let location = diagnostic.location(&loaded.sources);
    if location != want_location {
        return Some(format!("location `{location}`, expected `{want_location}`"));
    }
    if !diagnostic.message.contains(&expected.message) {
        return Some(format!(
            "message `{}` does not contain `{}`",
            diagnostic.message, expected.message
        ));
    }
    match (&expected.hint, &diagnostic.hint) {
        (Some(want), Some(hint)) if !hint.contains(want.as_str()) => {
            Some(format!("hint `{hint}` does not contain `{want}`"))
        }
        (Some(want), None) => Some(format!("no hint, expected one containing `{want}`")),
        _ => None,
    }
}

#[test]
fn every_invalid_fixture_reports_its_errors_where_they_are() {
    let paths = invalid_fixtures();
    assert!(
        paths.len() >= 40,
        "the corpus has only {} fixtures",
        paths.len()
    );
    let mut failures = String::new();
    for path in &paths {
        let fixture = match read_fixture(path) {
            Ok(fixture) => fixture,
            Err(problem) => {
                let _ = writeln!(failures, "{}: {problem}", path.display());
                continue;
            }
        };
        let mut inputs = vec![fixture.path.clone()];
        if !fixture.standalone {
            inputs.push(shared_stack());
        }
        let (loaded, diagnostics) = validate_paths(&inputs);
        let mut problems = Vec::new();
        if diagnostics.len() != fixture.expectations.len() {
            problems.push(format!(
                "{} diagnostics, expected {}",
                diagnostics.len(),
                fixture.expectations.len()
            ));
        } else {
            for (i, (d, e)) in diagnostics.iter().zip(&fixture.expectations).enumerate() {
                if let Some(problem) = mismatch(&fixture, &loaded, d, e) {
                    problems.push(format!("diagnostic {}: {problem}", i + 1));
                }
            }
        }
        if !problems.is_empty() {
            let _ = writeln!(
                failures,
                "{}:\n  {}\n  got:\n{}",
                path.display(),
                problems.join("\n  "),
                describe(&loaded, &diagnostics)
            );
        }
    }
    assert!(failures.is_empty(), "fixtures failed:\n{failures}");
}

#[test]
fn every_valid_fixture_validates_alone() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join("valid"))
        .expect("tests/fixtures/valid exists")
        .map(|entry| entry.expect("readable fixture folder").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "valid fixtures: {paths:?}");
    for path in paths {
        let (loaded, diagnostics) = validate_paths(std::slice::from_ref(&path));
        assert!(
            diagnostics.is_empty(),
            "{} should be valid, got:\n{}",
            path.display(),
            describe(&loaded, &diagnostics)
        );
    }
}

/// What lowering writes is exactly what each kind's typed state reads back: the
/// faces send what the plan shows, field for field, for every valid fixture and
/// example.
#[test]
fn every_lowered_resource_reads_back_through_its_kinds_typed_state() {
    let mut folders: Vec<Vec<PathBuf>> = std::fs::read_dir(fixtures_dir().join("valid"))
        .expect("valid fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension() == Some(OsStr::new("yaml")))
        .map(|path| vec![path])
        .collect();
    folders.extend(example_folders().into_iter().map(|folder| vec![folder]));
    let mut checked = 0;
    for paths in folders {
        let loaded = manifest::load(&paths);
        let Ok(desired) = manifest::validate(&loaded, None) else {
            continue;
        };
        for resource in &desired.resources {
            if resource.absent {
                continue;
            }
            let kind = bedform::kinds::Kind::parse(&resource.address.kind).expect("a known kind");
            let Some(again) = kind.typed_attrs(&resource.attrs) else {
                continue;
            };
            let again = again.unwrap_or_else(|e| panic!("{} in {paths:?}: {e}", resource.address));
            assert_eq!(again, resource.attrs, "{} in {paths:?}", resource.address);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} resources were checked");
}

#[test]
fn an_unquoted_account_id_keeps_its_leading_zero() {
    // YAML would read 012345678901 as a number; bedform reads the text as written.
    let path = fixtures_dir().join("valid/bom-crlf-unquoted-account.yaml");
    let loaded = manifest::load(&[path]);
    let desired = manifest::validate(&loaded, None).expect("the fixture is valid");
    assert_eq!(desired.account_id, "012345678901");
    assert_eq!(desired.stack.region, "us-west-2");
}

/// Three documents, each with its own mistake, the first of them one the YAML reader
/// itself rejects: all three are reported, in file order.
const THREE_MISTAKES: &str = "\
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec:
  bucketName: acme-data
  versionning: true
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec:
  logGroupName: /bedrock/logs
  retentionDays: 31
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: serving}
spec:
  model: amazon.nova-lite-v1:0
  modelUnits: 0
";

const STACK: &str = "\
apiVersion: bedform/v1
kind: Stack
metadata: {name: in-memory}
spec: {region: us-east-1}
";

/// Loads `text` as the file `name` beside a valid Stack, and validates the two.
fn validate_beside_stack(name: &str, text: &str) -> (Loaded, Vec<Diagnostic>) {
    let mut loaded = Loaded::default();
    manifest::load_text("stack.yaml", STACK, &mut loaded);
    manifest::load_text(name, text, &mut loaded);
    let diagnostics = manifest::validate(&loaded, None).err().unwrap_or_default();
    (loaded, diagnostics)
}

#[test]
fn all_errors_of_a_run_are_reported() {
    let (loaded, diagnostics) = validate_beside_stack("three.yaml", THREE_MISTAKES);
    let found: Vec<(String, &str, Option<&str>)> = diagnostics
        .iter()
        .map(|d| {
            (
                d.location(&loaded.sources),
                d.message.as_str(),
                d.hint.as_deref(),
            )
        })
        .collect();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(found[0].0, "three.yaml:6:3");
    assert!(found[0].1.starts_with("unknown field `versionning`"));
    assert_eq!(found[0].2, Some("did you mean `versioning`?"));
    assert_eq!(found[1].0, "three.yaml:13:18");
    assert!(found[1].1.contains("`retentionDays: 31`"));
    assert_eq!(found[2].0, "three.yaml:20:15");
    assert!(found[2].1.contains("`modelUnits` is 0"));
}

#[test]
fn a_long_reference_cycle_is_reported_at_its_first_members_only() {
    let members = 20;
    let text: String = (0..members)
        .map(|i| {
            format!(
                "apiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: g{i}}}\nspec:\n  logGroupName: /c/g{i}\n  tags: {{next: \"${{g{}.name}}\"}}\n",
                (i + 1) % members
            )
        })
        .collect::<Vec<_>>()
        .join("---\n");
    let (loaded, diagnostics) = validate_beside_stack("cycle.yaml", &text);
    assert_eq!(diagnostics.len(), 8, "{}", describe(&loaded, &diagnostics));
    for (i, diagnostic) in diagnostics.iter().enumerate() {
        assert_eq!(
            diagnostic.message,
            format!(
                "reference cycle: `g{i}` is part of a cycle through g0, g1, g2, g3, g4, g5, g6, g7, and 12 more"
            )
        );
        assert_eq!(
            diagnostic.location(&loaded.sources),
            format!("cycle.yaml:{}:17", 7 * i + 6)
        );
    }
}

#[test]
fn a_duplicate_name_points_at_the_first_declaration() {
    let (loaded, diagnostics) = validate_paths(&[
        fixtures_dir().join("invalid/duplicate-name-across-kinds.yaml"),
        shared_stack(),
    ]);
    let hint = diagnostics
        .first()
        .and_then(|d| d.hint.clone())
        .unwrap_or_default();
    let first = format!(
        "{}:5:18",
        fixtures_dir()
            .join("invalid/duplicate-name-across-kinds.yaml")
            .display()
    );
    assert!(
        hint.contains(&first),
        "hint `{hint}` should point at {first}:\n{}",
        describe(&loaded, &diagnostics)
    );
}

#[test]
fn a_lone_carriage_return_ends_a_line() {
    // YAML breaks lines at a lone `\r`; the reported line must be the one YAML saw,
    // and it must exist in the quoted source.
    let text = "apiVersion: bedform/v1\rkind: Bucket\rmetadata: {name: data}\rspec:\r  bucketNam: acme-data\r";
    let (loaded, diagnostics) = validate_beside_stack("old-mac.yaml", text);
    assert_eq!(diagnostics.len(), 1, "{}", describe(&loaded, &diagnostics));
    assert_eq!(diagnostics[0].location(&loaded.sources), "old-mac.yaml:5:3");
    let rendered = diagnostics[0].render(&loaded.sources, false);
    assert!(
        rendered.contains("5 │   bucketNam: acme-data"),
        "{rendered}"
    );
}

#[test]
fn a_long_message_is_rendered_on_one_line_with_its_location() {
    let text = "apiVersion: bedform/v1\nkind: IamRole\nmetadata: {name: role}\nspec:\n  assumedBy: bedrock\n  permissionBoundary: x\n";
    let (loaded, diagnostics) = validate_beside_stack("long.yaml", text);
    assert_eq!(diagnostics.len(), 1, "{}", describe(&loaded, &diagnostics));
    let d = &diagnostics[0];
    assert!(
        d.message.len() > 120,
        "the message should be long: {}",
        d.message
    );
    let rendered = d.render(&loaded.sources, false);
    let header = format!("long.yaml:6:3: {}", d.message);
    assert!(
        rendered.lines().any(|line| line.contains(&header)),
        "`{header}` is not on one line:\n{rendered}"
    );
}

#[test]
fn the_binary_prints_location_source_line_and_hint_and_exits_1() {
    let common::Output { stdout, stderr, .. } = common::run(
        repository(),
        [
            "--no-color",
            "validate",
            "tests/fixtures/invalid/unknown-field-retention-day.yaml",
            "tests/fixtures/valid/stack-only.yaml",
        ],
    )
    .expect(1);
    assert!(
        stdout.is_empty(),
        "diagnostics go to stderr; stdout:\n{stdout}"
    );
    for expected in [
        "tests/fixtures/invalid/unknown-field-retention-day.yaml:8:3",
        "unknown field `retentionDay`",
        // The offending line, quoted from the file.
        "  retentionDay: 30",
        "did you mean `retentionDays`?",
        "1 error found.",
    ] {
        common::assert_contains(&stderr, expected);
    }
    assert!(
        !stderr.contains('\u{1b}'),
        "--no-color output has escape codes:\n{stderr}"
    );
}

/// Example stacks keep their manifests in `*.yaml` files; other examples (the CI
/// workflow, a `*.yml`) hold none.
fn holds_manifests(folder: &Path) -> bool {
    std::fs::read_dir(folder)
        .expect("readable example folder")
        .any(|entry| {
            entry
                .expect("readable example file")
                .path()
                .extension()
                .is_some_and(|e| e == "yaml")
        })
}

/// The example folders that hold a stack.
fn example_folders() -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(repository().join("examples"))
        .expect("examples/ exists")
        .map(|entry| entry.expect("readable examples folder").path())
        .filter(|p| p.is_dir() && holds_manifests(p))
        .collect();
    folders.sort();
    assert!(!folders.is_empty(), "no example folders");
    folders
}

#[test]
fn every_example_validates_through_the_library() {
    for folder in example_folders() {
        let (loaded, diagnostics) = validate_paths(std::slice::from_ref(&folder));
        assert!(
            loaded.diagnostics.is_empty() && diagnostics.is_empty(),
            "{} should be valid:\n{}",
            folder.display(),
            describe(&loaded, &diagnostics)
        );
        assert!(
            !loaded.documents.is_empty(),
            "{} holds no documents",
            folder.display()
        );
    }
}

#[test]
fn every_example_validates_through_the_binary() {
    for folder in example_folders() {
        let out = common::run(repository(), [OsStr::new("validate"), folder.as_os_str()]);
        assert_eq!(
            out.code,
            0,
            "{}: stdout:\n{}\nstderr:\n{}",
            folder.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            out.stdout.starts_with("Valid: stack `"),
            "{}: stdout:\n{}",
            folder.display(),
            out.stdout
        );
    }
}

/// A valid manifest with every kind, the seed the mutations start from.
const SEED: &str = include_str!("fixtures/valid/every-kind.yaml");

/// Bytes that mean something to YAML or to bedform, so mutations reach past the
/// tokenizer more often than random bytes would.
const MEANINGFUL: &[u8] = b"\n\r\t -:{}[],&*!|>'\"#$%@`?.0123456789abc\xc3\xa9\x00";

#[derive(Clone, Debug)]
enum Edit {
    Delete { at: prop::sample::Index },
    Insert { at: prop::sample::Index, byte: u8 },
    Replace { at: prop::sample::Index, byte: u8 },
}

fn a_byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => prop::sample::select(MEANINGFUL), 1 => any::<u8>()]
}

fn an_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(|at| Edit::Delete { at }),
        (any::<prop::sample::Index>(), a_byte()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        (any::<prop::sample::Index>(), a_byte()).prop_map(|(at, byte)| Edit::Replace { at, byte }),
    ]
}

fn apply_edits(seed: &str, edits: &[Edit]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for edit in edits {
        match edit {
            Edit::Delete { at } if !bytes.is_empty() => {
                bytes.remove(at.index(bytes.len()));
            }
            Edit::Insert { at, byte } => bytes.insert(at.index(bytes.len() + 1), *byte),
            Edit::Replace { at, byte } if !bytes.is_empty() => {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Validates `text` as one file next to a valid Stack and renders every diagnostic;
/// each one that has a position must point inside its file.
fn check_no_panic(text: &str) -> Result<(), TestCaseError> {
    let (loaded, diagnostics) = validate_beside_stack("fuzzed.yaml", text);
    for d in &diagnostics {
        prop_assert!(!d.message.is_empty());
        if let (Some(file), Some(pos)) = (d.file, d.pos) {
            let source = loaded.sources.get(file).expect("diagnostic file is known");
            let lines = source.text.split('\n').count() as u32;
            prop_assert!(
                pos.line >= 1 && pos.col >= 1 && pos.line <= lines,
                "{} points outside its file ({} lines): {}",
                d.location(&loaded.sources),
                lines,
                d.message
            );
        }
        let rendered = d.render(&loaded.sources, false);
        // Shown as printed: control and invisible characters escaped.
        let shown = bedform::diag::printable(&d.message);
        prop_assert!(rendered.contains(shown.as_ref()), "{rendered}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn validation_survives_any_text(text in "(?s).{0,300}") {
        check_no_panic(&text)?;
    }

    #[test]
    fn validation_survives_yaml_shaped_text(
        text in "([a-zA-Z${}.:\\[\\],&*!|>#'\" -]{0,12}\n){0,30}"
    ) {
        check_no_panic(&text)?;
    }

    #[test]
    fn validation_survives_a_mutated_manifest(edits in prop::collection::vec(an_edit(), 1..12)) {
        check_no_panic(&apply_edits(SEED, &edits))?;
    }
}

/// A manifest (from a pull request, say) cannot drive the reader's terminal:
/// control characters in it are shown as `?`, in the message and the quoted line.
/// Past fifty errors, each takes one line.
#[test]
fn errors_quote_no_control_characters_and_many_take_a_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: s}\nspec: {region: us-east-1}\n",
    );
    for i in 0..60 {
        text.push_str(&format!(
            "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: g{i}}}\nspec:\n  logGroupName: /g/{i}\n  \"\\e]0;owned\\a\\e[2J{i}\": 1\n"
        ));
    }
    let file = dir.path().join("escapes.yaml");
    std::fs::write(&file, text).unwrap();
    let out = common::run(
        dir.path(),
        ["--no-color", "validate", file.to_str().unwrap()],
    )
    .expect(1);
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{7}'), "{}", out.stderr);
    common::assert_contains(&out.stderr, "owned");
    common::assert_contains(&out.stderr, "60 errors found.");
    // The first fifty are drawn with their source line, the rest on one line.
    assert_eq!(out.stderr.matches("╰── here").count(), 50, "{}", out.stderr);
    common::assert_contains(&out.stderr, "escapes.yaml:");
}
