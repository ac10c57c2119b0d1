//! What the engine needs to know of each kind, declared beside the kind: teardown
//! order, what its statuses mean, singletons, permission-granting and sensitive
//! fields, tag rules. The registry ([`crate::kinds::Kind::facts`]) names each
//! kind's [`KindFacts`].

/// What a status read from AWS means for the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    /// On its way somewhere: a job that trains or stops, a throughput being
    /// created or updated. Followed by `apply --wait` and `status`.
    Transitional,
    /// Where it was going: a job completed, a throughput in service, or a kind
    /// that has no statuses (it is ready once it exists).
    Ready,
    /// Ended badly: shown with AWS's message, retried only when asked.
    Failed,
    /// A status the API does not document: shown as it is, never followed, and
    /// not taken for ready.
    Undocumented,
}

/// What the engine needs to know of one kind. A kind states every member (a
/// struct literal cannot leave one out), so a new kind has to decide each.
#[derive(Debug)]
pub struct KindFacts {
    /// Where the kind's deletes go in a teardown: lower first. Dependents come
    /// before what they depend on (a throughput before the model it serves, the
    /// model's job, logging before its role, roles before buckets and log groups).
    pub teardown_rank: u8,
    /// Whether the kind is one per account and region (a manifest may declare it
    /// once).
    pub singleton: bool,
    /// Whether `${NAME.arn}` can be resolved before apply (a job's ARN is AWS's
    /// choice; singletons have none).
    pub arn_known_before_apply: bool,
    /// The fields that grant or take away permissions (trust and permission
    /// policies, resource policies): the markdown plan warns about changes to them.
    pub permission_fields: &'static [&'static str],
    /// Members the API marks sensitive, wherever they appear in the kind's values:
    /// masked in every plan on stdout.
    pub sensitive_members: &'static [&'static str],
    /// What an AWS status of this kind means.
    pub status_class: fn(&str) -> StatusClass,
    /// Whether a create or update of this kind goes on after AWS accepted it (a
    /// job trains, a throughput is created): apply follows it to [`StatusClass::Ready`].
    pub converges: bool,
    /// Whether a replacement keeps the old object until the new one is ready (a
    /// throughput serves until its successor is in service).
    pub replacement_waits_until_ready: bool,
    /// Whether a failed object of this kind is made again only when asked
    /// (`--retry-failed`): a job that failed or was stopped costs another training.
    pub retried_only_when_asked: bool,
    /// Why `bedform export` writes no documents of this kind; `None` when it does.
    pub not_exported_because: Option<&'static str>,
    /// The stages an object of this kind reports while it converges, in the
    /// order they run (a job's `statusDetails`); empty when it reports none.
    pub stages: &'static [Stage],
    /// Whether the kind serves model inference, so that a smoke check (`check:`)
    /// can be sent to it; `None` when it does not.
    pub inference: Option<Inference>,
    /// The kind whose object makes this one, and whose status says how that is
    /// going (a custom model is made by its customization job); `None` when the
    /// object is made by its own create.
    pub made_by: Option<crate::model::Kind>,
    /// What the kind's API accepts as tags; `None` when the object takes none.
    pub tags: Option<TagRules>,
}

/// One stage of a converging object: AWS's name for it, and how bedform says it.
#[derive(Debug)]
pub struct Stage {
    pub name: &'static str,
    pub said: &'static str,
}

/// How a kind that serves inference is checked.
#[derive(Debug)]
pub struct Inference {
    /// The status in which it answers (`InService`).
    pub ready_status: &'static str,
}

/// Bedrock's tags (`TagList`: at most 200; `TagKey`, `TagValue` patterns).
pub const BEDROCK_TAGS: TagRules = TagRules {
    max_tags: 200,
    characters: TagCharacters::Ascii,
};

/// The tags an API accepts on one object, from its service model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagRules {
    /// Most tags on one object, bedform's ownership tags included.
    pub max_tags: usize,
    pub characters: TagCharacters,
}

/// Characters allowed in tag keys and values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagCharacters {
    /// Bedrock: ASCII letters and digits, white space and `_ . : / = + @ -`.
    Ascii,
    /// IAM, S3, CloudWatch Logs: any letter, number or space, and `_ . : / = + - @`.
    Unicode,
}

impl TagRules {
    /// The problems of `tags` (user tags and ownership tags, as sent) on one object.
    pub fn problems(self, tags: &std::collections::BTreeMap<String, String>) -> Vec<String> {
        let mut problems = Vec::new();
        if tags.len() > self.max_tags {
            problems.push(format!(
                "{} tags with bedform's ownership tags; this object takes at most {}",
                tags.len(),
                self.max_tags
            ));
        }
        let allowed = |c: char| match self.characters {
            // Java's `\s`: space, tab, line feed, vertical tab, form feed, return.
            TagCharacters::Ascii => {
                c.is_ascii_alphanumeric()
                    || " \t\n\u{b}\u{c}\r".contains(c)
                    || "_.:/=+@-".contains(c)
            }
            TagCharacters::Unicode => unicode_tag_character(c),
        };
        for (key, value) in tags {
            for (what, text) in [("key", key), ("value", value)] {
                if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
                    problems.push(format!(
                        "tag `{key}`: the {what} holds `{}`, which this API does not allow in tags (letters, digits, spaces and _ . : / = + - @{})",
                        crate::diag::printable(&bad.to_string()),
                        match self.characters {
                            TagCharacters::Ascii => ", ASCII only",
                            TagCharacters::Unicode => "",
                        }
                    ));
                }
            }
        }
        problems
    }
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, the characters of IAM's, S3's and CloudWatch
/// Logs' tags: letters, separators (not tabs or line breaks) and numbers by their
/// Unicode category.
fn unicode_tag_character(c: char) -> bool {
    static CHARACTERS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]$").expect("a valid pattern")
    });
    CHARACTERS.is_match(c.encode_utf8(&mut [0; 4]))
}

/// The status class of a kind AWS reports no status for: ready once it exists.
pub fn no_status(_status: &str) -> StatusClass {
    StatusClass::Ready
}
