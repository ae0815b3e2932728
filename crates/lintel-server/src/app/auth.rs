//! Registering and signing in without passwords: an email link, then a code by SMS, then a
//! device with a short-lived auth token and a rotating reissue token.
//!
//! Rules (SPEC §2): links expire after 15 minutes and codes after 10, each works once; five
//! wrong codes end an attempt, and 100 wrong codes in a row lock the account for 24 hours (or
//! until `lintel admin unlock-account`). Known and unknown emails get the same answer, and
//! sends are limited per address and per source address.
//!
//! Long because signing in is one flow whose steps share their limits, answers and messages
//! (register, link, code, device, tokens, and the two paths of a recycled number); split, its
//! no-enumeration and counting arguments would have to be read across files.

use std::net::IpAddr;

use argon2::password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use chrono::{DateTime, Duration, Utc};
use lintel_domain::account::{check_app_pin, person_name};
use lintel_domain::{
    Account, AccountId, DeviceId, DeviceKind, Email, MessageId, Phone, SignInId, validate,
};
use lintel_store::{
    Attempt, Channel, EmailConfirmation, FreshTokens, Limit, Message, NewDevice, Purpose,
    Registration, Reissue, SignIn, StoreError,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::verification::{self, Address, CodeSentTo, ConfirmCode};
use super::{AppState, Error};
use super::{limits, secrets};
use crate::i18n::Lang;

pub const LINK_TTL: Duration = Duration::minutes(15);
pub const CODE_TTL: Duration = Duration::minutes(10);
pub const MAX_CODE_FAILURES: u32 = 5;
pub const LOCK_AFTER_FAILURES: u32 = 100;
pub const LOCK_FOR: Duration = Duration::hours(24);
pub const AUTH_TOKEN_TTL: Duration = Duration::minutes(15);
/// A device unused for this long must sign in again.
pub const REISSUE_TOKEN_TTL: Duration = Duration::days(90);
/// A browser session ends after this long unused; each use moves the end.
pub const BROWSER_IDLE_TTL: Duration = Duration::hours(12);
/// A browser session ends this long after it began, however often it is used: a stolen
/// cookie does not live for ever.
pub const BROWSER_MAX_AGE: Duration = Duration::days(30);
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Sign-in requests from one source address: at most 30 in 10 minutes.
pub(crate) const PER_SOURCE: &[(Duration, usize)] = &[(Duration::minutes(10), 30)];

pub(crate) const AUTH_PREFIX: &str = "lat_";
const REISSUE_PREFIX: &str = "lrt_";
const SESSION_PREFIX: &str = "lsi_";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "Ada")]
    pub first_name: String,
    #[schema(example = "Lovelace")]
    pub last_name: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// International format, e.g. `+46 70 123 45 67`.
    #[schema(example = "+46701234567")]
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

/// The one answer to register and login, whether or not the email is known.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckYourEmail {
    #[schema(example = "check_your_email")]
    pub status: &'static str,
    pub message: &'static str,
}

pub(crate) const CHECK_YOUR_EMAIL: CheckYourEmail = CheckYourEmail {
    status: "check_your_email",
    message: "if this email can sign in, a link is on its way; it works once, for 15 minutes",
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `token` of the emailed link.
    pub token: String,
}

/// The email is proven and a code is on its way by SMS.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSent {
    /// Pass back with the code: it binds the code to this attempt.
    pub sign_in: String,
    /// Where the code went, mostly hidden.
    #[schema(example = "+•••••••••67")]
    pub phone: String,
    pub code_expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCodeRequest {
    /// The `sign_in` of the email step.
    pub sign_in: String,
    /// The six digits sent by SMS.
    #[schema(example = "042917")]
    pub code: String,
    /// A name for this device, shown in the device list.
    #[schema(example = "Ada's phone")]
    pub device_name: String,
    /// The app PIN for this device: 4 to 8 digits, not trivial (no 1234, 0000, 1212).
    #[schema(example = "2580")]
    pub pin: String,
}

