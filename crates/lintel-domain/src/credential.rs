//! Cards and PIN codes (SPEC §1 "Credential"): what makes a valid one, how the decision
//! engine knows them, and the rule that keeps PIN codes hard to guess.
//!
//! A card is its number and optional facility code, unique among an organization's active
//! cards. A PIN code is unique among a site's active codes; the code itself is never stored
//! in the clear: the engine knows it by a keyed digest (see `pin_key`), so a reader of the
//! database learns nothing, while whoever holds the site's key (the server, a controller)
//! can check a typed code offline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decision::CredentialKey;
use crate::{CardId, MembershipId, PinId, SiteId, ValidationError};

/// Active, or revoked: a revoked credential is kept so that presenting it is answered
/// `credential_revoked` rather than `unknown_credential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    Active,
    Revoked,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<CredentialStatus> {
        match value {
            "active" => Some(CredentialStatus::Active),
            "revoked" => Some(CredentialStatus::Revoked),
            _ => None,
        }
    }
}

/// A member's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Card {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: CardId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub member_id: MembershipId,
    /// Decimal digits, without leading zeros.
    #[cfg_attr(feature = "openapi", schema(example = "4711"))]
    pub number: String,
    /// The facility (site) code of 26-bit Wiegand and similar formats.
    pub facility_code: Option<u32>,
    pub description: String,
    pub status: CredentialStatus,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Card {
    /// How the decision engine knows this card.
    pub fn key(&self) -> CredentialKey {
        card_key(self.facility_code, &self.number)
    }
}

/// A member's PIN code at a site. The code is not part of it: only its owner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pin {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: PinId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub member_id: MembershipId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub site_id: SiteId,
    /// How many digits the code has.
    pub length: u8,
    pub status: CredentialStatus,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The longest card number: twenty digits hold any 64-bit number.
const CARD_NUMBER_MAX: usize = 20;
/// The largest facility code (16 bits; 26-bit Wiegand uses 8).
pub const FACILITY_CODE_MAX: u32 = 65_535;

/// A card number: 1 to 20 decimal digits, kept without leading zeros so that `0042` and `42`
/// are the same card.
pub fn card_number(field: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty()
        || value.len() > CARD_NUMBER_MAX
        || !value.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ValidationError::new(
            field,
            "invalid_card_number",
            format!("{field} must be 1 to {CARD_NUMBER_MAX} decimal digits"),
        ));
    }
    let trimmed = value.trim_start_matches('0');
    Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
}

pub fn facility_code(field: &str, value: i64) -> Result<u32, ValidationError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= FACILITY_CODE_MAX)
        .ok_or_else(|| {
            ValidationError::new(
                field,
                "invalid_facility_code",
                format!("{field} must be between 0 and {FACILITY_CODE_MAX}"),
            )
        })
}

/// Unknown PIN codes typed at one door: guessing is the attack codes invite. Every code
/// presented takes a slot before it is decided and a code that belongs to someone gives it
/// back, so only guesses count, atomically; past a window the door's keypad answers
/// `too_many_attempts` without deciding, for minutes, then an hour, then the day. At most 20
/// guesses a door a day: with the densest codes the thousand-to-one rule allows, 0.02
/// expected openings a door a day. Other doors, cards and phones are not held up. The server
/// and controllers (deciding offline) hold doors to the same numbers.
pub const GUESSES_PER_DOOR: [(chrono::Duration, usize); 3] = [
    (chrono::Duration::minutes(10), 5),
    (chrono::Duration::hours(1), 10),
    (chrono::Duration::hours(24), 20),
];

/// The engine's key for a card.
pub fn card_key(facility_code: Option<u32>, number: &str) -> CredentialKey {
    match facility_code {
        Some(fc) => CredentialKey(format!("card:{fc}:{number}")),
        None => CredentialKey(format!("card::{number}")),
    }
}

