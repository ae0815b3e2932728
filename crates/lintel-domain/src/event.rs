//! The event log: an append-only, per-organization record of who did what.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{AccountId, ApiKeyId, ControllerId, EventId, LinkId};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventActor {
    /// A person, through an app or browser. `account_id` is `None` once the account is
    /// deleted; the name is then gone too.
    Member {
        #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
        account_id: Option<AccountId>,
        name: String,
    },
    /// An organization's API key, named as it was then.
    ApiKey {
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        key_id: ApiKeyId,
        name: String,
    },
    /// An operator key over the API.
    Operator {
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        key_id: ApiKeyId,
    },
    /// A guest, by an access link, named as the link's recipient.
    Guest {
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        link_id: LinkId,
        name: String,
    },
    /// A door controller, named as it was then: decisions it made at its doors, its
    /// connecting and disconnecting.
    Controller {
        #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
        controller_id: ControllerId,
        name: String,
    },
    /// The operator's command line on the server (`lintel admin …`).
    Console,
    /// Lintel itself (jobs, expiries).
    System,
}

impl EventActor {
    /// The name under which an erased account's events are kept.
    pub const DELETED_ACCOUNT: &'static str = "deleted account";

    pub fn kind(&self) -> &'static str {
        match self {
            EventActor::Member { .. } => "member",
            EventActor::ApiKey { .. } => "api_key",
            EventActor::Operator { .. } => "operator",
            EventActor::Guest { .. } => "guest",
            EventActor::Controller { .. } => "controller",
            EventActor::Console => "console",
            EventActor::System => "system",
        }
    }

    /// The actor's id, for filtering: the account or the key.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            EventActor::Member { account_id, .. } => account_id.map(|a| a.0),
            EventActor::ApiKey { key_id, .. } | EventActor::Operator { key_id } => Some(key_id.0),
            EventActor::Guest { link_id, .. } => Some(link_id.0),
            EventActor::Controller { controller_id, .. } => Some(controller_id.0),
            EventActor::Console | EventActor::System => None,
        }
    }

    /// How the actor is named in lists.
    pub fn name(&self) -> &str {
        match self {
            EventActor::Member { name, .. }
            | EventActor::ApiKey { name, .. }
            | EventActor::Guest { name, .. }
            | EventActor::Controller { name, .. } => name,
            EventActor::Operator { .. } => "operator key",
            EventActor::Console => "operator console",
            EventActor::System => "Lintel",
        }
    }
}

/// Defines `EventKind` with the text each kind is stored and shown as, and the list of all.
macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// What an event is about and what happened to it, stored and shown as `object.verb`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($(#[$doc])* $variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The stored text, `object.verb`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $text,)*
                }
            }
        }
    };
}

event_kinds! {
    OrganizationCreated = "organization.created",
    OrganizationUpdated = "organization.updated",
    OrganizationQuotasUpdated = "organization.quotas_updated",
    SiteCreated = "site.created",
    SiteUpdated = "site.updated",
    SiteDeleted = "site.deleted",
    DoorCreated = "door.created",
    DoorUpdated = "door.updated",
    DoorDeleted = "door.deleted",
    GroupCreated = "group.created",
    GroupUpdated = "group.updated",
    GroupDeleted = "group.deleted",
    ScheduleCreated = "schedule.created",
    ScheduleUpdated = "schedule.updated",
    ScheduleDeleted = "schedule.deleted",
    AccessCreated = "access.created",
    AccessUpdated = "access.updated",
    AccessDeleted = "access.deleted",
    /// A temporary access that ended, deleted by the hourly job.
    AccessExpired = "access.expired",
    /// Every controller of an access's doors holds its last change: `creating`/`updating`
    /// became `ready`, `deleting` became `deleted`.
    AccessApplied = "access.applied",
    MemberInvited = "member.invited",
    MemberInvitationResent = "member.invitation_resent",
    MemberInvitationRevoked = "member.invitation_revoked",
    /// An invitation taken by the account it was sent to.
    MemberJoined = "member.joined",
    /// An account made a member without an invitation (the console, a first owner).
    MemberAdded = "member.added",
    MemberUpdated = "member.updated",
    MemberSuspended = "member.suspended",
    MemberReinstated = "member.reinstated",
    MemberRemoved = "member.removed",
    MemberLeft = "member.left",
    /// The member's account was deleted.
    MemberErased = "member.erased",
    CardCreated = "card.created",
    CardRevoked = "card.revoked",
    PinCreated = "pin.created",
    PinRevoked = "pin.revoked",
    LinkCreated = "link.created",
    LinkRevoked = "link.revoked",
    ApiKeyCreated = "api_key.created",
    ApiKeyRevoked = "api_key.revoked",
    ControllerCreated = "controller.created",
    ControllerUpdated = "controller.updated",
    ControllerDeleted = "controller.deleted",
    /// A controller's token was replaced; the old one stops working at once.
    ControllerTokenRotated = "controller.token_rotated",
    /// A pairing code was made for a controller (valid for minutes, single use).
    ControllerPairingCodeCreated = "controller.pairing_code_created",
    /// A controller traded its pairing code for a new token.
    ControllerPaired = "controller.paired",
    /// A controller opened its sync stream.
    ControllerConnected = "controller.connected",
    /// A controller's sync stream ended.
    ControllerDisconnected = "controller.disconnected",
    AccountSignedIn = "account.signed_in",
    /// An account whose number was taken over by its new owner came back with a new one.
    AccountPhoneRecovered = "account.phone_recovered",
    /// An account linked an OpenID Connect provider's identity (issuer and subject).
    AccountProviderLinked = "account.provider_linked",
    AccountProviderUnlinked = "account.provider_unlinked",
    /// An account added a passkey (named; its public key only).
    AccountPasskeyAdded = "account.passkey_added",
    AccountPasskeyRemoved = "account.passkey_removed",
    DecisionGranted = "decision.granted",
    DecisionDenied = "decision.denied",
    /// A door's state changed as its controller saw it (locked, unlocked, open, held_open,
    /// forced_open), or its request-to-exit button was pressed; the summary says why.
    DoorStateChanged = "door.state_changed",
    /// One of a door's readers went online, offline, refused (answering, but not on its
    /// key) or into install mode, or reported tamper, as its controller saw it.
    ReaderStateChanged = "reader.state_changed",
}

