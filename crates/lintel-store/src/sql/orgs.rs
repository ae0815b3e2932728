//! Organizations: the tenants.

use async_trait::async_trait;
use lintel_domain::{EventKind, OrgId, Organization, event};
use sqlx::types::Json;

use super::events::record;
use super::{Backend, fetch_limit, is_unique_violation, page_from_rows};
use crate::rows::OrgRow;
use crate::{Audit, Change, NewMember, OrgStore, Page, PageRequest, StoreError};

fn slug_taken(slug: &str) -> StoreError {
    StoreError::exists(
        "slug_taken",
        Some("slug"),
        format!("an organization with slug {slug:?} already exists"),
    )
}

#[async_trait]
impl OrgStore for Backend {
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
            super::members::add_member(&mut tx, org.id, owner, audit).await?;
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
}
