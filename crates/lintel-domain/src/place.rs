//! Sites, doors and groups: an organization's places and the sets its rules target.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::text;
use crate::{DoorId, GroupId, SiteId, TimeZone, ValidationError};

/// A site's postal address, free-form (addresses differ too much between countries for fixed fields).
pub struct Address;

impl Address {
    pub fn parse(field: &str, value: &str) -> Result<String, ValidationError> {
        text(field, value, 0, 500)
    }
}

/// A circle around a site: phone unlocks of doors with `geofence_required` must come from
/// inside it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Geofence {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    /// Metres, 10 to 50,000.
    pub radius_m: f64,
}

impl Geofence {
    pub const MIN_RADIUS_M: f64 = 10.0;
    pub const MAX_RADIUS_M: f64 = 50_000.0;

    /// Whether a point lies within the fence (great-circle distance).
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (phi1, phi2) = (self.latitude.to_radians(), latitude.to_radians());
        let d_phi = phi2 - phi1;
        let d_lambda = (longitude - self.longitude).to_radians();
        let a =
            (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        let distance = 2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin();
        distance <= self.radius_m
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        let in_range = |field: &str, v: f64, lo: f64, hi: f64, unit: &str| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ValidationError::new(
                    field,
                    "out_of_range",
                    format!("{field} must be between {lo} and {hi} {unit}"),
                ))
            }
        };
        in_range("latitude", self.latitude, -90.0, 90.0, "degrees")?;
        in_range("longitude", self.longitude, -180.0, 180.0, "degrees")?;
        in_range(
            "radius_m",
            self.radius_m,
            Self::MIN_RADIUS_M,
            Self::MAX_RADIUS_M,
            "metres",
        )
    }
}

/// A place of an organization: a building, a storage facility.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: SiteId,
    pub name: String,
    pub address: String,
    pub time_zone: TimeZone,
    pub geofence: Option<Geofence>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

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

/// A named set of memberships that accesses and access links can target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Validation of names and descriptions shared by sites, doors and groups.
pub fn name(value: &str) -> Result<String, ValidationError> {
    text("name", value, 1, 200)
}

pub fn description(value: &str) -> Result<String, ValidationError> {
    text("description", value, 0, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(latitude: f64, longitude: f64, radius_m: f64) -> Geofence {
        Geofence {
            latitude,
            longitude,
            radius_m,
        }
    }

    #[test]
    fn geofences_reject_impossible_coordinates_and_radii() {
        assert!(fence(59.33, 18.06, 150.0).validate().is_ok());
        assert_eq!(
            fence(91.0, 0.0, 100.0).validate().unwrap_err().field,
            "latitude"
        );
        assert_eq!(
            fence(0.0, -181.0, 100.0).validate().unwrap_err().field,
            "longitude"
        );
        assert_eq!(
            fence(0.0, 0.0, -5.0).validate().unwrap_err().field,
            "radius_m"
        );
        assert_eq!(
            fence(0.0, 0.0, f64::NAN).validate().unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            fence(f64::INFINITY, 0.0, 100.0)
                .validate()
                .unwrap_err()
                .field,
            "latitude"
        );
    }

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
