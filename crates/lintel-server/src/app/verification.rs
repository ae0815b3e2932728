//! Proving control of an address before a change: a six-digit code sent to it, presented
//! with a handle within 10 minutes; five wrong codes end it.

use chrono::{DateTime, Duration, Utc};
use lintel_domain::{AccountId, Email, MessageId, Phone, ValidationError, VerificationId};
use lintel_store::{Attempt, Channel, Limit, Message, Purpose, StoreError, Verification};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, Error, limits, secrets};
use crate::i18n::Lang;

pub const CODE_TTL: Duration = Duration::minutes(10);
pub const MAX_FAILURES: u32 = 5;
const HANDLE_PREFIX: &str = "lvf_";

/// Where a code goes.
pub enum Address<'a> {
    Email(&'a Email),
    Phone(&'a Phone),
}

/// A code is on its way.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSentTo {
    /// Pass back with the code.
    pub verification: String,
    /// Where the code went (a phone mostly hidden).
    pub sent_to: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCode {
    /// The `verification` of the request that sent the code.
    pub verification: String,
    #[schema(example = "042917")]
    pub code: String,
}

/// The message that carries a code for `purpose`.
fn code_message(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::ChangeEmail => "code-change-email",
        Purpose::ChangePhone => "code-change-phone",
        Purpose::DeleteAccount => "code-delete-account",
        Purpose::ResetPhone => "code-reset-phone",
    }
}

/// Sends a code to `to` for `purpose` in `lang`, within the send limits of that address and
/// `extra`. With `send` false nothing is sent, yet the answer and the verification look the
/// same (a code nobody has): for a request that must not tell whether the address is known.
pub async fn start(
    state: &AppState,
    lang: Lang,
    account: Option<AccountId>,
    purpose: Purpose,
    to: Address<'_>,
    extra: &[Limit<'_>],
    send: bool,
) -> Result<CodeSentTo, Error> {
    let now = state.clock.now();
    let (channel, target, key, sent_to) = match to {
        Address::Email(e) => (
            Channel::Email,
            e.to_string(),
            format!("email:{e}"),
            e.to_string(),
        ),
        Address::Phone(p) => (
            Channel::Sms,
            p.to_string(),
            format!("phone:{p}"),
            p.masked(),
        ),
    };
    let mut slots = vec![Limit {
        key: &key,
        windows: super::limits::PER_ADDRESS,
    }];
    slots.extend_from_slice(extra);
    limits::take(state, now, &slots).await?;
    let handle = secrets::token(HANDLE_PREFIX);
    let code = secrets::code();
    let id = VerificationId::new(now);
    let verification = Verification {
        id,
        account_id: account,
        purpose,
        target: target.clone(),
        handle_hash: secrets::hash(&handle),
        code_hash: secrets::hash_code(id.0.as_bytes(), &code),
        expires_at: now + CODE_TTL,
        failures: 0,
        finished_at: None,
        created_at: now,
    };
    let body = lang.text(code_message(purpose), &[("code", &code)]);
    let message = Message {
        id: MessageId::new(now),
        channel,
        recipient: target,
        subject: if channel == Channel::Email {
            lang.word("mail-code-subject")
        } else {
            String::new()
        },
        body,
        attempts: 0,
        created_at: now,
    };
    state
        .store
        .create_verification(&verification, send.then_some(&message))
        .await?;
    Ok(CodeSentTo {
        verification: handle,
        sent_to,
        expires_at: verification.expires_at,
    })
}

/// Checks a code for `purpose` started by `account`; the verification, once proven.
pub async fn prove(
    state: &AppState,
    account: Option<AccountId>,
    purpose: Purpose,
    req: &ConfirmCode,
) -> Result<Verification, Error> {
    let now = state.clock.now();
    let found = state
        .store
        .find_verification(&secrets::hash(req.verification.trim()))
        .await?
        .filter(|v| v.purpose == purpose && v.account_id == account);
    let Some(v) = found else {
        return Err(Error::NotFound {
            what: "verification",
        });
    };
    if v.finished_at.is_some() {
        return Err(ended());
    }
    if now >= v.expires_at {
        return Err(Error::Expired { what: "code" });
    }
    // Taking over a phone number is guessed at across attempts: wrong codes for one number
    // are counted whatever attempt they came in, and lock the number for a day.
    let reset_key = (purpose == Purpose::ResetPhone).then(|| format!("reset-guess:{}", v.target));
    if let Some(key) = &reset_key {
        limits::take_one(state, now, key, &RESET_GUESSES).await?;
    }
    // Counted as wrong before it is compared, so parallel guesses cannot pass the limit.
    match state
        .store
        .start_attempt(Attempt::Verification(v.id), MAX_FAILURES)
        .await
    {
        Ok(true) => {}
        Ok(false) | Err(StoreError::NotFound) => return Err(ended()),
        Err(e) => return Err(e.into()),
    }
    let code = req.code.trim();
    if !secrets::same(&v.code_hash, &secrets::hash_code(v.id.0.as_bytes(), code)) {
        if let Some(key) = &reset_key {
            tell_holder_when_locked(state, key, &v.target, now).await?;
        }
        let failures = state
            .store
            .fail_verification(v.id, now, MAX_FAILURES)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ended(),
                other => other.into(),
            })?;
        if failures >= MAX_FAILURES {
            return Err(ended());
        }
        return Err(ValidationError::new(
            "code",
            "wrong_code",
            format!(
                "the code is not the one sent; {}",
                super::tries_left(MAX_FAILURES - failures)
            ),
        )
        .into());
    }
    if let Some(key) = &reset_key {
        state.store.give_back(key, now).await?;
    }
    Ok(v)
}

/// Wrong codes for taking over one phone number, across attempts, before the number is locked.
const RESET_GUESSES: [(Duration, usize); 1] = [(Duration::hours(24), 10)];

/// When the wrong code just counted locks the number, tells the account that has it by email:
/// someone is trying to take its phone number.
async fn tell_holder_when_locked(
    state: &AppState,
    key: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (window, max) = RESET_GUESSES[0];
    if state.store.recent_sends(key, now - window).await?.len() != max {
        return Ok(());
    }
    let phone = Phone::parse("phone", phone)?;
    if let Some(holder) = state.store.find_account_by_phone(&phone).await? {
        let lang = Lang::En.preferring(holder.account.language.as_deref());
        let text = lang.text("notice-takeover-stopped", &[("phone", &phone.masked())]);
        let message = notice(state, lang, Address::Email(&holder.account.email), text);
        state.store.queue_message(&message).await?;
    }
    Ok(())
}

fn ended() -> Error {
    Error::conflict(
        "verification_ended",
        None,
        "this code has been used, or too many wrong ones were tried; ask for a new one",
    )
}

/// A notice in `lang` to an address, queued with the change it tells of.
pub fn notice(state: &AppState, lang: Lang, to: Address<'_>, text: String) -> Message {
    let now = state.clock.now();
    let (channel, recipient, subject) = match to {
        Address::Email(e) => (Channel::Email, e.to_string(), lang.word("notice-subject")),
        Address::Phone(p) => (Channel::Sms, p.to_string(), String::new()),
    };
    Message {
        id: MessageId::new(now),
        channel,
        recipient,
        subject,
        body: text,
        attempts: 0,
        created_at: now,
    }
}