/// The last step of a sign-in that needs no code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The `sign_in` of the provider's answer.
    pub sign_in: String,
    /// A name for this device, shown in the device list.
    #[schema(example = "Ada's phone")]
    pub device_name: String,
    /// The app PIN for this device: 4 to 8 digits, not trivial (no 1234, 0000, 1212).
    #[schema(example = "2580")]
    pub pin: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueRequest {
    pub reissue_token: String,
}

/// A signed-in device's credentials. Keep the reissue token secret: each one works once,
/// and presenting a used one unregisters the device.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tokens {
    #[schema(value_type = uuid::Uuid)]
    pub device_id: DeviceId,
    /// Send as `Authorization: Bearer <auth_token>`.
    pub auth_token: String,
    pub auth_expires_at: DateTime<Utc>,
    /// Trade for new tokens at `/api/v1/auth/reissue` before `auth_expires_at`.
    pub reissue_token: String,
}

/// A finished sign-in: the account and the new device's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub account: Account,
    #[serde(flatten)]
    pub tokens: Tokens,
}

fn email_key(email: &Email) -> String {
    format!("email:{email}")
}

fn source_key(source: IpAddr) -> String {
    format!("ip:{}", limits::source(source))
}

/// What an emailed link is for.
enum LinkFor<'a> {
    Registration,
    SignIn,
    /// Adding this phone to an account that lost its number.
    NewPhone(&'a Phone),
}

/// A sign-in attempt that has just begun: the link's token is sent by email.
fn new_sign_in(now: DateTime<Utc>, email: Email, phone: Phone, token: &str) -> SignIn {
    SignIn {
        id: SignInId::new(now),
        account_id: None,
        registration: None,
        email,
        phone,
        adds_phone: false,
        email_token_hash: secrets::hash(token),
        email_expires_at: now + LINK_TTL,
        email_confirmed_at: None,
        code_hash: None,
        code_expires_at: None,
        code_failures: 0,
        finished_at: None,
        created_at: now,
        via: None,
    }
}

/// A sign-in whose email something other than a link proves (a provider): its link token
/// is random and never sent, so no link can confirm it.
pub(crate) fn unsent_sign_in(now: DateTime<Utc>, email: Email, phone: Phone) -> SignIn {
    new_sign_in(now, email, phone, &secrets::token(""))
}

fn sign_in_email(
    state: &AppState,
    lang: Lang,
    to: &Email,
    first_name: &str,
    token: &str,
    purpose: LinkFor<'_>,
    now: DateTime<Utc>,
) -> Message {
    let link = format!("{}/auth/confirm?token={token}", state.public_url);
    // A registration's name is whatever was typed beside someone's address: it is not put in
    // their mail until they have proven the address is theirs.
    let hello = match purpose {
        LinkFor::Registration => lang.word("mail-hello"),
        _ => lang.text("mail-hello-name", &[("name", first_name)]),
    };
    let (subject, open, ending) = match purpose {
        LinkFor::Registration => (
            lang.word("mail-signin-subject"),
            lang.word("mail-register-open"),
            lang.word("mail-signin-ignore"),
        ),
        LinkFor::SignIn => (
            lang.word("mail-signin-subject"),
            lang.word("mail-signin-open"),
            lang.word("mail-signin-ignore"),
        ),
        LinkFor::NewPhone(phone) => (
            lang.word("mail-new-phone-subject"),
            lang.text("mail-new-phone-open", &[("digits", last_digits(phone))]),
            lang.word("mail-new-phone-ignore"),
        ),
    };
    Message {
        id: MessageId::new(now),
        channel: Channel::Email,
        recipient: to.to_string(),
        subject,
        body: paragraphs(&[&hello, &open, &link, &ending]),
        attempts: 0,
        created_at: now,
    }
}

/// An email's body: its paragraphs, a blank line apart.
pub(crate) fn paragraphs(parts: &[&str]) -> String {
    let mut body = parts.join("\n\n");
    body.push('\n');
    body
}

