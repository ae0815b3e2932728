//! Access links (SPEC §5): secret URLs that open the doors of one group for a guest, without
//! an account, within an optional validity window; sent by email or SMS, or handed over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Phone;
use crate::{GroupId, LinkId, MembershipId, ValidationError};

/// How a link reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Email,
    Sms,
    /// Shown once to whoever makes it, to hand over.
    Manual,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Email => "email",
            Delivery::Sms => "sms",
            Delivery::Manual => "manual",
        }
    }

    pub fn parse(value: &str) -> Option<Delivery> {
        match value {
            "email" => Some(Delivery::Email),
            "sms" => Some(Delivery::Sms),
            "manual" => Some(Delivery::Manual),
            _ => None,
        }
    }
}

/// Where a link stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Valid now.
    Active,
    /// Valid from a later time.
    Scheduled,
    /// Past `valid_until`.
    Expired,
    Revoked,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Active => "active",
            LinkState::Scheduled => "scheduled",
            LinkState::Expired => "expired",
            LinkState::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<LinkState> {
        match value {
            "active" => Some(LinkState::Active),
            "scheduled" => Some(LinkState::Scheduled),
            "expired" => Some(LinkState::Expired),
            "revoked" => Some(LinkState::Revoked),
            _ => None,
        }
    }
}

/// An access link, never with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessLink {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: LinkId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub group_id: GroupId,
    pub recipient_name: String,
    pub delivery: Delivery,
    /// The email address or phone number it was sent to; none for manual links.
    pub address: Option<String>,
    /// Inclusive; none: from its creation.
    pub valid_from: Option<DateTime<Utc>>,
    /// Exclusive; none: for ever.
    pub valid_until: Option<DateTime<Utc>>,
    /// The member who made it, when a member did (their removal revokes it).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub created_by: Option<MembershipId>,
    /// Who made it, as the event log names them.
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl AccessLink {
    pub fn state(&self, at: DateTime<Utc>) -> LinkState {
        if self.revoked_at.is_some_and(|r| r <= at) {
            LinkState::Revoked
        } else if self.valid_until.is_some_and(|u| at >= u) {
            LinkState::Expired
        } else if self.valid_from.is_some_and(|f| at < f) {
            LinkState::Scheduled
        } else {
            LinkState::Active
        }
    }
}

/// An organization's limits on links, set by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkQuotas {
    /// Email links existing at once (neither revoked nor expired).
    pub email_links: u32,
    /// SMS links sent in a calendar month of the organization's time zone.
    pub sms_links_per_month: u32,
}

impl Default for LinkQuotas {
    fn default() -> Self {
        LinkQuotas {
            email_links: 1000,
            sms_links_per_month: 10,
        }
    }
}

impl LinkQuotas {
    pub fn validate(&self) -> Result<(), ValidationError> {
        for (field, value) in [
            ("email_links", self.email_links),
            ("sms_links_per_month", self.sms_links_per_month),
        ] {
            if value > 1_000_000 {
                return Err(ValidationError::new(
                    field,
                    "out_of_range",
                    format!("{field} must be at most 1000000"),
                ));
            }
        }
        Ok(())
    }
}

/// A validity window: `valid_until` after `valid_from`, and not already over.
pub fn check_validity(
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ValidationError> {
    crate::validate::instant("valid_from", valid_from)?;
    crate::validate::instant("valid_until", valid_until)?;
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until <= from
    {
        return Err(ValidationError::new(
            "valid_until",
            "invalid_validity",
            "valid_until must be after valid_from",
        ));
    }
    if valid_until.is_some_and(|u| u <= now) {
        return Err(ValidationError::new(
            "valid_until",
            "invalid_validity",
            "valid_until is already past",
        ));
    }
    Ok(())
}

/// The regions SMS links may be sent to: the United States, Canada and Puerto Rico, as the
/// phone-number metadata places the number (not by its `+1` prefix, which other countries
/// share).
pub const SMS_REGIONS: [&str; 3] = ["US", "CA", "PR"];

/// Whether an SMS link may go to `phone`.
pub fn sms_allowed(phone: &Phone) -> bool {
    use phonenumber::country::Id;
    phonenumber::parse(None, phone.as_str())
        .ok()
        .and_then(|n| n.country().id())
        .is_some_and(|id| matches!(id, Id::US | Id::CA | Id::PR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn link(from: Option<i64>, until: Option<i64>, revoked: Option<i64>) -> AccessLink {
        let t0 = DateTime::from_timestamp(1_772_442_000, 0).unwrap();
        let at = |h: i64| t0 + Duration::hours(h);
        AccessLink {
            id: LinkId::new(t0),
            group_id: GroupId::new(t0),
            recipient_name: "Guest".into(),
            delivery: Delivery::Manual,
            address: None,
            valid_from: from.map(at),
            valid_until: until.map(at),
            created_by: None,
            created_by_name: "Owner".into(),
            created_at: t0,
            revoked_at: revoked.map(at),
            last_used_at: None,
        }
    }

    #[test]
    fn a_link_is_scheduled_active_expired_or_revoked() {
        let t0 = DateTime::from_timestamp(1_772_442_000, 0).unwrap();
        let at = |h: i64| t0 + Duration::hours(h);
        let l = link(Some(2), Some(4), None);
        assert_eq!(l.state(at(1)), LinkState::Scheduled);
        assert_eq!(l.state(at(2)), LinkState::Active);
        assert_eq!(l.state(at(4)), LinkState::Expired);
        assert_eq!(link(None, None, None).state(at(1000)), LinkState::Active);
        let revoked = link(None, Some(4), Some(3));
        assert_eq!(revoked.state(at(2)), LinkState::Active);
        assert_eq!(revoked.state(at(3)), LinkState::Revoked);
        assert_eq!(revoked.state(at(5)), LinkState::Revoked);
        assert!(check_validity(Some(at(2)), Some(at(2)), t0).is_err());
        assert!(check_validity(None, Some(at(-1)), t0).is_err());
        check_validity(Some(at(-5)), Some(at(2)), t0).unwrap();
    }

    #[test]
    fn sms_goes_to_the_us_canada_and_puerto_rico_only() {
        for (number, allowed) in [
            ("+12025550143", true),  // Washington, DC
            ("+14165550123", true),  // Toronto
            ("+17872345678", true),  // Puerto Rico
            ("+18765550123", false), // Jamaica: +1, but not one of them
            ("+12464234567", false), // Barbados
            ("+46701234567", false), // Sweden
        ] {
            let phone = Phone::parse("phone", number).unwrap();
            assert_eq!(sms_allowed(&phone), allowed, "{number}");
        }
    }
}
