//! Each organization's rules in memory, for the decision engine, kept current with the
//! store on every node: when an organization's rules version has moved, the node reads the
//! changes since the version it holds (`rule_changes`) and applies just those objects to the
//! engine in place. It loads everything again only the first time, after a change it cannot
//! apply piecemeal (a door or group deleted, an account erased), or when it is further behind
//! than `MAX_DELTA` changes or than the pruned log reaches. Organizations idle for an hour are
//! forgotten by the hourly job, so a node holds the rules of the tenants it serves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use lintel_domain::decision::Rules;
use lintel_domain::{
    Access, AccessId, CardId, DoorId, EventKind, MembershipId, OrgId, PinId, ScheduleId, SiteId,
};
use lintel_store::{RuleChange, RuleObjects, RulesDelta, RulesSnapshot};

use super::{AppState, Error};

/// More pending changes than this are loaded whole: reading objects one by one would cost
/// more.
const MAX_DELTA: u32 = 200;

/// One organization's rules as of a version.
pub struct Loaded {
    pub version: i64,
    pub rules: Rules,
}

/// One organization's rules, changed in place under the lock; `refresh` lets one request at
/// a time bring them up to date.
pub struct OrgRules {
    loaded: RwLock<Loaded>,
    refresh: tokio::sync::Mutex<()>,
    /// When a request last asked for them (Unix seconds, by the injected clock).
    last_used: AtomicI64,
}

impl OrgRules {
    /// The rules for reading. Hold the guard only for a computation, never across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn version(&self) -> i64 {
        self.read().version
    }
}

/// The rules of the organizations this node has decided for.
#[derive(Default)]
pub struct RulesCache {
    orgs: Mutex<HashMap<OrgId, Arc<OrgRules>>>,
    full_loads: AtomicU64,
}

impl RulesCache {
    /// The organization's rules, brought up to its current version.
    pub async fn current(&self, state: &AppState, org: OrgId) -> Result<Arc<OrgRules>, Error> {
        let version = state.store.rules_version(org).await?;
        self.at_least(state, org, version).await
    }

    /// The rules of the request's organization, current as of the version read with its
    /// context when it was (a device's request), else as of now.
    pub async fn of(&self, state: &AppState, ctx: &super::OrgCtx) -> Result<Arc<OrgRules>, Error> {
        match ctx.rules_version {
            Some(version) => self.at_least(state, ctx.org_id(), version).await,
            None => self.current(state, ctx.org_id()).await,
        }
    }

    /// The organization's rules, brought up to `version` at least.
    async fn at_least(
        &self,
        state: &AppState,
        org: OrgId,
        version: i64,
    ) -> Result<Arc<OrgRules>, Error> {
        let known = self
            .orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&org)
            .cloned();
        let entry = match known {
            Some(entry) => entry,
            None => {
                let loaded = self.load_whole(state, org).await?;
                let fresh = Arc::new(OrgRules {
                    loaded: RwLock::new(loaded),
                    refresh: tokio::sync::Mutex::new(()),
                    last_used: AtomicI64::new(0),
                });
                let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
                // Another request may have loaded it meanwhile: keep the newer.
                let kept = orgs.entry(org).or_insert_with(|| fresh.clone());
                if kept.version() < fresh.version() {
                    *kept = fresh;
                }
                kept.clone()
            }
        };
        entry
            .last_used
            .store(state.clock.now().timestamp(), Ordering::Relaxed);
        if entry.version() >= version {
            return Ok(entry);
        }
        self.catch_up(state, org, &entry, version).await?;
        Ok(entry)
    }

    /// Brings `entry` to `version` at least: the changes since its own, or everything.
    async fn catch_up(
        &self,
        state: &AppState,
        org: OrgId,
        entry: &OrgRules,
        version: i64,
    ) -> Result<(), Error> {
        let _one_at_a_time = entry.refresh.lock().await;
        let from = entry.version();
        if from >= version {
            return Ok(());
        }
        let changes = state.store.rule_changes(org, from, MAX_DELTA + 1).await?;
        match plan(&changes, from) {
            Some(mut objects) => {
                // A member's credentials may be gone with it: read their keys again.
                {
                    let loaded = entry.read();
                    for m in &objects.members {
                        objects
                            .credential_keys
                            .extend(loaded.rules.credential_keys_of(*m));
                    }
                }
                let delta = state.store.load_rule_objects(org, &objects).await?;
                let last = changes.last().map_or(from, |c| c.version);
                let mut loaded = entry.loaded.write().unwrap_or_else(PoisonError::into_inner);
                apply(&mut loaded.rules, &objects, delta);
                loaded.version = last;
            }
            None => {
                let whole = self.load_whole(state, org).await?;
                *entry.loaded.write().unwrap_or_else(PoisonError::into_inner) = whole;
            }
        }
        Ok(())
    }

    /// Forgets the rules of organizations no request has asked for since `before`; returns
    /// how many. They are loaded again when next asked for.
    pub fn evict_idle(&self, before: DateTime<Utc>) -> usize {
        let mut orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        let held = orgs.len();
        orgs.retain(|_, rules| rules.last_used.load(Ordering::Relaxed) >= before.timestamp());
        held - orgs.len()
    }

    /// How many times this node has loaded an organization's rules whole.
    pub fn full_loads(&self) -> u64 {
        self.full_loads.load(Ordering::Relaxed)
    }

    async fn load_whole(&self, state: &AppState, org: OrgId) -> Result<Loaded, Error> {
        self.full_loads.fetch_add(1, Ordering::Relaxed);
        Ok(build(state.store.load_rules(org).await?))
    }
}

