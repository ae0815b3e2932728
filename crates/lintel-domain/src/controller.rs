//! Controllers: the boxes at a site that hold the rules of the doors wired to them, decide
//! cards and PIN codes there (offline too) and drive the locks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::decision::{
    AccessRule, CredentialKey, CredentialRule, DoorRestrictions, MemberRule, Rules,
};
use crate::schedule::Schedule;
use crate::{ControllerId, DoorId, ScheduleId, SiteId, ValidationError};

/// The prefix of a controller's token (`lct_…`), shown once when it is made or rotated.
pub const TOKEN_PREFIX: &str = "lct_";

/// A controller as admins manage it. Its token is stored only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Controller {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: ControllerId,
    /// The site whose doors it may hold; a door is wired only to a controller of its site.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub site_id: SiteId,
    pub name: String,
    pub description: String,
    /// When its current token was made (at creation or the last rotation).
    pub token_issued_at: DateTime<Utc>,
    pub live: ControllerLive,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How long after it was last heard from a connected controller still counts as online
/// (it reports every few seconds).
pub const ONLINE_WITHIN_SECS: i64 = 30;

/// What a controller last reported, as it syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControllerLive {
    /// A sync stream is open and the controller was heard from in the last 30 seconds.
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The organization's rules version its rules were made from.
    pub rules_version: Option<i64>,
    /// Its rules are the ones the server would send it now.
    pub rules_in_sync: bool,
    /// Events decided at its doors that it has not yet handed over.
    pub events_waiting: Option<i64>,
    /// Its clock minus the server's, in milliseconds, when last heard from.
    pub clock_skew_ms: Option<i64>,
    pub software_version: Option<String>,
    /// When the server last saw it hold the rules it would send it (it counts its offline
    /// time from its own record of this, which lags by at most a minute).
    pub rules_confirmed_at: Option<DateTime<Utc>>,
    /// From when its doors open nothing if it is not heard from again: its site's
    /// `offline_rules_max_days` after `rules_confirmed_at` (read only).
    pub rules_stale_at: Option<DateTime<Utc>>,
}

impl ControllerLive {
    /// Online only while it keeps being heard from: a node that died with the stream open
    /// leaves `online` set, and time clears it.
    pub fn as_of(mut self, now: DateTime<Utc>) -> ControllerLive {
        self.online = self.online
            && self
                .last_seen_at
                .is_some_and(|seen| now - seen < chrono::Duration::seconds(ONLINE_WITHIN_SECS));
        self
    }
}

/// A door as its controller needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerDoor {
    pub id: DoorId,
    pub name: String,
    /// How long the relay stays released after a granted decision.
    pub unlock_duration_secs: u32,
}

/// Everything one controller decides from: the rules of its doors only (the accesses naming
/// them, cut down to them; the members those accesses reach and their cards and its site's
/// PIN codes; the schedules they use), as of the organization's rules `version`. The server
/// sends it whole; the controller keeps it on disk. Its `hash` is what both sides compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerRules {
    pub version: i64,
    pub controller_id: ControllerId,
    pub site_id: SiteId,
    /// The site's PIN key in hex: typed codes are digested with it as on the server
    /// (`credential::pin_digest`), so the rules hold no code, only digests.
    pub pin_site_key: String,
    /// Past this age since the server last confirmed the rules, nothing opens.
    pub offline_max_age_secs: i64,
    pub doors: Vec<ControllerDoor>,
    pub schedules: Vec<Schedule>,
    pub members: Vec<MemberRule>,
    pub accesses: Vec<AccessRule>,
    pub credentials: Vec<(CredentialKey, CredentialRule)>,
}

impl ControllerRules {
    /// SHA-256 of the rules as sent (their JSON), in hex: equal hashes, equal rules.
    pub fn hash(&self) -> String {
        ControllerRules::hash_of(&serde_json::to_vec(self).expect("rules serialize"))
    }

    /// The hash of rules as sent, from their JSON itself (`serde_json::to_vec` of them).
    pub fn hash_of(json: &[u8]) -> String {
        Sha256::digest(json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The site PIN key as bytes, or `None` when it is not 32 bytes of hex.
    pub fn site_key(&self) -> Option<[u8; 32]> {
        let hex = self.pin_site_key.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            key[i] = u8::from_str_radix(text, 16).ok()?;
        }
        Some(key)
    }

    /// The engine over these rules (a controller decides no phone, so doors carry no
    /// restrictions), and the schedules that do not read. Consumes them: the engine takes
    /// over their credentials' keys instead of copying them.
    pub fn into_engine(self) -> (Rules, Vec<(ScheduleId, ValidationError)>) {
        let none = DoorRestrictions::default();
        Rules::build(
            &self.schedules,
            self.members,
            self.doors.iter().map(|d| (d.id, none)),
            self.accesses,
            self.credentials,
        )
    }
}

/// Hex of bytes, as `ControllerRules::pin_site_key` holds a key.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
