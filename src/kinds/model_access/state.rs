//! What an update of model access sends: agreements to create (with the offer to
//! accept) or cancel, and the use-case form (`CreateFoundationModelAgreement`,
//! `DeleteFoundationModelAgreement`, `PutUseCaseForModelAccess`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_agreements: Option<Vec<Agreement>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_agreements: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case_form: Option<Value>,
}

/// One model's agreement: the offer to accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Agreement {
    pub model: String,
    /// `public` or `all` (`ListFoundationModelAgreementOffers`' `offerType`).
    pub offer_type: Offers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Offers {
    Public,
    All,
}
