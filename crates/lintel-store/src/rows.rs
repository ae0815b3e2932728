//! Rows as the database returns them, and their checked conversion into the model.

use chrono::{DateTime, Utc};
use lintel_domain::{
    Areas, Door, DoorKind, Geofence, Group, OrgSettings, Organization, Preferences, Site, Slug,
    TimeZone,
};
use sqlx::FromRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::{ApiKey, StoreError};

/// Numbers the model keeps unsigned are stored as signed 32-bit integers, which both
/// backends have; the model's bounds keep them far below the limit.
pub(crate) fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn time_zone(value: &str) -> Result<TimeZone, StoreError> {
    TimeZone::parse("time_zone", value).map_err(|e| corrupt("time zone", e))
}

#[derive(FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    slug: String,
    name: String,
    time_zone: String,
    settings: Json<OrgSettings>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organization {
    type Error = StoreError;
    fn try_from(row: OrgRow) -> Result<Self, StoreError> {
        Ok(Organization {
            id: row.id.into(),
            slug: Slug::parse("slug", &row.slug).map_err(|e| corrupt("slug", e))?,
            name: row.name,
            time_zone: time_zone(&row.time_zone)?,
            settings: row.settings.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct SiteRow {
    id: Uuid,
    name: String,
    address: String,
    time_zone: String,
    geofence_latitude: Option<f64>,
    geofence_longitude: Option<f64>,
    geofence_radius_m: Option<f64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;
    fn try_from(row: SiteRow) -> Result<Self, StoreError> {
        let geofence = match (
            row.geofence_latitude,
            row.geofence_longitude,
            row.geofence_radius_m,
        ) {
            (Some(latitude), Some(longitude), Some(radius_m)) => Some(Geofence {
                latitude,
                longitude,
                radius_m,
            }),
            _ => None,
        };
        Ok(Site {
            id: row.id.into(),
            name: row.name,
            address: row.address,
            time_zone: time_zone(&row.time_zone)?,
            geofence,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct DoorRow {
    id: Uuid,
    site_id: Uuid,
    name: String,
    kind: String,
    geofence_required: bool,
    reader_required: bool,
    unlock_duration_secs: i32,
    description: String,
    preferences: Json<Preferences>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<DoorRow> for Door {
    type Error = StoreError;
    fn try_from(row: DoorRow) -> Result<Self, StoreError> {
        Ok(Door {
            id: row.id.into(),
            site_id: row.site_id.into(),
            name: row.name,
            kind: DoorKind::parse(&row.kind).ok_or_else(|| corrupt("door kind", &row.kind))?,
            geofence_required: row.geofence_required,
            reader_required: row.reader_required,
            unlock_duration_secs: u32::try_from(row.unlock_duration_secs)
                .map_err(|e| corrupt("unlock duration", e))?,
            description: row.description,
            preferences: row.preferences.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct GroupRow {
    id: Uuid,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Group {
            id: row.id.into(),
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct ApiKeyRow {
    id: Uuid,
    org_id: Option<Uuid>,
    name: String,
    prefix: String,
    secret_hash: Vec<u8>,
    areas: Json<Areas>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: row.id.into(),
            org_id: row.org_id.map(Into::into),
            name: row.name,
            prefix: row.prefix,
            secret_hash: row.secret_hash,
            areas: row.areas.0,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}
