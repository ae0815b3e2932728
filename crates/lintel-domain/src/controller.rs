//! Controllers: the boxes at a site that hold the rules of the doors wired to them, decide
//! cards and PIN codes there (offline too) and drive the locks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::decision::{
    AccessRule, CredentialKey, CredentialRule, DoorRestrictions, MemberRule, Rules,
};
use crate::schedule::Schedule;
use crate::{AccessId, ControllerId, DoorId, MembershipId, ScheduleId, SiteId, ValidationError};

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
    /// The door's reader key in hex (`reader`): the controller signs proofs of presence at
    /// the door with it, which the server accepts from phones.
    pub reader_key: String,
}

/// Everything one controller decides from: the rules of its doors only (with their reader
/// keys; the accesses naming
/// them, cut down to them; the members those accesses reach and their cards and its site's
/// PIN codes; the schedules they use), as of the organization's rules `version`. Each list
/// is in key order, one entry per key (for credentials: the one that decides, an active
/// credential over a revoked one of the same key). The server sends it whole, or the
/// `RulesChanges` from rules the controller holds; the controller keeps it on disk. Its
/// `hash` is what both sides compare.
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
    /// SHA-256 of the rules as sent whole (their JSON), in hex: equal hashes, equal rules.
    /// Hashed as they are written out, without holding their JSON.
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        serde_json::to_writer(&mut hasher, self).expect("rules serialize");
        hex(&hasher.finalize())
    }

    /// The hash of rules as sent, from their JSON itself (`serde_json::to_vec` of them).
    pub fn hash_of(json: &[u8]) -> String {
        hex(&Sha256::digest(json))
    }

    /// How many doors, schedules, members, accesses and credentials they hold.
    pub fn len(&self) -> usize {
        self.doors.len()
            + self.schedules.len()
            + self.members.len()
            + self.accesses.len()
            + self.credentials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What turns these rules into `new`, or `None` when they are another controller's or
    /// site's (then `new` is sent whole).
    pub fn changes_to(&self, new: &ControllerRules) -> Option<RulesChanges> {
        if (self.controller_id, self.site_id) != (new.controller_id, new.site_id) {
            return None;
        }
        fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
            (old != new).then(|| new.clone())
        }
        Some(RulesChanges {
            version: new.version,
            pin_site_key: changed(&self.pin_site_key, &new.pin_site_key),
            offline_max_age_secs: changed(&self.offline_max_age_secs, &new.offline_max_age_secs),
            doors: changed(&self.doors, &new.doors),
            schedules: Changes::between(&self.schedules, &new.schedules),
            members: Changes::between(&self.members, &new.members),
            accesses: Changes::between(&self.accesses, &new.accesses),
            credentials: Changes::between(&self.credentials, &new.credentials),
        })
    }

    /// Applies changes made by `changes_to`: the rules become the new ones exactly, in the
    /// same order, with the same hash.
    pub fn apply(&mut self, changes: &RulesChanges) {
        self.version = changes.version;
        if let Some(key) = &changes.pin_site_key {
            self.pin_site_key.clone_from(key);
        }
        if let Some(age) = changes.offline_max_age_secs {
            self.offline_max_age_secs = age;
        }
        if let Some(doors) = &changes.doors {
            self.doors.clone_from(doors);
        }
        changes.schedules.apply_to(&mut self.schedules);
        changes.members.apply_to(&mut self.members);
        changes.accesses.apply_to(&mut self.accesses);
        changes.credentials.apply_to(&mut self.credentials);
    }

    /// The site PIN key as bytes, or `None` when it is not 32 bytes of hex.
    pub fn site_key(&self) -> Option<[u8; 32]> {
        key_of_hex(&self.pin_site_key)
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

/// What changed in a controller's rules between two versions: the rules as of `version`
/// are the earlier ones with these applied (`ControllerRules::apply`). The lists of doors and
/// the settings come whole when they changed; the rest entry by entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesChanges {
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_site_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_max_age_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doors: Option<Vec<ControllerDoor>>,
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub schedules: Changes<Schedule>,
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub members: Changes<MemberRule>,
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub accesses: Changes<AccessRule>,
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub credentials: Changes<(CredentialKey, CredentialRule)>,
}

impl RulesChanges {
    /// How many entries they put or remove (a changed list of doors counts as its length).
    pub fn len(&self) -> usize {
        self.doors.as_ref().map_or(0, Vec::len)
            + self.schedules.len()
            + self.members.len()
            + self.accesses.len()
            + self.credentials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.pin_site_key.is_none() && self.offline_max_age_secs.is_none()
    }
}

/// An entry of a list in `ControllerRules`, kept in the order of its key.
pub trait Keyed {
    type Key: Ord + Clone + std::fmt::Debug + Serialize + serde::de::DeserializeOwned;
    fn key(&self) -> &Self::Key;
}

impl Keyed for Schedule {
    type Key = ScheduleId;
    fn key(&self) -> &ScheduleId {
        &self.id
    }
}

impl Keyed for MemberRule {
    type Key = MembershipId;
    fn key(&self) -> &MembershipId {
        &self.id
    }
}

impl Keyed for AccessRule {
    type Key = AccessId;
    fn key(&self) -> &AccessId {
        &self.id
    }
}

impl Keyed for (CredentialKey, CredentialRule) {
    type Key = CredentialKey;
    fn key(&self) -> &CredentialKey {
        &self.0
    }
}

/// The entries of one list that are new or changed (`put`) and the keys of those gone
/// (`remove`), each in key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct Changes<T: Keyed> {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub put: Vec<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<T::Key>,
}

impl<T: Keyed> Default for Changes<T> {
    fn default() -> Self {
        Changes {
            put: Vec::new(),
            remove: Vec::new(),
        }
    }
}

