//! Accesses and their lists of doors, members and groups. A batch is one transaction: every
//! access is checked and written, or none is, and a refusal names the access by its place in
//! the batch.
//!
//! Long because batches of up to 10,000 accesses are checked and written with multi-row
//! statements, which the single-access path shares.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{
    Access, AccessId, AccessStatus, ControllerId, EventActor, EventKind, GroupId, MembershipId,
    OrgId, ValidationError, event,
};
use sqlx::query_builder::Separated;
use sqlx::types::Json;
use uuid::Uuid;

use super::events::{record, record_all};
use super::outbox::enqueue;
use super::{Backend, Conn, ROWS_AT_ONCE, fetch_limit, page_of, push_id_in, push_in, push_list};
use crate::rows::{AccessDoorRow, AccessRow};
use crate::{AccessFilter, AccessStore, Audit, Change, Message, Page, PageRequest, StoreError};

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
    /// Finds at once which of the rows `accesses` name exist in the organization.
    async fn load(
        &mut self,
        conn: &mut Conn,
        org: OrgId,
        accesses: &[Access],
    ) -> Result<(), StoreError> {
        let mut wanted: [(&'static str, HashSet<Uuid>); 4] = [
            ("schedules", HashSet::new()),
            ("doors", HashSet::new()),
            ("memberships", HashSet::new()),
            ("groups", HashSet::new()),
        ];
        for a in accesses {
            wanted[0].1.extend(a.schedule_id.map(|s| s.0));
            wanted[1].1.extend(a.doors.iter().map(|d| d.door_id.0));
            wanted[2].1.extend(a.users.iter().map(|m| m.0));
            wanted[3].1.extend(a.groups.iter().map(|g| g.0));
        }
        for (table, ids) in wanted {
            let ids: Vec<Uuid> = ids.into_iter().collect();
            for chunk in ids.chunks(ROWS_AT_ONCE) {
                let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
                    "SELECT id FROM {table} WHERE org_id = "
                ));
                q.push_bind(org.0);
                push_id_in(&mut q, chunk);
                let found: Vec<(Uuid,)> = q.build_query_as().fetch_all(&mut *conn).await?;
                self.0.extend(found.into_iter().map(|(id,)| (table, id)));
            }
        }
        Ok(())
    }

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

/// An access's own columns after `org_id`, `id` and `created_at`, in the order of
/// `ACCESS_FIELDS`.
fn push_fields(row: &mut Separated<'_, '_, super::Db, &'static str>, a: &Access) {
    row.push_bind(a.name.clone())
        .push_bind(a.kind.as_str())
        .push_bind(a.status.as_str())
        .push_bind(Json(a.preferences.clone()))
        .push_bind(a.valid_from)
        .push_bind(a.valid_to)
        .push_bind(a.schedule_id.map(|s| s.0))
        .push_bind(a.description.clone())
        .push_bind(a.welcome_email_required)
        .push_bind(a.updated_at);
}

/// The columns `push_fields` binds, in its order.
const ACCESS_FIELDS: [&str; 10] = [
    "name",
    "kind",
    "status",
    "preferences",
    "valid_from",
    "valid_to",
    "schedule_id",
    "description",
    "welcome_email_required",
    "updated_at",
];

fn prefix(batch: bool, i: usize) -> String {
    if batch {
        format!("accesses[{i}].")
    } else {
        String::new()
    }
}

/// Writes new accesses and their lists with multi-row statements.
async fn insert_all(conn: &mut Conn, org: OrgId, accesses: &[&Access]) -> Result<(), StoreError> {
    for chunk in accesses.chunks(ROWS_AT_ONCE) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
            "INSERT INTO accesses (org_id, id, created_at, {}) ",
            ACCESS_FIELDS.join(", ")
        ));
        q.push_values(chunk, |mut row, a| {
            row.push_bind(org.0)
                .push_bind(a.id.0)
                .push_bind(a.created_at);
            push_fields(&mut row, a);
        });
        q.build().execute(&mut *conn).await?;
    }
    insert_lists(conn, org, accesses).await
}