/// Emails a sign-in link when `account` exists and has a phone to send the code to, and the
/// way back when its number was taken over by its new owner. The slots were taken before, so
/// every case counts against the same limits.
pub(crate) async fn link_or_nothing(
    state: &AppState,
    lang: Lang,
    account: Option<&Account>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    match account {
        Some(account) if account.phone.is_some() => start_sign_in(state, lang, account, now).await,
        Some(account) => {
            let lang = lang.preferring(account.language.as_deref());
            let recover = format!("{}/recover", state.public_url);
            let text = paragraphs(&[
                &lang.text("mail-hello-name", &[("name", &account.first_name)]),
                &lang.word("notice-no-phone"),
                &lang.text("notice-no-phone-recover", &[("url", &recover)]),
                &lang.word("notice-no-phone-ignore"),
            ]);
            let mail = verification::notice(state, lang, Address::Email(&account.email), text);
            state.store.queue_message(&mail).await?;
            Ok(())
        }
        None => Ok(()),
    }
}

/// Takes the sign-in slots of an email and a source address.
pub(crate) async fn take_sign_in_slots(
    state: &AppState,
    now: DateTime<Utc>,
    email: &Email,
    source: IpAddr,
) -> Result<(), Error> {
    let (email, source) = (email_key(email), source_key(source));
    limits::take(
        state,
        now,
        &[
            Limit {
                key: &email,
                windows: limits::PER_ADDRESS,
            },
            Limit {
                key: &source,
                windows: PER_SOURCE,
            },
        ],
    )
    .await
}

/// Starts a sign-in of `account` (which has a phone) by email.
async fn start_sign_in(
    state: &AppState,
    lang: Lang,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(phone) = account.phone.clone() else {
        return Err(Error::Internal(anyhow::anyhow!(
            "account {} has no phone",
            account.id
        )));
    };
    let token = secrets::token("");
    let sign_in = SignIn {
        account_id: Some(account.id),
        ..new_sign_in(now, account.email.clone(), phone, &token)
    };
    let mail = sign_in_email(
        state,
        lang.preferring(account.language.as_deref()),
        &account.email,
        &account.first_name,
        &token,
        LinkFor::SignIn,
        now,
    );
    state.store.create_sign_in(&sign_in, &mail).await?;
    Ok(())
}

/// Registers a person: a link goes to their email; the account exists once they have also
/// proven their phone. An email that already has an account gets a sign-in link instead, with
/// the same answer. A phone that belongs to another account is refused with `account_exists`.
pub async fn register(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    req: RegisterRequest,
) -> Result<CheckYourEmail, Error> {
    let now = state.clock.now();
    let first_name = person_name("first_name", &req.first_name)?;
    let last_name = person_name("last_name", &req.last_name)?;
    let email = Email::parse("email", &req.email)?;
    let phone = Phone::parse("phone", &req.phone)?;
    take_sign_in_slots(state, now, &email, source).await?;
    limits::take_unproven_sms(state, now, "phone", &phone).await?;

    if let Some(owner) = state.store.find_account_by_phone(&phone).await?
        && owner.account.email != email
    {
        return Err(phone_taken());
    }
    if let Some(existing) = state.store.find_account_by_email(&email).await? {
        link_or_nothing(state, lang, Some(&existing.account), now).await?;
        return Ok(CHECK_YOUR_EMAIL);
    }
    let token = secrets::token("");
    let sign_in = SignIn {
        registration: Some(Registration {
            first_name: first_name.clone(),
            last_name,
        }),
        ..new_sign_in(now, email.clone(), phone, &token)
    };
    let mail = sign_in_email(
        state,
        lang,
        &email,
        &first_name,
        &token,
        LinkFor::Registration,
        now,
    );
    state.store.create_sign_in(&sign_in, &mail).await?;
    Ok(CHECK_YOUR_EMAIL)
}

