//! OpenID Connect identities, passkeys and the ceremonies between their requests. A ceremony
//! is taken by one `DELETE … RETURNING`, so two requests presenting the same handle cannot
//! both proceed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{AccountId, DeviceId, Email, EventActor, EventKind, OrgId};
use uuid::Uuid;

use super::{Backend, Conn, is_unique_violation};
use crate::{
    Audit, AuthFlow, EmailConfirmation, LinkedIdentity, Message, NewDevice, PasskeyRecord,
    ProviderIdentity, SignIn, SignInMethodStore, StoreError,
};

/// The account itself as the actor of its own change.
pub(super) async fn member_audit(
    conn: &mut Conn,
    account: AccountId,
    at: DateTime<Utc>,
) -> Result<Audit, StoreError> {
    let (first, last): (String, String) =
        sqlx::query_as("SELECT first_name, last_name FROM accounts WHERE id = $1")
            .bind(account.0)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Audit {
        actor: EventActor::Member {
            account_id: Some(account),
            name: format!("{first} {last}"),
        },
        at,
    })
}

/// Records `kind` with `summary` in each organization the account belongs to, on its
/// membership.
async fn on_record_everywhere(
    conn: &mut Conn,
    account: AccountId,
    kind: EventKind,
    summary: serde_json::Value,
    audit: &Audit,
) -> Result<(), StoreError> {
    let memberships: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT org_id, id FROM memberships WHERE account_id = $1")
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
    for (org, id) in memberships {
        super::events::record_all(
            conn,
            OrgId(org),
            audit,
            &[(kind, Some(("member", id)), summary.clone())],
        )
        .await?;
    }
    Ok(())
}

async fn insert_identity(
    conn: &mut Conn,
    account: AccountId,
    linked: &LinkedIdentity,
) -> Result<(), StoreError> {
    let owner: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT account_id, subject FROM oidc_identities \
         WHERE (issuer = $1 AND subject = $2) OR (issuer = $1 AND account_id = $3)",
    )
    .bind(&linked.identity.issuer)
    .bind(&linked.identity.subject)
    .bind(account.0)
    .fetch_optional(&mut *conn)
    .await?;
    match owner {
        Some((owner, subject)) if owner != account.0 || subject == linked.identity.subject => {
            return Err(identity_linked());
        }
        Some(_) => return Err(provider_linked()),
        None => {}
    }
    sqlx::query(
        "INSERT INTO oidc_identities \
         (id, account_id, provider, issuer, subject, email, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(linked.id)
    .bind(account.0)
    .bind(&linked.identity.provider)
    .bind(&linked.identity.issuer)
    .bind(&linked.identity.subject)
    .bind(&linked.email)
    .bind(linked.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            identity_linked()
        } else {
            e.into()
        }
    })?;
    Ok(())
}

fn identity_linked() -> StoreError {
    StoreError::exists(
        "identity_linked",
        None,
        "this provider account is already linked to a Lintel account",
    )
}

fn provider_linked() -> StoreError {
    StoreError::exists(
        "provider_linked",
        None,
        "another account at this provider is linked already; unlink it first",
    )
}

fn linked_summary(identity: &ProviderIdentity) -> serde_json::Value {
    serde_json::json!({ "provider": identity.provider })
}

/// Links the identity a completed sign-in was proven by, unless the account has it already.
pub(super) async fn link_on_sign_in(
    conn: &mut Conn,
    account: AccountId,
    via: &ProviderIdentity,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let known: Option<(Uuid,)> =
        sqlx::query_as("SELECT account_id FROM oidc_identities WHERE issuer = $1 AND subject = $2")
            .bind(&via.issuer)
            .bind(&via.subject)
            .fetch_optional(&mut *conn)
            .await?;
    if known.is_some_and(|(owner,)| owner == account.0) {
        return Ok(());
    }
    let linked = LinkedIdentity {
        id: Uuid::now_v7(),
        identity: via.clone(),
        email: email.to_owned(),
        created_at: now,
    };
    insert_identity(conn, account, &linked).await?;
    let audit = member_audit(conn, account, now).await?;
    on_record_everywhere(
        conn,
        account,
        EventKind::AccountProviderLinked,
        linked_summary(via),
        &audit,
    )
    .await
}