/// Writes the lists of `accesses` (none written yet) with multi-row statements.
async fn insert_lists(conn: &mut Conn, org: OrgId, accesses: &[&Access]) -> Result<(), StoreError> {
    let doors: Vec<(Uuid, usize, &lintel_domain::AccessDoor)> = accesses
        .iter()
        .flat_map(|a| a.doors.iter().enumerate().map(|(i, d)| (a.id.0, i, d)))
        .collect();
    for chunk in doors.chunks(ROWS_AT_ONCE) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(
            "INSERT INTO access_doors (org_id, access_id, position, door_id, lock_unlock_enabled, \
             in_auth_types, out_auth_types) ",
        );
        q.push_values(chunk, |mut row, (access, i, d)| {
            row.push_bind(org.0)
                .push_bind(*access)
                .push_bind(i32::try_from(*i).unwrap_or(i32::MAX))
                .push_bind(d.door_id.0)
                .push_bind(d.lock_unlock_enabled)
                .push_bind(Json(d.in_auth_types.clone()))
                .push_bind(Json(d.out_auth_types.clone()));
        });
        q.build().execute(&mut *conn).await?;
    }
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for a in accesses {
        let own: HashSet<Uuid> = a.users.iter().map(|m| m.0).collect();
        users.extend(own.into_iter().map(|m| (a.id.0, m)));
        let own: HashSet<Uuid> = a.groups.iter().map(|g| g.0).collect();
        groups.extend(own.into_iter().map(|g| (a.id.0, g)));
    }
    for (table, column, pairs) in [
        ("access_members", "membership_id", &users),
        ("access_groups", "group_id", &groups),
    ] {
        for chunk in pairs.chunks(ROWS_AT_ONCE) {
            let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
                "INSERT INTO {table} (org_id, access_id, {column}) "
            ));
            q.push_values(chunk, |mut row, (access, id)| {
                row.push_bind(org.0).push_bind(*access).push_bind(*id);
            });
            q.build().execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// The organization's accesses with these ids (those that exist, in id order), with their
/// lists; `lock`ed for the transaction's change on PostgreSQL.
async fn many(
    conn: &mut Conn,
    org: OrgId,
    ids: &[AccessId],
    lock: bool,
) -> Result<Vec<Access>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_AT_ONCE) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM accesses WHERE org_id = "
        ));
        q.push_bind(org.0);
        push_id_in(&mut q, chunk.iter().map(|id| &id.0));
        q.push(" ORDER BY id");
        if lock {
            q.push(for_update!());
        }
        let rows: Vec<AccessRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        found.extend(with_lists(conn, org, rows).await?);
    }
    Ok(found)
}

/// Which list rows a read takes, all of one organization's: those of a few accesses by id,
/// or of the accesses in an id range (a whole load).
struct Span<'a> {
    org: OrgId,
    ids: Ids<'a>,
}

enum Ids<'a> {
    Few(&'a [Uuid]),
    Range(Uuid, Uuid),
}

impl Span<'_> {
    /// `SELECT {columns} FROM {table} WHERE <the span> ORDER BY access_id, {order}`.
    fn query<'q>(
        &'q self,
        columns: &str,
        table: &str,
        order: &str,
    ) -> sqlx::QueryBuilder<'q, super::Db> {
        let mut q = sqlx::QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE "));
        q.push("org_id = ").push_bind(self.org.0);
        match self.ids {
            Ids::Few(ids) => {
                q.push(" AND access_id IN ");
                push_list(&mut q, ids);
            }
            Ids::Range(lo, hi) => {
                q.push(" AND access_id >= ")
                    .push_bind(lo)
                    .push(" AND access_id <= ")
                    .push_bind(hi);
            }
        }
        q.push(format!(" ORDER BY access_id, {order}"));
        q
    }
}

/// The ids in `column` of list `table` (ours) for the accesses of `span`, by access.
async fn listed(
    conn: &mut Conn,
    table: &'static str,
    column: &'static str,
    span: &Span<'_>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let pairs: Vec<(Uuid, Uuid)> = span
        .query(&format!("access_id, {column}"), table, column)
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?;
    let mut by_access: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (access, id) in pairs {
        by_access.entry(access).or_default().push(id);
    }
    Ok(by_access)
}