/// Sends a sign-in link to a known email. Unknown emails get the same answer and the same
/// limits, and nothing is sent.
pub async fn login(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    req: LoginRequest,
) -> Result<CheckYourEmail, Error> {
    let now = state.clock.now();
    let email = Email::parse("email", &req.email)?;
    take_sign_in_slots(state, now, &email, source).await?;
    let found = state.store.find_account_by_email(&email).await?;
    link_or_nothing(state, lang, found.as_ref().map(|f| &f.account), now).await?;
    Ok(CHECK_YOUR_EMAIL)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// The account's email.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// The number to add, in international format; the sign-in code goes to it.
    #[schema(example = "+46701234567")]
    pub phone: String,
}

/// The way back for the previous owner of a recycled number, whose account lost its phone
/// when the number's new owner proved it: a sign-in link goes to the account's email, and
/// the code to the new `phone`; finishing adds that phone to the account, signs out whatever
/// it still had, and tells the administrators of its organizations. Any other email gets the
/// same answer (an account with a phone gets an ordinary sign-in link; nobody else anything).
/// A phone that belongs to another account is refused with `account_exists`, as at
/// registration.
pub async fn recover(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    req: RecoverRequest,
) -> Result<CheckYourEmail, Error> {
    let now = state.clock.now();
    let email = Email::parse("email", &req.email)?;
    let phone = Phone::parse("phone", &req.phone)?;
    take_sign_in_slots(state, now, &email, source).await?;
    limits::take_unproven_sms(state, now, "phone", &phone).await?;
    if state.store.find_account_by_phone(&phone).await?.is_some() {
        return Err(phone_taken());
    }
    let Some(found) = state.store.find_account_by_email(&email).await? else {
        return Ok(CHECK_YOUR_EMAIL);
    };
    let account = found.account;
    if account.phone.is_some() {
        start_sign_in(state, lang, &account, now).await?;
        return Ok(CHECK_YOUR_EMAIL);
    }
    let token = secrets::token("");
    let sign_in = SignIn {
        account_id: Some(account.id),
        adds_phone: true,
        ..new_sign_in(now, account.email.clone(), phone.clone(), &token)
    };
    let mail = sign_in_email(
        state,
        lang.preferring(account.language.as_deref()),
        &account.email,
        &account.first_name,
        &token,
        LinkFor::NewPhone(&phone),
        now,
    );
    state.store.create_sign_in(&sign_in, &mail).await?;
    Ok(CHECK_YOUR_EMAIL)
}

/// The last two digits of a number, as people recognise their own.
fn last_digits(phone: &Phone) -> &str {
    let s = phone.as_str();
    &s[s.len().saturating_sub(2)..]
}

pub(crate) fn phone_taken() -> Error {
    Error::exists(
        "account_exists",
        Some("phone"),
        "an account with this phone number exists; if the number is yours now (carriers \
         recycle numbers), prove it at /api/v1/auth/reset-account first",
    )
}

/// What the administrators of each of the account's organizations are told when it comes
/// back with a new number: they can suspend the member if it was not them.
async fn phone_recovered_notices(
    state: &AppState,
    account: &Account,
    phone: &Phone,
) -> Result<Vec<Message>, Error> {
    let mut notices = Vec::new();
    for (org, _) in state.store.account_memberships(account.id).await? {
        for admin in state.store.list_admins(org.id).await? {
            let Some(person) = admin.person.as_ref() else {
                continue;
            };
            if admin.membership.account_id == Some(account.id)
                || !admin.membership.areas.allows(lintel_domain::Area::Members)
            {
                continue;
            }
            // In the administrator's own language if they chose one.
            let lang = Lang::En
                .preferred_by(state, admin.membership.account_id)
                .await;
            let name = format!("{} {}", account.first_name, account.last_name);
            let members = format!("{}/admin/{}/members", state.public_url, org.slug);
            let text = paragraphs(&[
                &lang.text("mail-hello-name", &[("name", &person.first_name)]),
                &lang.text(
                    "notice-phone-recovered",
                    &[
                        ("name", &name),
                        ("org", &org.name),
                        ("digits", last_digits(phone)),
                    ],
                ),
                &lang.text("notice-phone-recovered-suspend", &[("url", &members)]),
            ]);
            notices.push(verification::notice(
                state,
                lang,
                Address::Email(&person.email),
                text,
            ));
        }
    }
    Ok(notices)
}