impl<T: Keyed + Clone + PartialEq> Changes<T> {
    /// Between two lists in key order, one entry per key.
    pub fn between(old: &[T], new: &[T]) -> Changes<T> {
        let mut changes = Changes::default();
        let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
        loop {
            match (o.peek(), n.peek()) {
                (None, None) => break,
                (Some(a), Some(b)) if a.key() == b.key() => {
                    if a != b {
                        changes.put.push((*b).clone());
                    }
                    o.next();
                    n.next();
                }
                (Some(a), b) if b.is_none_or(|b| a.key() < b.key()) => {
                    changes.remove.push(a.key().clone());
                    o.next();
                }
                (_, Some(b)) => {
                    changes.put.push((*b).clone());
                    n.next();
                }
                (Some(_), None) => unreachable!("an old entry with no new one is removed above"),
            }
        }
        changes
    }

    /// Applies them to a list in key order, which stays so.
    pub fn apply_to(&self, list: &mut Vec<T>) {
        if self.is_empty() {
            return;
        }
        let mut gone: Vec<&T::Key> = self
            .remove
            .iter()
            .chain(self.put.iter().map(Keyed::key))
            .collect();
        gone.sort();
        list.retain(|e| gone.binary_search(&e.key()).is_err());
        list.extend(self.put.iter().cloned());
        list.sort_by(|a, b| a.key().cmp(b.key()));
    }
}

impl<T: Keyed> Changes<T> {
    pub fn len(&self) -> usize {
        self.put.len() + self.remove.len()
    }

    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.remove.is_empty()
    }
}

/// A 32-byte key from its hex (`ControllerRules::pin_site_key`, a door's `reader_key`), or
/// `None` when it is not 32 bytes of hex.
pub fn key_of_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
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

/// Hex of bytes, as `ControllerRules::pin_site_key` holds a key.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GroupId;
    use crate::decision::{AuthTypes, DoorRule};
    use uuid::Uuid;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Rules over doors, members, accesses and cards numbered by the given lists.
    fn rules(
        version: i64,
        members: &[u128],
        accesses: &[(u128, u128)],
        cards: &[(u128, bool)],
    ) -> ControllerRules {
        let door = DoorId(id(1));
        ControllerRules {
            version,
            controller_id: ControllerId(id(2)),
            site_id: SiteId(id(3)),
            pin_site_key: "00".repeat(32),
            offline_max_age_secs: 86_400,
            doors: vec![ControllerDoor {
                id: door,
                name: "Front".into(),
                unlock_duration_secs: 5,
                reader_key: "11".repeat(32),
            }],
            schedules: vec![],
            members: members
                .iter()
                .map(|&m| MemberRule {
                    id: MembershipId(id(m)),
                    active: m % 2 == 0,
                    groups: vec![GroupId(id(m % 3))],
                })
                .collect(),
            accesses: accesses
                .iter()
                .map(|&(a, member)| AccessRule {
                    id: AccessId(id(a)),
                    valid_from: None,
                    valid_to: None,
                    schedule: None,
                    doors: vec![DoorRule {
                        door,
                        in_types: AuthTypes::ANY,
                        out_types: AuthTypes::ANY,
                        held_open: false,
                    }],
                    members: vec![MembershipId(id(member))],
                    groups: vec![],
                })
                .collect(),
            credentials: cards
                .iter()
                .map(|&(c, revoked)| {
                    (
                        CredentialKey(format!("card:{c:06}")),
                        CredentialRule {
                            member: MembershipId(id(100 + c % 5)),
                            revoked,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn changes_turn_old_rules_into_new_ones_exactly() {
        let old = rules(
            7,
            &[100, 101, 103, 104],
            &[(10, 100), (11, 101), (13, 103)],
            &[(1, false), (2, false), (4, false), (6, true)],
        );
        // One member gone and one new, one access changed and one new, a card revoked, a
        // card gone, two new; the doors renamed.
        let mut new = rules(
            9,
            &[100, 102, 103, 104],
            &[(10, 100), (11, 103), (12, 102), (13, 103)],
            &[(0, false), (1, false), (2, true), (5, false), (6, true)],
        );
        new.doors[0].name = "Front door".into();
        let changes = old.changes_to(&new).unwrap();
        assert_eq!(changes.members.put.len(), 1);
        assert_eq!(changes.members.remove, [MembershipId(id(101))]);
        assert_eq!(changes.accesses.put.len(), 2);
        assert_eq!(
            changes.credentials.remove,
            [CredentialKey("card:000004".into())]
        );
        assert_eq!(changes.credentials.put.len(), 3);
        assert!(changes.doors.is_some() && changes.pin_site_key.is_none());
        // Sent as JSON, applied, the same rules and the same hash.
        let sent: RulesChanges =
            serde_json::from_slice(&serde_json::to_vec(&changes).unwrap()).unwrap();
        let mut applied = old.clone();
        applied.apply(&sent);
        assert_eq!(applied, new);
        assert_eq!(applied.hash(), new.hash());
        assert_eq!(
            ControllerRules::hash_of(&serde_json::to_vec(&new).unwrap()),
            new.hash()
        );

        // Nothing changed: nothing to send; everything gone: every key removed.
        assert!(new.changes_to(&new).unwrap().is_empty());
        let empty = rules(10, &[], &[], &[]);
        let mut cleared = new.clone();
        cleared.apply(&new.changes_to(&empty).unwrap());
        assert_eq!(cleared, empty);
        // Another controller's rules are not changed into these.
        let mut other = new.clone();
        other.controller_id = ControllerId(id(99));
        assert!(other.changes_to(&new).is_none());
    }
}
