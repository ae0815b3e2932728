//! Controllers: the boxes at a site that hold their doors' rules, and their tokens' hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::controller::ControllerLive;
use lintel_domain::door::DoorState;
use lintel_domain::{
    Controller, ControllerId, DoorId, Event, EventActor, EventKind, OrgId, SiteId, event,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::events::record;
use super::places::site_exists;
use super::{
    Backend, delete_owned, fetch_in_org, fetch_limit, is_foreign_key_violation, page_from_rows,
    read_for_change,
};
use crate::rows::ControllerRow;
use crate::{Audit, Change, ControllerStore, Page, PageRequest, StoreError};

macro_rules! controller_columns {
    () => {
        "id, site_id, name, description, token_issued_at, connected, last_seen_at, rules_version, \
         rules_in_sync, events_waiting, clock_skew_ms, software_version, rules_confirmed_at, \
         CAST((SELECT s.offline_rules_max_days FROM sites s WHERE s.id = controllers.site_id) \
         AS BIGINT) AS offline_rules_max_days, created_at, updated_at"
    };
}

const SELECT_CONTROLLER: &str = concat!(
    "SELECT ",
    controller_columns!(),
    " FROM controllers WHERE org_id = $1 AND id = $2"
);

fn has_doors(count: i64) -> StoreError {
    StoreError::conflict(
        "controller_has_doors",
        None,
        format!(
            "{count} door(s) are wired to this controller; wire them elsewhere before deleting it"
        ),
    )
}

#[async_trait]
impl ControllerStore for Backend {
    async fn create_controller(
        &self,
        org: OrgId,
        controller: &Controller,
        token_hash: &[u8],
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        if !site_exists(&mut tx, org, controller.site_id).await? {
            return Err(StoreError::MissingReference { field: "site_id" });
        }
        sqlx::query(
            "INSERT INTO controllers (org_id, token_hash, id, site_id, name, description, \
             token_issued_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(org.0)
        .bind(token_hash)
        .bind(controller.id.0)
        .bind(controller.site_id.0)
        .bind(&controller.name)
        .bind(&controller.description)
        .bind(controller.token_issued_at)
        .bind(controller.created_at)
        .bind(controller.updated_at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::ControllerCreated,
            Some(("controller", controller.id.0)),
            event::created(controller),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_controller(&self, org: OrgId, id: ControllerId) -> Result<Controller, StoreError> {
        fetch_in_org::<ControllerRow, _>(self.reader(), SELECT_CONTROLLER, org, id.0).await
    }

    async fn list_controllers(
        &self,
        org: OrgId,
        site: Option<SiteId>,
        page: PageRequest,
    ) -> Result<Page<Controller>, StoreError> {
        let rows = sqlx::query_as::<_, ControllerRow>(concat!(
            "SELECT ",
            controller_columns!(),
            " FROM controllers WHERE org_id = $1 AND ($2 IS NULL OR site_id = $2) \
             AND ($3 IS NULL OR id > $3) ORDER BY id LIMIT $4"
        ))
        .bind(org.0)
        .bind(site.map(|s| s.0))
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |c: &Controller| c.id.0)
    }

    async fn update_controller(
        &self,
        org: OrgId,
        id: ControllerId,
        change: Change<'_, Controller>,
        audit: &Audit,
    ) -> Result<Controller, StoreError> {
        let mut tx = self.writer().begin().await?;
        const LOCKED: &str = concat!(
            "SELECT ",
            controller_columns!(),
            " FROM controllers WHERE org_id = $1 AND id = $2",
            for_update!()
        );
        let (before, after) =
            read_for_change::<ControllerRow, _>(&mut tx, LOCKED, org, id.0, change).await?;
        sqlx::query(
            "UPDATE controllers SET name = $3, description = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(&after.name)
        .bind(&after.description)
        .bind(after.updated_at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::ControllerUpdated,
            Some(("controller", id.0)),
            event::changes(&before, &after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_controller(
        &self,
        org: OrgId,
        id: ControllerId,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before: Controller =
            fetch_in_org::<ControllerRow, _>(&mut *tx, SELECT_CONTROLLER, org, id.0).await?;
        let (doors,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM doors WHERE org_id = $1 AND controller_id = $2")
                .bind(org.0)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if doors > 0 {
            return Err(has_doors(doors));
        }
        delete_owned(&mut tx, "controllers", org, id.0)
            .await
            .map_err(|e| match e {
                // A door wired to it since the count above.
                StoreError::Database(e) if is_foreign_key_violation(&e) => has_doors(1),
                other => other,
            })?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::ControllerDeleted,
            Some(("controller", id.0)),
            event::deleted(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_controller_token(
        &self,
        org: OrgId,
        id: ControllerId,
        token_hash: &[u8],
        at: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<Controller, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE controllers SET token_hash = $3, token_issued_at = $4, updated_at = $4 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(token_hash)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let after: Controller =
            fetch_in_org::<ControllerRow, _>(&mut *tx, SELECT_CONTROLLER, org, id.0).await?;
        // The summary says when, never what: the token itself is nowhere but in its answer.
        record(
            &mut tx,
            org,
            audit,
            EventKind::ControllerTokenRotated,
            Some(("controller", id.0)),
            serde_json::json!({ "token_issued_at": at }),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn find_controller(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(OrgId, Controller)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Found {
            org_id: Uuid,
            #[sqlx(flatten)]
            controller: ControllerRow,
        }
        let found: Option<Found> = sqlx::query_as(concat!(
            "SELECT org_id, ",
            controller_columns!(),
            " FROM controllers WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        found
            .map(|f| Ok((OrgId(f.org_id), f.controller.try_into()?)))
            .transpose()
    }

    async fn set_controller_live(
        &self,
        org: OrgId,
        id: ControllerId,
        live: &ControllerLive,
    ) -> Result<(), StoreError> {
        // A stream that ends does not say offline over a newer stream of the same controller
        // (on this node or another), which has been heard from since: its last_seen_at is
        // newer than the ending one's.
        let done = sqlx::query(
            "UPDATE controllers SET connected = $3, last_seen_at = $4, rules_version = $5, \
             rules_in_sync = $6, events_waiting = $7, clock_skew_ms = $8, software_version = $9, \
             rules_confirmed_at = $10 WHERE org_id = $1 AND id = $2 \
             AND ($3 OR last_seen_at IS NULL OR $4 IS NULL OR last_seen_at <= $4)",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(live.online)
        .bind(live.last_seen_at)
        .bind(live.rules_version)
        .bind(live.rules_in_sync)
        .bind(live.events_waiting)
        .bind(live.clock_skew_ms)
        .bind(&live.software_version)
        .bind(live.rules_confirmed_at)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            // Superseded by a newer stream, or not there at all.
            let found: Option<(Uuid,)> =
                sqlx::query_as("SELECT id FROM controllers WHERE org_id = $1 AND id = $2")
                    .bind(org.0)
                    .bind(id.0)
                    .fetch_optional(self.writer())
                    .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }

    async fn store_controller_events(
        &self,
        org: OrgId,
        events: &[Event],
        states: &[DoorState],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        for state in states {
            sqlx::query(
                "INSERT INTO door_states (org_id, door_id, state, cause, at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS \
                 (SELECT 1 FROM doors WHERE org_id = $1 AND id = $2) \
                 ON CONFLICT (org_id, door_id) DO UPDATE SET state = excluded.state, \
                 cause = excluded.cause, at = excluded.at WHERE door_states.at <= excluded.at",
            )
            .bind(org.0)
            .bind(state.door_id.0)
            .bind(&state.state)
            .bind(&state.cause)
            .bind(state.at)
            .execute(&mut *tx)
            .await?;
        }
        // 10 values a row: well under both backends' limits.
        for chunk in events.chunks(500) {
            let mut q = super::events::insert_events();
            q.push_values(chunk, |mut row, e| {
                row.push_bind(e.id.0)
                    .push_bind(org.0)
                    .push_bind(e.at)
                    .push_bind(&e.kind)
                    .push_bind(e.actor.kind())
                    .push_bind(e.actor.id())
                    .push_bind(e.actor.name())
                    .push_bind(&e.object_kind)
                    .push_bind(e.object_id)
                    .push_bind(Json(&e.summary));
            });
            q.push(" ON CONFLICT (id) DO NOTHING");
            super::events::signal_inserted(&mut q, &[org]);
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_pairing_code(
        &self,
        org: OrgId,
        id: ControllerId,
        code_digest: &[u8],
        expires_at: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        // The controller's last code, if any, stops working.
        sqlx::query("DELETE FROM controller_pairings WHERE org_id = $1 AND controller_id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO controller_pairings (code_digest, org_id, controller_id, expires_at, \
             created_at) SELECT $1, $2, $3, $4, $5 WHERE EXISTS \
             (SELECT 1 FROM controllers WHERE org_id = $2 AND id = $3)",
        )
        .bind(code_digest)
        .bind(org.0)
        .bind(id.0)
        .bind(expires_at)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // The summary says until when, never the code.
        record(
            &mut tx,
            org,
            audit,
            EventKind::ControllerPairingCodeCreated,
            Some(("controller", id.0)),
            serde_json::json!({ "expires_at": expires_at }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pair_controller(
        &self,
        code_digest: &[u8],
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(OrgId, Controller)>, StoreError> {
        let mut tx = self.writer().begin().await?;
        // One statement: of two presenting the same code at once, one deletes the row.
        let spent: Option<(Uuid, Uuid, DateTime<Utc>)> = sqlx::query_as(
            "DELETE FROM controller_pairings WHERE code_digest = $1 \
             RETURNING org_id, controller_id, expires_at",
        )
        .bind(code_digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org, id, expires_at)) = spent else {
            return Ok(None);
        };
        if expires_at <= now {
            tx.commit().await?;
            return Ok(None);
        }
        let (org, id) = (OrgId(org), ControllerId(id));
        sqlx::query(
            "UPDATE controllers SET token_hash = $3, token_issued_at = $4, updated_at = $4 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let controller: Controller =
            fetch_in_org::<ControllerRow, _>(&mut *tx, SELECT_CONTROLLER, org, id.0).await?;
        let audit = Audit {
            actor: EventActor::Controller {
                controller_id: id,
                name: controller.name.clone(),
            },
            at: now,
        };
        record(
            &mut tx,
            org,
            &audit,
            EventKind::ControllerPaired,
            Some(("controller", id.0)),
            serde_json::json!({ "token_issued_at": now }),
        )
        .await?;
        tx.commit().await?;
        Ok(Some((org, controller)))
    }

    async fn list_door_states(&self, org: OrgId) -> Result<Vec<DoorState>, StoreError> {
        let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT door_id, state, cause, at FROM door_states WHERE org_id = $1 ORDER BY door_id",
        )
        .bind(org.0)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(door, state, cause, at)| DoorState {
                door_id: DoorId(door),
                state,
                cause,
                at,
            })
            .collect())
    }
}
