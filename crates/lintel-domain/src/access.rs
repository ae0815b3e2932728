//! Accesses (the Entryfy model, SPEC §1): who may pass which doors, in which direction, with
//! which authentication types, during which schedule and validity.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decision::{AccessRule, AuthType, AuthTypes, DoorRule};
use crate::{
    AccessId, ControllerId, DoorId, GroupId, MembershipId, Preferences, ScheduleId, ValidationError,
};

/// Permanent, or temporary: a temporary access must end (`valid_to`), and after that it is
/// removed from the hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    Permanent,
    Temporary,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Permanent => "permanent",
            AccessKind::Temporary => "temporary",
        }
    }

    pub fn parse(value: &str) -> Option<AccessKind> {
        match value {
            "permanent" => Some(AccessKind::Permanent),
            "temporary" => Some(AccessKind::Temporary),
            _ => None,
        }
    }
}

/// Where provisioning to the controllers stands: `initial → creating → ready → updating →
/// ready → deleting → deleted`. Without controllers involved a change is `ready` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessStatus {
    Initial,
    Creating,
    Ready,
    Updating,
    Deleting,
    Deleted,
}

impl AccessStatus {
    pub const ALL: [AccessStatus; 6] = [
        AccessStatus::Initial,
        AccessStatus::Creating,
        AccessStatus::Ready,
        AccessStatus::Updating,
        AccessStatus::Deleting,
        AccessStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessStatus::Initial => "initial",
            AccessStatus::Creating => "creating",
            AccessStatus::Ready => "ready",
            AccessStatus::Updating => "updating",
            AccessStatus::Deleting => "deleting",
            AccessStatus::Deleted => "deleted",
        }
    }

    pub fn parse(value: &str) -> Option<AccessStatus> {
        AccessStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether an access in this status grants anything: not once it is being deleted.
    pub fn grants(self) -> bool {
        !matches!(self, AccessStatus::Deleting | AccessStatus::Deleted)
    }
}

/// One door of an access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccessDoor {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub door_id: DoorId,
    /// Keep the door unlocked while the schedule is open.
    #[serde(default)]
    pub lock_unlock_enabled: bool,
    /// Authentication types allowed going in; empty allows any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = json!(["mobile", "card"])))]
    pub in_auth_types: Vec<AuthType>,
    /// Authentication types allowed going out; empty allows any.
    #[serde(default)]
    pub out_auth_types: Vec<AuthType>,
}

/// The grant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Access {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: AccessId,
    pub name: String,
    pub kind: AccessKind,
    pub status: AccessStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::HashMap<String, String>))]
    pub preferences: Preferences,
    pub valid_from: Option<DateTime<Utc>>,
    /// Exclusive; required for a temporary access.
    pub valid_to: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub schedule_id: Option<ScheduleId>,
    pub doors: Vec<AccessDoor>,
    /// Memberships granted directly.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<uuid::Uuid>))]
    pub users: Vec<MembershipId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<uuid::Uuid>))]
    pub groups: Vec<GroupId>,
    pub description: String,
    /// Email each new user of the access the doors it opens.
    pub welcome_email_required: bool,
    /// While `creating`, `updating` or `deleting`: the controllers of its doors that do not
    /// hold its last change yet (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<uuid::Uuid>))]
    pub waiting_for: Vec<ControllerId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const MAX_DOORS: usize = 500;
pub const MAX_USERS: usize = 10_000;
pub const MAX_GROUPS: usize = 100;