/// Proves the email: the link's token, presented by a POST (never a GET, so mail scanners
/// that open links sign nobody in). Sends the SMS code.
pub async fn verify_email(
    state: &AppState,
    lang: Lang,
    req: VerifyEmailRequest,
) -> Result<CodeSent, Error> {
    let now = state.clock.now();
    let Some(sign_in) = state
        .store
        .find_sign_in_by_email_token(&secrets::hash(req.token.trim()))
        .await?
    else {
        return Err(Error::NotFound { what: "link" });
    };
    if sign_in.email_confirmed_at.is_some() || sign_in.finished_at.is_some() {
        return Err(link_used());
    }
    if now >= sign_in.email_expires_at {
        return Err(Error::Expired { what: "link" });
    }
    let lang = lang.preferred_by(state, sign_in.account_id).await;
    let (confirmation, session, sms) = code_for(&sign_in, lang, now);
    if !state
        .store
        .confirm_sign_in_email(sign_in.id, &confirmation, &sms)
        .await?
    {
        return Err(link_used());
    }
    Ok(CodeSent {
        sign_in: session,
        phone: sign_in.phone.masked(),
        code_expires_at: confirmation.code_expires_at,
    })
}

/// The SMS code of a sign-in whose email is proven, the session that binds it, and the SMS.
fn code_for(
    sign_in: &SignIn,
    lang: Lang,
    now: DateTime<Utc>,
) -> (EmailConfirmation, String, Message) {
    let session = secrets::token(SESSION_PREFIX);
    let code = secrets::code();
    let confirmation = EmailConfirmation {
        now,
        session_hash: secrets::hash(&session),
        code_hash: secrets::hash_code(sign_in.id.0.as_bytes(), &code),
        code_expires_at: now + CODE_TTL,
    };
    let sms = Message {
        id: MessageId::new(now),
        channel: Channel::Sms,
        recipient: sign_in.phone.to_string(),
        subject: String::new(),
        body: lang.text("sms-sign-in-code", &[("code", &code)]),
        attempts: 0,
        created_at: now,
    };
    (confirmation, session, sms)
}

/// Starts a sign-in whose email a provider has proven: stored as confirmed, and its code
/// sent to `sign_in.phone`, as the link's confirmation would; or, not `with_code`, ready for
/// `complete_without_code` (the code is made and forgotten, never sent nor stored).
pub(crate) async fn send_code(
    state: &AppState,
    lang: Lang,
    sign_in: SignIn,
    with_code: bool,
) -> Result<CodeSent, Error> {
    let now = sign_in.created_at;
    let (confirmation, session, sms) = code_for(&sign_in, lang, now);
    state
        .store
        .create_confirmed_sign_in(&sign_in, &confirmation, with_code.then_some(&sms))
        .await?;
    Ok(CodeSent {
        sign_in: session,
        phone: sign_in.phone.masked(),
        code_expires_at: confirmation.code_expires_at,
    })
}

fn link_used() -> Error {
    Error::conflict(
        "link_used",
        None,
        "this link has already been used; request a new one",
    )
}

fn sign_in_ended(why: &str) -> Error {
    Error::conflict(
        "sign_in_ended",
        None,
        format!("{why}; start again with your email"),
    )
}

