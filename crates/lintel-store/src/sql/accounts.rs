//! Accounts, sign-in attempts, devices and the outbox. Counters and single-use steps are
//! single conditional statements, so concurrent requests can neither skip a failure nor use
//! a link or code twice.

use chrono::{DateTime, Duration, Utc};
use lintel_domain::{Account, AccountId, Device, DeviceId, Email, MessageId, Phone, SignInId};
use uuid::Uuid;

use super::{Backend, Conn, Db, is_unique_violation};
use crate::rows::{AccountRow, DeviceRow, MessageRow, SignInRow};
use crate::{
    AccountRecord, Attempt, Change, DeviceRecord, EmailConfirmation, Message, NewDevice, Purge,
    Reissue, SignIn, StoreError,
};

macro_rules! account_columns {
    () => {
        "id, first_name, last_name, email, phone, failed_codes, locked_until, created_at, updated_at"
    };
}
macro_rules! sign_in_columns {
    () => {
        "id, account_id, first_name, last_name, email, phone, adds_phone, email_token_hash, \
         email_expires_at, email_confirmed_at, code_hash, code_expires_at, code_failures, \
         finished_at, created_at"
    };
}
macro_rules! device_columns {
    () => {
        "id, account_id, kind, name, pin_hash, pin_verified_at, pin_failures, auth_expires_at, \
         created_at, last_seen_at, revoked_at"
    };
}

/// How often `last_seen_at` of a device is written at most.
const TOUCH_EVERY: Duration = Duration::seconds(60);

fn conflict(code: &'static str, field: Option<&'static str>, message: &str) -> StoreError {
    StoreError::Conflict {
        code,
        field,
        message: message.to_owned(),
    }
}