/// What to read again for `changes`, which follow version `from`; `None` when they cannot be
/// applied piecemeal.
fn plan(changes: &[RuleChange], from: i64) -> Option<RuleObjects> {
    let contiguous = changes.first().is_some_and(|c| c.version == from + 1);
    if !contiguous || changes.len() > MAX_DELTA as usize {
        return None;
    }
    let mut objects = RuleObjects::default();
    for change in changes {
        let id = change.object?;
        // Every kind is named, none by a wildcard: a new kind does not compile until it is
        // decided here what to read again for it (and in `EventKind::changes_rules`).
        use EventKind::*;
        match change.kind? {
            AccessCreated | AccessUpdated | AccessDeleted | AccessExpired => {
                objects.accesses.push(AccessId(id));
            }
            MemberInvited
            | MemberInvitationResent
            | MemberInvitationRevoked
            | MemberJoined
            | MemberAdded
            | MemberUpdated
            | MemberSuspended
            | MemberReinstated
            | MemberRemoved
            | MemberLeft
            | MemberErased => objects.members.push(MembershipId(id)),
            ScheduleCreated | ScheduleUpdated | ScheduleDeleted => {
                objects.schedules.push(ScheduleId(id));
            }
            // Deleting a door, a group or a site takes rows out of accesses, memberships
            // and PIN codes without naming them.
            DoorDeleted | GroupDeleted | SiteDeleted => return None,
            DoorCreated | DoorUpdated => objects.doors.push(DoorId(id)),
            // Groups change through their members and accesses, which say so themselves.
            GroupCreated | GroupUpdated => {}
            SiteCreated | SiteUpdated => objects.sites.push(SiteId(id)),
            CardCreated | CardRevoked => objects.cards.push(CardId(id)),
            PinCreated | PinRevoked => objects.pins.push(PinId(id)),
            // Kinds that change nothing decisions read never come here; should one, read
            // everything again.
            AccessApplied
            | OrganizationCreated
            | OrganizationUpdated
            | OrganizationQuotasUpdated
            | LinkCreated
            | LinkRevoked
            | ApiKeyCreated
            | ApiKeyRevoked
            | ControllerCreated
            | ControllerUpdated
            | ControllerDeleted
            | ControllerTokenRotated
            | ControllerPairingCodeCreated
            | ControllerPaired
            | ControllerConnected
            | ControllerDisconnected
            | AccountSignedIn
            | AccountPhoneRecovered
            | AccountProviderLinked
            | AccountProviderUnlinked
            | AccountPasskeyAdded
            | AccountPasskeyRemoved
            | DecisionGranted
            | DecisionDenied
            | DoorStateChanged
            | ReaderStateChanged => return None,
        }
    }
    // Accesses and members change most often, several times in a row; duplicates in the
    // other lists only cost a read.
    objects.accesses.sort_unstable();
    objects.accesses.dedup();
    objects.members.sort_unstable();
    objects.members.dedup();
    Some(objects)
}

