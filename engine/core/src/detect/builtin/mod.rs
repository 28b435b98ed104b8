//! The built-in detectors of docs/05-detectors.md, grouped by family. Ids are part of the contract.

pub mod banking;
pub mod card_data;
pub mod contact;
pub mod crypto;
pub mod crypto_ext;
pub mod digits;
pub mod finance;
pub mod national;
pub mod network;
pub mod personal;
pub mod secrets;
pub mod secrets_cloud;
pub mod secrets_saas;
pub mod securities;
pub mod token;

use std::sync::LazyLock;

use super::context::ContextRule;
use super::{BuiltinDetector, Detector};

/// Every built-in detector, in a stable order.
pub fn all() -> impl Iterator<Item = &'static BuiltinDetector> {
    finance::DETECTORS
        .iter()
        .chain(national::DETECTORS)
        .chain(contact::DETECTORS)
        .chain(secrets::DETECTORS)
        .chain(crypto::DETECTORS)
        .chain(personal::DETECTORS)
        .chain(securities::DETECTORS)
        .chain(card_data::DETECTORS)
        .chain(banking::DETECTORS)
        .chain(crypto_ext::DETECTORS)
        .chain(secrets_cloud::DETECTORS)
        .chain(secrets_saas::DETECTORS)
        .chain(network::DETECTORS)
}

/// The built-in detector with this id.
pub fn get(id: &str) -> Option<&'static BuiltinDetector> {
    all().find(|d| d.id == id)
}

/// A built-in detector with its matcher built, ready to run.
pub struct Built {
    /// Its description.
    pub spec: &'static BuiltinDetector,
    /// Its matcher.
    pub matcher: Box<dyn Detector>,
}

static BUILT: LazyLock<Vec<Built>> =
    LazyLock::new(|| all().map(|spec| Built { spec, matcher: (spec.build)() }).collect());

/// Every built-in detector with its matcher, built once per process.
pub fn built() -> &'static [Built] {
    &BUILT
}

impl BuiltinDetector {
    /// The context-word rule of this detector.
    pub fn context_rule(&self) -> ContextRule {
        ContextRule {
            window: self.keyword_window,
            requires: self.requires_keywords,
            boosted: self.confidence_with_keywords,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_match_the_contract() {
        let mut ids: Vec<&str> = all().map(|d| d.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate built-in detector id");
        for id in [
            "credit_card",
            "iban",
            "swift_bic",
            "us_aba_routing",
            "us_bank_account",
            "uk_sort_code",
            "us_ssn",
            "us_itin",
            "passport",
            "uk_nino",
            "uk_nhs",
            "ca_sin",
            "in_aadhaar",
            "in_pan",
            "sg_nric",
            "au_tfn",
            "email",
            "phone",
            "ip_address",
            "aws_access_key",
            "aws_secret_key",
            "github_token",
            "slack_token",
            "stripe_key",
            "google_api_key",
            "private_key",
            "jwt",
            "password_assignment",
            "crypto_btc",
            "crypto_eth",
            "date_of_birth",
        ] {
            assert!(get(id).is_some(), "built-in detector `{id}` is missing");
        }
    }
}