/// Counts one more attempt in `counter` of row `id` of `table` before its secret is compared,
/// unless `max` are counted already (wrong in a row, or being compared right now): so parallel
/// attempts can never compare more than `max` guesses. `Some(false)`: `max` are counted;
/// `None`: the row has ended (`ends` is set). The names are ours, never user input.
pub(super) async fn start_attempt(
    conn: &mut Conn,
    table: &'static str,
    counter: &'static str,
    ends: &'static str,
    id: Uuid,
    max: u32,
) -> Result<Option<bool>, StoreError> {
    let sql = format!(
        "UPDATE {table} SET {counter} = {counter} + 1 \
         WHERE id = $1 AND {ends} IS NULL AND {counter} < $2 RETURNING {counter}"
    );
    let counted: Option<(i32,)> = sqlx::query_as(&sql)
        .bind(id)
        .bind(i32::try_from(max).unwrap_or(i32::MAX))
        .fetch_optional(&mut *conn)
        .await?;
    if counted.is_some() {
        return Ok(Some(true));
    }
    let live: Option<(i32,)> = sqlx::query_as(&format!(
        "SELECT 1 FROM {table} WHERE id = $1 AND {ends} IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(live.map(|_| false))
}

/// An attempt counted by `start_attempt` was wrong: ends the row (sets `ends` to `now`) when
/// `max` are counted. Returns the count; `NotFound` when the row has already ended.
pub(super) async fn confirm_failure(
    conn: &mut Conn,
    table: &'static str,
    counter: &'static str,
    ends: &'static str,
    id: Uuid,
    now: DateTime<Utc>,
    max: u32,
) -> Result<u32, StoreError> {
    let sql = format!(
        "UPDATE {table} SET {ends} = CASE WHEN {counter} >= $3 THEN $2 ELSE {ends} END \
         WHERE id = $1 AND {ends} IS NULL RETURNING {counter}"
    );
    let failures: Option<(i32,)> = sqlx::query_as(&sql)
        .bind(id)
        .bind(now)
        .bind(i32::try_from(max).unwrap_or(i32::MAX))
        .fetch_optional(conn)
        .await?;
    let (failures,) = failures.ok_or(StoreError::NotFound)?;
    Ok(u32::try_from(failures).unwrap_or(0))
}

pub(super) async fn enqueue(conn: &mut Conn, message: &Message) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, attempts, next_attempt_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(message.id.0)
    .bind(message.channel.as_str())
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(message.created_at)
    .execute(conn)
    .await?;
    Ok(())
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

pub(super) async fn get_account(
    store: &Backend,
    id: AccountId,
) -> Result<AccountRecord, StoreError> {
    sqlx::query_as::<Db, AccountRow>(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

pub(super) async fn find_account_by_email(
    store: &Backend,
    email: &Email,
) -> Result<Option<AccountRecord>, StoreError> {
    account_where(store, "email", email.as_str()).await
}

pub(super) async fn find_account_by_phone(
    store: &Backend,
    phone: &Phone,
) -> Result<Option<AccountRecord>, StoreError> {
    account_where(store, "phone", phone.as_str()).await
}

pub(super) async fn update_account(
    store: &Backend,
    id: AccountId,
    change: Change<'_, Account>,
) -> Result<Account, StoreError> {
    let mut tx = store.writer().begin().await?;
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
        "UPDATE accounts SET first_name = $2, last_name = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id.0)
    .bind(&account.first_name)
    .bind(&account.last_name)
    .bind(account.updated_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(account)
}

pub(super) async fn unlock_account(store: &Backend, email: &Email) -> Result<(), StoreError> {
    let done =
        sqlx::query("UPDATE accounts SET failed_codes = 0, locked_until = NULL WHERE email = $1")
            .bind(email.as_str())
            .execute(store.writer())
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn create_sign_in(
    store: &Backend,
    s: &SignIn,
    email: &Message,
) -> Result<(), StoreError> {
    let mut tx = store.writer().begin().await?;
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
    enqueue(&mut tx, email).await?;
    tx.commit().await?;
    Ok(())
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

pub(super) async fn confirm_sign_in_email(
    store: &Backend,
    id: SignInId,
    c: &EmailConfirmation,
    sms: &Message,
) -> Result<bool, StoreError> {
    let mut tx = store.writer().begin().await?;
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
    enqueue(&mut tx, sms).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn fail_sign_in_code(
    store: &Backend,
    id: SignInId,
    now: DateTime<Utc>,
    max_failures: u32,
    lock_after: u32,
    lock_until: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let mut tx = store.writer().begin().await?;
    let failures = confirm_failure(
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

pub(super) async fn complete_sign_in(
    store: &Backend,
    id: SignInId,
    account: Option<&Account>,
    device: &NewDevice,
    notices: &[Message],
) -> Result<(), StoreError> {
    let now = device.tokens.now;
    let mut tx = store.writer().begin().await?;
    let done: Option<(bool, String)> = sqlx::query_as(
        "UPDATE sign_ins SET finished_at = $2 \
         WHERE id = $1 AND finished_at IS NULL AND email_confirmed_at IS NOT NULL \
         RETURNING adds_phone, phone",
    )
    .bind(id.0)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((adds_phone, proven_phone)) = done else {
        return Err(conflict(
            "sign_in_ended",
            None,
            "this sign-in has already ended; start again",
        ));
    };
    if adds_phone {
        add_phone(&mut tx, device.account_id, &proven_phone, now).await?;
    }
    match account {
        Some(a) => {
            let phone = a.phone.as_ref().map(Phone::as_str);
            let taken: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT email, phone FROM accounts WHERE email = $1 OR phone = $2")
                    .bind(a.email.as_str())
                    .bind(phone)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((email, _)) = taken {
                return Err(if email == a.email.as_str() {
                    conflict(
                        "email_taken",
                        Some("email"),
                        "an account with this email exists",
                    )
                } else {
                    conflict(
                        "account_exists",
                        Some("phone"),
                        "an account with this phone number exists",
                    )
                });
            }
            sqlx::query(concat!(
                "INSERT INTO accounts (",
                account_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, 0, NULL, $6, $7)"
            ))
            .bind(a.id.0)
            .bind(&a.first_name)
            .bind(&a.last_name)
            .bind(a.email.as_str())
            .bind(phone)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    conflict(
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
    .execute(&mut *tx)
    .await?;
    insert_reissue(&mut tx, device.id, &device.tokens.reissue_hash, now).await?;
    // Both addresses are proven now: invitations to them attach, and the sign-in is on record.
    let (email, phone, first, last): (String, String, String, String) = sqlx::query_as(
        "SELECT s.email, s.phone, a.first_name, a.last_name \
         FROM sign_ins s JOIN accounts a ON a.id = $2 WHERE s.id = $1",
    )
    .bind(id.0)
    .bind(device.account_id.0)
    .fetch_one(&mut *tx)
    .await?;
    let audit = crate::Audit {
        actor: lintel_domain::EventActor::Member {
            account_id: Some(device.account_id),
            name: format!("{first} {last}"),
        },
        at: now,
    };
    super::members::on_sign_in(
        &mut tx,
        device.account_id,
        &email,
        &phone,
        adds_phone,
        &audit,
    )
    .await?;
    for notice in notices {
        enqueue(&mut tx, notice).await?;
    }
    tx.commit().await?;
    Ok(())
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
            conflict(
                "account_exists",
                Some("phone"),
                "another account has this phone number",
            )
        } else {
            e.into()
        }
    })?;
    if added.rows_affected() == 0 {
        return Err(conflict(
            "sign_in_ended",
            None,
            "this account has a phone number again; sign in with it",
        ));
    }
    sign_out_everywhere(conn, account, now).await
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

async fn insert_reissue(
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

pub(super) async fn find_device_by_auth(
    store: &Backend,
    hash: &[u8],
) -> Result<Option<DeviceRecord>, StoreError> {
    sqlx::query_as::<Db, DeviceRow>(concat!(
        "SELECT ",
        device_columns!(),
        " FROM devices WHERE auth_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(store.reader())
    .await?
    .map(DeviceRecord::try_from)
    .transpose()
}

pub(super) async fn get_device(
    store: &Backend,
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
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

pub(super) async fn touch_device(
    store: &Backend,
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
    .bind(now - TOUCH_EVERY)
    .bind(browser_expires_at)
    .execute(store.writer())
    .await?;
    Ok(())
}

pub(super) async fn reissue_device(
    store: &Backend,
    presented: &[u8],
    issued_after: DateTime<Utc>,
    fresh: &crate::FreshTokens,
) -> Result<Reissue, StoreError> {
    let mut tx = store.writer().begin().await?;
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

pub(super) async fn start_attempt_of(
    store: &Backend,
    attempt: Attempt,
    max: u32,
) -> Result<bool, StoreError> {
    let (table, counter, ends, id) = match attempt {
        Attempt::SignIn(id) => ("sign_ins", "code_failures", "finished_at", id.0),
        Attempt::Verification(id) => ("verifications", "failures", "finished_at", id.0),
        Attempt::Pin(id) => ("devices", "pin_failures", "revoked_at", id.0),
    };
    let mut conn = store.writer().acquire().await?;
    start_attempt(&mut conn, table, counter, ends, id, max)
        .await?
        .ok_or(StoreError::NotFound)
}

pub(super) async fn pin_verified(
    store: &Backend,
    device: DeviceId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE devices SET pin_verified_at = $2, pin_failures = 0 \
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(device.0)
    .bind(now)
    .execute(store.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn pin_wrong(
    store: &Backend,
    device: DeviceId,
    now: DateTime<Utc>,
    max_failures: u32,
) -> Result<u32, StoreError> {
    let mut conn = store.writer().acquire().await?;
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

pub(super) async fn list_devices(
    store: &Backend,
    account: AccountId,
) -> Result<Vec<Device>, StoreError> {
    let rows = sqlx::query_as::<Db, DeviceRow>(concat!(
        "SELECT ",
        device_columns!(),
        " FROM devices WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id"
    ))
    .bind(account.0)
    .fetch_all(store.reader())
    .await?;
    rows.into_iter()
        .map(|r| DeviceRecord::try_from(r).map(|d| d.device))
        .collect()
}

pub(super) async fn revoke_device(
    store: &Backend,
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
    .execute(store.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn claim_messages(
    store: &Backend,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query_as::<Db, MessageRow>(concat!(
        "UPDATE outbox SET next_attempt_at = $2 WHERE id IN (",
        "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ",
        "ORDER BY next_attempt_at LIMIT $3",
        skip_locked!(),
        ") RETURNING id, channel, recipient, subject, body, attempts, created_at"
    ))
    .bind(now)
    .bind(lease_until)
    .bind(i64::from(limit))
    .fetch_all(store.writer())
    .await?;
    let mut messages = rows
        .into_iter()
        .map(Message::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

pub(super) async fn mark_message_sent(
    store: &Backend,
    id: MessageId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET sent_at = $2, attempts = attempts + 1, body = '' WHERE id = $1")
        .bind(id.0)
        .bind(now)
        .execute(store.writer())
        .await?;
    Ok(())
}

pub(super) async fn mark_message_failed(
    store: &Backend,
    id: MessageId,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
         body = CASE WHEN $4 THEN '' ELSE body END WHERE id = $1",
    )
    .bind(id.0)
    .bind(error)
    // Not DateTime::MAX_UTC: SQLite keeps times as text, and "+262143-…" sorts before any
    // year of four digits, so a message given up on would be taken again at once.
    .bind(retry_at.unwrap_or_else(|| {
        DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31T23:59:59Z")
    }))
    .bind(retry_at.is_none())
    .execute(store.writer())
    .await?;
    Ok(())
}

pub(super) async fn purge(store: &Backend, c: &Purge) -> Result<u64, StoreError> {
    let mut tx = store.writer().begin().await?;
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
