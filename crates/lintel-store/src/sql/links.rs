//! Access links and the organization's quotas on them. Creating a link locks the
//! organization's row, so two links cannot both take the last of a quota.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};
use lintel_domain::{
    AccessLink, Delivery, Door, EventKind, GroupId, LinkId, LinkQuotas, LinkState, MembershipId,
    OrgId, Organization, event,
};
use uuid::Uuid;

use super::events::{lock_org, record};
use super::outbox::enqueue;
use super::{Backend, Conn, fetch_in_org, fetch_limit, page_from_rows};
use crate::rows::{DoorRow, LinkRow, OrgRow, to_i32};
use crate::{Audit, LinkFilter, LinkSort, LinkStore, NewLink, Page, PageRequest, StoreError};

macro_rules! link_columns {
    () => {
        "id, group_id, recipient_name, delivery, address, valid_from, valid_until, created_by, \
         created_by_name, created_at, revoked_at, last_used_at"
    };
}

const SELECT_LINK: &str = concat!(
    "SELECT ",
    link_columns!(),
    " FROM access_links WHERE org_id = $1 AND id = $2"
);

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

async fn quotas_in(conn: &mut Conn, org: OrgId) -> Result<LinkQuotas, StoreError> {
    let row: Option<(i32, i32)> =
        sqlx::query_as("SELECT email_links, sms_links_per_month FROM org_quotas WHERE org_id = $1")
            .bind(org.0)
            .fetch_optional(conn)
            .await?;
    Ok(
        row.map_or_else(LinkQuotas::default, |(email, sms)| LinkQuotas {
            email_links: to_u32(i64::from(email)),
            sms_links_per_month: to_u32(i64::from(sms)),
        }),
    )
}

async fn count(
    conn: &mut Conn,
    sql: &'static str,
    org: OrgId,
    at: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(org.0)
        .bind(at)
        .fetch_one(conn)
        .await?;
    Ok(to_u32(n))
}

/// Each sort as a key expression and a direction; `$6` is a time that stands for "never" at
/// the end of the order.
fn order(sort: LinkSort) -> (&'static str, &'static str) {
    match sort {
        LinkSort::Created => ("created_at", ">"),
        LinkSort::Name => ("recipient_name", ">"),
        LinkSort::LastUsed => ("COALESCE(last_used_at, $6)", "<"),
        LinkSort::ValidUntil => ("COALESCE(valid_until, $6)", ">"),
    }
}

