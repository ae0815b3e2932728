//! The SQL both backends run. This module is compiled once inside `sqlite.rs` and once inside
//! `postgres.rs`; `Db` and `Backend` name the backend, and the statements use `$N`
//! placeholders, which both drivers accept.

// Compiled once per backend, like this module.
#[allow(clippy::duplicate_mod)]
mod accounts;
#[allow(clippy::duplicate_mod)]
mod verifications;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lintel_domain::{
    Access, AccessId, AccessLink, Account, AccountId, ApiKeyId, Card, CardId, Device, DeviceId,
    Door, DoorId, Email, Event, EventKind, Group, GroupId, LinkId, LinkQuotas, Membership,
    MembershipId, MessageId, OrgId, Organization, Phone, Pin, PinId, Schedule, ScheduleId,
    SignInId, Site, SiteId, VerificationId, event,
};
use sqlx::Executor as _;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Backend, Db, IDS_AS_VALUES, MIGRATIONS, MIGRATIONS_TABLE};
use crate::rows::{self, ApiKeyRow, DoorRow, GroupRow, OrgRow, SiteRow};
use crate::{
    AccessFilter, AccountRecord, ApiKey, Attempt, Audit, Change, CredentialFilter, DeviceRecord,
    DoorFilter, EmailConfirmation, EventFilter, FreshTokens, InviteLink, KeyReissue, KeySession,
    Limit, LinkFilter, MemberFilter, MemberRecord, Message, NewDevice, NewLink, NewMember, NewPin,
    OwnPin, Page, PageRequest, Purge, Reissue, SignIn, Slot, Store, StoreError, Verification,
};
use members::record;

type Conn = <Db as sqlx::Database>::Connection;

macro_rules! org_columns {
    () => {
        "id, slug, name, time_zone, settings, created_at, updated_at"
    };
}
macro_rules! site_columns {
    () => {
        "id, name, address, time_zone, geofence_latitude, geofence_longitude, geofence_radius_m, \
         created_at, updated_at"
    };
}
macro_rules! door_columns {
    () => {
        "id, site_id, name, kind, geofence_required, reader_required, unlock_duration_secs, \
         description, preferences, created_at, updated_at"
    };
}
macro_rules! api_key_columns {
    () => {
        "id, org_id, name, prefix, secret_hash, areas, created_by, created_at, expires_at, \
         last_used_at, revoked_at"
    };
}
macro_rules! group_columns {
    () => {
        "id, name, description, created_at, updated_at"
    };
}

// Uses the column macros above.
#[allow(clippy::duplicate_mod)]
mod accesses;
#[allow(clippy::duplicate_mod)]
mod credentials;
#[allow(clippy::duplicate_mod)]
mod key_sessions;
#[allow(clippy::duplicate_mod)]
mod limits;
#[allow(clippy::duplicate_mod)]
mod links;
#[allow(clippy::duplicate_mod)]
mod members;
#[allow(clippy::duplicate_mod)]
mod rules;
#[allow(clippy::duplicate_mod)]
mod schedules;

const SELECT_SITE: &str = concat!(
    "SELECT ",
    site_columns!(),
    " FROM sites WHERE org_id = $1 AND id = $2"
);
const SELECT_DOOR: &str = concat!(
    "SELECT ",
    door_columns!(),
    " FROM doors WHERE org_id = $1 AND id = $2"
);
const SELECT_API_KEY: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM api_keys WHERE org_id = $1 AND id = $2"
);

/// How often `last_used_at` of an API key is written at most.
const TOUCH_EVERY: Duration = Duration::seconds(60);

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

/// Turns rows fetched with `LIMIT limit + 1` into a page and its continuation cursor.
fn page_of<T>(mut items: Vec<T>, page: PageRequest, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let limit = page.limit as usize;
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next_after }
}

/// Converts fetched rows into the model and pages them.
fn page_from_rows<R, T>(
    rows: Vec<R>,
    page: PageRequest,
    id: impl Fn(&T) -> Uuid,
) -> Result<Page<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let items = rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<_, _>>()?;
    Ok(page_of(items, page, id))
}

