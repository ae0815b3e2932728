//! Accounts, sign-in attempts, devices and the outbox. Counters and single-use steps are
//! single conditional statements, so concurrent requests can neither skip a failure nor use
//! a link or code twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{Account, AccountId, Email, Phone, SignInId};
use uuid::Uuid;

use super::{Backend, Conn, Db, is_unique_violation};
use crate::rows::{AccountRow, SignInRow};
use crate::{
    AccountRecord, AccountStore, Change, EmailConfirmation, Message, NewDevice, Purge, SignIn,
    StoreError,
};

macro_rules! account_columns {
    () => {
        "id, first_name, last_name, email, phone, failed_codes, locked_until, created_at, updated_at, \
         language"
    };
}
macro_rules! sign_in_columns {
    () => {
        "id, account_id, first_name, last_name, email, phone, adds_phone, email_token_hash, \
         email_expires_at, email_confirmed_at, code_hash, code_expires_at, code_failures, \
         finished_at, created_at, oidc_provider, oidc_issuer, oidc_subject"
    };
}
async fn account_where(
    store: &Backend,
    column: &'static str,
    value: &str,
) -> Result<Option<AccountRecord>, StoreError> {
    let sql = format!(
        concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE {} = $1"
        ),
        column
    );
    sqlx::query_as::<Db, AccountRow>(&sql)
        .bind(value)
        .fetch_optional(store.reader())
        .await?
        .map(AccountRecord::try_from)
        .transpose()
}

pub(super) async fn find_sign_in(
    store: &Backend,
    column: &'static str,
    hash: &[u8],
) -> Result<Option<SignIn>, StoreError> {
    let sql = format!(
        concat!(
            "SELECT ",
            sign_in_columns!(),
            " FROM sign_ins WHERE {} = $1"
        ),
        column
    );
    sqlx::query_as::<Db, SignInRow>(&sql)
        .bind(hash)
        .fetch_optional(store.reader())
        .await?
        .map(SignIn::try_from)
        .transpose()
}

/// Gives an account that has no phone (its number was taken over by its new owner) the
/// phone just proven, and signs out whatever it still had, as a change of phone does.
async fn add_phone(
    conn: &mut Conn,
    account: AccountId,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let added = sqlx::query(
        "UPDATE accounts SET phone = $2, updated_at = $3 WHERE id = $1 AND phone IS NULL",
    )
    .bind(account.0)
    .bind(phone)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::exists(
                "account_exists",
                Some("phone"),
                "another account has this phone number",
            )
        } else {
            e.into()
        }
    })?;
    if added.rows_affected() == 0 {
        return Err(StoreError::conflict(
            "sign_in_ended",
            None,
            "this account has a phone number again; sign in with it",
        ));
    }
    super::devices::sign_out_everywhere(conn, account, now).await
}

/// Registers a signed-in device and puts the sign-in on record: invitations to its proven
/// `email` and `phone` attach, and each of the account's organizations records
/// `account.signed_in` with `method` (and `account.phone_recovered` when `phone_recovered`).
pub(super) async fn register_device(
    conn: &mut Conn,
    device: &NewDevice,
    email: &str,
    phone: &str,
    phone_recovered: bool,
    method: serde_json::Value,
) -> Result<(), StoreError> {
    let now = device.tokens.now;
    sqlx::query(concat!(
        "INSERT INTO devices (",
        device_columns!(),
        ", auth_hash) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $6, $6, NULL, $8)"
    ))
    .bind(device.id.0)
    .bind(device.account_id.0)
    .bind(device.kind.as_str())
    .bind(&device.name)
    .bind(&device.pin_hash)
    .bind(now)
    .bind(device.tokens.auth_expires_at)
    .bind(&device.tokens.auth_hash)
    .execute(&mut *conn)
    .await?;
    super::devices::insert_reissue(conn, device.id, &device.tokens.reissue_hash, now).await?;
    let audit = super::sign_in_methods::member_audit(conn, device.account_id, now).await?;
    super::members::on_sign_in(
        conn,
        device.account_id,
        email,
        phone,
        phone_recovered,
        method,
        &audit,
    )
    .await
}