/// A sign-in that has reached its last step, found by the handle the client holds: not
/// ended, not expired, its account not locked.
async fn open_sign_in(
    state: &AppState,
    handle: &str,
    now: DateTime<Utc>,
) -> Result<lintel_store::SignIn, Error> {
    let Some(sign_in) = state
        .store
        .find_sign_in_by_session(&secrets::hash(handle.trim()))
        .await?
    else {
        return Err(Error::NotFound { what: "sign_in" });
    };
    if sign_in.finished_at.is_some() {
        return Err(sign_in_ended("this sign-in has ended"));
    }
    if sign_in.code_expires_at.is_none_or(|at| now >= at) {
        return Err(Error::Expired { what: "code" });
    }
    if let Some(account) = sign_in.account_id {
        let record = state.store.get_account(account).await?;
        if let Some(until) = record.locked_until.filter(|until| *until > now) {
            return Err(Error::Locked { until });
        }
    }
    Ok(sign_in)
}

/// Proves the phone and finishes: creates the account of a registration and registers the
/// device (an app, or a browser whose session cookie is the auth token) with its app PIN.
pub async fn verify_code(
    state: &AppState,
    req: VerifyCodeRequest,
    kind: DeviceKind,
) -> Result<SignedIn, Error> {
    let now = state.clock.now();
    let sign_in = open_sign_in(state, &req.sign_in, now).await?;
    // Shape errors do not count as wrong codes.
    let device_name = validate::text("device_name", &req.device_name, 1, 100)?;
    check_app_pin("pin", &req.pin)?;
    let code = req.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(lintel_domain::ValidationError::new(
            "code",
            "invalid_code",
            "code must be the 6 digits sent by SMS",
        )
        .into());
    }

    // Counted as wrong before it is compared, so parallel guesses cannot pass the limit.
    match state
        .store
        .start_attempt(Attempt::SignIn(sign_in.id), MAX_CODE_FAILURES)
        .await
    {
        Ok(true) => {}
        Ok(false) | Err(StoreError::NotFound) => {
            return Err(sign_in_ended("too many wrong codes"));
        }
        Err(e) => return Err(e.into()),
    }
    // A sign-in that needs no code has no code hash: no code finishes it here.
    let expected = sign_in.code_hash.as_deref().unwrap_or_default();
    if !secrets::same(expected, &secrets::hash_code(sign_in.id.0.as_bytes(), code)) {
        let failures = state
            .store
            .fail_sign_in_code(
                sign_in.id,
                now,
                MAX_CODE_FAILURES,
                LOCK_AFTER_FAILURES,
                now + LOCK_FOR,
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound => sign_in_ended("this sign-in has ended"),
                other => other.into(),
            })?;
        if failures >= MAX_CODE_FAILURES {
            return Err(sign_in_ended("too many wrong codes"));
        }
        let left = MAX_CODE_FAILURES - failures;
        return Err(lintel_domain::ValidationError::new(
            "code",
            "wrong_code",
            format!("the code is not the one sent; {}", super::tries_left(left)),
        )
        .into());
    }
    finish(state, &sign_in, device_name, &req.pin, kind, now).await
}

/// Finishes a sign-in that needs no code: one a provider proved, for an account whose
/// organizations all let the provider alone sign in (`Outcome::Ready` of a provider
/// sign-in).
pub async fn complete_without_code(
    state: &AppState,
    req: CompleteRequest,
    kind: DeviceKind,
) -> Result<SignedIn, Error> {
    let now = state.clock.now();
    let sign_in = open_sign_in(state, &req.sign_in, now).await?;
    if sign_in.code_hash.is_some() {
        return Err(Error::conflict(
            "code_needed",
            Some("sign_in"),
            "this sign-in needs the code sent by SMS; finish it at /api/v1/auth/sms/verify",
        ));
    }
    let device_name = validate::text("device_name", &req.device_name, 1, 100)?;
    check_app_pin("pin", &req.pin)?;
    finish(state, &sign_in, device_name, &req.pin, kind, now).await
}

