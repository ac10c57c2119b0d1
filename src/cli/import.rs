//! `bedform import`: adopt objects that exist in the account into the stack.

//! The command line: raw flags, then the commands.

use crate::exit::ExitStatus;
use std::path::PathBuf;

use super::flags::*;
use super::settings::*;
use super::{CliError, fail};

pub(super) fn show_value(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), |v| v.to_string())
}

/// Prints what importing one resource tags, and what the next plan will show.
pub(super) fn show_adoption(adopted: &crate::adopt::Adopted) {
    crate::outln!("{}", adopted.address);
    for target in &adopted.targets {
        crate::outln!("  tag {} `{}`:", target.kind, target.aws_name);
        for (key, value) in &target.tags {
            crate::outln!("    + {key} = {value}");
        }
    }
    if adopted.in_sync() {
        crate::outln!("  It matches its document: the next plan shows no change for it.");
    } else {
        crate::outln!(
            "  It differs from its document; `{}` is left off, so the next plan shows these as changes to apply:",
            crate::model::TAG_SPEC_HASH
        );
        for field in &adopted.differences {
            crate::outln!(
                "    ~ {}: {} -> {}",
                field.path,
                show_value(field.before.as_ref()),
                show_value(field.after.as_ref())
            );
        }
    }
}

pub(super) async fn import_command(cli: &Cli, args: &ImportArgs) -> Result<ExitStatus, CliError> {
    let (target, paths): (Option<(&str, &str)>, Vec<PathBuf>) = if args.all {
        (None, args.args.iter().map(PathBuf::from).collect())
    } else {
        match args.args.as_slice() {
            [address, aws_id, paths @ ..] if !paths.is_empty() => (
                Some((address.as_str(), aws_id.as_str())),
                paths.iter().map(PathBuf::from).collect(),
            ),
            _ => {
                return Err(fail(
                    "usage: bedform import ADDRESS AWS-ID PATH... (or bedform import --all PATH...)",
                ));
            }
        }
    };
    let prepared = prepare(&cli.global, &paths).await?;
    let observed = prepared
        .cloud
        .observe(&crate::plan::scope_of(&prepared.desired))
        .await?;
    let adoptions = match target {
        Some((address, aws_id)) => {
            match crate::adopt::import_one(&prepared.desired, &observed, address, aws_id) {
                Ok(crate::adopt::Verdict::Adopt(adopted)) => vec![adopted],
                Ok(crate::adopt::Verdict::AlreadyManaged { address, aws_name }) => {
                    crate::outln!(
                        "{address} is already managed by this stack (`{aws_name}` carries its tags); nothing to import."
                    );
                    return Ok(ExitStatus::Success);
                }
                Ok(crate::adopt::Verdict::NotNeeded { address, why }) => {
                    crate::outln!("{address}: nothing to import: {why}.");
                    return Ok(ExitStatus::Success);
                }
                Err(refusal) => {
                    return Err(fail(format!("{refusal}. Nothing was changed")));
                }
            }
        }
        None => {
            let survey = crate::adopt::import_all(&prepared.desired, &observed);
            for refusal in &survey.refused {
                crate::errln!("warning: not imported: {refusal}");
            }
            if survey.adopt.is_empty() {
                crate::outln!("Nothing to import: no declared object exists without an owner.");
                return Ok(if survey.refused.is_empty() {
                    ExitStatus::Success
                } else {
                    ExitStatus::Error
                });
            }
            survey.adopt
        }
    };
    for adopted in &adoptions {
        show_adoption(adopted);
    }
    let count: usize = adoptions.iter().map(|a| a.targets.len()).sum();
    let question = format!(
        "\nTag {count} object{} in account {} for stack `{}`?",
        if count == 1 { "" } else { "s" },
        observed.account_id,
        prepared.desired.stack.name
    );
    if !args.auto_approve && !confirm(&question, "import")? {
        crate::errln!("Import cancelled; nothing was changed.");
        return Ok(ExitStatus::Error);
    }
    for adopted in &adoptions {
        for target in &adopted.targets {
            prepared
                .cloud
                .add_tags(&target.kind, &target.aws_name, &target.tags)
                .await?;
        }
        crate::outln!("Imported {}.", adopted.address);
    }
    crate::outln!("\nRun plan to see what is left to apply.");
    Ok(ExitStatus::Success)
}
