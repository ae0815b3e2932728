//! Doors: anything that can be unlocked, its kind and the settings integrators attach.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ControllerId, DoorId, SiteId, ValidationError};

/// What a door is; it changes how it is shown and which hardware drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DoorKind {
    Door,
    Gate,
    Locker,
    StorageUnit,
    Relay,
}

impl DoorKind {
    pub const ALL: [DoorKind; 5] = [
        DoorKind::Door,
        DoorKind::Gate,
        DoorKind::Locker,
        DoorKind::StorageUnit,
        DoorKind::Relay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DoorKind::Door => "door",
            DoorKind::Gate => "gate",
            DoorKind::Locker => "locker",
            DoorKind::StorageUnit => "storage_unit",
            DoorKind::Relay => "relay",
        }
    }

    pub fn parse(value: &str) -> Option<DoorKind> {
        DoorKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Free-form string settings integrators attach to an object (at most 64 entries, keys of
/// 1 to 64 characters, values of at most 1024).
pub type Preferences = BTreeMap<String, String>;

/// Checks a preferences map against its limits.
pub fn validate_preferences(field: &str, prefs: &Preferences) -> Result<(), ValidationError> {
    if prefs.len() > 64 {
        return Err(ValidationError::new(
            field,
            "too_many_entries",
            format!("{field} may hold at most 64 entries"),
        ));
    }
    for (key, value) in prefs {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > 64 || key.chars().any(char::is_control) {
            return Err(ValidationError::new(
                format!("{field}.{key}"),
                "invalid_key",
                format!("{field} keys must be 1 to 64 characters with no control characters"),
            ));
        }
        if value.chars().count() > 1024 {
            return Err(ValidationError::new(
                format!("{field}.{key}"),
                "too_long",
                format!("{field} values must be at most 1024 characters"),
            ));
        }
    }
    Ok(())
}

/// Anything that can be unlocked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Door {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: DoorId,
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub site_id: SiteId,
    pub name: String,
    pub kind: DoorKind,
    /// A phone unlock must come from inside the site's geofence.
    pub geofence_required: bool,
    /// A phone unlock must be proven to happen at the door's reader.
    pub reader_required: bool,
    /// How long the lock stays released after an unlock, in seconds (1 to 600).
    pub unlock_duration_secs: u32,
    /// The controller it is wired to (one of its site's), if any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub controller_id: Option<ControllerId>,
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::HashMap<String, String>))]
    pub preferences: Preferences,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Door {
    pub const DEFAULT_UNLOCK_SECS: u32 = 5;

    pub fn validate_unlock_duration(secs: u32) -> Result<u32, ValidationError> {
        if (1..=600).contains(&secs) {
            Ok(secs)
        } else {
            Err(ValidationError::new(
                "unlock_duration_secs",
                "out_of_range",
                "unlock_duration_secs must be between 1 and 600 seconds",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn door_kinds_round_trip_through_their_names() {
        for kind in DoorKind::ALL {
            assert_eq!(DoorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(DoorKind::parse("window"), None);
    }

    #[test]
    fn preferences_are_bounded() {
        let mut p = Preferences::new();
        p.insert("color".into(), "blue".into());
        assert!(validate_preferences("preferences", &p).is_ok());
        p.insert(String::new(), "x".into());
        assert_eq!(
            validate_preferences("preferences", &p).unwrap_err().code,
            "invalid_key"
        );
        let many: Preferences = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            validate_preferences("preferences", &many).unwrap_err().code,
            "too_many_entries"
        );
    }
}

/// A door's state as its controller last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorState {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub door_id: DoorId,
    /// `locked`, `unlocked`, `open`, `held_open` (open longer than allowed: an alarm) or
    /// `forced_open` (opened while locked: an alarm).
    #[cfg_attr(feature = "openapi", schema(example = "locked"))]
    pub state: String,
    /// Why it changed: `granted`, `schedule`, `exit` (the request-to-exit button), `opened`,
    /// `closed`, `timeout` (the unlock time ran out) or `held_too_long`.
    #[cfg_attr(feature = "openapi", schema(example = "closed"))]
    pub cause: String,
    /// When, by the controller's clock.
    pub at: DateTime<Utc>,
}

impl DoorState {
    /// The states a controller reports.
    pub const STATES: [&'static str; 5] =
        ["locked", "unlocked", "open", "held_open", "forced_open"];
    /// Why a state changes.
    pub const CAUSES: [&'static str; 7] = [
        "granted",
        "schedule",
        "exit",
        "opened",
        "closed",
        "timeout",
        "held_too_long",
    ];
}
