//! Schedules: stored as the API writes them, checked by the app before they get here.

use async_trait::async_trait;
use lintel_domain::{EventKind, OrgId, Schedule, ScheduleId, event};
use sqlx::types::Json;

use super::events::record;
use super::{
    Backend, delete_owned, fetch_in_org, fetch_limit, is_unique_violation, page_from_rows,
    read_for_change,
};
use crate::rows::ScheduleRow;
use crate::{Audit, Change, Page, PageRequest, ScheduleStore, StoreError};

macro_rules! columns {
    () => {
        "id, name, time_zone, windows, exceptions, created_at, updated_at"
    };
}

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM schedules WHERE org_id = $1 AND id = $2"
);

fn name_taken(name: &str) -> StoreError {
    StoreError::exists(
        "schedule_name_taken",
        Some("name"),
        format!("this organization already has a schedule named {name:?}"),
    )
}

#[async_trait]
impl ScheduleStore for Backend {
    async fn create_schedule(
        &self,
        org: OrgId,
        s: &Schedule,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(concat!(
            "INSERT INTO schedules (org_id, ",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(org.0)
        .bind(s.id.0)
        .bind(&s.name)
        .bind(s.time_zone.name())
        .bind(Json(&s.windows))
        .bind(Json(&s.exceptions))
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                name_taken(&s.name)
            } else {
                e.into()
            }
        })?;
        let object = Some(("schedule", s.id.0));
        record(
            &mut tx,
            org,
            audit,
            EventKind::ScheduleCreated,
            object,
            event::created(s),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_schedule(&self, org: OrgId, id: ScheduleId) -> Result<Schedule, StoreError> {
        fetch_in_org::<ScheduleRow, _>(self.reader(), SELECT_ONE, org, id.0).await
    }

    async fn list_schedules(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Schedule>, StoreError> {
        let rows = sqlx::query_as::<_, ScheduleRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE org_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |s: &Schedule| s.id.0)
    }

    async fn update_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        change: Change<'_, Schedule>,
        audit: &Audit,
    ) -> Result<Schedule, StoreError> {
        let mut tx = self.writer().begin().await?;
        const LOCKED: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM schedules WHERE org_id = $1 AND id = $2",
            for_update!()
        );
        let (before, s) =
            read_for_change::<ScheduleRow, _>(&mut tx, LOCKED, org, id.0, change).await?;
        sqlx::query(
            "UPDATE schedules SET name = $3, time_zone = $4, windows = $5, exceptions = $6, \
             updated_at = $7 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(&s.name)
        .bind(s.time_zone.name())
        .bind(Json(&s.windows))
        .bind(Json(&s.exceptions))
        .bind(s.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                name_taken(&s.name)
            } else {
                e.into()
            }
        })?;
        let summary = event::changes(&before, &s);
        record(
            &mut tx,
            org,
            audit,
            EventKind::ScheduleUpdated,
            Some(("schedule", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn delete_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before: Schedule =
            fetch_in_org::<ScheduleRow, _>(&mut *tx, SELECT_ONE, org, id.0).await?;
        delete_owned(&mut tx, "schedules", org, id.0)
            .await
            .map_err(|e| match e {
                StoreError::Database(e) if super::is_foreign_key_violation(&e) => {
                    StoreError::conflict(
                        "schedule_in_use",
                        None,
                        "accesses use this schedule; change them first",
                    )
                }
                other => other,
            })?;
        let summary = event::deleted(&before);
        record(
            &mut tx,
            org,
            audit,
            EventKind::ScheduleDeleted,
            Some(("schedule", id.0)),
            summary,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