/// Applies what was read for `asked`: what came back is upserted, what did not is removed.
fn apply(rules: &mut Rules, asked: &RuleObjects, delta: RulesDelta) {
    for id in &asked.schedules {
        match delta.schedules.iter().find(|s| s.id == *id) {
            Some(s) => match s.timetable() {
                Ok(t) => rules.upsert_schedule(s.id, t),
                Err(err) => {
                    tracing::error!(schedule = %s.id, error = %err, "unreadable schedule");
                    rules.remove_schedule(s.id);
                }
            },
            None => rules.remove_schedule(*id),
        }
    }
    for id in &asked.members {
        match delta.members.iter().find(|m| m.id == *id) {
            Some(m) => rules.upsert_member(m.clone()),
            None => rules.remove_member(*id),
        }
    }
    for (id, restrictions) in delta.doors {
        rules.upsert_door(id, restrictions);
    }
    for id in &asked.accesses {
        match delta
            .accesses
            .iter()
            .find(|a| a.id == *id)
            .and_then(|a| a.rule())
        {
            Some(rule) => rules.upsert_access(rule),
            None => rules.remove_access(*id),
        }
    }
    // Keys read again hold exactly what came back (revoked first, so active ones win).
    for key in &asked.credential_keys {
        rules.remove_credential(key);
    }
    for (key, rule) in delta.credentials {
        rules.upsert_credential(key, rule);
    }
}

/// The engine's index of a whole snapshot.
pub fn build(snapshot: RulesSnapshot) -> Loaded {
    let accesses = snapshot.accesses.iter().filter_map(Access::rule);
    let (rules, unreadable) = Rules::build(
        &snapshot.schedules,
        snapshot.members,
        snapshot.doors,
        accesses,
        snapshot.credentials,
    );
    // Stored schedules were checked; one that no longer reads opens nothing.
    for (id, err) in unreadable {
        tracing::error!(schedule = %id, error = %err, "unreadable schedule");
    }
    Loaded {
        version: snapshot.version,
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn change(version: i64, kind: &str, object: Option<Uuid>) -> RuleChange {
        RuleChange {
            version,
            kind: EventKind::parse(kind),
            object,
        }
    }

    #[test]
    fn changes_are_applied_piecemeal_only_when_they_can_be() {
        let id = Uuid::from_u128(7);
        let plan_of = |changes: &[RuleChange]| plan(changes, 10);
        let objects = plan_of(&[
            change(11, "access.created", Some(id)),
            change(12, "access.updated", Some(id)),
            change(13, "member.updated", Some(id)),
            change(14, "site.updated", Some(id)),
            change(15, "group.created", Some(id)),
            change(16, "pin.revoked", Some(id)),
        ])
        .unwrap();
        assert_eq!(objects.accesses, vec![AccessId(id)], "once each");
        assert_eq!(objects.members, vec![MembershipId(id)]);
        assert_eq!(objects.sites, vec![SiteId(id)]);
        assert_eq!(objects.pins, vec![PinId(id)]);
        // A gap (pruned), nothing at all, too many, a deletion that cascades, a change
        // without an object or of an unknown kind: everything is loaded again.
        assert!(plan_of(&[change(12, "access.created", Some(id))]).is_none());
        assert!(plan_of(&[]).is_none());
        let many: Vec<_> = (11..11 + i64::from(MAX_DELTA) + 1)
            .map(|v| change(v, "access.created", Some(id)))
            .collect();
        assert!(plan_of(&many).is_none());
        assert!(plan_of(&many[..MAX_DELTA as usize]).is_some());
        for kind in [
            "door.deleted",
            "group.deleted",
            "site.deleted",
            "widget.created",
        ] {
            assert!(plan_of(&[change(11, kind, Some(id))]).is_none(), "{kind}");
        }
        assert!(plan_of(&[change(11, "member.erased", None)]).is_none());
    }
}
