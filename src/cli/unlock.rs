//! `bedform unlock`: release a stack lock left by a process that is gone.

//! The command line: raw flags, then the commands.

use crate::cloud::Cloud;
use crate::cloud::aws::{Aws, AwsSettings};
use crate::cloud::lock::StackLock;
use crate::exit::ExitStatus;
use crate::manifest;

use super::flags::*;
use super::settings::*;
use super::{CliError, fail};

pub(super) async fn unlock_command(cli: &Cli, args: &UnlockArgs) -> Result<ExitStatus, CliError> {
    let lock = match sandbox_path(&cli.global) {
        Some(path) => StackLock::for_sandbox(&path),
        None => {
            if args.paths.is_empty() {
                return Err(fail(
                    "name the manifests of the stack whose lock to release: bedform unlock ID PATH... (or --sandbox)",
                ));
            }
            let loaded = manifest::load(&args.paths);
            let desired = match manifest::validate(&loaded, None) {
                Ok(desired) => desired,
                Err(diagnostics) => {
                    return Ok(report_diagnostics(
                        &loaded.sources,
                        &diagnostics,
                        stderr_color(&cli.global),
                    ));
                }
            };
            let stack = &desired.stack;
            let Some(location) = &stack.lock else {
                return Err(fail(format!(
                    "stack `{}` declares no `spec.lock`; apply takes no lock for it on AWS, so there is none to release",
                    stack.name
                )));
            };
            let settings = AwsSettings {
                region: cli
                    .global
                    .region
                    .clone()
                    .unwrap_or_else(|| stack.region.clone()),
                profile: cli.global.profile.clone(),
                endpoint_url: cli.global.endpoint_url.clone(),
            };
            let aws = Aws::connect(&settings).await;
            match aws.stack_lock(Some(location)) {
                Some(lock) => lock,
                None => return Err(fail("the AWS adapter has no stack lock")),
            }
        }
    };
    let released = lock.release(&args.id).await?;
    crate::outln!("Released {released} ({}).", lock.object());
    Ok(ExitStatus::Success)
}
