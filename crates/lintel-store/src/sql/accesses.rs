//! Accesses and their lists of doors, members and groups. A batch is one transaction: every
//! access is checked and written, or none is, and a refusal names the access by its place in
//! the batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use lintel_domain::{
    Access, AccessId, AccessStatus, EventActor, GroupId, MembershipId, OrgId, ValidationError,
    event,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::accounts::enqueue;
use super::members::record;
use super::{Backend, Conn, fetch_limit, page_of};
use crate::rows::{AccessDoorRow, AccessRow};
use crate::{AccessFilter, Audit, Change, Message, Page, PageRequest, StoreError};

macro_rules! columns {
    () => {
        "id, name, kind, status, preferences, valid_from, valid_to, schedule_id, description, \
         welcome_email_required, created_at, updated_at"
    };
}

/// References already found in this transaction, by table.
#[derive(Default)]
struct Known(HashSet<(&'static str, Uuid)>);

impl Known {
    /// Whether row `id` of `table` (one of ours) exists in the organization.
    async fn has(
        &mut self,
        conn: &mut Conn,
        table: &'static str,
        org: OrgId,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        if self.0.contains(&(table, id)) {
            return Ok(true);
        }
        let found: Option<(i32,)> = sqlx::query_as(&format!(
            "SELECT 1 FROM {table} WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            self.0.insert((table, id));
        }
        Ok(found.is_some())
    }
}

fn missing(field: String, what: &str) -> StoreError {
    StoreError::Invalid(ValidationError::new(
        field,
        "reference_not_found",
        format!("no {what} of this organization has this id"),
    ))
}

/// Checks that everything `a` names exists in the organization; `prefix` names the access.
async fn check_references(
    conn: &mut Conn,
    known: &mut Known,
    org: OrgId,
    a: &Access,
    prefix: &str,
) -> Result<(), StoreError> {
    if let Some(s) = a.schedule_id
        && !known.has(conn, "schedules", org, s.0).await?
    {
        return Err(missing(format!("{prefix}schedule_id"), "schedule"));
    }
    for (i, d) in a.doors.iter().enumerate() {
        if !known.has(conn, "doors", org, d.door_id.0).await? {
            return Err(missing(format!("{prefix}doors[{i}].door_id"), "door"));
        }
    }
    for (i, m) in a.users.iter().enumerate() {
        if !known.has(conn, "memberships", org, m.0).await? {
            return Err(missing(format!("{prefix}users[{i}]"), "member"));
        }
    }
    for (i, g) in a.groups.iter().enumerate() {
        if !known.has(conn, "groups", org, g.0).await? {
            return Err(missing(format!("{prefix}groups[{i}]"), "group"));
        }
    }
    Ok(())
}

async fn write_lists(conn: &mut Conn, org: OrgId, a: &Access) -> Result<(), StoreError> {
    for table in ["access_doors", "access_members", "access_groups"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE access_id = $1"))
            .bind(a.id.0)
            .execute(&mut *conn)
            .await?;
    }
    for (i, d) in a.doors.iter().enumerate() {
        sqlx::query(
            "INSERT INTO access_doors (org_id, access_id, position, door_id, lock_unlock_enabled, \
             in_auth_types, out_auth_types) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org.0)
        .bind(a.id.0)
        .bind(i32::try_from(i).unwrap_or(i32::MAX))
        .bind(d.door_id.0)
        .bind(d.lock_unlock_enabled)
        .bind(Json(&d.in_auth_types))
        .bind(Json(&d.out_auth_types))
        .execute(&mut *conn)
        .await?;
    }
    let users: HashSet<MembershipId> = a.users.iter().copied().collect();
    for m in users {
        sqlx::query(
            "INSERT INTO access_members (org_id, access_id, membership_id) VALUES ($1, $2, $3)",
        )
        .bind(org.0)
        .bind(a.id.0)
        .bind(m.0)
        .execute(&mut *conn)
        .await?;
    }
    let groups: HashSet<GroupId> = a.groups.iter().copied().collect();
    for g in groups {
        sqlx::query("INSERT INTO access_groups (org_id, access_id, group_id) VALUES ($1, $2, $3)")
            .bind(org.0)
            .bind(a.id.0)
            .bind(g.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn bind_row<'q>(
    query: sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments<'q>>,
    a: &'q Access,
) -> sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments<'q>> {
    query
        .bind(&a.name)
        .bind(a.kind.as_str())
        .bind(a.status.as_str())
        .bind(Json(&a.preferences))
        .bind(a.valid_from)
        .bind(a.valid_to)
        .bind(a.schedule_id.map(|s| s.0))
        .bind(&a.description)
        .bind(a.welcome_email_required)
        .bind(a.updated_at)
}

pub(super) async fn create(
    store: &Backend,
    org: OrgId,
    accesses: &[Access],
    batch: bool,
    messages: &[Message],
    audit: &Audit,
) -> Result<(), StoreError> {
    let mut tx = store.writer().begin().await?;
    let mut known = Known::default();
    let mut ids = HashSet::new();
    for (i, a) in accesses.iter().enumerate() {
        let prefix = if batch {
            format!("accesses[{i}].")
        } else {
            String::new()
        };
        let taken: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM accesses WHERE id = $1")
            .bind(a.id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() || !ids.insert(a.id) {
            return Err(StoreError::Invalid(ValidationError::new(
                format!("{prefix}id"),
                "access_exists",
                "an access with this id exists",
            )));
        }
        check_references(&mut tx, &mut known, org, a, &prefix).await?;
        let query = sqlx::query(concat!(
            "INSERT INTO accesses (org_id, id, created_at, name, kind, status, preferences, ",
            "valid_from, valid_to, schedule_id, description, welcome_email_required, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(org.0)
        .bind(a.id.0)
        .bind(a.created_at);
        bind_row(query, a).execute(&mut *tx).await?;
        write_lists(&mut tx, org, a).await?;
        let object = Some(("access", a.id.0));
        record(
            &mut tx,
            org,
            audit,
            "access.created",
            object,
            event::created(a),
        )
        .await?;
    }
    for m in messages {
        enqueue(&mut tx, m).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The ids in `column` of list `table` (ours) for the accesses with ids in `lo..=hi`, by access.
async fn listed(
    conn: &mut Conn,
    table: &'static str,
    column: &'static str,
    org: OrgId,
    lo: Uuid,
    hi: Uuid,
) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let pairs: Vec<(Uuid, Uuid)> = sqlx::query_as(&format!(
        "SELECT access_id, {column} FROM {table} \
         WHERE org_id = $1 AND access_id >= $2 AND access_id <= $3 ORDER BY access_id, {column}"
    ))
    .bind(org.0)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_access: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (access, id) in pairs {
        by_access.entry(access).or_default().push(id);
    }
    Ok(by_access)
}

/// The accesses of `rows` (in id order) with their lists.
pub(super) async fn with_lists(
    conn: &mut Conn,
    org: OrgId,
    rows: Vec<AccessRow>,
) -> Result<Vec<Access>, StoreError> {
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    // Rows come in id order: the first and the last bound them all.
    let (lo, hi) = (first, last);
    let doors: Vec<AccessDoorRow> = sqlx::query_as(
        "SELECT access_id, door_id, lock_unlock_enabled, in_auth_types, out_auth_types \
         FROM access_doors WHERE org_id = $1 AND access_id >= $2 AND access_id <= $3 \
         ORDER BY access_id, position",
    )
    .bind(org.0)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await?;
    let mut users = listed(conn, "access_members", "membership_id", org, lo, hi).await?;
    let mut groups = listed(conn, "access_groups", "group_id", org, lo, hi).await?;
    let mut doors = doors.into_iter().peekable();
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut mine = Vec::new();
            while let Some(d) = doors.next_if(|d| d.access_id <= id) {
                if d.access_id == id {
                    mine.push(d.into_door());
                }
            }
            let u = users.remove(&id).unwrap_or_default();
            let g = groups.remove(&id).unwrap_or_default();
            row.into_access(
                mine,
                u.into_iter().map(MembershipId).collect(),
                g.into_iter().map(GroupId).collect(),
            )
        })
        .collect()
}

async fn one(conn: &mut Conn, org: OrgId, id: AccessId, lock: bool) -> Result<Access, StoreError> {
    const READ: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM accesses WHERE org_id = $1 AND id = $2"
    );
    const LOCKED: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM accesses WHERE org_id = $1 AND id = $2",
        for_update!()
    );
    let sql = if lock { LOCKED } else { READ };
    let row: AccessRow = sqlx::query_as(sql)
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    with_lists(conn, org, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

pub(super) async fn get(store: &Backend, org: OrgId, id: AccessId) -> Result<Access, StoreError> {
    let mut conn = store.reader().acquire().await?;
    one(&mut conn, org, id, false).await
}

pub(super) async fn list(
    store: &Backend,
    org: OrgId,
    filter: &AccessFilter,
    page: PageRequest,
) -> Result<Page<Access>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    let rows: Vec<AccessRow> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM accesses a WHERE org_id = $1 AND ($2 IS NULL OR id > $2) \
         AND (($3 IS NULL AND status <> 'deleted') OR status = $3) \
         AND ($4 IS NULL OR EXISTS (SELECT 1 FROM access_doors d WHERE d.access_id = a.id AND d.door_id = $4)) \
         AND ($5 IS NULL OR EXISTS (SELECT 1 FROM access_members m WHERE m.access_id = a.id AND m.membership_id = $5)) \
         AND ($6 IS NULL OR EXISTS (SELECT 1 FROM access_groups g WHERE g.access_id = a.id AND g.group_id = $6)) \
         ORDER BY id LIMIT $7"
    ))
    .bind(org.0)
    .bind(page.after)
    .bind(filter.status.map(AccessStatus::as_str))
    .bind(filter.door.map(|d| d.0))
    .bind(filter.user.map(|m| m.0))
    .bind(filter.group.map(|g| g.0))
    .bind(fetch_limit(page))
    .fetch_all(&mut *conn)
    .await?;
    let items = with_lists(&mut conn, org, rows).await?;
    Ok(page_of(items, page, |a| a.id.0))
}

pub(super) async fn update(
    store: &Backend,
    org: OrgId,
    id: AccessId,
    change: Change<'_, Access>,
    messages: &[Message],
    audit: &Audit,
) -> Result<Access, StoreError> {
    let mut tx = store.writer().begin().await?;
    let before = one(&mut tx, org, id, true).await?;
    if before.status == AccessStatus::Deleted {
        return Err(StoreError::Conflict {
            code: "access_deleted",
            field: None,
            message: "this access is deleted; create a new one".into(),
        });
    }
    let mut after = before.clone();
    change(&mut after)?;
    check_references(&mut tx, &mut Known::default(), org, &after, "").await?;
    let query = sqlx::query(concat!(
        "UPDATE accesses SET name = $3, kind = $4, status = $5, preferences = $6, ",
        "valid_from = $7, valid_to = $8, schedule_id = $9, description = $10, ",
        "welcome_email_required = $11, updated_at = $12 WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0);
    bind_row(query, &after).execute(&mut *tx).await?;
    write_lists(&mut tx, org, &after).await?;
    let summary = event::changes(&before, &after);
    record(
        &mut tx,
        org,
        audit,
        "access.updated",
        Some(("access", id.0)),
        summary,
    )
    .await?;
    for m in messages {
        enqueue(&mut tx, m).await?;
    }
    let updated = one(&mut tx, org, id, false).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Marks an access deleted (it grants nothing from now on), once.
pub(super) async fn delete(
    store: &Backend,
    org: OrgId,
    id: AccessId,
    audit: &Audit,
) -> Result<Access, StoreError> {
    let mut tx = store.writer().begin().await?;
    let before = one(&mut tx, org, id, true).await?;
    if before.status != AccessStatus::Deleted {
        mark_deleted(&mut tx, org, id, audit, "access.deleted").await?;
    }
    let after = one(&mut tx, org, id, false).await?;
    tx.commit().await?;
    Ok(after)
}

async fn mark_deleted(
    conn: &mut Conn,
    org: OrgId,
    id: AccessId,
    audit: &Audit,
    kind: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accesses SET status = 'deleted', updated_at = $3 WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(audit.at)
    .execute(&mut *conn)
    .await?;
    let summary = serde_json::json!({ "changes": { "status": { "after": "deleted" } } });
    record(conn, org, audit, kind, Some(("access", id.0)), summary).await
}

/// Deletes the temporary accesses that ended by `now`, each on record as `access.expired`.
pub(super) async fn expire(store: &Backend, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = store.writer().begin().await?;
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT org_id, id FROM accesses WHERE kind = 'temporary' AND valid_to <= $1 \
         AND status <> 'deleted' ORDER BY id LIMIT 1000",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let audit = Audit {
        actor: EventActor::System,
        at: now,
    };
    for (org, id) in &due {
        mark_deleted(
            &mut tx,
            OrgId(*org),
            AccessId(*id),
            &audit,
            "access.expired",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len() as u64)
}
