//! The event log: every change is recorded in the transaction that makes it, and a change to
//! what decisions read moves the organization's rules version in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{EventId, EventKind, OrgId};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Backend, Conn, MEMBER_OF_SUMMARY, fetch_limit, page_of};
use crate::group::{MAX_GROUP, NewEvent, WriteEvents};
use crate::rows::EventRow;
use crate::{
    Audit, DecisionActivity, DecisionCount, EventFilter, EventStore, Page, PageRequest, StoreError,
};

/// Appends one event to organization `org`'s log.
pub(super) async fn record(
    conn: &mut Conn,
    org: OrgId,
    audit: &Audit,
    kind: EventKind,
    object: Option<(&str, Uuid)>,
    summary: serde_json::Value,
) -> Result<(), StoreError> {
    record_all(conn, org, audit, &[(kind, object, summary)]).await
}

/// One event for `record_all`: kind, object (kind and id) and summary.
pub(super) type Entry<'a> = (EventKind, Option<(&'a str, Uuid)>, serde_json::Value);

/// Appends events to organization `org`'s log, all by `audit`, with multi-row statements:
/// `(kind, object, summary)` each, as `record` takes them.
pub(super) async fn record_all(
    conn: &mut Conn,
    org: OrgId,
    audit: &Audit,
    entries: &[Entry<'_>],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(MAX_GROUP) {
        let mut q = insert_events();
        q.push_values(chunk, |row, (kind, object, summary)| {
            event_values(row, org, audit, *kind, *object, summary);
        });
        signal_inserted(&mut q, &[org]);
        q.build().execute(&mut *conn).await?;
    }
    let changes: Vec<(EventKind, Option<Uuid>)> = entries
        .iter()
        .filter(|(kind, _, _)| kind.changes_rules())
        .map(|(kind, object, _)| (*kind, object.map(|(_, id)| id)))
        .collect();
    bump_rules(conn, org, &changes, audit.at).await
}

/// Writes a group of events of any organizations, by any actors, all or nothing: one
/// multi-row statement (atomic by itself, and on PostgreSQL one round trip), in a transaction
/// only when an event also moves an organization's rules.
pub(crate) struct GroupWriter(pub(crate) sqlx::Pool<super::Db>);

