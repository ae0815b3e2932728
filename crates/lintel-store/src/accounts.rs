//! What the store keeps about accounts, sign-in attempts, devices and outgoing messages.

use chrono::{DateTime, Utc};
use lintel_domain::{
    Account, AccountId, Device, DeviceId, DeviceKind, Email, MessageId, Phone, SignInId,
    VerificationId,
};

/// An account with its sign-in lock.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub account: Account,
    /// Consecutive wrong SMS codes across attempts; reset by a successful sign-in.
    pub failed_codes: u32,
    /// Sign-in is refused until then (100 consecutive wrong codes).
    pub locked_until: Option<DateTime<Utc>>,
}

/// One run through sign-in: email link, then SMS code. For a registration `account_id` is
/// `None` and `registration` holds the names of the account to create at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub id: SignInId,
    pub account_id: Option<AccountId>,
    pub registration: Option<Registration>,
    pub email: Email,
    /// Where the code goes.
    pub phone: Phone,
    /// Finishing gives the account (which has no phone) this phone: the way back for the
    /// previous owner of a recycled number.
    pub adds_phone: bool,
    pub email_token_hash: Vec<u8>,
    pub email_expires_at: DateTime<Utc>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub code_hash: Option<Vec<u8>>,
    pub code_expires_at: Option<DateTime<Utc>>,
    pub code_failures: u32,
    /// Completed, or ended by too many wrong codes.
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The email was proven by this OpenID Connect identity instead of a link: completing
    /// the sign-in links it to the account.
    pub via: Option<ProviderIdentity>,
}

/// Who an OpenID Connect provider says someone is: its issuer and their subject there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The operator's name for the provider (`google`), as configured.
    pub provider: String,
    pub issuer: String,
    pub subject: String,
}

/// A provider identity linked to an account.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedIdentity {
    pub id: uuid::Uuid,
    pub identity: ProviderIdentity,
    /// The email the provider gave when it was linked (shown, never matched on).
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// A ceremony between two requests (an OpenID Connect redirect, a passkey challenge),
/// taken once by its handle's hash.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthFlow {
    pub handle_hash: Vec<u8>,
    /// What it is for, e.g. `oidc` or `passkey_sign_in`: taken only as that.
    pub kind: &'static str,
    pub account_id: Option<AccountId>,
    /// Hash of the cookie of the browser that began it, when a browser did.
    pub browser_hash: Option<Vec<u8>>,
    /// What the second request checks against, as JSON.
    pub state: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A passkey as its account sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRecord {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub name: String,
    pub credential_id: Vec<u8>,
    /// webauthn-rs' `Passkey` as JSON: public key, algorithm, counter. No secret.
    pub credential: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub first_name: String,
    pub last_name: String,
}

/// The step from a confirmed email link to a code sent by SMS.
#[derive(Debug, Clone)]
pub struct EmailConfirmation {
    pub now: DateTime<Utc>,
    /// Hash of the secret handed to the client to continue this attempt with.
    pub session_hash: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub code_expires_at: DateTime<Utc>,
}

/// A device registered at the end of a sign-in.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub account_id: AccountId,
    pub kind: DeviceKind,
    pub name: String,
    pub pin_hash: String,
    pub tokens: FreshTokens,
}

/// A new auth token and reissue token for a device, as hashes.
#[derive(Debug, Clone)]
pub struct FreshTokens {
    pub auth_hash: Vec<u8>,
    pub auth_expires_at: DateTime<Utc>,
    pub reissue_hash: Vec<u8>,
    pub now: DateTime<Utc>,
}

/// A session of tokens traded for an API key, with the key as it is now.
#[derive(Debug, Clone)]
pub struct KeySession {
    pub id: uuid::Uuid,
    pub key: crate::ApiKey,
    pub auth_expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// What presenting a key session's reissue token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyReissue {
    /// New tokens replace the old ones.
    Rotated,
    /// The token was rotated before: it was copied, and the session is now revoked.
    Reused,
    /// No such token, too old, or its session is revoked.
    Unknown,
}

/// A device as authentication needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    pub device: Device,
    pub account_id: AccountId,
    pub auth_expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub pin_hash: String,
    pub pin_failures: u32,
}

/// A device and the organization a request names, read together for the request
/// (`DeviceStore::device_in_org`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInOrg {
    pub device: DeviceRecord,
    /// `None` when no organization has the slug.
    pub org: Option<OrgOfDevice>,
}

/// The organization a device's request names, as the request needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgOfDevice {
    pub org: lintel_domain::Organization,
    /// The device's account's membership of it, if any.
    pub member: Option<crate::MemberRecord>,
    /// The organization's rules version as of this read (`RulesStore::rules_version`).
    pub rules_version: i64,
}

/// What presenting a reissue token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reissue {
    /// It was the device's current token: the device now has the fresh tokens.
    Rotated {
        device: DeviceId,
        account: AccountId,
    },
    /// It was an older, already rotated token: someone copied it, so the device is revoked.
    Reused { device: DeviceId },
    /// No device ever had it, or its device is revoked.
    Unknown,
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// An email or SMS waiting for delivery. Written in the same transaction as what caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub channel: Channel,
    /// An email address or an E.164 phone number.
    pub recipient: String,
    /// Empty for SMS.
    pub subject: String,
    pub body: String,
    /// Delivery attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What a verification proves control of an address for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The target is the account's new email.
    ChangeEmail,
    /// The target is the account's new phone.
    ChangePhone,
    /// The target is the account's phone, proven before the account is erased.
    DeleteAccount,
    /// The target is a recycled phone that another account still has; proving it detaches it
    /// from that account so the prover can register with it.
    ResetPhone,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ChangeEmail => "change_email",
            Purpose::ChangePhone => "change_phone",
            Purpose::DeleteAccount => "delete_account",
            Purpose::ResetPhone => "reset_phone",
        }
    }

    pub fn parse(value: &str) -> Option<Purpose> {
        [
            Purpose::ChangeEmail,
            Purpose::ChangePhone,
            Purpose::DeleteAccount,
            Purpose::ResetPhone,
        ]
        .into_iter()
        .find(|p| p.as_str() == value)
    }
}

/// A code sent to `target`, to be presented with the handle whose hash is `handle_hash`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub id: VerificationId,
    /// `None` for a phone reset, whose prover has no account.
    pub account_id: Option<AccountId>,
    pub purpose: Purpose,
    pub target: String,
    pub handle_hash: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub failures: u32,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What housekeeping deletes: rows older than these cut-offs, which serve no purpose any more
/// and may name people's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    /// Send records: older ones no longer count against any limit (and spent proofs that
    /// old have long expired).
    pub sends_before: DateTime<Utc>,
    /// Sign-in attempts and verifications created before this have long expired.
    pub attempts_before: DateTime<Utc>,
    /// Outbox messages created before this are sent or given up on.
    pub messages_before: DateTime<Utc>,
    /// Sign-in ceremonies (OpenID Connect redirects, passkey challenges) that expired
    /// before this.
    pub flows_before: DateTime<Utc>,
    /// Devices revoked before this, and reissue tokens rotated out before this (older ones
    /// have expired, so their reuse no longer needs noticing).
    pub tokens_before: DateTime<Utc>,
}
