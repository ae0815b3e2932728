//! What the decision engine reads, loaded whole, and the version it is current for.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::decision::{DoorRestrictions, MemberRule};
use lintel_domain::{
    Access, ControllerId, DoorId, EventKind, GroupId, MembershipId, OrgId, Schedule,
};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{Backend, Db, ROWS_AT_ONCE, push_in};
use crate::rows::{AccessRow, ScheduleRow};
use crate::{RuleChange, RuleObjects, RuleStore, RulesDelta, RulesSnapshot, StoreError};

/// A door's restrictions and its site's geofence, as read.
type DoorRow = (
    Uuid,
    bool,
    bool,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<Uuid>,
);

macro_rules! door_select {
    () => {
        "SELECT d.id, d.geofence_required, d.reader_required, s.geofence_latitude, \
         s.geofence_longitude, s.geofence_radius_m, d.controller_id FROM doors d \
         JOIN sites s ON s.org_id = d.org_id AND s.id = d.site_id"
    };
}

/// Accesses that grant: not being deleted.
macro_rules! granting_accesses {
    () => {
        "SELECT id, name, kind, status, preferences, valid_from, valid_to, schedule_id, \
         description, welcome_email_required, created_at, updated_at FROM accesses \
         WHERE status NOT IN ('deleting', 'deleted')"
    };
}

/// The organization's accesses that grant.
macro_rules! access_select {
    () => {
        concat!(granting_accesses!(), " AND org_id = $1")
    };
}

macro_rules! schedule_select {
    () => {
        "SELECT id, name, time_zone, windows, exceptions, created_at, updated_at FROM schedules"
    };
}

fn door_rules(
    (id, geofence_required, reader_required, lat, lon, radius, controller): DoorRow,
) -> (DoorId, DoorRestrictions) {
    let geofence = match (lat, lon, radius) {
        (Some(latitude), Some(longitude), Some(radius_m)) => Some(lintel_domain::Geofence {
            latitude,
            longitude,
            radius_m,
        }),
        _ => None,
    };
    let restrictions = DoorRestrictions {
        geofence_required,
        reader_required,
        geofence,
        controller: controller.map(ControllerId),
    };
    (id.into(), restrictions)
}

/// The groups of `member` in (member, group) pairs sorted by member.
fn groups_of(pairs: &[(Uuid, Uuid)], member: Uuid) -> Vec<GroupId> {
    let start = pairs.partition_point(|(m, _)| *m < member);
    pairs[start..]
        .iter()
        .take_while(|(m, _)| *m == member)
        .map(|(_, g)| GroupId(*g))
        .collect()
}

pub(super) async fn version(store: &Backend, org: OrgId) -> Result<i64, StoreError> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT version FROM rule_versions WHERE org_id = $1")
            .bind(org.0)
            .fetch_optional(store.reader())
            .await?;
    Ok(found.map_or(0, |(v,)| v))
}