impl WriteEvents for GroupWriter {
    async fn write(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        debug_assert!(events.len() <= MAX_GROUP, "one statement's worth");
        let mut orgs: Vec<OrgId> = events.iter().map(|e| e.org).collect();
        orgs.sort_unstable();
        orgs.dedup();
        let mut q = insert_events();
        q.push_values(events, |row, e| {
            let object = e.object.as_ref().map(|(kind, id)| (kind.as_str(), *id));
            event_values(row, e.org, &e.audit, e.kind, object, &e.summary);
        });
        signal_inserted(&mut q, &orgs);
        if !events.iter().any(|e| e.kind.changes_rules()) {
            q.build().execute(&self.0).await?;
            return Ok(());
        }
        let mut tx = self.0.begin().await?;
        q.build().execute(&mut *tx).await?;
        for e in events.iter().filter(|e| e.kind.changes_rules()) {
            let object = e.object.as_ref().map(|(_, id)| *id);
            bump_rules(&mut tx, e.org, &[(e.kind, object)], e.audit.at).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// One event's row of an `insert_events` statement.
fn event_values<'args>(
    mut row: sqlx::query_builder::Separated<'_, 'args, super::Db, &'static str>,
    org: OrgId,
    audit: &'args Audit,
    kind: EventKind,
    object: Option<(&'args str, Uuid)>,
    summary: &'args serde_json::Value,
) {
    row.push_bind(EventId::new(audit.at).0)
        .push_bind(org.0)
        .push_bind(audit.at)
        .push_bind(kind.as_str())
        .push_bind(audit.actor.kind())
        .push_bind(audit.actor.id())
        .push_bind(audit.actor.name())
        .push_bind(object.map(|(k, _)| k))
        .push_bind(object.map(|(_, id)| id))
        .push_bind(Json(summary));
}

/// The start of an `INSERT` of events, up to its `VALUES`; end it with
/// `signal_inserted(orgs)`. On PostgreSQL the statement also signals `Events(org)` of each of
/// `orgs` to every node once the transaction commits (a `NOTIFY` in the same statement: no
/// round trip more); on SQLite the writer's update hook notes the rows.
pub(super) fn insert_events<'a>() -> sqlx::QueryBuilder<'a, super::Db> {
    sqlx::QueryBuilder::new(format!(
        "{}INSERT INTO events (id, org_id, at, kind, actor_kind, actor_id, actor_name, \
         object_kind, object_id, summary) ",
        if Backend::SIGNAL_IN_INSERT {
            "WITH inserted AS ("
        } else {
            ""
        }
    ))
}

/// Ends an `insert_events` statement (after its values and any `ON CONFLICT`): signals the
/// events of `orgs`, the organizations of its rows, if it inserted any.
pub(super) fn signal_inserted(q: &mut sqlx::QueryBuilder<'_, super::Db>, orgs: &[OrgId]) {
    if Backend::SIGNAL_IN_INSERT {
        q.push(" RETURNING 1) SELECT pg_notify(")
            .push_bind(crate::signals::CHANNEL)
            .push(", v.signal) FROM (VALUES ");
        let mut values = q.separated(", ");
        for org in orgs {
            values
                .push("(")
                .push_bind_unseparated(crate::Signal::Events(*org).encode())
                .push_unseparated(")");
        }
        q.push(") AS v(signal) WHERE EXISTS (SELECT 1 FROM inserted)");
    }
}

/// Marks the organization's rules changed, for every node's decision engine, and notes what
/// changed under a new version each, in order: `(kind, object)`, the event's kind and its
/// object (none: anything may have).
pub(super) async fn bump_rules(
    conn: &mut Conn,
    org: OrgId,
    changes: &[(EventKind, Option<Uuid>)],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    // The versions last-n+1 ..= last, one per change.
    let n = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO rule_versions (org_id, version) VALUES ($1, $2) \
         ON CONFLICT (org_id) DO UPDATE SET version = rule_versions.version + $2 \
         RETURNING version",
    )
    .bind(org.0)
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    // Heard by every node once (and only if) this transaction commits.
    Backend::announce(conn, crate::Signal::Rules(org)).await?;
    for (start, chunk) in (0..).step_by(500).zip(changes.chunks(500)) {
        let mut q = sqlx::QueryBuilder::<super::Db>::new(
            "INSERT INTO rule_changes (org_id, version, kind, object_id, at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut row, (i, (kind, object))| {
            let offset = i64::try_from(start + i).unwrap_or(i64::MAX);
            row.push_bind(org.0)
                .push_bind(last - n + 1 + offset)
                .push_bind(kind.as_str())
                .push_bind(*object)
                .push_bind(at);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Serialises changes to `org`'s memberships (PostgreSQL locks the row; SQLite's single
/// writer already serialises).
pub(super) async fn lock_org(conn: &mut Conn, org: OrgId) -> Result<(), StoreError> {
    let found: Option<(Uuid,)> = sqlx::query_as(concat!(
        "SELECT id FROM organizations WHERE id = $1",
        for_update!()
    ))
    .bind(org.0)
    .fetch_optional(conn)
    .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

#[async_trait]
impl EventStore for Backend {
    async fn record_event(
        &self,
        org: OrgId,
        audit: &Audit,
        kind: EventKind,
        object: Option<(&str, Uuid)>,
        summary: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.group_commit()
            .record(NewEvent {
                org,
                audit: audit.clone(),
                kind,
                object: object.map(|(kind, id)| (kind.to_owned(), id)),
                summary,
            })
            .await
    }

    async fn events_from(
        &self,
        org: OrgId,
        kind: Option<&str>,
        from: Uuid,
        limit: u32,
    ) -> Result<Vec<lintel_domain::Event>, StoreError> {
        let rows = sqlx::query_as::<_, EventRow>(
            "SELECT id, at, kind, actor_kind, actor_id, actor_name, object_kind, object_id, summary \
             FROM events WHERE org_id = $1 AND id >= $2 \
             AND ($3 IS NULL OR kind = $3 OR kind LIKE $4) ORDER BY id LIMIT $5",
        )
        .bind(org.0)
        .bind(from)
        .bind(kind)
        .bind(kind.map(|k| format!("{k}.%")))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(lintel_domain::Event::try_from)
            .collect()
    }

    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<lintel_domain::Event>, StoreError> {
        let rows = sqlx::query_as::<_, EventRow>(
            "SELECT id, at, kind, actor_kind, actor_id, actor_name, object_kind, object_id, summary \
             FROM events WHERE org_id = $1 AND ($2 IS NULL OR id < $2) \
             AND ($3 IS NULL OR kind = $3 OR kind LIKE $4) \
             AND ($5 IS NULL OR actor_id = $5) AND ($6 IS NULL OR object_id = $6) \
             AND ($7 IS NULL OR at >= $7) AND ($8 IS NULL OR at < $8) \
             ORDER BY id DESC LIMIT $9",
        )
        .bind(org.0)
        .bind(page.after)
        .bind(filter.kind.as_deref())
        .bind(filter.kind.as_deref().map(|k| format!("{k}.%")))
        .bind(filter.actor_id)
        .bind(filter.object_id)
        .bind(filter.from)
        .bind(filter.until)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        let items = rows
            .into_iter()
            .map(lintel_domain::Event::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(items, page, |e| e.id.0))
    }
    async fn decision_activity(
        &self,
        org: OrgId,
        edges: &[DateTime<Utc>],
    ) -> Result<DecisionActivity, StoreError> {
        let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
            return Ok(DecisionActivity::default());
        };
        if edges.len() > 101 || edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StoreError::Invalid(lintel_domain::ValidationError::new(
                "edges",
                "out_of_range",
                "decision periods must be at most 100, in order",
            )));
        }
        // Ids are UUIDv7 of the event's time: a bound with the first edge's millisecond and
        // nothing after it lets the (org_id, id) index find the periods' events.
        let from_ms = u128::try_from(first.timestamp_millis()).unwrap_or(0);
        let from_id = Uuid::from_u128(from_ms << 80);
        // Edges bind from $5 on: the period is the number of inner edges at or before `at`.
        let period: String = (1..edges.len() - 1)
            .map(|i| format!(" + CASE WHEN at >= ${} THEN 1 ELSE 0 END", i + 4))
            .collect();
        let sql = format!(
            "SELECT object_id, CAST(0{period} AS BIGINT) AS period, \
             COUNT(CASE WHEN kind = 'decision.granted' THEN 1 END), \
             COUNT(CASE WHEN kind = 'decision.denied' THEN 1 END) \
             FROM events WHERE org_id = $1 AND id >= $2 AND at >= $3 AND at < $4 \
             AND kind IN ('decision.granted', 'decision.denied') AND object_id IS NOT NULL \
             GROUP BY object_id, period"
        );
        let mut query = sqlx::query_as::<_, (Uuid, i64, i64, i64)>(&sql)
            .bind(org.0)
            .bind(from_id)
            .bind(*first)
            .bind(*last);
        for edge in &edges[1..edges.len() - 1] {
            query = query.bind(*edge);
        }
        let rows = query.fetch_all(self.reader()).await?;
        let members: (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(DISTINCT {MEMBER_OF_SUMMARY}) FROM events \
             WHERE org_id = $1 AND id >= $2 AND at >= $3 AND at < $4 \
             AND kind = 'decision.granted'"
        ))
        .bind(org.0)
        .bind(from_id)
        .bind(*first)
        .bind(*last)
        .fetch_one(self.reader())
        .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(DecisionActivity {
            counts: rows
                .into_iter()
                .map(|(door_id, period, granted, denied)| DecisionCount {
                    door_id,
                    period: usize::try_from(period).unwrap_or(0),
                    granted: count(granted),
                    denied: count(denied),
                })
                .collect(),
            members_granted: count(members.0),
        })
    }
}
