//! Memberships: an account's place in an organization, with its admin areas and groups. An
//! invitation is a membership that no account holds yet.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Area, Areas, GroupId, MembershipId, ValidationError};

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Sent or pre-provisioned, not yet taken by an account.
    Invited,
    /// Holds its areas and groups.
    Active,
    /// Kept, but holds nothing until reinstated.
    Suspended,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Invited => "invited",
            MembershipStatus::Active => "active",
            MembershipStatus::Suspended => "suspended",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationError> {
        [Self::Invited, Self::Active, Self::Suspended]
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    "unknown_status",
                    format!("{field} must be one of invited, active, suspended; got {value:?}"),
                )
            })
    }
}

/// How an invitation reaches its invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InviteChannel {
    Email,
    Sms,
}

impl InviteChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteChannel::Email => "email",
            InviteChannel::Sms => "sms",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// The address an invitation went to. It attaches itself to the account that signs in with
/// that email or phone, or to whoever accepts it with its link.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub channel: InviteChannel,
    /// The normalised email or E.164 phone.
    pub address: String,
    /// `None` for a membership pre-provisioned from the command line: it waits for sign-in.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An account's place in an organization.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: MembershipId,
    /// `None` while invited.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub account_id: Option<AccountId>,
    pub status: MembershipStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["members"])))]
    pub areas: Areas,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<uuid::Uuid>))]
    pub groups: Vec<GroupId>,
    /// Set while the membership is an invitation.
    pub invitation: Option<Invitation>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Membership {
    /// The areas the membership acts with now: none unless active.
    pub fn effective_areas(&self) -> Areas {
        if self.status == MembershipStatus::Active {
            self.areas.clone()
        } else {
            Areas::default()
        }
    }

    pub fn is_owner(&self) -> bool {
        self.status == MembershipStatus::Active && self.areas.iter().any(|a| a == Area::Owner)
    }
}

/// Whether `actor` may hand out or take away every area in which `before` and `after`
/// differ: nobody grants or removes an area they do not hold (`owner` holds them all).
/// Returns the first area that is not theirs to change.
pub fn ungrantable(actor: &Areas, before: &Areas, after: &Areas) -> Option<Area> {
    Area::ALL.into_iter().find(|&area| {
        let changed = before.iter().any(|a| a == area) != after.iter().any(|a| a == area);
        changed && !actor.allows(area)
    })
}

/// Whether `actor` may act on a member holding `target`: only when the actor holds every
/// area the member holds, so nobody suspends, removes or changes someone above them.
pub fn outranked_by(actor: &Areas, target: &Areas) -> Option<Area> {
    target.iter().find(|&area| !actor.allows(area))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_grants_or_removes_an_area_they_lack() {
        let members = Areas::new([Area::Members]);
        let none = Areas::default();
        assert_eq!(ungrantable(&members, &none, &members), None);
        assert_eq!(
            ungrantable(&members, &none, &Areas::new([Area::Members, Area::Api])),
            Some(Area::Api)
        );
        assert_eq!(
            ungrantable(&members, &Areas::new([Area::Owner]), &none),
            Some(Area::Owner)
        );
        let owner = Areas::new([Area::Owner]);
        assert_eq!(ungrantable(&owner, &none, &Areas::new(Area::ALL)), None);
    }

    #[test]
    fn a_member_outranks_only_those_with_fewer_areas() {
        let members = Areas::new([Area::Members]);
        assert_eq!(outranked_by(&members, &Areas::default()), None);
        assert_eq!(outranked_by(&members, &members), None);
        assert_eq!(
            outranked_by(&members, &Areas::new([Area::Owner])),
            Some(Area::Owner)
        );
        assert_eq!(
            outranked_by(&Areas::new([Area::Owner]), &Areas::new(Area::ALL)),
            None
        );
    }

    #[test]
    fn only_active_memberships_hold_their_areas() {
        let mut m = Membership {
            id: MembershipId(uuid::Uuid::nil()),
            account_id: None,
            status: MembershipStatus::Suspended,
            areas: Areas::new([Area::Owner]),
            groups: vec![],
            invitation: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        assert!(m.effective_areas().is_empty());
        assert!(!m.is_owner());
        m.status = MembershipStatus::Active;
        assert!(m.is_owner());
    }
}
