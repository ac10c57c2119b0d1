//! How bedform was run, as far as a command it suggests must repeat it: the flags
//! that choose the account (sandbox, region, profile, endpoint) and the paths of
//! the stack's manifests. Every hint ("follow it with `bedform status --wait
//! ...`") is written with it, so that following the hint reaches the same account
//! and the same stack.

/// The account flags and manifest paths of this run, already quoted for a shell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    flags: Vec<String>,
    paths: Vec<String>,
    /// Whether the flags name a sandbox, which `unlock` needs no manifests for.
    sandbox: bool,
}

impl Invocation {
    /// `flags` as the user gave them (`["--region", "us-east-1"]`), `paths` the
    /// manifests the command read (none for a command that reads none).
    pub fn new(flags: Vec<String>, paths: &[std::path::PathBuf], sandbox: bool) -> Invocation {
        Invocation {
            flags: flags.iter().map(|f| shell_word(f)).collect(),
            paths: paths
                .iter()
                .map(|p| shell_word(&p.display().to_string()))
                .collect(),
            sandbox,
        }
    }

    /// `bedform FLAGS`: the start of every suggested command.
    pub fn bedform(&self) -> String {
        let mut line = String::from("bedform");
        for flag in &self.flags {
            line.push(' ');
            line.push_str(flag);
        }
        line
    }

    /// `bedform FLAGS COMMAND PATH...`: `command` with its own arguments, then the
    /// manifests (`PATH...` when this run read none).
    pub fn line(&self, command: &str) -> String {
        let mut line = format!("{} {command}", self.bedform());
        if self.paths.is_empty() {
            line.push_str(" PATH...");
        }
        for path in &self.paths {
            line.push(' ');
            line.push_str(path);
        }
        line
    }

    /// `bedform FLAGS import ADDRESS AWS-ID PATH...`, which adopts one object.
    pub fn import(&self, address: &str, aws_name: &str) -> String {
        self.line(&format!(
            "import {} {}",
            shell_word(address),
            shell_word(aws_name)
        ))
    }

    /// `bedform FLAGS unlock ID [PATH...]`: a sandbox's lock needs no manifests,
    /// any other names them so that bedform finds the Stack's `lock`.
    pub fn unlock(&self, id: &str) -> String {
        let command = format!("unlock {}", shell_word(id));
        if self.sandbox {
            format!("{} {command}", self.bedform())
        } else {
            self.line(&command)
        }
    }
}

/// `word` as a POSIX shell reads it back: unchanged when it holds only characters
/// no shell treats specially, else in single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn flags(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_suggested_command_repeats_the_flags_and_the_paths() {
        let run = Invocation::new(
            flags(&["--region", "eu-west-1", "--profile", "ml"]),
            &[PathBuf::from("stacks/a b"), PathBuf::from("c.yaml")],
            false,
        );
        assert_eq!(
            run.line("status --wait"),
            "bedform --region eu-west-1 --profile ml status --wait 'stacks/a b' c.yaml"
        );
        assert_eq!(
            run.import("IamRole/r", "it's"),
            "bedform --region eu-west-1 --profile ml import IamRole/r 'it'\\''s' 'stacks/a b' c.yaml"
        );
        assert_eq!(
            run.unlock("0f3a"),
            "bedform --region eu-west-1 --profile ml unlock 0f3a 'stacks/a b' c.yaml"
        );
    }

    #[test]
    fn a_run_without_paths_says_where_they_go_and_a_sandbox_unlocks_without() {
        let default = Invocation::default();
        assert_eq!(default.line("plan"), "bedform plan PATH...");
        let sandbox = Invocation::new(
            flags(&["--sandbox-file", "s.json"]),
            &[PathBuf::from("stack")],
            true,
        );
        assert_eq!(
            sandbox.unlock("id1"),
            "bedform --sandbox-file s.json unlock id1"
        );
        assert_eq!(
            sandbox.line("check"),
            "bedform --sandbox-file s.json check stack"
        );
    }
}