/// The accesses of `rows` (the organization's, in id order) with their lists.
pub(super) async fn with_lists(
    conn: &mut Conn,
    org: OrgId,
    rows: Vec<AccessRow>,
) -> Result<Vec<Access>, StoreError> {
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // Rows come in id order: for many, the first and the last bound them all.
    let span = Span {
        org,
        ids: if ids.len() <= ROWS_AT_ONCE {
            Ids::Few(&ids)
        } else {
            Ids::Range(first, last)
        },
    };
    let doors: Vec<AccessDoorRow> = span
        .query(
            "access_id, door_id, lock_unlock_enabled, in_auth_types, out_auth_types",
            "access_doors",
            "position",
        )
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?;
    let mut users = listed(conn, "access_members", "membership_id", &span).await?;
    let mut groups = listed(conn, "access_groups", "group_id", &span).await?;
    let mut waiting = waiting_for(conn, org, &rows).await?;
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
            let w = waiting.remove(&id).unwrap_or_default();
            let mut access = row.into_access(
                mine,
                u.into_iter().map(MembershipId).collect(),
                g.into_iter().map(GroupId).collect(),
            )?;
            access.waiting_for = w;
            Ok(access)
        })
        .collect()
}

/// The organization's accesses with these ids that exist, in id order.
pub(super) async fn find(
    store: &Backend,
    org: OrgId,
    ids: &[AccessId],
) -> Result<Vec<Access>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    many(&mut conn, org, ids, false).await
}

/// `ids`' accesses in the order of `ids`, from `found`; one missing (or named twice) is
/// `NotFound`.
fn in_order(ids: &[AccessId], found: Vec<Access>) -> Result<Vec<Access>, StoreError> {
    let mut by_id: HashMap<AccessId, Access> = found.into_iter().map(|a| (a.id, a)).collect();
    ids.iter()
        .map(|id| by_id.remove(id).ok_or(StoreError::NotFound))
        .collect()
}

/// Leaves the accesses `ids`, just changed, waiting for the controllers of their doors: a
/// `ready` one becomes `then` (`creating` or `updating`), a `deleted` one `deleting`, one
/// already waiting stays as it is, and each waits for the rules version that carries the
/// change. Accesses none of whose doors has a controller are not touched. Returns how many
/// now wait.
async fn await_controllers(
    conn: &mut Conn,
    org: OrgId,
    ids: &[Uuid],
    then: AccessStatus,
) -> Result<u64, StoreError> {
    let mut waiting = 0;
    for chunk in ids.chunks(ROWS_AT_ONCE) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(
            "UPDATE accesses SET status = CASE status WHEN 'ready' THEN CAST(",
        );
        q.push_bind(then.as_str())
            .push(
                " AS TEXT) WHEN 'deleted' THEN 'deleting' ELSE status END, \
                 awaiting_version = COALESCE((SELECT version FROM rule_versions WHERE org_id = ",
            )
            .push_bind(org.0)
            .push("), 0) WHERE org_id = ")
            .push_bind(org.0);
        push_id_in(&mut q, chunk);
        q.push(
            " AND EXISTS (SELECT 1 FROM access_doors ad \
             JOIN doors d ON d.org_id = ad.org_id AND d.id = ad.door_id \
             WHERE ad.org_id = accesses.org_id AND ad.access_id = accesses.id \
             AND d.controller_id IS NOT NULL)",
        );
        waiting += q.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(waiting)
}

