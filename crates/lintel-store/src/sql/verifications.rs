//! Codes that prove an address before a change, and the changes they unlock: a new email or
//! phone, erasing an account, detaching a recycled phone. Each completion is one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{AccountId, EventKind, VerificationId};
use uuid::Uuid;

use super::devices::sign_out_everywhere;
use super::limits::confirm_failure;
use super::outbox::enqueue;
use super::{Backend, Conn, Db};
use crate::rows::VerificationRow;
use crate::{Message, Purpose, StoreError, Verification, VerificationStore};

/// Gives `account` the new `column` (email or phone), unless another account has it, and
/// signs out every device.
async fn replace_contact(
    conn: &mut Conn,
    account: AccountId,
    column: &'static str,
    value: &str,
    taken: StoreError,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let other: Option<(Uuid,)> = sqlx::query_as(&format!(
        "SELECT id FROM accounts WHERE {column} = $1 AND id <> $2"
    ))
    .bind(value)
    .bind(account.0)
    .fetch_optional(&mut *conn)
    .await?;
    if other.is_some() {
        return Err(taken);
    }
    sqlx::query(&format!(
        "UPDATE accounts SET {column} = $2, updated_at = $3 WHERE id = $1"
    ))
    .bind(account.0)
    .bind(value)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sign_out_everywhere(conn, account, now).await
}

/// Erases an account and the personal data kept about it. This is the one place deletion
/// happens: whatever belongs to an account is removed or anonymised here, in the same
/// transaction. Memberships go with it (cascade), and with them their cards and PIN codes;
/// its events keep an anonymous actor, the guest links it made are revoked, and it may not be
/// an organization's last owner.
async fn erase_account(
    conn: &mut Conn,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let contact: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
            .bind(account.0)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((email, phone)) = contact else {
        return Err(StoreError::NotFound);
    };
    super::members::ensure_not_last_owner(&mut *conn, account).await?;
    // Its memberships go: the organizations' decision engines must hear of each.
    let memberships: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT org_id, id FROM memberships WHERE account_id = $1")
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
    for (org, membership) in memberships {
        // The guest links it made go too (SPEC §2).
        super::links::revoke_made_by(
            &mut *conn,
            lintel_domain::OrgId(org),
            membership.into(),
            now,
        )
        .await?;
        super::events::bump_rules(
            &mut *conn,
            lintel_domain::OrgId(org),
            &[(EventKind::MemberErased, Some(membership))],
            now,
        )
        .await?;
    }
    // Memberships go with the account (cascade); invitations it sent stay the organization's.
    let addresses: Vec<String> = [Some(email), phone].into_iter().flatten().collect();
    super::members::anonymise_events(&mut *conn, account, &addresses).await?;
    for address in addresses {
        // Messages and send records name the address; registrations never finished do too.
        for sql in [
            "DELETE FROM outbox WHERE recipient = $1",
            "DELETE FROM sign_ins WHERE email = $1 OR phone = $1",
            "DELETE FROM verifications WHERE target = $1",
        ] {
            sqlx::query(sql).bind(&address).execute(&mut *conn).await?;
        }
        sqlx::query("DELETE FROM send_events WHERE rate_key = $1 OR rate_key = $2")
            .bind(format!("email:{address}"))
            .bind(format!("phone:{address}"))
            .execute(&mut *conn)
            .await?;
    }
    // Devices, their tokens, sign-ins and verifications of the account go with it (cascade).
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(account.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl VerificationStore for Backend {
    async fn create_verification(
        &self,
        v: &Verification,
        code: Option<&Message>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO verifications (id, account_id, purpose, target, handle_hash, code_hash, \
             expires_at, failures, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
        )
        .bind(v.id.0)
        .bind(v.account_id.map(|a| a.0))
        .bind(v.purpose.as_str())
        .bind(&v.target)
        .bind(&v.handle_hash)
        .bind(&v.code_hash)
        .bind(v.expires_at)
        .bind(v.created_at)
        .execute(&mut *tx)
        .await?;
        if let Some(code) = code {
            enqueue(&mut tx, code).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn find_verification(
        &self,
        handle_hash: &[u8],
    ) -> Result<Option<Verification>, StoreError> {
        sqlx::query_as::<Db, VerificationRow>(
            "SELECT id, account_id, purpose, target, handle_hash, code_hash, expires_at, failures, \
             finished_at, created_at FROM verifications WHERE handle_hash = $1",
        )
        .bind(handle_hash)
        .fetch_optional(self.reader())
        .await?
        .map(Verification::try_from)
        .transpose()
    }

    async fn fail_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        let mut conn = self.writer().acquire().await?;
        confirm_failure(
            &mut conn,
            "verifications",
            "failures",
            "finished_at",
            id.0,
            now,
            max_failures,
        )
        .await
    }

    async fn complete_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        notice: Option<&Message>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let finished: Option<(Option<Uuid>, String, String)> = sqlx::query_as(
            "UPDATE verifications SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL \
             RETURNING account_id, purpose, target",
        )
        .bind(id.0)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account, purpose, target)) = finished else {
            return Err(StoreError::conflict(
                "verification_ended",
                None,
                "this code has already been used or has ended; ask for a new one",
            ));
        };
        let purpose = Purpose::parse(&purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("verification purpose {purpose}")))?;
        let account = account.map(AccountId::from);
        match (purpose, account) {
            (Purpose::ChangeEmail, Some(account)) => {
                let taken = StoreError::exists(
                    "email_taken",
                    Some("email"),
                    "another account has this email",
                );
                replace_contact(&mut tx, account, "email", &target, taken, now).await?;
            }
            (Purpose::ChangePhone, Some(account)) => {
                let taken = StoreError::exists(
                    "account_exists",
                    Some("phone"),
                    "another account has this phone number",
                );
                replace_contact(&mut tx, account, "phone", &target, taken, now).await?;
            }
            (Purpose::DeleteAccount, Some(account)) => erase_account(&mut tx, account, now).await?,
            (Purpose::ResetPhone, None) => {
                let holder: Option<(Uuid,)> =
                    sqlx::query_as("SELECT id FROM accounts WHERE phone = $1")
                        .bind(&target)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some((holder,)) = holder {
                    sqlx::query("UPDATE accounts SET phone = NULL, updated_at = $2 WHERE id = $1")
                        .bind(holder)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sign_out_everywhere(&mut tx, holder.into(), now).await?;
                }
            }
            (purpose, account) => {
                return Err(StoreError::Corrupt(format!(
                    "verification {} is {} with account {account:?}",
                    id,
                    purpose.as_str()
                )));
            }
        }
        if let Some(notice) = notice {
            enqueue(&mut tx, notice).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
