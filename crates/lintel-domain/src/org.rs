//! Organizations: the tenants. Every other object belongs to exactly one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::text;
use crate::{OrgId, ValidationError};

/// An organization's URL name: 3 to 63 characters of `a-z`, `0-9` and `-`, starting with a
/// letter and not ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "acme-offices"))]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, value: &str) -> Result<Slug, ValidationError> {
        let bytes = value.as_bytes();
        let well_formed = (3..=63).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && !value.ends_with('-')
            && !value.contains("--");
        if well_formed {
            Ok(Slug(value.to_owned()))
        } else {
            Err(ValidationError::new(
                field,
                "invalid_slug",
                format!(
                    "{field} must be 3 to 63 characters of a-z, 0-9 and '-', start with a letter, \
                     and have no '-' at the end or twice in a row; got {value:?}"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name such as `Europe/Stockholm`, checked against the tz database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Stockholm"))]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

    pub fn parse(field: &str, value: &str) -> Result<TimeZone, ValidationError> {
        value.parse::<chrono_tz::Tz>().map(TimeZone).map_err(|_| {
            ValidationError::new(
                field,
                "invalid_time_zone",
                format!(
                    "{field} must be an IANA time zone name such as Europe/Stockholm; got {value:?}"
                ),
            )
        })
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl TryFrom<String> for TimeZone {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TimeZone::parse("time_zone", &value)
    }
}

impl From<TimeZone> for String {
    fn from(tz: TimeZone) -> String {
        tz.name().to_owned()
    }
}

/// An organization's display name.
pub struct OrgName;

impl OrgName {
    pub fn parse(field: &str, value: &str) -> Result<String, ValidationError> {
        text(field, value, 1, 200)
    }
}

/// Policies an organization's owners choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct OrgSettings {
    /// Whether members without the `delegation` area may send access links to their own
    /// guests, for doors they can open themselves.
    pub guest_links_by_members: bool,
    /// How long a device's app PIN stays verified before unlocking asks for it again, in
    /// hours (1 to 8760).
    pub app_pin_max_age_hours: u32,
    /// Whether members who lack access see the admins' emails on the "who administers this
    /// organization" list.
    pub show_admin_email: bool,
    /// Whether they see the admins' phone numbers there.
    pub show_admin_phone: bool,
    /// Whether signing in through an OpenID Connect provider is complete without the SMS
    /// code to the member's phone. It counts only for accounts all of whose organizations
    /// say so. Off by default: a provider vouches for an email, which anyone who takes over
    /// that provider account also has; the phone is the factor the organization recorded
    /// itself.
    pub provider_sign_in_without_code: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            guest_links_by_members: false,
            app_pin_max_age_hours: 7 * 24,
            show_admin_email: true,
            show_admin_phone: false,
            provider_sign_in_without_code: false,
        }
    }
}

impl OrgSettings {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=8760).contains(&self.app_pin_max_age_hours) {
            return Err(ValidationError::new(
                "settings.app_pin_max_age_hours",
                "out_of_range",
                "settings.app_pin_max_age_hours must be between 1 and 8760 hours",
            ));
        }
        Ok(())
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
    pub time_zone: TimeZone,
    pub settings: OrgSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_rule() {
        for ok in [
            "acme",
            "acme-offices",
            "a1b",
            "x23456789012345678901234567890123456789012345678901234567890ab",
        ] {
            assert!(Slug::parse("slug", ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac--me",
            "acme offices",
            "åcme",
            "",
        ] {
            assert_eq!(
                Slug::parse("slug", bad).unwrap_err().code,
                "invalid_slug",
                "{bad}"
            );
        }
        assert_eq!(
            Slug::parse("slug", &"a".repeat(64)).unwrap_err().code,
            "invalid_slug"
        );
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        assert_eq!(
            TimeZone::parse("tz", "Europe/Stockholm").unwrap().name(),
            "Europe/Stockholm"
        );
        assert_eq!(
            TimeZone::parse("tz", "Mars/Olympus").unwrap_err().code,
            "invalid_time_zone"
        );
        assert_eq!(
            TimeZone::parse("tz", "").unwrap_err().code,
            "invalid_time_zone"
        );
    }

    #[test]
    fn settings_bound_the_pin_age() {
        let mut s = OrgSettings::default();
        assert!(s.validate().is_ok());
        s.app_pin_max_age_hours = 0;
        assert_eq!(
            s.validate().unwrap_err().field,
            "settings.app_pin_max_age_hours"
        );
    }
}
