//! `bedform import`: adopting objects that exist in the account under the names
//! the manifests declare, by giving them this stack's ownership tags. Pure: it
//! decides from desired and observed state what to tag; the command layer asks
//! for confirmation and sends the tags.

use std::collections::BTreeMap;

use crate::kinds::{Adoption, KindBehaviour};
use crate::model::{
    Address, DesiredResource, DesiredStack, ObservedAccount, ObservedResource, TAG_ADDRESS,
    TAG_SPEC_HASH, TAG_STACK, is_bedform_tag,
};
use crate::plan::FieldDiff;

/// One AWS object and the tags import adds to it.
#[derive(Clone, Debug, PartialEq)]
pub struct TagTarget {
    pub kind: String,
    pub aws_name: String,
    pub tags: BTreeMap<String, String>,
}

/// What importing one declared resource does.
#[derive(Clone, Debug, PartialEq)]
pub struct Adopted {
    pub address: Address,
    pub targets: Vec<TagTarget>,
    /// How the object differs from its document: the next plan shows these as
    /// changes to apply.
    pub differences: Vec<FieldDiff>,
}

impl Adopted {
    /// Whether the object already matches its document (so the spec hash is
    /// recorded and the next plan shows no change for it).
    pub fn in_sync(&self) -> bool {
        self.differences.is_empty()
    }
}

/// The outcome of `import ADDRESS AWS-ID`.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Adopt(Adopted),
    /// Already this stack's, for this address: nothing to do.
    AlreadyManaged {
        address: Address,
        aws_name: String,
    },
    /// The kind takes no tags; the text says why nothing is needed.
    NotNeeded {
        address: Address,
        why: &'static str,
    },
}

/// Why an import is refused. Nothing has been changed when one is returned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("`{0}` is not an address: write Kind/name, as in IamRole/logging-role")]
    BadAddress(String),
    #[error("{address} is not declared in the manifests{hint}")]
    NotDeclared { address: String, hint: String },
    #[error(
        "the manifests name {address} `{declared}` in AWS, not `{given}`; import adopts only the object its document names. Change {field} to `{given}` if that object is meant, or import `{declared}`"
    )]
    OtherName {
        address: Address,
        declared: String,
        given: String,
        field: String,
    },
    #[error(
        "{kind} `{name}` does not exist in account {account}, region {region}: there is nothing to import; the plan creates it"
    )]
    Missing {
        kind: String,
        name: String,
        account: String,
        region: String,
    },
    #[error(
        "{kind} `{name}` belongs to stack `{other}` (as {other_address}); bedform will not take it from that stack. Remove it from that stack's manifests first (with `deletionPolicy: retain` it is released untouched)"
    )]
    OtherStack {
        kind: String,
        name: String,
        other: String,
        other_address: String,
    },
    #[error("{kind} `{name}` is already managed by this stack as {other_address}, not {address}")]
    OtherAddress {
        kind: String,
        name: String,
        address: Address,
        other_address: String,
    },
    #[error("{address}: {why}")]
    Mismatch { address: Address, why: String },
}

/// The AWS name an AWS-ID stands for: the name itself, or the name of the
/// observed object with that ARN, or the name an ARN of the kind ends in.
fn aws_name_of(kind: &str, id: &str, observed: &ObservedAccount) -> String {
    if !id.starts_with("arn:") {
        return id.to_string();
    }
    if let Some(found) = observed
        .of_kind(kind)
        .find(|o| o.arn.as_deref() == Some(id))
    {
        return found.aws_name.clone();
    }
    let resource = id.splitn(6, ':').nth(5).unwrap_or(id);
    match crate::kinds::behaviour(kind) {
        Some(behaviour) => behaviour.name_in_arn(resource),
        None => resource.rsplit('/').next().unwrap_or(resource).to_string(),
    }
}

/// Decides `bedform import ADDRESS AWS-ID` against the account.
pub fn import_one(
    desired: &DesiredStack,
    observed: &ObservedAccount,
    address: &str,
    aws_id: &str,
) -> Result<Verdict, Refusal> {
    let parsed = Address::parse(address).ok_or_else(|| Refusal::BadAddress(address.into()))?;
    let Some(resource) = desired.get(&parsed) else {
        let same_name: Vec<String> = desired
            .resources
            .iter()
            .filter(|r| r.address.name == parsed.name || r.address.kind == parsed.kind)
            .map(|r| r.address.to_string())
            .collect();
        let hint = if same_name.is_empty() {
            "; declare it first, then import it".to_string()
        } else {
            format!("; declared: {}", same_name.join(", "))
        };
        return Err(Refusal::NotDeclared {
            address: address.into(),
            hint,
        });
    };
    let Some(behaviour) = crate::kinds::behaviour(&parsed.kind) else {
        return Err(Refusal::NotDeclared {
            address: address.into(),
            hint: String::new(),
        });
    };
    if let Adoption::NotNeeded(why) = behaviour.adoption() {
        return Ok(Verdict::NotNeeded {
            address: parsed,
            why,
        });
    }
    let given = aws_name_of(&parsed.kind, aws_id, observed);
    if given != resource.aws_name {
        return Err(Refusal::OtherName {
            address: parsed,
            declared: resource.aws_name.clone(),
            given,
            field: behaviour.name_field(),
        });
    }
    let Some(object) = observed.find(&parsed.kind, &resource.aws_name) else {
        return Err(Refusal::Missing {
            kind: parsed.kind.clone(),
            name: resource.aws_name.clone(),
            account: observed.account_id.clone(),
            region: observed.region.clone(),
        });
    };
    if aws_id.starts_with("arn:")
        && let Some(arn) = &object.arn
        && arn != aws_id
    {
        return Err(Refusal::OtherName {
            address: parsed,
            declared: arn.clone(),
            given: aws_id.to_string(),
            field: behaviour.name_field(),
        });
    }
    if object.owned_by(&desired.stack.name)
        && object.tag(TAG_ADDRESS) == Some(address.to_string().as_str())
    {
        return Ok(Verdict::AlreadyManaged {
            address: parsed,
            aws_name: object.aws_name.clone(),
        });
    }
    adopt(desired, observed, behaviour, resource).map(Verdict::Adopt)
}

