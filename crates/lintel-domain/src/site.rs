//! Sites: an organization's places, with their address, time zone and geofence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::text;
use crate::{SiteId, TimeZone, ValidationError};

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
    /// How many days the site's controllers keep deciding from rules the server has not
    /// confirmed (it cannot be reached); past that they open nothing (`rules_stale`), since
    /// what was revoked meanwhile is unknown to them. 1 to 365; 30 unless set.
    pub offline_rules_max_days: u16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Site {
    pub const DEFAULT_OFFLINE_RULES_MAX_DAYS: u16 = 30;

    /// `offline_rules_max_days` from what was sent (`field` names it in the refusal).
    pub fn offline_rules_max_days(field: &str, days: u16) -> Result<u16, ValidationError> {
        if (1..=365).contains(&days) {
            Ok(days)
        } else {
            Err(ValidationError::new(
                field,
                "out_of_range",
                format!("{field} must be between 1 and 365 days; got {days}"),
            ))
        }
    }
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
}