/// Reads each asked object on its own: deltas are small (the caller loads everything when
/// many changes are pending).
pub(super) async fn objects(
    store: &Backend,
    org: OrgId,
    asked: &RuleObjects,
) -> Result<RulesDelta, StoreError> {
    let mut conn = store.reader().acquire().await?;
    let mut delta = RulesDelta::default();
    // Each kind of object is read with one statement per few hundred ids, not one each.
    let accesses: Vec<Uuid> = asked.accesses.iter().map(|a| a.0).collect();
    for chunk in accesses.chunks(ROWS_AT_ONCE) {
        let mut q = QueryBuilder::<Db>::new(concat!(granting_accesses!(), " AND org_id = "));
        q.push_bind(org.0);
        push_in(&mut q, "id", chunk);
        q.push(" ORDER BY id");
        let rows: Vec<AccessRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        delta
            .accesses
            .extend(super::accesses::with_lists(&mut conn, org, rows).await?);
    }
    let members: Vec<Uuid> = asked.members.iter().map(|m| m.0).collect();
    for chunk in members.chunks(ROWS_AT_ONCE) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT id, status FROM memberships WHERE account_id IS NOT NULL AND org_id = ",
        );
        q.push_bind(org.0);
        push_in(&mut q, "id", chunk);
        let found: Vec<(Uuid, String)> = q.build_query_as().fetch_all(&mut *conn).await?;
        let mut q = QueryBuilder::<Db>::new(
            "SELECT membership_id, group_id FROM membership_groups WHERE org_id = ",
        );
        q.push_bind(org.0);
        push_in(&mut q, "membership_id", chunk);
        q.push(" ORDER BY membership_id, group_id");
        let pairs: Vec<(Uuid, Uuid)> = q.build_query_as().fetch_all(&mut *conn).await?;
        for (id, status) in found {
            delta.members.push(MemberRule {
                id: MembershipId(id),
                active: status == "active",
                groups: groups_of(&pairs, id),
            });
        }
    }
    let schedules: Vec<Uuid> = asked.schedules.iter().map(|s| s.0).collect();
    for chunk in schedules.chunks(ROWS_AT_ONCE) {
        let mut q = QueryBuilder::<Db>::new(concat!(schedule_select!(), " WHERE org_id = "));
        q.push_bind(org.0);
        push_in(&mut q, "id", chunk);
        let rows: Vec<ScheduleRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        for row in rows {
            delta.schedules.push(Schedule::try_from(row)?);
        }
    }
    // A door changed, or every door of a site whose geofence changed.
    for (column, list) in [
        ("d.id", asked.doors.iter().map(|d| d.0).collect::<Vec<_>>()),
        ("d.site_id", asked.sites.iter().map(|s| s.0).collect()),
    ] {
        for chunk in list.chunks(ROWS_AT_ONCE) {
            let mut q = QueryBuilder::<Db>::new(concat!(door_select!(), " WHERE d.org_id = "));
            q.push_bind(org.0);
            push_in(&mut q, column, chunk);
            let rows: Vec<DoorRow> = q.build_query_as().fetch_all(&mut *conn).await?;
            delta.doors.extend(rows.into_iter().map(door_rules));
        }
    }
    delta.credentials = super::credentials::rules_sharing_keys(&mut conn, org, asked).await?;
    Ok(delta)
}

#[async_trait]
impl RuleStore for Backend {
    async fn rules_version(&self, org: OrgId) -> Result<i64, StoreError> {
        version(self, org).await
    }

    async fn load_rules(&self, org: OrgId) -> Result<RulesSnapshot, StoreError> {
        // The version first: data read after it is at least that new, so a change landing
        // meanwhile only makes the next decision load again.
        let version = version(self, org).await?;
        let mut conn = self.reader().acquire().await?;
        let statuses: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, status FROM memberships WHERE org_id = $1 AND account_id IS NOT NULL",
        )
        .bind(org.0)
        .fetch_all(&mut *conn)
        .await?;
        let in_groups: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT membership_id, group_id FROM membership_groups WHERE org_id = $1",
        )
        .bind(org.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut in_groups = in_groups;
        // As `groups_of` needs them, whatever order the database sorts ids in.
        in_groups.sort_unstable();
        let members = statuses
            .into_iter()
            .map(|(id, status)| MemberRule {
                id: MembershipId(id),
                active: status == "active",
                groups: groups_of(&in_groups, id),
            })
            .collect();
        let schedules =
            sqlx::query_as::<_, ScheduleRow>(concat!(schedule_select!(), " WHERE org_id = $1"))
                .bind(org.0)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(Schedule::try_from)
                .collect::<Result<Vec<_>, _>>()?;
        let doors: Vec<DoorRow> = sqlx::query_as(concat!(door_select!(), " WHERE d.org_id = $1"))
            .bind(org.0)
            .fetch_all(&mut *conn)
            .await?;
        let doors = doors.into_iter().map(door_rules).collect();
        let rows: Vec<AccessRow> = sqlx::query_as(concat!(access_select!(), " ORDER BY id"))
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

    async fn rule_changes(
        &self,
        org: OrgId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RuleChange>, StoreError> {
        let rows: Vec<(i64, String, Option<Uuid>)> = sqlx::query_as(
            "SELECT version, kind, object_id FROM rule_changes WHERE org_id = $1 AND version > $2 \
             ORDER BY version LIMIT $3",
        )
        .bind(org.0)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, kind, object)| RuleChange {
                version,
                kind: EventKind::parse(&kind),
                object,
            })
            .collect())
    }

    async fn load_rule_objects(
        &self,
        org: OrgId,
        objects: &crate::RuleObjects,
    ) -> Result<crate::RulesDelta, StoreError> {
        self::objects(self, org, objects).await
    }

    async fn prune_rule_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM rule_changes WHERE at < $1")
            .bind(before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