impl EventKind {
    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    /// Whether an event of this kind changes what decisions read, so that every node's
    /// decision engine must hear of it. Every kind is named: a new one does not compile until
    /// it is decided here, and in the rules cache's plan of what to read again.
    pub fn changes_rules(self) -> bool {
        use EventKind::*;
        match self {
            SiteUpdated
            | DoorCreated
            | DoorUpdated
            | DoorDeleted
            | GroupCreated
            | GroupUpdated
            | GroupDeleted
            | ScheduleCreated
            | ScheduleUpdated
            | ScheduleDeleted
            | AccessCreated
            | AccessUpdated
            | AccessDeleted
            | AccessExpired
            | MemberInvited
            | MemberInvitationResent
            | MemberInvitationRevoked
            | MemberJoined
            | MemberAdded
            | MemberUpdated
            | MemberSuspended
            | MemberReinstated
            | MemberRemoved
            | MemberLeft
            | MemberErased
            | CardCreated
            | CardRevoked
            | PinCreated
            | PinRevoked => true,
            // A new site has no doors yet, and a site is deleted only once it has none.
            SiteCreated | SiteDeleted => false,
            // Links are decided from live state at each use, not from the rules.
            LinkCreated | LinkRevoked => false,
            OrganizationCreated
            | OrganizationUpdated
            | OrganizationQuotasUpdated
            | ApiKeyCreated
            | ApiKeyRevoked
            // Grants nothing new and takes nothing away: `creating` and `updating` already
            // grant, `deleting` already does not.
            | AccessApplied
            // Which controller holds a door is the door's own field (`door.updated`); the
            // controller object itself is nothing a decision reads.
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
            | ReaderStateChanged => false,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the log. `summary` holds what changed: `before` and `after` values of the
/// fields that changed, or other details of the event's kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: EventId,
    pub at: DateTime<Utc>,
    /// `object.verb`, e.g. `door.created`, `member.suspended`, `account.signed_in`.
    #[cfg_attr(feature = "openapi", schema(example = "door.updated"))]
    pub kind: String,
    pub actor: EventActor,
    /// The kind of object it concerns (`door`, `member`, …), when it concerns one.
    pub object_kind: Option<String>,
    pub object_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub summary: serde_json::Value,
}

/// The summary of a created object: its values.
pub fn created(after: &impl Serialize) -> serde_json::Value {
    serde_json::json!({ "after": after })
}

/// The summary of a deleted object: its last values.
pub fn deleted(before: &impl Serialize) -> serde_json::Value {
    serde_json::json!({ "before": before })
}

/// The summary of a change: for each top-level field that differs (`updated_at` aside), its
/// value before and after.
pub fn changes(before: &impl Serialize, after: &impl Serialize) -> serde_json::Value {
    let (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return serde_json::json!({});
    };
    let mut changed = serde_json::Map::new();
    for (field, new) in &after {
        let old = before.get(field).unwrap_or(&serde_json::Value::Null);
        if field != "updated_at" && old != new {
            changed.insert(
                field.clone(),
                serde_json::json!({ "before": old, "after": new }),
            );
        }
    }
    serde_json::json!({ "changes": changed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_text_and_names_its_object() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            let (object, verb) = kind.as_str().split_once('.').unwrap();
            assert!(!object.is_empty() && !verb.is_empty(), "{kind}");
        }
        assert_eq!(EventKind::parse("door.painted"), None);
    }

    #[test]
    fn changes_name_only_the_fields_that_differ() {
        let before = serde_json::json!({"name": "Front", "kind": "door", "updated_at": 1});
        let after = serde_json::json!({"name": "Back", "kind": "door", "updated_at": 2});
        assert_eq!(
            changes(&before, &after),
            serde_json::json!({"changes": {"name": {"before": "Front", "after": "Back"}}})
        );
        assert_eq!(
            changes(&before, &before),
            serde_json::json!({"changes": {}})
        );
    }
}