/// `AccessStore::settle_accesses` inside a transaction: also run by the changes that can
/// end a wait without any controller acknowledging (an access's last controller door
/// taken out of it, a door unwired or deleted).
pub(super) async fn settle(conn: &mut Conn, org: OrgId, audit: &Audit) -> Result<u64, StoreError> {
    let due: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT a.id, a.status, a.awaiting_version FROM accesses a \
         WHERE a.org_id = $1 AND a.awaiting_version IS NOT NULL AND NOT EXISTS ( \
           SELECT 1 FROM access_doors ad \
           JOIN doors d ON d.org_id = ad.org_id AND d.id = ad.door_id \
           JOIN controllers c ON c.id = d.controller_id \
           WHERE ad.org_id = a.org_id AND ad.access_id = a.id \
           AND COALESCE(c.rules_version, 0) < a.awaiting_version) \
         ORDER BY a.id",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut settled = 0;
    for (id, before, version) in due {
        let after = if before == AccessStatus::Deleting.as_str() {
            AccessStatus::Deleted
        } else {
            AccessStatus::Ready
        };
        // Only if no other settling (another node, another controller) got there first.
        let done = sqlx::query(
            "UPDATE accesses SET status = $3, awaiting_version = NULL \
             WHERE org_id = $1 AND id = $2 AND awaiting_version = $4",
        )
        .bind(org.0)
        .bind(id)
        .bind(after.as_str())
        .bind(version)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            settled += 1;
            let summary = serde_json::json!({
                "changes": { "status": { "before": before, "after": after.as_str() } },
                "rules_version": version,
            });
            record(
                conn,
                org,
                audit,
                EventKind::AccessApplied,
                Some(("access", id)),
                summary,
            )
            .await?;
        }
    }
    Ok(settled)
}

/// The controllers each of `rows`' waiting accesses still waits for, by access.
async fn waiting_for(
    conn: &mut Conn,
    org: OrgId,
    rows: &[AccessRow],
) -> Result<HashMap<Uuid, Vec<ControllerId>>, StoreError> {
    let waiting: Vec<Uuid> = rows
        .iter()
        .filter(|r| {
            [
                AccessStatus::Creating,
                AccessStatus::Updating,
                AccessStatus::Deleting,
            ]
            .iter()
            .any(|s| s.as_str() == r.status)
        })
        .map(|r| r.id)
        .collect();
    let mut by_access: HashMap<Uuid, Vec<ControllerId>> = HashMap::new();
    for chunk in waiting.chunks(ROWS_AT_ONCE) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(
            "SELECT DISTINCT ad.access_id, c.id FROM access_doors ad \
             JOIN accesses a ON a.org_id = ad.org_id AND a.id = ad.access_id \
             JOIN doors d ON d.org_id = ad.org_id AND d.id = ad.door_id \
             JOIN controllers c ON c.id = d.controller_id \
             WHERE a.awaiting_version IS NOT NULL \
             AND COALESCE(c.rules_version, 0) < a.awaiting_version AND ad.org_id = ",
        );
        q.push_bind(org.0);
        push_in(&mut q, "ad.access_id", chunk);
        q.push(" ORDER BY ad.access_id, c.id");
        let pairs: Vec<(Uuid, Uuid)> = q.build_query_as().fetch_all(&mut *conn).await?;
        for (access, controller) in pairs {
            by_access
                .entry(access)
                .or_default()
                .push(ControllerId(controller));
        }
    }
    Ok(by_access)
}

/// What an `access.deleted` (or `access.expired`) event says changed.
fn deleted_summary() -> serde_json::Value {
    serde_json::json!({ "changes": { "status": { "after": "deleted" } } })
}

async fn mark_deleted(
    conn: &mut Conn,
    org: OrgId,
    id: AccessId,
    audit: &Audit,
    kind: EventKind,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accesses SET status = 'deleted', updated_at = $3 WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(audit.at)
    .execute(&mut *conn)
    .await?;
    record(
        conn,
        org,
        audit,
        kind,
        Some(("access", id.0)),
        deleted_summary(),
    )
    .await?;
    await_controllers(conn, org, &[id.0], AccessStatus::Deleted).await?;
    Ok(())
}