impl Access {
    /// Checks the rules an access must keep on its own; references to doors, users, groups
    /// and the schedule are the store's to check. `prefix` names the access in a batch.
    pub fn check(&self, prefix: &str) -> Result<(), ValidationError> {
        let field = |f: &str| format!("{prefix}{f}");
        crate::validate::text(&field("name"), &self.name, 1, 200)?;
        crate::validate::text(&field("description"), &self.description, 0, 2000)?;
        crate::door::validate_preferences(&field("preferences"), &self.preferences)?;
        crate::validate::instant(&field("valid_from"), self.valid_from)?;
        crate::validate::instant(&field("valid_to"), self.valid_to)?;
        if self.kind == AccessKind::Temporary && self.valid_to.is_none() {
            return Err(ValidationError::new(
                field("valid_to"),
                "temporary_access_needs_valid_to",
                "a temporary access must have valid_to: when it ends",
            ));
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && from >= to
        {
            return Err(ValidationError::new(
                field("valid_to"),
                "invalid_validity",
                "valid_to must be later than valid_from",
            ));
        }
        if self.doors.is_empty() {
            return Err(ValidationError::new(
                field("doors"),
                "required",
                "an access opens at least one door",
            ));
        }
        for (list, len, max) in [
            ("doors", self.doors.len(), MAX_DOORS),
            ("users", self.users.len(), MAX_USERS),
            ("groups", self.groups.len(), MAX_GROUPS),
        ] {
            if len > max {
                return Err(ValidationError::new(
                    field(list),
                    "too_many_entries",
                    format!("an access has at most {max} {list}"),
                ));
            }
        }
        let mut seen = HashSet::new();
        for (i, d) in self.doors.iter().enumerate() {
            if !seen.insert(d.door_id) {
                return Err(ValidationError::new(
                    field(&format!("doors[{i}].door_id")),
                    "duplicate_door",
                    "a door appears once in an access",
                ));
            }
        }
        Ok(())
    }

    /// Whether `other` grants the same as this access: the same fields a client writes, with
    /// users and groups as sets (a repeated create is recognised by this). Times compare to
    /// the microsecond, as the stores keep them.
    pub fn same_grant(&self, other: &Access) -> bool {
        fn set<T: Ord + Copy>(list: &[T]) -> Vec<T> {
            let mut v = list.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        }
        let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
        self.name == other.name
            && self.kind == other.kind
            && self.preferences == other.preferences
            && micros(self.valid_from) == micros(other.valid_from)
            && micros(self.valid_to) == micros(other.valid_to)
            && self.schedule_id == other.schedule_id
            && self.doors == other.doors
            && set(&self.users) == set(&other.users)
            && set(&self.groups) == set(&other.groups)
            && self.description == other.description
            && self.welcome_email_required == other.welcome_email_required
    }

    /// The access as the decision engine reads it, or `None` once it grants nothing.
    pub fn rule(&self) -> Option<AccessRule> {
        self.status.grants().then(|| AccessRule {
            id: self.id,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            schedule: self.schedule_id,
            doors: self
                .doors
                .iter()
                .map(|d| DoorRule {
                    door: d.door_id,
                    in_types: AuthTypes::of(d.in_auth_types.iter().copied()),
                    out_types: AuthTypes::of(d.out_auth_types.iter().copied()),
                    held_open: d.lock_unlock_enabled,
                })
                .collect(),
            members: self.users.clone(),
            groups: self.groups.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        let at = DateTime::UNIX_EPOCH;
        Access {
            id: AccessId(uuid::Uuid::nil()),
            name: "Staff".into(),
            kind: AccessKind::Permanent,
            status: AccessStatus::Ready,
            preferences: Preferences::default(),
            valid_from: None,
            valid_to: None,
            schedule_id: None,
            doors: vec![AccessDoor {
                door_id: DoorId(uuid::Uuid::from_u128(1)),
                lock_unlock_enabled: false,
                in_auth_types: vec![AuthType::Mobile, AuthType::Card],
                out_auth_types: vec![],
            }],
            users: vec![],
            groups: vec![],
            description: String::new(),
            welcome_email_required: false,
            waiting_for: vec![],
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_repeat_is_the_same_grant_whatever_the_order_of_its_lists() {
        let m = |n: u128| MembershipId(uuid::Uuid::from_u128(n));
        let g = |n: u128| GroupId(uuid::Uuid::from_u128(n));
        let mut stored = access();
        stored.users = vec![m(1), m(2)];
        stored.groups = vec![g(1)];
        stored.valid_to = Some(DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap());
        let mut sent = stored.clone();
        sent.users = vec![m(2), m(1), m(2)];
        sent.valid_to = Some(DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap());
        // Bookkeeping is not the grant.
        sent.created_at += chrono::Duration::hours(1);
        sent.status = AccessStatus::Deleted;
        assert!(stored.same_grant(&sent));

        let changes: [fn(&mut Access); 6] = [
            |a| a.name.push('!'),
            |a| a.kind = AccessKind::Temporary,
            |a| a.groups.clear(),
            |a| a.doors[0].lock_unlock_enabled = !a.doors[0].lock_unlock_enabled,
            |a| a.valid_from = Some(DateTime::UNIX_EPOCH),
            |a| a.welcome_email_required = !a.welcome_email_required,
        ];
        for change in changes {
            let mut other = stored.clone();
            change(&mut other);
            assert!(!stored.same_grant(&other), "{other:?}");
        }
    }

    #[test]
    fn a_temporary_access_needs_an_end_and_names_the_rule() {
        let mut a = access();
        a.kind = AccessKind::Temporary;
        let err = a.check("accesses[3].").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("accesses[3].valid_to", "temporary_access_needs_valid_to")
        );
        a.valid_to = Some(DateTime::UNIX_EPOCH);
        a.valid_from = Some(DateTime::UNIX_EPOCH);
        assert_eq!(a.check("").unwrap_err().code, "invalid_validity");
    }

    #[test]
    fn doors_are_required_once_each() {
        let mut a = access();
        a.doors.push(a.doors[0].clone());
        let err = a.check("").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code),
            ("doors[1].door_id", "duplicate_door")
        );
        a.doors.clear();
        assert_eq!(a.check("").unwrap_err().code, "required");
    }

    #[test]
    fn accesses_being_deleted_grant_nothing() {
        let mut a = access();
        let rule = a.rule().unwrap();
        assert!(rule.doors[0].in_types.allows(AuthType::Card));
        assert!(!rule.doors[0].in_types.allows(AuthType::Pin));
        assert!(
            rule.doors[0].out_types.allows(AuthType::Pin),
            "empty allows any"
        );
        a.status = AccessStatus::Deleting;
        assert!(a.rule().is_none());
    }
}