/// The last step of every sign-in: creates the account of a registration and registers the
/// device with its app PIN.
async fn finish(
    state: &AppState,
    sign_in: &lintel_store::SignIn,
    device_name: String,
    pin: &str,
    kind: DeviceKind,
    now: DateTime<Utc>,
) -> Result<SignedIn, Error> {
    let mut account = match (&sign_in.registration, sign_in.account_id) {
        (Some(r), _) => Account {
            id: AccountId::new(now),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: sign_in.email.clone(),
            phone: Some(sign_in.phone.clone()),
            created_at: now,
            updated_at: now,
            language: None,
        },
        (None, Some(id)) => state.store.get_account(id).await?.account,
        (None, None) => {
            return Err(Error::Internal(anyhow::anyhow!(
                "sign-in {} has no account",
                sign_in.id
            )));
        }
    };
    let ttl = match kind {
        DeviceKind::App => AUTH_TOKEN_TTL,
        DeviceKind::Browser => BROWSER_IDLE_TTL,
    };
    let minted = Minted::new(now, ttl);
    let device = NewDevice {
        id: DeviceId::new(now),
        account_id: account.id,
        kind,
        name: device_name,
        pin_hash: hash_pin_off_workers(pin).await?,
        tokens: minted.fresh.clone(),
    };
    let notices = if sign_in.adds_phone {
        account.phone = Some(sign_in.phone.clone());
        account.updated_at = now;
        phone_recovered_notices(state, &account, &sign_in.phone).await?
    } else {
        Vec::new()
    };
    let new_account = sign_in.registration.is_some().then_some(&account);
    state
        .store
        .complete_sign_in(sign_in.id, new_account, &device, &notices)
        .await?;
    tracing::info!(account = %account.id, device = %device.id, "signed in");
    Ok(SignedIn {
        account,
        tokens: minted.for_device(device.id),
    })
}

/// A new auth token and reissue token: the secrets for the device, the hashes for the store.
pub(crate) struct Minted {
    pub(crate) auth_token: String,
    pub(crate) reissue_token: String,
    pub(crate) fresh: FreshTokens,
}

impl Minted {
    pub(crate) fn new(now: DateTime<Utc>, auth_ttl: Duration) -> Minted {
        Minted::with_prefixes(now, auth_ttl, AUTH_PREFIX, REISSUE_PREFIX)
    }

    /// A new auth token (living `auth_ttl`) and reissue token, recognisable by their prefixes.
    pub(crate) fn with_prefixes(
        now: DateTime<Utc>,
        auth_ttl: Duration,
        auth_prefix: &str,
        reissue_prefix: &str,
    ) -> Minted {
        let auth_token = secrets::token(auth_prefix);
        let reissue_token = secrets::token(reissue_prefix);
        let fresh = FreshTokens {
            auth_hash: secrets::hash(&auth_token),
            auth_expires_at: now + auth_ttl,
            reissue_hash: secrets::hash(&reissue_token),
            now,
        };
        Minted {
            auth_token,
            reissue_token,
            fresh,
        }
    }

