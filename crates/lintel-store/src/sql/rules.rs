//! What the decision engine reads, loaded whole, and the version it is current for.

use lintel_domain::{Access, GroupId, MembershipId, OrgId, Schedule};
use uuid::Uuid;

use super::Backend;
use crate::rows::{AccessRow, ScheduleRow};
use crate::{DoorRules, MemberRules, RulesSnapshot, StoreError};

/// A door's restrictions and its site's geofence, as read.
type DoorRow = (Uuid, bool, bool, Option<f64>, Option<f64>, Option<f64>);

pub(super) async fn version(store: &Backend, org: OrgId) -> Result<i64, StoreError> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT version FROM rule_versions WHERE org_id = $1")
            .bind(org.0)
            .fetch_optional(store.reader())
            .await?;
    Ok(found.map_or(0, |(v,)| v))
}

pub(super) async fn load(store: &Backend, org: OrgId) -> Result<RulesSnapshot, StoreError> {
    // The version first: data read after it is at least that new, so a change landing
    // meanwhile only makes the next decision load again.
    let version = version(store, org).await?;
    let mut conn = store.reader().acquire().await?;
    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, status FROM memberships WHERE org_id = $1 AND account_id IS NOT NULL",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let in_groups: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT membership_id, group_id FROM membership_groups WHERE org_id = $1 \
         ORDER BY membership_id",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let members = statuses
        .into_iter()
        .map(|(id, status)| MemberRules {
            id: MembershipId(id),
            active: status == "active",
            groups: in_groups
                .iter()
                .filter(|(m, _)| *m == id)
                .map(|(_, g)| GroupId(*g))
                .collect(),
        })
        .collect();
    let schedules = sqlx::query_as::<_, ScheduleRow>(
        "SELECT id, name, time_zone, windows, exceptions, created_at, updated_at \
         FROM schedules WHERE org_id = $1",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(Schedule::try_from)
    .collect::<Result<Vec<_>, _>>()?;
    let doors: Vec<DoorRow> = sqlx::query_as(
        "SELECT d.id, d.geofence_required, d.reader_required, s.geofence_latitude, \
         s.geofence_longitude, s.geofence_radius_m FROM doors d \
         JOIN sites s ON s.org_id = d.org_id AND s.id = d.site_id WHERE d.org_id = $1",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let doors = doors
        .into_iter()
        .map(
            |(id, geofence_required, reader_required, lat, lon, radius)| DoorRules {
                id: id.into(),
                geofence_required,
                reader_required,
                geofence: match (lat, lon, radius) {
                    (Some(latitude), Some(longitude), Some(radius_m)) => {
                        Some(lintel_domain::Geofence {
                            latitude,
                            longitude,
                            radius_m,
                        })
                    }
                    _ => None,
                },
            },
        )
        .collect();
    let rows: Vec<AccessRow> = sqlx::query_as(
        "SELECT id, name, kind, status, preferences, valid_from, valid_to, schedule_id, \
         description, welcome_email_required, created_at, updated_at FROM accesses \
         WHERE org_id = $1 AND status NOT IN ('deleting', 'deleted') ORDER BY id",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let accesses: Vec<Access> = super::accesses::with_lists(&mut conn, org, rows).await?;
    let credentials = super::credentials::rules(&mut conn, org).await?;
    Ok(RulesSnapshot {
        credentials,
        version,
        members,
        schedules,
        doors,
        accesses,
    })
}