#[async_trait]
impl AccessStore for Backend {
    async fn create_accesses(
        &self,
        org: OrgId,
        accesses: &[Access],
        batch: bool,
        messages: &[(AccessId, Message)],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        let mut tx = self.writer().begin().await?;
        // What the organization stores already under these ids; another organization's ids are
        // not seen, nor touched: ids are the organization's own.
        let ids: Vec<AccessId> = accesses.iter().map(|a| a.id).collect();
        let mut existing: HashMap<AccessId, Access> = many(&mut tx, org, &ids, false)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut known = Known::default();
        known.load(&mut tx, org, accesses).await?;
        let mut seen = HashSet::new();
        let mut stored = Vec::with_capacity(accesses.len());
        let mut fresh = Vec::with_capacity(accesses.len());
        for (i, a) in accesses.iter().enumerate() {
            let prefix = prefix(batch, i);
            let exists = || {
                StoreError::exists(
                    "access_exists",
                    Some(&format!("{prefix}id")),
                    "an access with this id exists, with another body",
                )
            };
            if !seen.insert(a.id) {
                return Err(exists());
            }
            if let Some(before) = existing.remove(&a.id) {
                // The same access sent again (a retry) creates nothing; another body is refused.
                if !before.same_grant(a) {
                    return Err(exists());
                }
                stored.push(before);
                continue;
            }
            check_references(&mut tx, &mut known, org, a, &prefix).await?;
            stored.push(a.clone());
            fresh.push(a);
        }
        insert_all(&mut tx, org, &fresh).await?;
        let entries: Vec<_> = fresh
            .iter()
            .map(|a| {
                (
                    EventKind::AccessCreated,
                    Some(("access", a.id.0)),
                    event::created(a),
                )
            })
            .collect();
        record_all(&mut tx, org, audit, &entries).await?;
        let created: HashSet<AccessId> = fresh.iter().map(|a| a.id).collect();
        for (access, m) in messages {
            if created.contains(access) {
                enqueue(&mut tx, m).await?;
            }
        }
        let raw: Vec<Uuid> = fresh.iter().map(|a| a.id.0).collect();
        // New ones on controllers' doors wait for them: read back as stored now.
        let stored = if await_controllers(&mut tx, org, &raw, AccessStatus::Creating).await? > 0 {
            in_order(&ids, many(&mut tx, org, &ids, false).await?)?
        } else {
            stored
        };
        tx.commit().await?;
        Ok(stored)
    }