/// Deletes row `id` of organization `org` from `table` (one of ours, never user input).
async fn delete_owned(
    conn: &mut Conn,
    table: &'static str,
    org: OrgId,
    id: Uuid,
) -> Result<(), StoreError> {
    let done = sqlx::query(&format!(
        "DELETE FROM {table} WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Reads row `id` of organization `org` with `select`, a query ending in
/// `WHERE org_id = $1 AND id = $2`, and converts it into the model.
async fn fetch_in_org<'e, R, T>(
    conn: impl sqlx::Executor<'e, Database = Db>,
    select: &'static str,
    org: OrgId,
    id: Uuid,
) -> Result<T, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    sqlx::query_as::<_, R>(select)
        .bind(org.0)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

fn fetch_limit(page: PageRequest) -> i64 {
    i64::from(page.limit) + 1
}

fn slug_taken(slug: &str) -> StoreError {
    StoreError::Conflict {
        code: "slug_taken",
        field: Some("slug"),
        message: format!("an organization with slug {slug:?} already exists"),
    }
}

fn group_name_taken(name: &str) -> StoreError {
    StoreError::Conflict {
        code: "group_name_taken",
        field: Some("name"),
        message: format!("this organization already has a group named {name:?}"),
    }
}

fn site_has_doors(count: i64) -> StoreError {
    StoreError::Conflict {
        code: "site_has_doors",
        field: None,
        message: format!(
            "the site still has {count} door(s); delete or move them before deleting the site"
        ),
    }
}

async fn site_exists(conn: &mut Conn, org: OrgId, site: SiteId) -> Result<bool, StoreError> {
    let found: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM sites WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(site.0)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Maps a failed door write: a vanished site is a missing reference, not a server error.
fn door_write_error(err: sqlx::Error) -> StoreError {
    if is_foreign_key_violation(&err) {
        StoreError::MissingReference { field: "site_id" }
    } else {
        err.into()
    }
}

#[async_trait]
impl Store for Backend {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.reader()).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        Backend::NAME
    }

    async fn migrate(&self, now: DateTime<Utc>) -> Result<Vec<&'static str>, StoreError> {
        let mut tx = self.writer().begin().await?;
        Backend::lock_migrations(&mut tx).await?;
        tx.execute(MIGRATIONS_TABLE).await?;
        let applied: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT version, name, checksum FROM lintel_migrations ORDER BY version",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (version, name, checksum) in &applied {
            match MIGRATIONS.iter().find(|m| m.version == *version) {
                None => {
                    return Err(StoreError::Migration(format!(
                        "the database has migration {name}, which this version of Lintel does \
                         not know: a newer version has used it"
                    )));
                }
                Some(m) if m.checksum() != *checksum => {
                    return Err(StoreError::Migration(format!(
                        "migration {name} differs from the one applied to this database; \
                         released migrations must never be edited"
                    )));
                }
                Some(_) => {}
            }
        }
        let mut done = Vec::new();
        for m in MIGRATIONS {
            if applied.iter().any(|(version, ..)| *version == m.version) {
                continue;
            }
            tx.execute(m.sql)
                .await
                .map_err(|e| StoreError::Migration(format!("{}: {e}", m.name)))?;
            sqlx::query(
                "INSERT INTO lintel_migrations (version, name, checksum, applied_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            done.push(m.name);
        }
        tx.commit().await?;
        Ok(done)
    }

    // Organizations

    async fn create_org(
        &self,
        org: &Organization,
        owner: Option<&NewMember>,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(concat!(
            "INSERT INTO organizations (",
            org_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(org.id.0)
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.time_zone.name())
        .bind(Json(&org.settings))
        .bind(org.created_at)
        .bind(org.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                slug_taken(org.slug.as_str())
            } else {
                e.into()
            }
        })?;
        let object = Some(("organization", org.id.0));
        record(
            &mut tx,
            org.id,
            audit,
            EventKind::OrganizationCreated,
            object,
            event::created(org),
        )
        .await?;
        if let Some(owner) = owner {
            members::add_member(&mut tx, org.id, owner, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_org(&self, id: OrgId) -> Result<Organization, StoreError> {
        sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    async fn get_org_by_slug(&self, slug: &str) -> Result<Organization, StoreError> {
        sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    async fn list_orgs(&self, page: PageRequest) -> Result<Page<Organization>, StoreError> {
        let rows = sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        ))
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |o: &Organization| o.id.0)
    }

    async fn update_org(
        &self,
        id: OrgId,
        change: Change<'_, Organization>,
        audit: &Audit,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut org: Organization = sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE id = $1",
            for_update!()
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()?;
        let before = org.clone();
        change(&mut org)?;
        sqlx::query(
            "UPDATE organizations SET slug = $2, name = $3, time_zone = $4, settings = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(id.0)
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.time_zone.name())
        .bind(Json(&org.settings))
        .bind(org.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                slug_taken(org.slug.as_str())
            } else {
                e.into()
            }
        })?;
        let summary = event::changes(&before, &org);
        record(
            &mut tx,
            id,
            audit,
            EventKind::OrganizationUpdated,
            Some(("organization", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    async fn delete_org(&self, id: OrgId) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(id.0)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    // Sites

    async fn create_site(&self, org: OrgId, site: &Site, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let fence = site.geofence;
        sqlx::query(concat!(
            "INSERT INTO sites (org_id, ",
            site_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(org.0)
        .bind(site.id.0)
        .bind(&site.name)
        .bind(&site.address)
        .bind(site.time_zone.name())
        .bind(fence.map(|f| f.latitude))
        .bind(fence.map(|f| f.longitude))
        .bind(fence.map(|f| f.radius_m))
        .bind(site.created_at)
        .bind(site.updated_at)
        .execute(&mut *tx)
        .await?;
        let object = Some(("site", site.id.0));
        record(
            &mut tx,
            org,
            audit,
            EventKind::SiteCreated,
            object,
            event::created(site),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_site(&self, org: OrgId, id: SiteId) -> Result<Site, StoreError> {
        fetch_in_org::<SiteRow, _>(self.reader(), SELECT_SITE, org, id.0).await
    }

    async fn list_sites(&self, org: OrgId, page: PageRequest) -> Result<Page<Site>, StoreError> {
        let rows = sqlx::query_as::<_, SiteRow>(concat!(
            "SELECT ",
            site_columns!(),
            " FROM sites WHERE org_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |s: &Site| s.id.0)
    }

    async fn update_site(
        &self,
        org: OrgId,
        id: SiteId,
        change: Change<'_, Site>,
        audit: &Audit,
    ) -> Result<Site, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut site: Site = sqlx::query_as::<_, SiteRow>(concat!(
            "SELECT ",
            site_columns!(),
            " FROM sites WHERE org_id = $1 AND id = $2",
            for_update!()
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()?;
        let before = site.clone();
        change(&mut site)?;
        let fence = site.geofence;
        sqlx::query(
            "UPDATE sites SET name = $3, address = $4, time_zone = $5, geofence_latitude = $6, \
             geofence_longitude = $7, geofence_radius_m = $8, updated_at = $9 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(&site.name)
        .bind(&site.address)
        .bind(site.time_zone.name())
        .bind(fence.map(|f| f.latitude))
        .bind(fence.map(|f| f.longitude))
        .bind(fence.map(|f| f.radius_m))
        .bind(site.updated_at)
        .execute(&mut *tx)
        .await?;
        let summary = event::changes(&before, &site);
        record(
            &mut tx,
            org,
            audit,
            EventKind::SiteUpdated,
            Some(("site", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(site)
    }

    async fn delete_site(&self, org: OrgId, id: SiteId, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before: Site = fetch_in_org::<SiteRow, _>(&mut *tx, SELECT_SITE, org, id.0).await?;
        let (doors,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM doors WHERE org_id = $1 AND site_id = $2")
                .bind(org.0)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if doors > 0 {
            return Err(site_has_doors(doors));
        }
        let done = sqlx::query("DELETE FROM sites WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                // A door added at this site since the count above.
                if is_foreign_key_violation(&e) {
                    site_has_doors(1)
                } else {
                    e.into()
                }
            })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let summary = event::deleted(&before);
        record(
            &mut tx,
            org,
            audit,
            EventKind::SiteDeleted,
            Some(("site", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // Doors

    async fn create_door(&self, org: OrgId, door: &Door, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        if !site_exists(&mut tx, org, door.site_id).await? {
            return Err(StoreError::MissingReference { field: "site_id" });
        }
        sqlx::query(concat!(
            "INSERT INTO doors (org_id, ",
            door_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(org.0)
        .bind(door.id.0)
        .bind(door.site_id.0)
        .bind(&door.name)
        .bind(door.kind.as_str())
        .bind(door.geofence_required)
        .bind(door.reader_required)
        .bind(rows::to_i32(door.unlock_duration_secs))
        .bind(&door.description)
        .bind(Json(&door.preferences))
        .bind(door.created_at)
        .bind(door.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(door_write_error)?;
        let object = Some(("door", door.id.0));
        record(
            &mut tx,
            org,
            audit,
            EventKind::DoorCreated,
            object,
            event::created(door),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_door(&self, org: OrgId, id: DoorId) -> Result<Door, StoreError> {
        fetch_in_org::<DoorRow, _>(self.reader(), SELECT_DOOR, org, id.0).await
    }

    async fn list_doors(
        &self,
        org: OrgId,
        filter: DoorFilter,
        page: PageRequest,
    ) -> Result<Page<Door>, StoreError> {
        let rows = sqlx::query_as::<_, DoorRow>(concat!(
            "SELECT ",
            door_columns!(),
            " FROM doors WHERE org_id = $1 AND ($2 IS NULL OR site_id = $2) \
             AND ($3 IS NULL OR id > $3) ORDER BY id LIMIT $4"
        ))
        .bind(org.0)
        .bind(filter.site_id.map(|s| s.0))
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |d: &Door| d.id.0)
    }

    async fn update_door(
        &self,
        org: OrgId,
        id: DoorId,
        change: Change<'_, Door>,
        audit: &Audit,
    ) -> Result<Door, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut door: Door = sqlx::query_as::<_, DoorRow>(concat!(
            "SELECT ",
            door_columns!(),
            " FROM doors WHERE org_id = $1 AND id = $2",
            for_update!()
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()?;
        let before = door.clone();
        change(&mut door)?;
        if door.site_id != before.site_id && !site_exists(&mut tx, org, door.site_id).await? {
            return Err(StoreError::MissingReference { field: "site_id" });
        }
        sqlx::query(
            "UPDATE doors SET site_id = $3, name = $4, kind = $5, geofence_required = $6, \
             reader_required = $7, unlock_duration_secs = $8, description = $9, \
             preferences = $10, updated_at = $11 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(door.site_id.0)
        .bind(&door.name)
        .bind(door.kind.as_str())
        .bind(door.geofence_required)
        .bind(door.reader_required)
        .bind(rows::to_i32(door.unlock_duration_secs))
        .bind(&door.description)
        .bind(Json(&door.preferences))
        .bind(door.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(door_write_error)?;
        let summary = event::changes(&before, &door);
        record(
            &mut tx,
            org,
            audit,
            EventKind::DoorUpdated,
            Some(("door", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(door)
    }

    async fn delete_door(&self, org: OrgId, id: DoorId, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before: Door = fetch_in_org::<DoorRow, _>(&mut *tx, SELECT_DOOR, org, id.0).await?;
        delete_owned(&mut tx, "doors", org, id.0).await?;
        let summary = event::deleted(&before);
        record(
            &mut tx,
            org,
            audit,
            EventKind::DoorDeleted,
            Some(("door", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // Groups

    async fn create_group(
        &self,
        org: OrgId,
        group: &Group,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(concat!(
            "INSERT INTO groups (org_id, ",
            group_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(org.0)
        .bind(group.id.0)
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.created_at)
        .bind(group.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                group_name_taken(&group.name)
            } else {
                e.into()
            }
        })?;
        let object = Some(("group", group.id.0));
        record(
            &mut tx,
            org,
            audit,
            EventKind::GroupCreated,
            object,
            event::created(group),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_group(&self, org: OrgId, id: GroupId) -> Result<Group, StoreError> {
        sqlx::query_as::<_, GroupRow>(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?
        .map(Group::from)
        .ok_or(StoreError::NotFound)
    }

    async fn list_groups(&self, org: OrgId, page: PageRequest) -> Result<Page<Group>, StoreError> {
        let rows = sqlx::query_as::<_, GroupRow>(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        let items = rows.into_iter().map(Group::from).collect();
        Ok(page_of(items, page, |g: &Group| g.id.0))
    }

    async fn update_group(
        &self,
        org: OrgId,
        id: GroupId,
        change: Change<'_, Group>,
        audit: &Audit,
    ) -> Result<Group, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut group: Group = sqlx::query_as::<_, GroupRow>(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND id = $2",
            for_update!()
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(Group::from)
        .ok_or(StoreError::NotFound)?;
        let before = group.clone();
        change(&mut group)?;
        sqlx::query(
            "UPDATE groups SET name = $3, description = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                group_name_taken(&group.name)
            } else {
                e.into()
            }
        })?;
        let summary = event::changes(&before, &group);
        record(
            &mut tx,
            org,
            audit,
            EventKind::GroupUpdated,
            Some(("group", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    async fn group_grants_access(&self, org: OrgId, id: GroupId) -> Result<bool, StoreError> {
        let found: Option<(i32,)> = sqlx::query_as(
            "SELECT 1 FROM access_groups g JOIN accesses a ON a.org_id = g.org_id \
               AND a.id = g.access_id \
             WHERE g.org_id = $1 AND g.group_id = $2 AND a.status <> 'deleted' \
             UNION ALL \
             SELECT 1 FROM access_links WHERE org_id = $1 AND group_id = $2 \
               AND revoked_at IS NULL \
             LIMIT 1",
        )
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?;
        Ok(found.is_some())
    }

    async fn delete_group(&self, org: OrgId, id: GroupId, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before = sqlx::query_as::<_, GroupRow>(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(Group::from)
        .ok_or(StoreError::NotFound)?;
        delete_owned(&mut tx, "groups", org, id.0).await?;
        let summary = event::deleted(&before);
        record(
            &mut tx,
            org,
            audit,
            EventKind::GroupDeleted,
            Some(("group", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // Cards and PIN codes: see credentials.rs.

    async fn create_card(&self, org: OrgId, card: &Card, audit: &Audit) -> Result<(), StoreError> {
        credentials::create_card(self, org, card, audit).await
    }

    async fn get_card(&self, org: OrgId, id: CardId) -> Result<Card, StoreError> {
        credentials::get_card(self, org, id).await
    }

    async fn list_cards(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Card>, StoreError> {
        credentials::list_cards(self, org, filter, page).await
    }

    async fn revoke_card(&self, org: OrgId, id: CardId, audit: &Audit) -> Result<Card, StoreError> {
        credentials::revoke_card(self, org, id, audit).await
    }

    async fn pin_counts(&self, org: OrgId, site: SiteId) -> Result<Vec<(u8, u64)>, StoreError> {
        credentials::pin_counts(self, org, site).await
    }

    async fn create_pin(&self, org: OrgId, pin: &NewPin, audit: &Audit) -> Result<(), StoreError> {
        credentials::create_pin(self, org, pin, audit).await
    }

    async fn get_pin(&self, org: OrgId, id: PinId) -> Result<Pin, StoreError> {
        credentials::get_pin(self, org, id).await
    }

    async fn list_pins(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Pin>, StoreError> {
        credentials::list_pins(self, org, filter, page).await
    }

    async fn revoke_pin(&self, org: OrgId, id: PinId, audit: &Audit) -> Result<Pin, StoreError> {
        credentials::revoke_pin(self, org, id, audit).await
    }

    async fn account_pins(&self, account: AccountId) -> Result<Vec<OwnPin>, StoreError> {
        credentials::account_pins(self, account).await
    }

    async fn remember_public_url(&self, url: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO server_settings (name, value) VALUES ('public_url', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(url)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn stored_public_url(&self) -> Result<Option<String>, StoreError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT value FROM server_settings WHERE name = 'public_url'")
                .fetch_optional(self.reader())
                .await?;
        Ok(found.map(|(url,)| url))
    }

    async fn server_key_fingerprint(
        &self,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        credentials::server_key_fingerprint(self, fingerprint, now).await
    }

    // Access links: see links.rs.

    async fn link_quotas(&self, org: OrgId) -> Result<LinkQuotas, StoreError> {
        links::quotas(self, org).await
    }

    async fn set_link_quotas(
        &self,
        org: OrgId,
        quotas: &LinkQuotas,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        links::set_quotas(self, org, quotas, audit).await
    }

    async fn create_link(
        &self,
        org: OrgId,
        new: &NewLink,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        links::create(self, org, new, audit).await
    }

    async fn get_link(&self, org: OrgId, id: LinkId) -> Result<AccessLink, StoreError> {
        links::get(self, org, id).await
    }

    async fn list_links(
        &self,
        org: OrgId,
        filter: LinkFilter,
        page: PageRequest,
    ) -> Result<Page<AccessLink>, StoreError> {
        links::list(self, org, filter, page).await
    }

    async fn revoke_link(
        &self,
        org: OrgId,
        id: LinkId,
        audit: &Audit,
    ) -> Result<AccessLink, StoreError> {
        links::revoke(self, org, id, audit).await
    }

    async fn find_link(
        &self,
        hash: &[u8],
    ) -> Result<Option<(Organization, AccessLink)>, StoreError> {
        links::find(self, hash).await
    }

    async fn touch_link(
        &self,
        org: OrgId,
        id: LinkId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        links::touch(self, org, id, at).await
    }

    async fn group_doors(&self, org: OrgId, group: GroupId) -> Result<Vec<Door>, StoreError> {
        links::group_doors(self, org, group).await
    }

    // Schedules: see schedules.rs.

    async fn create_schedule(
        &self,
        org: OrgId,
        schedule: &Schedule,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        schedules::create(self, org, schedule, audit).await
    }

    async fn get_schedule(&self, org: OrgId, id: ScheduleId) -> Result<Schedule, StoreError> {
        schedules::get(self, org, id).await
    }

    async fn list_schedules(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Schedule>, StoreError> {
        schedules::list(self, org, page).await
    }

    async fn update_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        change: Change<'_, Schedule>,
        audit: &Audit,
    ) -> Result<Schedule, StoreError> {
        schedules::update(self, org, id, change, audit).await
    }

    async fn delete_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        schedules::delete(self, org, id, audit).await
    }

    // Accesses: see accesses.rs.

    async fn create_accesses(
        &self,
        org: OrgId,
        list: &[Access],
        batch: bool,
        messages: &[(AccessId, Message)],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        accesses::create(self, org, list, batch, messages, audit).await
    }

    async fn get_access(&self, org: OrgId, id: AccessId) -> Result<Access, StoreError> {
        accesses::get(self, org, id).await
    }

    async fn find_accesses(&self, org: OrgId, ids: &[AccessId]) -> Result<Vec<Access>, StoreError> {
        accesses::find(self, org, ids).await
    }

    async fn list_accesses(
        &self,
        org: OrgId,
        filter: &AccessFilter,
        page: PageRequest,
    ) -> Result<Page<Access>, StoreError> {
        accesses::list(self, org, filter, page).await
    }

    async fn update_accesses(
        &self,
        org: OrgId,
        changes: &[(AccessId, Change<'_, Access>)],
        batch: bool,
        messages: &[Message],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        accesses::update(self, org, changes, batch, messages, audit).await
    }

    async fn delete_accesses(
        &self,
        org: OrgId,
        ids: &[AccessId],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError> {
        accesses::delete(self, org, ids, audit).await
    }

    async fn expire_accesses(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        accesses::expire(self, now).await
    }

    async fn record_event(
        &self,
        org: OrgId,
        audit: &Audit,
        kind: EventKind,
        object: Option<(&str, Uuid)>,
        summary: serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer().acquire().await?;
        record(&mut conn, org, audit, kind, object, summary).await
    }

    async fn rules_version(&self, org: OrgId) -> Result<i64, StoreError> {
        rules::version(self, org).await
    }

    async fn load_rules(&self, org: OrgId) -> Result<crate::RulesSnapshot, StoreError> {
        rules::load(self, org).await
    }

    async fn rule_changes(
        &self,
        org: OrgId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::RuleChange>, StoreError> {
        rules::changes(self, org, after, limit).await
    }

    async fn load_rule_objects(
        &self,
        org: OrgId,
        objects: &crate::RuleObjects,
    ) -> Result<crate::RulesDelta, StoreError> {
        rules::objects(self, org, objects).await
    }

    async fn prune_rule_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        rules::prune(self, before).await
    }

    // API keys

    async fn create_api_key(&self, key: &ApiKey, audit: Option<&Audit>) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, areas, created_at, \
             expires_at, last_used_at, revoked_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(key.id.0)
        .bind(key.org_id.map(|o| o.0))
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.secret_hash)
        .bind(Json(&key.areas))
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.last_used_at)
        .bind(key.revoked_at)
        .bind(key.created_by.map(|m| m.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::MissingReference { field: "org_id" }
            } else {
                e.into()
            }
        })?;
        if let (Some(org), Some(audit)) = (key.org_id, audit) {
            let summary = serde_json::json!({ "after": {
                "name": key.name, "prefix": key.prefix, "areas": key.areas,
                "expires_at": key.expires_at,
            }});
            record(
                &mut tx,
                org,
                audit,
                EventKind::ApiKeyCreated,
                Some(("api_key", key.id.0)),
                summary,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        fetch_in_org::<ApiKeyRow, _>(self.reader(), SELECT_API_KEY, org, id.0).await
    }

    async fn list_api_keys(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError> {
        let rows = sqlx::query_as::<_, ApiKeyRow>(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE org_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |k: &ApiKey| k.id.0)
    }

    async fn revoke_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        audit: &Audit,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $3              WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        let key: ApiKey = fetch_in_org::<ApiKeyRow, _>(&mut *tx, SELECT_API_KEY, org, id.0).await?;
        if done.rows_affected() > 0 {
            let summary =
                serde_json::json!({ "before": { "name": key.name, "prefix": key.prefix } });
            record(
                &mut tx,
                org,
                audit,
                EventKind::ApiKeyRevoked,
                Some(("api_key", id.0)),
                summary,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(key)
    }

    async fn find_api_key(&self, secret_hash: &[u8]) -> Result<Option<ApiKey>, StoreError> {
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE secret_hash = $1"
        ))
        .bind(secret_hash)
        .fetch_optional(self.reader())
        .await?
        .map(ApiKey::try_from)
        .transpose()
    }

    async fn create_key_session(
        &self,
        id: Uuid,
        key: ApiKeyId,
        tokens: &FreshTokens,
    ) -> Result<(), StoreError> {
        key_sessions::create(self, id, key, tokens).await
    }

    async fn find_key_session(&self, auth_hash: &[u8]) -> Result<Option<KeySession>, StoreError> {
        key_sessions::find(self, auth_hash).await
    }

    async fn reissue_key_session(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &FreshTokens,
    ) -> Result<KeyReissue, StoreError> {
        key_sessions::reissue(self, presented, issued_after, fresh).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id.0)
        .bind(now)
        .bind(now - TOUCH_EVERY)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    // Memberships, invitations and events: see members.rs.

    async fn create_membership(
        &self,
        org: OrgId,
        member: &NewMember,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        members::add_member(&mut tx, org, member, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_member(&self, org: OrgId, id: MembershipId) -> Result<MemberRecord, StoreError> {
        members::get_member(self, org, id).await
    }

    async fn find_membership(
        &self,
        org: OrgId,
        account: AccountId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        members::find_membership(self, org, account).await
    }

    async fn list_members(
        &self,
        org: OrgId,
        filter: &MemberFilter,
        page: PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError> {
        members::list_members(self, org, filter, page).await
    }

    async fn list_admins(&self, org: OrgId) -> Result<Vec<MemberRecord>, StoreError> {
        members::list_admins(self, org).await
    }

    async fn update_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        change: Change<'_, Membership>,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        members::update_membership(self, org, id, change, audit).await
    }

    async fn delete_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        audit: &Audit,
        kind: EventKind,
    ) -> Result<(), StoreError> {
        members::delete_membership(self, org, id, audit, kind).await
    }

    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(Organization, MemberRecord)>, StoreError> {
        members::find_invitation(self, token_hash).await
    }

    async fn accept_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        account: AccountId,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        members::accept_invitation(self, org, id, account, audit).await
    }

    async fn renew_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        link: &InviteLink,
        message: &Message,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        members::renew_invitation(self, org, id, link, message, audit).await
    }

    async fn ensure_not_last_owner(&self, account: AccountId) -> Result<(), StoreError> {
        let mut conn = self.reader().acquire().await?;
        members::ensure_not_last_owner(&mut conn, account).await
    }

    async fn account_memberships(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Organization, MemberRecord)>, StoreError> {
        members::account_memberships(self, account).await
    }

    async fn events_from(
        &self,
        org: OrgId,
        kind: Option<&str>,
        from: Uuid,
        limit: u32,
    ) -> Result<Vec<lintel_domain::Event>, StoreError> {
        members::events_from(self, org, kind, from, limit).await
    }

    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError> {
        members::list_events(self, org, filter, page).await
    }

    // Accounts, sign-in, devices and the outbox: see accounts.rs.

    async fn get_account(&self, id: AccountId) -> Result<AccountRecord, StoreError> {
        accounts::get_account(self, id).await
    }

    async fn find_account_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<AccountRecord>, StoreError> {
        accounts::find_account_by_email(self, email).await
    }

    async fn find_account_by_phone(
        &self,
        phone: &Phone,
    ) -> Result<Option<AccountRecord>, StoreError> {
        accounts::find_account_by_phone(self, phone).await
    }

    async fn update_account(
        &self,
        id: AccountId,
        change: Change<'_, Account>,
    ) -> Result<Account, StoreError> {
        accounts::update_account(self, id, change).await
    }

    async fn unlock_account(&self, email: &Email) -> Result<(), StoreError> {
        accounts::unlock_account(self, email).await
    }

    async fn create_sign_in(&self, sign_in: &SignIn, email: &Message) -> Result<(), StoreError> {
        accounts::create_sign_in(self, sign_in, email).await
    }

    async fn take_slots(
        &self,
        limits: &[Limit<'_>],
        now: DateTime<Utc>,
    ) -> Result<Slot, StoreError> {
        limits::take_slots(self, limits, now).await
    }

    async fn give_back(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        limits::give_back(self, key, at).await
    }

    async fn spend_proof(&self, proof: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO spent_proofs (proof, spent_at) VALUES ($1, $2) \
             ON CONFLICT (proof) DO NOTHING",
        )
        .bind(proof)
        .bind(at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn recent_sends(
        &self,
        rate_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        limits::recent_sends(self, rate_key, since).await
    }

    async fn find_sign_in_by_email_token(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError> {
        accounts::find_sign_in(self, "email_token_hash", hash).await
    }

    async fn find_sign_in_by_session(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError> {
        accounts::find_sign_in(self, "session_hash", hash).await
    }

    async fn confirm_sign_in_email(
        &self,
        id: SignInId,
        confirmation: &EmailConfirmation,
        sms: &Message,
    ) -> Result<bool, StoreError> {
        accounts::confirm_sign_in_email(self, id, confirmation, sms).await
    }

    async fn fail_sign_in_code(
        &self,
        id: SignInId,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_after: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        accounts::fail_sign_in_code(self, id, now, max_failures, lock_after, lock_until).await
    }

    async fn complete_sign_in(
        &self,
        id: SignInId,
        account: Option<&Account>,
        device: &NewDevice,
        notices: &[Message],
    ) -> Result<(), StoreError> {
        accounts::complete_sign_in(self, id, account, device, notices).await
    }

    async fn create_verification(
        &self,
        verification: &Verification,
        code: Option<&Message>,
    ) -> Result<(), StoreError> {
        verifications::create_verification(self, verification, code).await
    }

    async fn find_verification(
        &self,
        handle_hash: &[u8],
    ) -> Result<Option<Verification>, StoreError> {
        verifications::find_verification(self, handle_hash).await
    }

    async fn fail_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        verifications::fail_verification(self, id, now, max_failures).await
    }

    async fn complete_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        notice: Option<&Message>,
    ) -> Result<(), StoreError> {
        verifications::complete_verification(self, id, now, notice).await
    }

    async fn find_device_by_auth(&self, hash: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        accounts::find_device_by_auth(self, hash).await
    }

    async fn get_device(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> Result<DeviceRecord, StoreError> {
        accounts::get_device(self, account, device).await
    }

    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        browser_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        accounts::touch_device(self, id, now, browser_expires_at).await
    }

    async fn reissue_device(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &FreshTokens,
    ) -> Result<Reissue, StoreError> {
        accounts::reissue_device(self, presented, issued_after, fresh).await
    }

    async fn pin_verified(&self, device: DeviceId, now: DateTime<Utc>) -> Result<(), StoreError> {
        accounts::pin_verified(self, device, now).await
    }

    async fn start_attempt(&self, attempt: Attempt, max: u32) -> Result<bool, StoreError> {
        accounts::start_attempt_of(self, attempt, max).await
    }

    async fn pin_wrong(
        &self,
        device: DeviceId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        accounts::pin_wrong(self, device, now, max_failures).await
    }

    async fn list_devices(&self, account: AccountId) -> Result<Vec<Device>, StoreError> {
        accounts::list_devices(self, account).await
    }

    async fn revoke_device(
        &self,
        account: AccountId,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        accounts::revoke_device(self, account, device, now).await
    }

    async fn purge(&self, cutoffs: &Purge) -> Result<u64, StoreError> {
        accounts::purge(self, cutoffs).await
    }

    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        accounts::claim_messages(self, now, lease_until, limit).await
    }

    async fn queue_message(&self, message: &Message) -> Result<(), StoreError> {
        let mut conn = self.writer().acquire().await?;
        accounts::enqueue(&mut conn, message).await
    }

    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        accounts::mark_message_sent(self, id, now).await
    }

    async fn mark_message_failed(
        &self,
        id: MessageId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        accounts::mark_message_failed(self, id, error, retry_at).await
    }
}