type PasskeyRow = (
    Uuid,
    Uuid,
    String,
    Vec<u8>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn passkey(row: PasskeyRow) -> PasskeyRecord {
    let (id, account, name, credential_id, credential, created_at, last_used_at) = row;
    PasskeyRecord {
        id,
        account_id: account.into(),
        name,
        credential_id,
        credential,
        created_at,
        last_used_at,
    }
}

const PASSKEY_COLUMNS: &str =
    "id, account_id, name, credential_id, credential, created_at, last_used_at";

/// Stores a passkey's new counter after it was used: `NotFound` when it was removed.
async fn passkey_used(
    conn: &mut Conn,
    passkey: Uuid,
    credential: &str,
    now: DateTime<Utc>,
) -> Result<AccountId, StoreError> {
    let owner: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1 \
         RETURNING account_id",
    )
    .bind(passkey)
    .bind(credential)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    owner.map(|(a,)| a.into()).ok_or(StoreError::NotFound)
}

impl Backend {
    /// Deletes the account's row `id` with `sql` (a `DELETE … RETURNING` of one text column)
    /// and records `kind` with that column as `field` of its summary, in one transaction.
    async fn delete_on_record(
        &self,
        sql: &'static str,
        (account, id): (AccountId, Uuid),
        (kind, field): (EventKind, &str),
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let gone: Option<(String,)> = sqlx::query_as(sql)
            .bind(id)
            .bind(account.0)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((value,)) = gone else {
            return Err(StoreError::NotFound);
        };
        let summary = serde_json::json!({ field: value });
        on_record_everywhere(&mut tx, account, kind, summary, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl SignInMethodStore for Backend {
    async fn create_flow(&self, flow: &AuthFlow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_flows \
             (handle_hash, kind, account_id, browser_hash, state, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&flow.handle_hash)
        .bind(flow.kind)
        .bind(flow.account_id.map(|a| a.0))
        .bind(flow.browser_hash.as_deref())
        .bind(&flow.state)
        .bind(flow.expires_at)
        .bind(flow.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn take_flow(
        &self,
        kind: &'static str,
        handle_hash: &[u8],
    ) -> Result<Option<AuthFlow>, StoreError> {
        type Row = (
            Option<Uuid>,
            Option<Vec<u8>>,
            String,
            DateTime<Utc>,
            DateTime<Utc>,
        );
        let row: Option<Row> = sqlx::query_as(
            "DELETE FROM auth_flows WHERE handle_hash = $1 AND kind = $2 \
             RETURNING account_id, browser_hash, state, expires_at, created_at",
        )
        .bind(handle_hash)
        .bind(kind)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.map(
            |(account, browser_hash, state, expires_at, created_at)| AuthFlow {
                handle_hash: handle_hash.to_vec(),
                kind,
                account_id: account.map(Into::into),
                browser_hash,
                state,
                expires_at,
                created_at,
            },
        ))
    }

    async fn create_confirmed_sign_in(
        &self,
        s: &SignIn,
        c: &EmailConfirmation,
        sms: Option<&Message>,
    ) -> Result<(), StoreError> {
        let (first, last) = match &s.registration {
            Some(r) => (Some(r.first_name.as_str()), Some(r.last_name.as_str())),
            None => (None, None),
        };
        let via = s.via.as_ref();
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO sign_ins (id, account_id, first_name, last_name, email, phone, \
             adds_phone, email_token_hash, email_expires_at, email_confirmed_at, session_hash, \
             code_hash, code_expires_at, code_failures, created_at, method, oidc_provider, \
             oidc_issuer, oidc_subject) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, \
             $17, $18)",
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
        .bind(c.now)
        .bind(&c.session_hash)
        .bind(sms.is_some().then_some(&c.code_hash))
        .bind(c.code_expires_at)
        .bind(s.created_at)
        .bind(if via.is_some() { "oidc" } else { "email" })
        .bind(via.map(|v| v.provider.as_str()))
        .bind(via.map(|v| v.issuer.as_str()))
        .bind(via.map(|v| v.subject.as_str()))
        .execute(&mut *tx)
        .await?;
        if let Some(sms) = sms {
            super::outbox::enqueue(&mut tx, sms).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn account_of_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<AccountId>, StoreError> {
        let row: Option<(Uuid,)> = sqlx::query_as(
            "SELECT account_id FROM oidc_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(a,)| a.into()))
    }

    async fn list_identities(&self, account: AccountId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let rows: Vec<(Uuid, String, String, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, provider, issuer, subject, email, created_at FROM oidc_identities \
             WHERE account_id = $1 ORDER BY id",
        )
        .bind(account.0)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, provider, issuer, subject, email, created_at)| LinkedIdentity {
                    id,
                    identity: ProviderIdentity {
                        provider,
                        issuer,
                        subject,
                    },
                    email,
                    created_at,
                },
            )
            .collect())
    }

    async fn link_identity(
        &self,
        account: AccountId,
        linked: &LinkedIdentity,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        insert_identity(&mut tx, account, linked).await?;
        on_record_everywhere(
            &mut tx,
            account,
            EventKind::AccountProviderLinked,
            linked_summary(&linked.identity),
            audit,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unlink_identity(
        &self,
        account: AccountId,
        id: Uuid,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        self.delete_on_record(
            "DELETE FROM oidc_identities WHERE id = $1 AND account_id = $2 RETURNING provider",
            (account, id),
            (EventKind::AccountProviderUnlinked, "provider"),
            audit,
        )
        .await
    }

    async fn invited(&self, email: &Email, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (invited,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE account_id IS NULL \
             AND invite_address = $1 AND (invite_expires_at IS NULL OR invite_expires_at > $2))",
        )
        .bind(email.as_str())
        .bind(now)
        .fetch_one(self.reader())
        .await?;
        Ok(invited)
    }

    async fn list_passkeys(&self, account: AccountId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let rows: Vec<PasskeyRow> = sqlx::query_as(&format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account.0)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(passkey).collect())
    }

    async fn find_passkey(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        let row: Option<PasskeyRow> = sqlx::query_as(&format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1"
        ))
        .bind(credential_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(passkey))
    }

    async fn add_passkey(&self, p: &PasskeyRecord, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO passkeys ({PASSKEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(p.id)
        .bind(p.account_id.0)
        .bind(&p.name)
        .bind(&p.credential_id)
        .bind(&p.credential)
        .bind(p.created_at)
        .bind(p.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::exists(
                    "passkey_exists",
                    Some("credential"),
                    "this passkey is registered already",
                )
            } else {
                e.into()
            }
        })?;
        on_record_everywhere(
            &mut tx,
            p.account_id,
            EventKind::AccountPasskeyAdded,
            serde_json::json!({ "name": p.name }),
            audit,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_passkey(
        &self,
        account: AccountId,
        id: Uuid,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        self.delete_on_record(
            "DELETE FROM passkeys WHERE id = $1 AND account_id = $2 RETURNING name",
            (account, id),
            (EventKind::AccountPasskeyRemoved, "name"),
            audit,
        )
        .await
    }

    async fn passkey_sign_in(
        &self,
        passkey: Uuid,
        credential: &str,
        device: &NewDevice,
    ) -> Result<(), StoreError> {
        let now = device.tokens.now;
        let mut tx = self.writer().begin().await?;
        let owner = passkey_used(&mut tx, passkey, credential, now).await?;
        if owner != device.account_id {
            return Err(StoreError::NotFound);
        }
        let (email, phone): (String, Option<String>) =
            sqlx::query_as("SELECT email, phone FROM accounts WHERE id = $1")
                .bind(owner.0)
                .fetch_one(&mut *tx)
                .await?;
        super::accounts::register_device(
            &mut tx,
            device,
            &email,
            phone.as_deref().unwrap_or_default(),
            false,
            serde_json::json!({ "method": "passkey" }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn passkey_verified_device(
        &self,
        passkey: Uuid,
        credential: &str,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let owner = passkey_used(&mut tx, passkey, credential, now).await?;
        let done = sqlx::query(
            "UPDATE devices SET pin_verified_at = $3, pin_failures = 0 \
             WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL",
        )
        .bind(device.0)
        .bind(owner.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