    async fn get_access(&self, org: OrgId, id: AccessId) -> Result<Access, StoreError> {
        find(self, org, &[id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn find_accesses(&self, org: OrgId, ids: &[AccessId]) -> Result<Vec<Access>, StoreError> {
        find(self, org, ids).await
    }

    async fn list_accesses(
        &self,
        org: OrgId,
        filter: &AccessFilter,
        page: PageRequest,
    ) -> Result<Page<Access>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let rows: Vec<AccessRow> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM accesses a WHERE org_id = $1 AND ($2 IS NULL OR id > $2) \
             AND (($3 IS NULL AND status <> 'deleted') OR status = $3) \
             AND ($4 IS NULL OR EXISTS (SELECT 1 FROM access_doors d WHERE d.org_id = a.org_id AND d.access_id = a.id AND d.door_id = $4)) \
             AND ($5 IS NULL OR EXISTS (SELECT 1 FROM access_members m WHERE m.org_id = a.org_id AND m.access_id = a.id AND m.membership_id = $5)) \
             AND ($6 IS NULL OR EXISTS (SELECT 1 FROM access_groups g WHERE g.org_id = a.org_id AND g.access_id = a.id AND g.group_id = $6)) \
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

    async fn update_accesses(
        &self,
        org: OrgId,
        changes: &[(AccessId, Change<'_, Access>)],
        batch: bool,
        messages: &[Message],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let ids: Vec<AccessId> = changes.iter().map(|(id, _)| *id).collect();
        let befores = in_order(&ids, many(&mut tx, org, &ids, true).await?)?;
        let mut afters = Vec::with_capacity(changes.len());
        for (i, ((_, change), before)) in changes.iter().zip(&befores).enumerate() {
            if !before.status.grants() {
                return Err(StoreError::conflict(
                    "access_deleted",
                    None,
                    format!(
                        "{}id: this access is deleted; create a new one",
                        prefix(batch, i)
                    ),
                ));
            }
            let mut after = before.clone();
            change(&mut after)?;
            afters.push(after);
        }
        let mut known = Known::default();
        known.load(&mut tx, org, &afters).await?;
        for (i, after) in afters.iter().enumerate() {
            check_references(&mut tx, &mut known, org, after, &prefix(batch, i)).await?;
        }
        // Every row rewritten at once: `UPDATE … FROM (VALUES (id, fields…), …)`, whose
        // columns both backends name column1, column2, ….
        let set: Vec<String> = ACCESS_FIELDS
            .iter()
            .enumerate()
            .map(|(i, field)| format!("{field} = v.column{}", i + 2))
            .collect();
        for chunk in afters.chunks(ROWS_AT_ONCE) {
            let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
                "UPDATE accesses SET {} FROM (",
                set.join(", ")
            ));
            q.push_values(chunk, |mut row, a| {
                row.push_bind(a.id.0);
                push_fields(&mut row, a);
            });
            q.push(") AS v WHERE accesses.org_id = ")
                .push_bind(org.0)
                .push(" AND accesses.id = v.column1");
            q.build().execute(&mut *tx).await?;
        }
        let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        for table in ["access_doors", "access_members", "access_groups"] {
            for chunk in raw.chunks(ROWS_AT_ONCE) {
                let mut q = sqlx::QueryBuilder::<super::Db>::new(format!(
                    "DELETE FROM {table} WHERE org_id = "
                ));
                q.push_bind(org.0).push(" AND access_id IN ");
                push_list(&mut q, chunk);
                q.build().execute(&mut *tx).await?;
            }
        }
        let written: Vec<&Access> = afters.iter().collect();
        insert_lists(&mut tx, org, &written).await?;
        let entries: Vec<_> = befores
            .iter()
            .zip(&afters)
            .map(|(before, after)| {
                let object = Some(("access", after.id.0));
                (
                    EventKind::AccessUpdated,
                    object,
                    event::changes(before, after),
                )
            })
            .collect();
        record_all(&mut tx, org, audit, &entries).await?;
        for m in messages {
            enqueue(&mut tx, m).await?;
        }
        await_controllers(&mut tx, org, &raw, AccessStatus::Updating).await?;
        // An access whose last controller door was taken out of it waits for nobody now.
        settle(&mut tx, org, audit).await?;
        let updated = in_order(&ids, many(&mut tx, org, &ids, false).await?)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Marks accesses deleted (they grant nothing from now on), each once.
    async fn delete_accesses(
        &self,
        org: OrgId,
        ids: &[AccessId],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let befores = in_order(ids, many(&mut tx, org, ids, true).await?)?;
        let mut due = HashSet::new();
        for before in &befores {
            if before.status.grants() {
                due.insert(before.id.0);
            }
        }
        let due: Vec<Uuid> = due.into_iter().collect();
        for chunk in due.chunks(ROWS_AT_ONCE) {
            let mut q = sqlx::QueryBuilder::<super::Db>::new(
                "UPDATE accesses SET status = 'deleted', updated_at = ",
            );
            q.push_bind(audit.at)
                .push(" WHERE org_id = ")
                .push_bind(org.0);
            push_id_in(&mut q, chunk);
            q.build().execute(&mut *tx).await?;
        }
        let entries: Vec<_> = due
            .iter()
            .map(|id| {
                (
                    EventKind::AccessDeleted,
                    Some(("access", *id)),
                    deleted_summary(),
                )
            })
            .collect();
        record_all(&mut tx, org, audit, &entries).await?;
        await_controllers(&mut tx, org, &due, AccessStatus::Deleted).await?;
        let after = in_order(ids, many(&mut tx, org, ids, false).await?)?;
        tx.commit().await?;
        Ok(after)
    }

    async fn settle_accesses(&self, org: OrgId, audit: &Audit) -> Result<u64, StoreError> {
        let mut tx = self.writer().begin().await?;
        let settled = settle(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(settled)
    }

    /// Deletes the temporary accesses that ended by `now`, each on record as `access.expired`.
    async fn expire_accesses(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.writer().begin().await?;
        let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT org_id, id FROM accesses WHERE kind = 'temporary' AND valid_to <= $1 \
             AND status NOT IN ('deleting', 'deleted') ORDER BY id LIMIT 1000",
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
                EventKind::AccessExpired,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due.len() as u64)
    }
}
