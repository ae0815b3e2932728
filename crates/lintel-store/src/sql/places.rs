//! Places: sites, their doors, and groups of members.
//!
//! Long (just) because sites and doors check each other in one transaction: a door's site
//! and controller, a site's doors and controllers before it goes.

use async_trait::async_trait;
use lintel_domain::{
    Door, DoorId, EventKind, Group, GroupId, OrgId, Site, SiteId, ValidationError, event,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::events::record;
use super::{
    Backend, Conn, Db, ROWS_AT_ONCE, delete_owned, fetch_in_org, fetch_limit,
    is_foreign_key_violation, is_unique_violation, page_from_rows, page_of, push_id_in,
    read_for_change,
};
use crate::rows::{self, DoorRow, GroupRow, SiteRow};
use crate::{Audit, Change, DoorFilter, Page, PageRequest, PlaceStore, StoreError};

macro_rules! site_columns {
    () => {
        "id, name, address, time_zone, geofence_latitude, geofence_longitude, geofence_radius_m, \
         offline_rules_max_days, created_at, updated_at"
    };
}
macro_rules! group_columns {
    () => {
        "id, name, description, created_at, updated_at"
    };
}

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

fn group_name_taken(name: &str) -> StoreError {
    StoreError::exists(
        "group_name_taken",
        Some("name"),
        format!("this organization already has a group named {name:?}"),
    )
}

fn site_has_doors(count: i64) -> StoreError {
    StoreError::conflict(
        "site_has_doors",
        None,
        format!("the site still has {count} door(s); delete or move them before deleting the site"),
    )
}

fn site_has_controllers(count: i64) -> StoreError {
    StoreError::conflict(
        "site_has_controllers",
        None,
        format!("the site still has {count} controller(s); delete them before deleting the site"),
    )
}

/// Refuses wiring a door to a controller that is not one of its organization's (a missing
/// reference) or that belongs to another site than the door's.
async fn check_wiring(conn: &mut Conn, org: OrgId, door: &Door) -> Result<(), StoreError> {
    let Some(controller) = door.controller_id else {
        return Ok(());
    };
    let site: Option<(Uuid,)> =
        sqlx::query_as("SELECT site_id FROM controllers WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(controller.0)
            .fetch_optional(conn)
            .await?;
    match site {
        None => Err(StoreError::MissingReference {
            field: "controller_id",
        }),
        Some((site,)) if site != door.site_id.0 => Err(ValidationError::new(
            "controller_id",
            "controller_of_another_site",
            "a door is wired only to a controller of its own site; move the door or choose \
             another controller",
        )
        .into()),
        Some(_) => Ok(()),
    }
}

pub(super) async fn site_exists(
    conn: &mut Conn,
    org: OrgId,
    site: SiteId,
) -> Result<bool, StoreError> {
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
impl PlaceStore for Backend {
    async fn create_site(&self, org: OrgId, site: &Site, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let fence = site.geofence;
        sqlx::query(concat!(
            "INSERT INTO sites (org_id, ",
            site_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(org.0)
        .bind(site.id.0)
        .bind(&site.name)
        .bind(&site.address)
        .bind(site.time_zone.name())
        .bind(fence.map(|f| f.latitude))
        .bind(fence.map(|f| f.longitude))
        .bind(fence.map(|f| f.radius_m))
        .bind(i32::from(site.offline_rules_max_days))
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
        const LOCKED: &str = concat!(
            "SELECT ",
            site_columns!(),
            " FROM sites WHERE org_id = $1 AND id = $2",
            for_update!()
        );
        let (before, site) =
            read_for_change::<SiteRow, _>(&mut tx, LOCKED, org, id.0, change).await?;
        let fence = site.geofence;
        sqlx::query(
            "UPDATE sites SET name = $3, address = $4, time_zone = $5, geofence_latitude = $6, \
             geofence_longitude = $7, geofence_radius_m = $8, updated_at = $9, \
             offline_rules_max_days = $10 WHERE org_id = $1 AND id = $2",
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
        .bind(i32::from(site.offline_rules_max_days))
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
        let (controllers,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM controllers WHERE org_id = $1 AND site_id = $2")
                .bind(org.0)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if controllers > 0 {
            return Err(site_has_controllers(controllers));
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

    async fn create_door(&self, org: OrgId, door: &Door, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        if !site_exists(&mut tx, org, door.site_id).await? {
            return Err(StoreError::MissingReference { field: "site_id" });
        }
        check_wiring(&mut tx, org, door).await?;
        sqlx::query(concat!(
            "INSERT INTO doors (org_id, ",
            door_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
        .bind(door.controller_id.map(|c| c.0))
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

    async fn find_doors(&self, org: OrgId, ids: &[DoorId]) -> Result<Vec<Door>, StoreError> {
        let ids: Vec<Uuid> = ids.iter().map(|d| d.0).collect();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_AT_ONCE) {
            let mut q = sqlx::QueryBuilder::<Db>::new(concat!(
                "SELECT ",
                door_columns!(),
                " FROM doors WHERE org_id = "
            ));
            q.push_bind(org.0);
            push_id_in(&mut q, chunk);
            q.push(" ORDER BY id");
            let rows: Vec<DoorRow> = q.build_query_as().fetch_all(self.reader()).await?;
            for row in rows {
                found.push(row.try_into()?);
            }
        }
        Ok(found)
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
             AND ($3 IS NULL OR controller_id = $3) AND ($4 IS NULL OR id > $4) \
             ORDER BY id LIMIT $5"
        ))
        .bind(org.0)
        .bind(filter.site_id.map(|s| s.0))
        .bind(filter.controller_id.map(|c| c.0))
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
        const LOCKED: &str = concat!(
            "SELECT ",
            door_columns!(),
            " FROM doors WHERE org_id = $1 AND id = $2",
            for_update!()
        );
        let (before, door) =
            read_for_change::<DoorRow, _>(&mut tx, LOCKED, org, id.0, change).await?;
        if door.site_id != before.site_id && !site_exists(&mut tx, org, door.site_id).await? {
            return Err(StoreError::MissingReference { field: "site_id" });
        }
        if (door.site_id, door.controller_id) != (before.site_id, before.controller_id) {
            check_wiring(&mut tx, org, &door).await?;
        }
        sqlx::query(
            "UPDATE doors SET site_id = $3, name = $4, kind = $5, geofence_required = $6, \
             reader_required = $7, unlock_duration_secs = $8, description = $9, \
             preferences = $10, updated_at = $11, controller_id = $12 \
             WHERE org_id = $1 AND id = $2",
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
        .bind(door.controller_id.map(|c| c.0))
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
        if before.controller_id.is_some() && before.controller_id != door.controller_id {
            // Accesses waiting only for the controller it left wait for nobody now.
            super::accesses::settle(&mut tx, org, audit).await?;
        }
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
        if before.controller_id.is_some() {
            super::accesses::settle(&mut tx, org, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

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
        const SELECT_GROUP: &str = concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND id = $2"
        );
        fetch_in_org::<GroupRow, _>(self.reader(), SELECT_GROUP, org, id.0).await
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
        let items = rows
            .into_iter()
            .map(Group::try_from)
            .collect::<Result<_, _>>()?;
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
        const LOCKED: &str = concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE org_id = $1 AND id = $2",
            for_update!()
        );
        let (before, group) =
            read_for_change::<GroupRow, _>(&mut tx, LOCKED, org, id.0, change).await?;
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
        .map(Group::try_from)
        .transpose()?
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
}