/// Checks that `object` may be taken by this stack for `address`.
fn check_free(stack: &str, address: &Address, object: &ObservedResource) -> Result<(), Refusal> {
    match object.tag(TAG_STACK) {
        Some(other) if other != stack => Err(Refusal::OtherStack {
            kind: object.kind.clone(),
            name: object.aws_name.clone(),
            other: other.to_string(),
            other_address: object.tag(TAG_ADDRESS).unwrap_or("?").to_string(),
        }),
        Some(_) if object.tag(TAG_ADDRESS) != Some(address.to_string().as_str()) => {
            Err(Refusal::OtherAddress {
                kind: object.kind.clone(),
                name: object.aws_name.clone(),
                address: address.clone(),
                other_address: object.tag(TAG_ADDRESS).unwrap_or("?").to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// The tags that adopt `resource`'s objects, or why they cannot be adopted.
fn adopt(
    desired: &DesiredStack,
    observed: &ObservedAccount,
    behaviour: &dyn KindBehaviour,
    resource: &DesiredResource,
) -> Result<Adopted, Refusal> {
    let stack = desired.stack.name.as_str();
    let mut found = Vec::new();
    for (kind, name) in behaviour.owned_objects(resource) {
        if let Some(object) = observed.find(&kind, &name) {
            check_free(stack, &resource.address, object)?;
            found.push(object);
        }
    }
    let Some(main) = found
        .iter()
        .find(|o| o.kind == resource.address.kind)
        .copied()
    else {
        return Err(Refusal::Missing {
            kind: resource.address.kind.clone(),
            name: resource.aws_name.clone(),
            account: observed.account_id.clone(),
            region: observed.region.clone(),
        });
    };
    if let Some(why) = behaviour.adoption_refusal(resource, main) {
        return Err(Refusal::Mismatch {
            address: resource.address.clone(),
            why,
        });
    }
    let differences = differences(behaviour, resource, main);
    let tags = ownership_tags(stack, resource, differences.is_empty());
    Ok(Adopted {
        address: resource.address.clone(),
        targets: found
            .into_iter()
            .map(|o| TagTarget {
                kind: o.kind.clone(),
                aws_name: o.aws_name.clone(),
                tags: tags.clone(),
            })
            .collect(),
        differences,
    })
}

/// What `bedform import --all` finds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Survey {
    /// Declared resources whose objects exist unowned and can be adopted.
    pub adopt: Vec<Adopted>,
    /// Declared resources whose objects exist but cannot be adopted, and why.
    pub refused: Vec<Refusal>,
}

/// Every declared resource whose object exists and is not yet this stack's.
pub fn import_all(desired: &DesiredStack, observed: &ObservedAccount) -> Survey {
    let mut survey = Survey::default();
    for resource in &desired.resources {
        let Some(behaviour) = crate::kinds::behaviour(&resource.address.kind) else {
            continue;
        };
        if behaviour.adoption() != Adoption::Tags || resource.absent {
            continue;
        }
        let Some(object) = observed.find(&resource.address.kind, &resource.aws_name) else {
            continue;
        };
        if object.owned_by(&desired.stack.name)
            && object.tag(TAG_ADDRESS) == Some(resource.address.to_string().as_str())
        {
            continue;
        }
        match adopt(desired, observed, behaviour, resource) {
            Ok(adopted) => survey.adopt.push(adopted),
            Err(refusal) => survey.refused.push(refusal),
        }
    }
    survey
}

/// Differences between an object and its document, as the next plan sees them.
fn differences(
    behaviour: &dyn KindBehaviour,
    resource: &DesiredResource,
    object: &ObservedResource,
) -> Vec<FieldDiff> {
    let mut fields = crate::kinds::lifecycle::diff_attrs(behaviour, &resource.attrs, &object.attrs);
    if behaviour.taggable() {
        let user = object.user_tags();
        if user != resource.tags {
            fields.push(FieldDiff {
                path: "tags".into(),
                before: serde_json::to_value(&user).ok(),
                after: serde_json::to_value(&resource.tags).ok(),
                forces_replacement: false,
                sensitive: false,
            });
        }
    }
    fields
}

/// The ownership tags `resource` carries, the spec hash only when `in_sync`: a
/// hash records a spec as applied, and an object that differs from its document
/// has not had it applied, so its differences must plan as changes, not as
/// drift from an applied spec.
fn ownership_tags(
    stack: &str,
    resource: &DesiredResource,
    in_sync: bool,
) -> BTreeMap<String, String> {
    resource
        .tags_with_ownership(stack)
        .into_iter()
        .filter(|(k, _)| is_bedform_tag(k) && (in_sync || k != TAG_SPEC_HASH))
        .collect()
}