/// Revokes the links and API keys a member made, as they leave or are removed: what a
/// person handed out must not outlast their place in the organization.
pub(super) async fn revoke_made_by(
    conn: &mut Conn,
    org: OrgId,
    member: MembershipId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    for table in ["access_links", "api_keys"] {
        sqlx::query(&format!(
            "UPDATE {table} SET revoked_at = $3 WHERE org_id = $1 AND created_by = $2 \
             AND revoked_at IS NULL"
        ))
        .bind(org.0)
        .bind(member.0)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl LinkStore for Backend {
    async fn link_quotas(&self, org: OrgId) -> Result<LinkQuotas, StoreError> {
        quotas_in(&mut *self.reader().acquire().await?, org).await
    }

    async fn set_link_quotas(
        &self,
        org: OrgId,
        quotas: &LinkQuotas,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let before = quotas_in(&mut tx, org).await?;
        sqlx::query(
            "INSERT INTO org_quotas (org_id, email_links, sms_links_per_month) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET email_links = $2, sms_links_per_month = $3",
        )
        .bind(org.0)
        .bind(to_i32(quotas.email_links))
        .bind(to_i32(quotas.sms_links_per_month))
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::OrganizationQuotasUpdated,
            Some(("organization", org.0)),
            event::changes(&before, quotas),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_link(
        &self,
        org: OrgId,
        new: &NewLink,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let link = &new.link;
        let mut tx = self.writer().begin().await?;
        lock_org(&mut tx, org).await?;
        match link.delivery {
            Delivery::Email => {
                let existing = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM access_links WHERE org_id = $1 AND delivery = 'email' \
                     AND revoked_at IS NULL AND (valid_until IS NULL OR valid_until > $2)",
                    org,
                    link.created_at,
                )
                .await?;
                if existing >= new.quotas.email_links {
                    return Err(StoreError::conflict(
                        "email_link_quota",
                        Some("delivery"),
                        format!(
                            "the organization has {existing} email links in use, its limit of {}; \
                             revoke some, or let them expire",
                            new.quotas.email_links
                        ),
                    ));
                }
            }
            Delivery::Sms => {
                let sent = count(
                    &mut tx,
                    "SELECT COUNT(*) FROM access_links WHERE org_id = $1 AND delivery = 'sms' \
                     AND created_at >= $2",
                    org,
                    new.month_start,
                )
                .await?;
                if sent >= new.quotas.sms_links_per_month {
                    return Err(StoreError::conflict(
                        "sms_link_quota",
                        Some("delivery"),
                        format!(
                            "the organization has sent {sent} SMS links this month, its limit of \
                             {}; send by email or by hand",
                            new.quotas.sms_links_per_month
                        ),
                    ));
                }
            }
            Delivery::Manual => {}
        }
        sqlx::query(concat!(
            "INSERT INTO access_links (org_id, ",
            link_columns!(),
            ", secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(org.0)
        .bind(link.id.0)
        .bind(link.group_id.0)
        .bind(&link.recipient_name)
        .bind(link.delivery.as_str())
        .bind(&link.address)
        .bind(link.valid_from)
        .bind(link.valid_until)
        .bind(link.created_by.map(|m| m.0))
        .bind(&link.created_by_name)
        .bind(link.created_at)
        .bind(link.revoked_at)
        .bind(link.last_used_at)
        .bind(&new.secret_hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if super::is_foreign_key_violation(&e) {
                StoreError::MissingReference { field: "group_id" }
            } else {
                e.into()
            }
        })?;
        if let Some(message) = &new.message {
            enqueue(&mut tx, message).await?;
        }
        record(
            &mut tx,
            org,
            audit,
            EventKind::LinkCreated,
            Some(("link", link.id.0)),
            event::created(link),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_link(&self, org: OrgId, id: LinkId) -> Result<AccessLink, StoreError> {
        fetch_in_org::<LinkRow, _>(self.reader(), SELECT_LINK, org, id.0).await
    }

    async fn list_links(
        &self,
        org: OrgId,
        filter: LinkFilter,
        page: PageRequest,
    ) -> Result<Page<AccessLink>, StoreError> {
        let state = match filter.state {
            None => "1 = 1",
            Some(LinkState::Revoked) => "revoked_at IS NOT NULL",
            Some(LinkState::Expired) => {
                "revoked_at IS NULL AND valid_until IS NOT NULL AND valid_until <= $5"
            }
            Some(LinkState::Scheduled) => {
                "revoked_at IS NULL AND valid_from > $5 AND (valid_until IS NULL OR valid_until > $5)"
            }
            Some(LinkState::Active) => {
                "revoked_at IS NULL AND (valid_from IS NULL OR valid_from <= $5) \
                 AND (valid_until IS NULL OR valid_until > $5)"
            }
        };
        let (key, after) = order(filter.sort);
        // Times both backends self and compare alike (SQLite compares the text).
        let (direction, never) = if after == "<" {
            ("DESC", Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap())
        } else {
            ("ASC", Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap())
        };
        // Keyset pages: after the cursor's row in (key, id) order.
        let sql = format!(
            "SELECT {} FROM access_links l WHERE org_id = $1 AND ($2 IS NULL OR group_id = $2) \
             AND ($3 IS NULL OR created_by = $3) AND {state} \
             AND ($4 IS NULL OR ({key}, id) {after} \
                  (SELECT {key}, id FROM access_links WHERE org_id = $1 AND id = $4)) \
             ORDER BY {key} {direction}, id {direction} LIMIT $7",
            link_columns!()
        );
        let rows = sqlx::query_as::<_, LinkRow>(&sql)
            .bind(org.0)
            .bind(filter.group.map(|g| g.0))
            .bind(filter.created_by.map(|m| m.0))
            .bind(page.after)
            .bind(filter.now)
            .bind(never)
            .bind(fetch_limit(page))
            .fetch_all(self.reader())
            .await?;
        page_from_rows(rows, page, |l: &AccessLink| l.id.0)
    }

    async fn revoke_link(
        &self,
        org: OrgId,
        id: LinkId,
        audit: &Audit,
    ) -> Result<AccessLink, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut link: AccessLink =
            fetch_in_org::<LinkRow, _>(&mut *tx, SELECT_LINK, org, id.0).await?;
        if link.revoked_at.is_none() {
            sqlx::query("UPDATE access_links SET revoked_at = $3 WHERE org_id = $1 AND id = $2")
                .bind(org.0)
                .bind(id.0)
                .bind(audit.at)
                .execute(&mut *tx)
                .await?;
            let before = link.clone();
            link.revoked_at = Some(audit.at);
            record(
                &mut tx,
                org,
                audit,
                EventKind::LinkRevoked,
                Some(("link", id.0)),
                event::changes(&before, &link),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(link)
    }

    async fn find_link(
        &self,
        hash: &[u8],
    ) -> Result<Option<(Organization, AccessLink)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let found: Option<(Uuid, Uuid)> =
            sqlx::query_as("SELECT org_id, id FROM access_links WHERE secret_hash = $1")
                .bind(hash)
                .fetch_optional(&mut *conn)
                .await?;
        let Some((org, id)) = found else {
            return Ok(None);
        };
        let link = fetch_in_org::<LinkRow, _>(&mut *conn, SELECT_LINK, OrgId(org), id).await?;
        let org: Organization = sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE id = $1"
        ))
        .bind(org)
        .fetch_one(&mut *conn)
        .await?
        .try_into()?;
        Ok(Some((org, link)))
    }

    async fn touch_link(
        &self,
        org: OrgId,
        id: LinkId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE access_links SET last_used_at = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .bind(at)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn group_doors(&self, org: OrgId, group: GroupId) -> Result<Vec<Door>, StoreError> {
        let rows: Vec<DoorRow> = sqlx::query_as(concat!(
            "SELECT ",
            door_columns!(),
            " FROM doors WHERE org_id = $1 AND id IN (SELECT ad.door_id FROM access_doors ad \
             JOIN access_groups ag ON ag.org_id = ad.org_id AND ag.access_id = ad.access_id \
             JOIN accesses a ON a.org_id = ad.org_id AND a.id = ad.access_id \
             WHERE ad.org_id = $1 AND ag.group_id = $2 AND a.status NOT IN ('deleting', 'deleted')) \
             ORDER BY name, id"
        ))
        .bind(org.0)
        .bind(group.0)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Door::try_from).collect()
    }
}
