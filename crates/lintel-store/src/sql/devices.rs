//! Devices: a person's apps and browsers, their tokens and app PINs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{AccountId, Device, DeviceId};
use uuid::Uuid;

use super::limits::confirm_failure;
use super::{Backend, Conn, Db};
use crate::rows::{DeviceInOrgRow, DeviceRow};
use crate::{DeviceInOrg, DeviceRecord, DeviceStore, Reissue, StoreError};

pub(super) async fn insert_reissue(
    conn: &mut Conn,
    device: DeviceId,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reissue_tokens (hash, device_id, is_current, created_at) \
         VALUES ($1, $2, TRUE, $3)",
    )
    .bind(hash)
    .bind(device.0)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Signs out every device of the account and ends its sign-ins and verifications in flight,
/// which were started against its old addresses.
pub(super) async fn sign_out_everywhere(
    conn: &mut Conn,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for sql in [
        "UPDATE devices SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
        "UPDATE sign_ins SET finished_at = $2 WHERE account_id = $1 AND finished_at IS NULL",
        "UPDATE verifications SET finished_at = $2 WHERE account_id = $1 AND finished_at IS NULL",
    ] {
        sqlx::query(sql)
            .bind(account.0)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl DeviceStore for Backend {
    async fn find_device_by_auth(&self, hash: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        sqlx::query_as::<Db, DeviceRow>(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE auth_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(self.reader())
        .await?
        .map(DeviceRecord::try_from)
        .transpose()
    }

    async fn device_in_org(
        &self,
        hash: &[u8],
        slug: &str,
    ) -> Result<Option<DeviceInOrg>, StoreError> {
        let rows = sqlx::query_as::<Db, DeviceInOrgRow>(
            "SELECT d.id, d.account_id, d.kind, d.name, d.pin_hash, d.pin_verified_at, \
             d.pin_failures, d.auth_expires_at, d.created_at, d.last_seen_at, d.revoked_at, \
             o.id AS o_id, o.slug AS o_slug, o.name AS o_name, o.time_zone AS o_time_zone, \
             o.settings AS o_settings, o.created_at AS o_created_at, \
             o.updated_at AS o_updated_at, v.version AS rules_version, \
             m.id AS m_id, m.account_id AS m_account_id, m.status AS m_status, \
             m.areas AS m_areas, m.invite_channel AS m_invite_channel, \
             m.invite_address AS m_invite_address, m.invite_expires_at AS m_invite_expires_at, \
             m.created_at AS m_created_at, m.updated_at AS m_updated_at, \
             a.first_name, a.last_name, a.email, a.phone, g.group_id \
             FROM devices d \
             LEFT JOIN organizations o ON o.slug = $2 \
             LEFT JOIN rule_versions v ON v.org_id = o.id \
             LEFT JOIN memberships m ON m.org_id = o.id AND m.account_id = d.account_id \
             LEFT JOIN accounts a ON a.id = m.account_id \
             LEFT JOIN membership_groups g ON g.org_id = o.id AND g.membership_id = m.id \
             WHERE d.auth_hash = $1 ORDER BY g.group_id",
        )
        .bind(hash)
        .bind(slug)
        .fetch_all(self.reader())
        .await?;
        crate::rows::device_in_org(rows)
    }

    async fn get_device(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> Result<DeviceRecord, StoreError> {
        sqlx::query_as::<Db, DeviceRow>(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL"
        ))
        .bind(device.0)
        .bind(account.0)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        browser_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE devices SET last_seen_at = $2, auth_expires_at = CASE WHEN kind = 'browser' \
             THEN $4 ELSE auth_expires_at END WHERE id = $1 AND last_seen_at < $3",
        )
        .bind(id.0)
        .bind(now)
        .bind(now - crate::DEVICE_TOUCH_EVERY)
        .bind(browser_expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn reissue_device(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &crate::FreshTokens,
    ) -> Result<Reissue, StoreError> {
        let mut tx = self.writer().begin().await?;
        let found: Option<(Uuid, bool, Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT d.id, t.is_current, d.account_id, d.revoked_at \
             FROM reissue_tokens t JOIN devices d ON d.id = t.device_id \
             WHERE t.hash = $1 AND t.created_at > $2",
        )
        .bind(presented)
        .bind(issued_after)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match found {
            None | Some((_, _, _, Some(_))) => Reissue::Unknown,
            Some((device, false, _, None)) => {
                sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1")
                    .bind(device)
                    .bind(fresh.now)
                    .execute(&mut *tx)
                    .await?;
                Reissue::Reused {
                    device: device.into(),
                }
            }
            Some((device, true, account, None)) => {
                // Only one of two concurrent rotations of the same token may win.
                let rotated = sqlx::query(
                    "UPDATE reissue_tokens SET is_current = FALSE WHERE hash = $1 AND is_current",
                )
                .bind(presented)
                .execute(&mut *tx)
                .await?;
                if rotated.rows_affected() == 0 {
                    Reissue::Unknown
                } else {
                    sqlx::query(
                        "UPDATE devices SET auth_hash = $2, auth_expires_at = $3, last_seen_at = $4 \
                         WHERE id = $1",
                    )
                    .bind(device)
                    .bind(&fresh.auth_hash)
                    .bind(fresh.auth_expires_at)
                    .bind(fresh.now)
                    .execute(&mut *tx)
                    .await?;
                    insert_reissue(&mut tx, device.into(), &fresh.reissue_hash, fresh.now).await?;
                    Reissue::Rotated {
                        device: device.into(),
                        account: account.into(),
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn app_pin_verified(
        &self,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE devices SET pin_verified_at = $2, pin_failures = 0 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(device.0)
        .bind(now)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn app_pin_wrong(
        &self,
        device: DeviceId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        let mut conn = self.writer().acquire().await?;
        confirm_failure(
            &mut conn,
            "devices",
            "pin_failures",
            "revoked_at",
            device.0,
            now,
            max_failures,
        )
        .await
    }

    async fn list_devices(&self, account: AccountId) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query_as::<Db, DeviceRow>(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id"
        ))
        .bind(account.0)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|r| DeviceRecord::try_from(r).map(|d| d.device))
            .collect()
    }

    async fn revoke_device(
        &self,
        account: AccountId,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE devices SET revoked_at = $3 \
             WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL",
        )
        .bind(device.0)
        .bind(account.0)
        .bind(now)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