/// The engine's key for a PIN code at a site, from the code's digest under the site's key.
pub fn pin_key(site: SiteId, digest: &[u8]) -> CredentialKey {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    CredentialKey(format!("pin:{site}:{hex}"))
}

/// The digest a typed code is looked up by at a site: HMAC-SHA256 of the code under the
/// site's PIN key. The server and the site's controllers compute it alike.
pub fn pin_digest(site_key: &[u8; 32], code: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(site_key).expect("HMAC takes any key");
    mac.update(code.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What a card's or PIN code's engine key is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParts {
    Card {
        facility_code: Option<u32>,
        number: String,
    },
    Pin {
        site: SiteId,
        digest: Vec<u8>,
    },
}

/// Reads a key made by `card_key` or `pin_key` back; `None` for any other key.
pub fn key_parts(key: &CredentialKey) -> Option<KeyParts> {
    let (kind, rest) = key.0.split_once(':')?;
    let (first, second) = rest.split_once(':')?;
    match kind {
        "card" => Some(KeyParts::Card {
            facility_code: if first.is_empty() {
                None
            } else {
                Some(first.parse().ok()?)
            },
            number: second.to_owned(),
        }),
        "pin" => {
            let site = SiteId(first.parse().ok()?);
            if !second.len().is_multiple_of(2) {
                return None;
            }
            let digest = (0..second.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(second.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Some(KeyParts::Pin { site, digest })
        }
        _ => None,
    }
}

/// The shortest and longest PIN codes.
pub const PIN_MIN_LEN: u8 = 4;
pub const PIN_MAX_LEN: u8 = 12;
/// Codes made for members are at least this long.
pub const PIN_GENERATED_MIN_LEN: u8 = 6;
/// At a site, the possible codes of a length must outnumber the codes issued with that length
/// at least this many times, so that a stranger typing a random code of that length opens a
/// door at most once in a thousand tries.
pub const PIN_SPACE_RATIO: u64 = 1000;

/// Whether a site that has `issued` active codes of `length` digits may issue one more: a
/// keypad entry of `length` digits can only match codes of that length, so the rule holds per
/// length.
pub fn pin_space_allows(length: u8, issued: u64) -> bool {
    10u64
        .checked_pow(u32::from(length))
        .is_some_and(|space| space / PIN_SPACE_RATIO > issued)
}

/// The shortest length of at least `at_least` digits at which one more code may be issued,
/// given how many codes of each length the site has.
pub fn shortest_pin_length(at_least: u8, issued: impl Fn(u8) -> u64) -> Option<u8> {
    (at_least.max(PIN_MIN_LEN)..=PIN_MAX_LEN).find(|len| pin_space_allows(*len, issued(*len)))
}

/// Checks a PIN code given by an administrator: 4 to 12 digits and not guessable.
pub fn pin_code(field: &str, code: &str) -> Result<(), ValidationError> {
    pin_digits(field, code)?;
    if is_guessable(code) {
        return Err(guessable(field));
    }
    Ok(())
}

/// Checks that a typed code could be a PIN code at all: 4 to 12 digits.
pub fn pin_digits(field: &str, code: &str) -> Result<(), ValidationError> {
    let len = code.len();
    if !(usize::from(PIN_MIN_LEN)..=usize::from(PIN_MAX_LEN)).contains(&len)
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ValidationError::new(
            field,
            "invalid_pin",
            format!("{field} must be {PIN_MIN_LEN} to {PIN_MAX_LEN} digits"),
        ));
    }
    Ok(())
}

pub(crate) fn guessable(field: &str) -> ValidationError {
    ValidationError::new(
        field,
        "trivial_pin",
        format!(
            "{field} is too easy to guess; avoid repeated digits, runs such as 1234 and repeated blocks such as 1212"
        ),
    )
}

/// Whether a string of digits is one a thief would try first: one digit repeated, a straight
/// run up or down (wrapping, as on a keypad: 7890), or a block repeated (1212, 123123).
pub fn is_guessable(code: &str) -> bool {
    let d: Vec<i8> = code.bytes().map(|b| (b - b'0') as i8).collect();
    let steps: Vec<i8> = d.windows(2).map(|w| (w[1] - w[0]).rem_euclid(10)).collect();
    let run = |step: i8| steps.iter().all(|s| *s == step);
    let repeated_block = (1..=d.len() / 2)
        .filter(|k| d.len().is_multiple_of(*k))
        .any(|k| d.chunks(k).all(|c| c == &d[..k]));
    run(0) || run(1) || run(9) || repeated_block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_digits_without_leading_zeros() {
        assert_eq!(card_number("number", " 0042 ").unwrap(), "42");
        assert_eq!(card_number("number", "000").unwrap(), "0");
        assert_eq!(
            card_number("number", "18446744073709551615").unwrap().len(),
            20
        );
        for bad in ["", "12a", "-1", "1 2", "123456789012345678901"] {
            let err = card_number("number", bad).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_str()),
                ("invalid_card_number", "number")
            );
        }
        assert_eq!(facility_code("facility_code", 255).unwrap(), 255);
        assert!(facility_code("facility_code", -1).is_err());
        assert!(facility_code("facility_code", 65_536).is_err());
        assert_ne!(card_key(Some(1), "42"), card_key(None, "42"));
        assert_ne!(card_key(Some(1), "42"), card_key(Some(14), "2"));
        // Keys read back into what made them.
        for (fc, number) in [(Some(12), "4711"), (None, "0")] {
            assert_eq!(
                key_parts(&card_key(fc, number)),
                Some(KeyParts::Card {
                    facility_code: fc,
                    number: number.into()
                })
            );
        }
        let site = SiteId(uuid::Uuid::from_u128(9));
        assert_eq!(
            key_parts(&pin_key(site, &[0, 15, 255])),
            Some(KeyParts::Pin {
                site,
                digest: vec![0, 15, 255]
            })
        );
        for other in [
            "device:x",
            "card",
            "pin:nope:00",
            "pin:00000000-0000-0000-0000-000000000009:0",
        ] {
            assert_eq!(key_parts(&CredentialKey(other.into())), None, "{other}");
        }
    }

    #[test]
    fn guessable_codes_are_refused() {
        for trivial in [
            "0000",
            "1234",
            "4321",
            "7890",
            "2109",
            "1212",
            "123123",
            "98769876",
            "555555555555",
        ] {
            assert_eq!(
                pin_code("code", trivial).unwrap_err().code,
                "trivial_pin",
                "{trivial}"
            );
        }
        for fine in ["4711", "1235", "804213", "120120121"] {
            pin_code("code", fine).unwrap();
        }
        for bad in ["123", "1234567890123", "12a4", ""] {
            assert_eq!(
                pin_code("code", bad).unwrap_err().code,
                "invalid_pin",
                "{bad}"
            );
        }
    }

    #[test]
    fn possible_codes_outnumber_issued_ones_a_thousand_to_one() {
        // Four digits: 10,000 codes, so at most ten issued.
        assert!(pin_space_allows(4, 9));
        assert!(!pin_space_allows(4, 10));
        // Six digits: at most 1,000.
        assert!(pin_space_allows(6, 999));
        assert!(!pin_space_allows(6, 1000));
        assert!(pin_space_allows(12, 999_999_999));
        assert!(!pin_space_allows(12, 1_000_000_000));
        // The shortest length that still has room, counting each length on its own.
        let counts = |len: u8| match len {
            6 => 1000,
            7 => 3,
            _ => 0,
        };
        assert_eq!(shortest_pin_length(6, counts), Some(7));
        assert_eq!(shortest_pin_length(0, counts), Some(4));
        assert_eq!(shortest_pin_length(6, |_| u64::MAX), None);
    }
}