#[async_trait]
impl AccountStore for Backend {
    async fn get_account(&self, id: AccountId) -> Result<AccountRecord, StoreError> {
        sqlx::query_as::<Db, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    async fn find_account_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<AccountRecord>, StoreError> {
        account_where(self, "email", email.as_str()).await
    }

    async fn find_account_by_phone(
        &self,
        phone: &Phone,
    ) -> Result<Option<AccountRecord>, StoreError> {
        account_where(self, "phone", phone.as_str()).await
    }

    async fn update_account(
        &self,
        id: AccountId,
        change: Change<'_, Account>,
    ) -> Result<Account, StoreError> {
        let mut tx = self.writer().begin().await?;
        let record: AccountRecord = sqlx::query_as::<Db, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1",
            for_update!()
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()?;
        let mut account = record.account;
        change(&mut account)?;
        sqlx::query(
            "UPDATE accounts SET first_name = $2, last_name = $3, updated_at = $4, language = $5 \
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(&account.first_name)
        .bind(&account.last_name)
        .bind(account.updated_at)
        .bind(&account.language)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn unlock_account(&self, email: &Email) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET failed_codes = 0, locked_until = NULL WHERE email = $1",
        )
        .bind(email.as_str())
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn create_sign_in(&self, s: &SignIn, email: &Message) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let (first, last) = match &s.registration {
            Some(r) => (Some(r.first_name.as_str()), Some(r.last_name.as_str())),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO sign_ins (id, account_id, first_name, last_name, email, phone, \
             adds_phone, email_token_hash, email_expires_at, code_failures, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)",
        )
        .bind(s.id.0)
        .bind(s.account_id.map(|a| a.0))
        .bind(first)
        .bind(last)
        .bind(s.email.as_str())
        .bind(s.phone.as_str())
        .bind(s.adds_phone)
        .bind(&s.email_token_hash)
        .bind(s.email_expires_at)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        super::outbox::enqueue(&mut tx, email).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_sign_in_by_email_token(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError> {
        find_sign_in(self, "email_token_hash", hash).await
    }

    async fn find_sign_in_by_session(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError> {
        find_sign_in(self, "session_hash", hash).await
    }

    async fn confirm_sign_in_email(
        &self,
        id: SignInId,
        c: &EmailConfirmation,
        sms: &Message,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE sign_ins SET email_confirmed_at = $2, session_hash = $3, code_hash = $4, \
             code_expires_at = $5 \
             WHERE id = $1 AND email_confirmed_at IS NULL AND finished_at IS NULL",
        )
        .bind(id.0)
        .bind(c.now)
        .bind(&c.session_hash)
        .bind(&c.code_hash)
        .bind(c.code_expires_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        super::outbox::enqueue(&mut tx, sms).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn fail_sign_in_code(
        &self,
        id: SignInId,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_after: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let mut tx = self.writer().begin().await?;
        let failures = super::limits::confirm_failure(
            &mut tx,
            "sign_ins",
            "code_failures",
            "finished_at",
            id.0,
            now,
            max_failures,
        )
        .await?;
        let (account,): (Option<Uuid>,) =
            sqlx::query_as("SELECT account_id FROM sign_ins WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if let Some(account) = account {
            sqlx::query(
                "UPDATE accounts SET failed_codes = failed_codes + 1, \
                 locked_until = CASE WHEN failed_codes + 1 >= $2 THEN $3 ELSE locked_until END \
                 WHERE id = $1",
            )
            .bind(account)
            .bind(i32::try_from(lock_after).unwrap_or(i32::MAX))
            .bind(lock_until)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(failures)
    }

    async fn complete_sign_in(
        &self,
        id: SignInId,
        account: Option<&Account>,
        device: &NewDevice,
        notices: &[Message],
    ) -> Result<(), StoreError> {
        let now = device.tokens.now;
        let mut tx = self.writer().begin().await?;
        type Finished = (
            bool,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            bool,
        );
        let done: Option<Finished> = sqlx::query_as(
            "UPDATE sign_ins SET finished_at = $2 \
             WHERE id = $1 AND finished_at IS NULL AND email_confirmed_at IS NOT NULL \
             RETURNING adds_phone, phone, email, oidc_provider, oidc_issuer, oidc_subject, \
             code_hash IS NOT NULL",
        )
        .bind(id.0)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((adds_phone, proven_phone, email, provider, issuer, subject, with_code)) = done
        else {
            return Err(StoreError::conflict(
                "sign_in_ended",
                None,
                "this sign-in has already ended; start again",
            ));
        };
        let via = match (provider, issuer, subject) {
            (Some(provider), Some(issuer), Some(subject)) => Some(crate::ProviderIdentity {
                provider,
                issuer,
                subject,
            }),
            _ => None,
        };
        if adds_phone {
            add_phone(&mut tx, device.account_id, &proven_phone, now).await?;
        }
        match account {
            Some(a) => {
                let phone = a.phone.as_ref().map(Phone::as_str);
                let taken: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT email, phone FROM accounts WHERE email = $1 OR phone = $2",
                )
                .bind(a.email.as_str())
                .bind(phone)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((email, _)) = taken {
                    return Err(if email == a.email.as_str() {
                        StoreError::exists(
                            "email_taken",
                            Some("email"),
                            "an account with this email exists",
                        )
                    } else {
                        StoreError::exists(
                            "account_exists",
                            Some("phone"),
                            "an account with this phone number exists",
                        )
                    });
                }
                sqlx::query(concat!(
                    "INSERT INTO accounts (",
                    account_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, 0, NULL, $6, $7, $8)"
                ))
                .bind(a.id.0)
                .bind(&a.first_name)
                .bind(&a.last_name)
                .bind(a.email.as_str())
                .bind(phone)
                .bind(a.created_at)
                .bind(a.updated_at)
                .bind(&a.language)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::exists(
                            "account_exists",
                            None,
                            "an account with these details exists",
                        )
                    } else {
                        e.into()
                    }
                })?;
            }
            None => {
                sqlx::query("UPDATE accounts SET failed_codes = 0 WHERE id = $1")
                    .bind(device.account_id.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let method = match &via {
            Some(via) => serde_json::json!({
                "method": "oidc",
                "provider": via.provider,
                "sms_code": with_code,
            }),
            None => serde_json::json!({ "method": "email" }),
        };
        register_device(&mut tx, device, &email, &proven_phone, adds_phone, method).await?;
        // After the invitations attached, so a new account's organizations see it too.
        if let Some(via) = &via {
            super::sign_in_methods::link_on_sign_in(&mut tx, device.account_id, via, &email, now)
                .await?;
        }
        for notice in notices {
            super::outbox::enqueue(&mut tx, notice).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn purge(&self, c: &Purge) -> Result<u64, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut deleted = 0;
        for (sql, cutoff) in [
            ("DELETE FROM send_events WHERE sent_at < $1", c.sends_before),
            (
                "DELETE FROM spent_proofs WHERE spent_at < $1",
                c.sends_before,
            ),
            (
                "DELETE FROM sign_ins WHERE created_at < $1",
                c.attempts_before,
            ),
            (
                "DELETE FROM verifications WHERE created_at < $1",
                c.attempts_before,
            ),
            (
                "DELETE FROM auth_flows WHERE expires_at < $1",
                c.flows_before,
            ),
            (
                "DELETE FROM outbox WHERE created_at < $1",
                c.messages_before,
            ),
            (
                "DELETE FROM reissue_tokens WHERE is_current = FALSE AND created_at < $1",
                c.tokens_before,
            ),
            (
                "DELETE FROM devices WHERE revoked_at IS NOT NULL AND revoked_at < $1",
                c.tokens_before,
            ),
            (
                "DELETE FROM key_session_reissues WHERE is_current = FALSE AND created_at < $1",
                c.tokens_before,
            ),
            // A session's last reissue token came with its auth token: both are long expired.
            (
                "DELETE FROM key_sessions WHERE auth_expires_at < $1",
                c.tokens_before,
            ),
        ] {
            deleted += sqlx::query(sql)
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
