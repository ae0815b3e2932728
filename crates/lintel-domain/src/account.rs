//! Accounts and their devices: people and the apps and browsers they sign in with. No
//! passwords, ever: an account proves its email and its phone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::text;
use crate::{AccountId, DeviceId, ValidationError};

/// An email address, trimmed and lower-cased so that one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "ada@example.com"))]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<Email, ValidationError> {
        let value = value.trim().to_lowercase();
        let bad = || {
            ValidationError::new(
                field,
                "invalid_email",
                format!("{field} must be an email address such as ada@example.com"),
            )
        };
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad());
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form (`+46701234567`), checked against the numbering plans of
/// libphonenumber's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "+46701234567"))]
pub struct Phone(String);

impl Phone {
    /// The country (region) the number belongs to, as its ISO 3166 code (`SE`, `US`).
    pub fn region(&self) -> Option<String> {
        phonenumber::parse(None, self.as_str())
            .ok()
            .and_then(|n| n.country().id())
            .map(|id| id.as_ref().to_owned())
    }

    /// Accepts international notation with any spacing (`+46 70-123 45 67`).
    pub fn parse(field: &str, value: &str) -> Result<Phone, ValidationError> {
        let bad = |why: &str| {
            ValidationError::new(
                field,
                "invalid_phone",
                format!(
                    "{field} must be a phone number in international format, such as +46 70 123 45 67; {why}"
                ),
            )
        };
        let value = value.trim();
        if !value.starts_with('+') {
            return Err(bad("it must start with + and the country code"));
        }
        let number = phonenumber::parse(None, value).map_err(|_| bad("this one cannot be read"))?;
        if !phonenumber::is_valid(&number) {
            return Err(bad(
                "this one does not exist in its country's numbering plan",
            ));
        }
        Ok(Phone(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its last two digits hidden, to tell a person where a code
    /// went without revealing the number.
    pub fn masked(&self) -> String {
        let digits = self.0.len().saturating_sub(1);
        let shown = &self.0[self.0.len().saturating_sub(2)..];
        format!("+{}{shown}", "•".repeat(digits.saturating_sub(2)))
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A first or last name.
pub fn person_name(field: &str, value: &str) -> Result<String, ValidationError> {
    let name = text(field, value, 1, 100)?;
    // Names go into emails and SMS sent to other people: letters and the marks names have,
    // never links, addresses or digits someone could plant as a message.
    let name_like = name
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.' | ','));
    if !name_like {
        return Err(ValidationError::new(
            field,
            "invalid_name",
            format!("{field} may hold letters, spaces, hyphens, apostrophes and periods only"),
        ));
    }
    Ok(name)
}

/// Checks an app PIN: 4 to 8 digits, and not one a thief would try first (see
/// `credential::is_guessable`).
pub fn check_app_pin(field: &str, pin: &str) -> Result<(), ValidationError> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            field,
            "invalid_pin",
            format!("{field} must be 4 to 8 digits"),
        ));
    }
    if crate::credential::is_guessable(pin) {
        return Err(crate::credential::guessable(field));
    }
    Ok(())
}

/// The languages Lintel's pages speak, by tag.
pub const LANGUAGES: [&str; 3] = ["en", "sv", "fr"];

/// A person. Email and phone are each proven before they are stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: AccountId,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    /// `None` once a newcomer with this recycled number has taken it over.
    pub phone: Option<Phone>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The language the person chose for pages (one of `LANGUAGES`); `None`: their
    /// browser's.
    pub language: Option<String>,
}

/// What kind of client a device is: an app holds rotating tokens; a browser holds one
/// HttpOnly session cookie that expires after a while unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    App,
    Browser,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::App => "app",
            DeviceKind::Browser => "browser",
        }
    }

    pub fn parse(value: &str) -> Option<DeviceKind> {
        match value {
            "app" => Some(DeviceKind::App),
            "browser" => Some(DeviceKind::Browser),
            _ => None,
        }
    }
}

/// One signed-in app or browser of an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: DeviceId,
    pub kind: DeviceKind,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When the app PIN was last entered correctly.
    pub pin_verified_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", " Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert_eq!(
                Email::parse("email", bad).unwrap_err().code,
                "invalid_email",
                "{bad}"
            );
        }
    }

    #[test]
    fn phones_become_e164_and_impossible_ones_are_refused() {
        assert_eq!(
            Phone::parse("phone", "+46 70-123 45 67").unwrap().as_str(),
            "+46701234567"
        );
        assert_eq!(
            Phone::parse("phone", "+1 (415) 555-2671").unwrap().as_str(),
            "+14155552671"
        );
        for bad in ["0701234567", "+46 12", "+999 123456789", "phone", "+"] {
            assert_eq!(
                Phone::parse("phone", bad).unwrap_err().code,
                "invalid_phone",
                "{bad}"
            );
        }
        assert_eq!(
            Phone::parse("phone", "+46701234567").unwrap().masked(),
            "+•••••••••67"
        );
    }

    #[test]
    fn trivial_pins_are_refused() {
        for ok in ["2580", "918273", "40961", "13572468"] {
            assert!(check_app_pin("pin", ok).is_ok(), "{ok}");
        }
        for trivial in [
            "0000", "1234", "4321", "7890", "3210", "1212", "123456", "98765432", "454545",
        ] {
            assert_eq!(
                check_app_pin("pin", trivial).unwrap_err().code,
                "trivial_pin",
                "{trivial}"
            );
        }
        for bad in ["123", "123456789", "12a4", ""] {
            assert_eq!(
                check_app_pin("pin", bad).unwrap_err().code,
                "invalid_pin",
                "{bad}"
            );
        }
    }
}