    pub(crate) fn for_device(self, device_id: DeviceId) -> Tokens {
        Tokens {
            device_id,
            auth_token: self.auth_token,
            auth_expires_at: self.fresh.auth_expires_at,
            reissue_token: self.reissue_token,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetAccountRequest {
    /// The phone number another account still has.
    #[schema(example = "+46701234567")]
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneReleased {
    #[schema(example = "phone_released")]
    pub status: &'static str,
    pub message: &'static str,
}

/// For a newcomer whose phone number belonged to someone else (carriers recycle numbers): a
/// code goes to the phone. Proving it (`reset_account_verify`) frees the number for a fresh
/// registration. The answer is the same whether or not an account has the number.
pub async fn reset_account(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    req: ResetAccountRequest,
) -> Result<CodeSentTo, Error> {
    let phone = Phone::parse("phone", &req.phone)?;
    let source = source_key(source);
    // A reset is for a number some account has; any other is answered alike, and no SMS
    // goes to it, so this route cannot text numbers at large.
    limits::check_sms_country(state, "phone", &phone)?;
    let held = state.store.find_account_by_phone(&phone).await?.is_some();
    if held {
        limits::take_sms_budget(state, state.clock.now()).await?;
    }
    verification::start(
        state,
        lang,
        None,
        Purpose::ResetPhone,
        Address::Phone(&phone),
        &[Limit {
            key: &source,
            windows: PER_SOURCE,
        }],
        held,
    )
    .await
}

/// Proves the phone of a reset: the account that had the number loses it, and its devices
/// are signed out (it is told by email); the number is free to register with.
pub async fn reset_account_verify(
    state: &AppState,
    req: ConfirmCode,
) -> Result<PhoneReleased, Error> {
    let v = verification::prove(state, None, Purpose::ResetPhone, &req).await?;
    let phone = Phone::parse("phone", &v.target)?;
    let holder = state.store.find_account_by_phone(&phone).await?;
    let notice = holder.as_ref().map(|h| {
        let lang = Lang::En.preferring(h.account.language.as_deref());
        let recover = format!("{}/recover", state.public_url);
        let text = lang.text("notice-phone-taken", &[("url", &recover)]);
        verification::notice(state, lang, Address::Email(&h.account.email), text)
    });
    state
        .store
        .complete_verification(v.id, state.clock.now(), notice.as_ref())
        .await?;
    Ok(PhoneReleased {
        status: "phone_released",
        message: "the phone number is free: register with it",
    })
}

/// `hash_pin` on a blocking thread: Argon2 takes tens of milliseconds of CPU, which would
/// otherwise stall every request sharing the async worker.
pub async fn hash_pin_off_workers(pin: &str) -> Result<String, Error> {
    let pin = pin.to_owned();
    tokio::task::spawn_blocking(move || hash_pin(&pin))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a PIN: {e}")))?
}

/// `pin_matches` on a blocking thread, as `hash_pin_off_workers`.
pub async fn pin_matches_off_workers(pin: &str, hash: &str) -> Result<bool, Error> {
    let (pin, hash) = (pin.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || pin_matches(&pin, &hash))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("checking a PIN: {e}")))
}

/// App PINs are short, so they get a slow, salted hash (Argon2id).
pub fn hash_pin(pin: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a PIN: {e}")))
}

pub fn pin_matches(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Trades a reissue token for new tokens. A token already traded means it was copied: the
/// device is unregistered, and the answer is the same as for an unknown token.
pub async fn reissue(state: &AppState, req: ReissueRequest) -> Result<Tokens, Error> {
    let now = state.clock.now();
    let presented = req.reissue_token.trim();
    if !presented.starts_with(REISSUE_PREFIX) {
        return Err(Error::Unauthenticated);
    }
    let minted = Minted::new(now, AUTH_TOKEN_TTL);
    match state
        .store
        .reissue_device(
            &secrets::hash(presented),
            now - REISSUE_TOKEN_TTL,
            &minted.fresh,
        )
        .await?
    {
        Reissue::Rotated { device, .. } => Ok(minted.for_device(device)),
        Reissue::Reused { device } => {
            tracing::warn!(%device, "a rotated reissue token was presented again; device unregistered");
            Err(Error::Unauthenticated)
        }
        Reissue::Unknown => Err(Error::Unauthenticated),
    }
}

/// Refuses a device whose clock (`device_time`, when it sends it) is off by more than the
/// tolerance, with the server's time and the skew: on every step of signing in too, so a
/// wrong clock is named before it breaks the first call after it.
pub fn check_clock(now: DateTime<Utc>, device_time: Option<DateTime<Utc>>) -> Result<(), Error> {
    match device_time {
        Some(t) if (t - now).abs() > MAX_CLOCK_SKEW => Err(Error::ClockSkew {
            server_time: now,
            skew_secs: (t - now).num_seconds(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_verify_against_their_hash_only() {
        let hash = hash_pin("2580").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(pin_matches("2580", &hash));
        assert!(!pin_matches("2581", &hash));
        assert!(!pin_matches("2580", "not a hash"));
    }
}
