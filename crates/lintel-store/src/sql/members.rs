//! Memberships, invitations and the event log. Changes that could leave an organization
//! without an owner lock the organization's row first, so two of them cannot both pass the
//! last-owner check.
//!
//! Long because memberships and invitations are one aggregate: an invitation becomes the
//! membership, under the same last-owner and one-per-organization rules.

use async_trait::async_trait;
use lintel_domain::{
    AccountId, EventKind, GroupId, Membership, MembershipId, MembershipStatus, OrgId, Organization,
    event,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::events::{lock_org, record, record_all};
use super::outbox::enqueue;
use super::{
    Backend, Conn, Db, ROWS_AT_ONCE, fetch_limit, is_unique_violation, page_of, push_list,
};
use crate::rows::{MemberRow, OrgRow};
use crate::{
    Audit, Change, InviteLink, MemberFilter, MemberRecord, MemberStore, Message, NewMember, Page,
    PageRequest, StoreError,
};

macro_rules! member_select {
    () => {
        "SELECT m.id, m.account_id, m.status, m.areas, m.invite_channel, m.invite_address, \
         m.invite_expires_at, m.created_at, m.updated_at, \
         a.first_name, a.last_name, a.email, a.phone \
         FROM memberships m LEFT JOIN accounts a ON a.id = m.account_id "
    };
}

fn last_owner() -> StoreError {
    StoreError::conflict(
        "last_owner",
        None,
        "this is the organization's last active owner; make someone else an owner first",
    )
}

async fn active_owners(conn: &mut Conn, org: OrgId) -> Result<i64, StoreError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND status = 'active' \
         AND CAST(areas AS TEXT) LIKE '%\"owner\"%'",
    )
    .bind(org.0)
    .fetch_one(conn)
    .await?;
    Ok(count)
}

async fn write_groups(
    conn: &mut Conn,
    org: OrgId,
    id: MembershipId,
    groups: &[GroupId],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM membership_groups WHERE org_id = $1 AND membership_id = $2")
        .bind(org.0)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    for group in groups {
        sqlx::query(
            "INSERT INTO membership_groups (org_id, membership_id, group_id) VALUES ($1, $2, $3)",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(group.0)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if super::is_foreign_key_violation(&e) {
                StoreError::MissingReference { field: "groups" }
            } else {
                e.into()
            }
        })?;
    }
    Ok(())
}

/// The groups of members whose ids lie in `first..=last`, by member.
async fn groups_between(
    conn: &mut Conn,
    org: OrgId,
    first: Uuid,
    last: Uuid,
) -> Result<Vec<(Uuid, GroupId)>, StoreError> {
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT membership_id, group_id FROM membership_groups \
         WHERE org_id = $1 AND membership_id >= $2 AND membership_id <= $3 \
         ORDER BY membership_id, group_id",
    )
    .bind(org.0)
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(m, g)| (m, g.into())).collect())
}

/// Turns rows (in id order) into records with their groups.
async fn records(
    conn: &mut Conn,
    org: OrgId,
    rows: Vec<MemberRow>,
) -> Result<Vec<MemberRecord>, StoreError> {
    let (Some(first), Some(last)) = (
        rows.first().map(MemberRow::id),
        rows.last().map(MemberRow::id),
    ) else {
        return Ok(Vec::new());
    };
    // Rows come in id order: the first and the last bound them all.
    let (lo, hi) = (first, last);
    let groups = groups_between(conn, org, lo, hi).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.id();
            let mine = groups
                .iter()
                .filter(|(m, _)| *m == id)
                .map(|(_, g)| *g)
                .collect();
            row.into_record(mine)
        })
        .collect()
}

async fn member(conn: &mut Conn, org: OrgId, id: MembershipId) -> Result<MemberRecord, StoreError> {
    let row = sqlx::query_as::<_, MemberRow>(concat!(
        member_select!(),
        "WHERE m.org_id = $1 AND m.id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    records(conn, org, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

async fn insert_membership(
    conn: &mut Conn,
    org: OrgId,
    m: &Membership,
    link: Option<&InviteLink>,
) -> Result<(), StoreError> {
    let invite = m.invitation.as_ref();
    sqlx::query(
        "INSERT INTO memberships (id, org_id, account_id, status, areas, invite_channel, \
         invite_address, invite_token_hash, invite_expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(m.id.0)
    .bind(org.0)
    .bind(m.account_id.map(|a| a.0))
    .bind(m.status.as_str())
    .bind(Json(&m.areas))
    .bind(invite.map(|i| i.channel.as_str()))
    .bind(invite.map(|i| i.address.as_str()))
    .bind(link.map(|l| l.token_hash.as_slice()))
    .bind(link.map(|l| l.expires_at))
    .bind(m.created_at)
    .bind(m.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::exists(
                "already_invited",
                Some("address"),
                "this address already has a pending invitation to the organization",
            )
        } else {
            e.into()
        }
    })?;
    write_groups(conn, org, m.id, &m.groups).await
}

/// Adds a membership or invitation inside the caller's transaction.
pub(super) async fn add_member(
    tx: &mut Conn,
    org: OrgId,
    new: &NewMember,
    audit: &Audit,
) -> Result<(), StoreError> {
    let m = &new.membership;
    lock_org(&mut *tx, org).await?;
    let member_already = match (&m.account_id, &m.invitation) {
        (Some(account), _) => {
            sqlx::query_as::<_, (Uuid,)>(
                "SELECT id FROM memberships WHERE org_id = $1 AND account_id = $2",
            )
            .bind(org.0)
            .bind(account.0)
            .fetch_optional(&mut *tx)
            .await?
        }
        (None, Some(invite)) => {
            sqlx::query_as::<_, (Uuid,)>(
                "SELECT m.id FROM memberships m JOIN accounts a ON a.id = m.account_id \
                 WHERE m.org_id = $1 AND (a.email = $2 OR a.phone = $2)",
            )
            .bind(org.0)
            .bind(&invite.address)
            .fetch_optional(&mut *tx)
            .await?
        }
        (None, None) => None,
    };
    if member_already.is_some() {
        return Err(StoreError::exists(
            "already_member",
            Some("address"),
            "this person is already a member of the organization",
        ));
    }
    insert_membership(&mut *tx, org, m, new.link.as_ref()).await?;
    if let Some(message) = &new.message {
        enqueue(&mut *tx, message).await?;
    }
    let kind = if m.status == MembershipStatus::Invited {
        EventKind::MemberInvited
    } else {
        EventKind::MemberAdded
    };
    record(
        tx,
        org,
        audit,
        kind,
        Some(("member", m.id.0)),
        event::created(m),
    )
    .await
}

/// Escapes `%`, `_` and `\` so a search matches them literally.
fn like_pattern(query: &str) -> String {
    let mut pattern = String::from("%");
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Makes invitation `id` the account's membership: active, no longer an invitation.
async fn take_invitation(
    conn: &mut Conn,
    org: OrgId,
    id: MembershipId,
    account: AccountId,
    audit: &Audit,
    kind: EventKind,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE memberships SET account_id = $3, status = 'active', invite_channel = NULL, \
         invite_address = NULL, invite_token_hash = NULL, invite_expires_at = NULL, \
         updated_at = $4 WHERE org_id = $1 AND id = $2 AND account_id IS NULL",
    )
    .bind(org.0)
    .bind(id.0)
    .bind(account.0)
    .bind(audit.at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::exists(
                "already_member",
                None,
                "you are already a member of this organization",
            )
        } else {
            StoreError::from(e)
        }
    })?;
    if done.rows_affected() == 0 {
        return Err(StoreError::conflict(
            "invitation_used",
            None,
            "this invitation has already been accepted or revoked",
        ));
    }
    record(
        conn,
        org,
        audit,
        kind,
        Some(("member", id.0)),
        serde_json::json!({}),
    )
    .await
}

/// At the end of a sign-in, which proved `email` and `phone`: attaches the pending
/// invitations for either address that have not expired, and records the sign-in in the log
/// of every organization the account belongs to.
pub(super) async fn on_sign_in(
    conn: &mut Conn,
    account: AccountId,
    email: &str,
    phone: &str,
    phone_recovered: bool,
    method: serde_json::Value,
    audit: &Audit,
) -> Result<(), StoreError> {
    let pending: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
        "SELECT org_id, id, EXISTS (SELECT 1 FROM memberships o \
                 WHERE o.org_id = m.org_id AND o.account_id = $1) \
         FROM memberships m WHERE account_id IS NULL AND invite_address IN ($2, $3) \
         AND (invite_expires_at IS NULL OR invite_expires_at > $4) ORDER BY id",
    )
    .bind(account.0)
    .bind(email)
    .bind(phone)
    .bind(audit.at)
    .fetch_all(&mut *conn)
    .await?;
    let mut taken = Vec::new();
    for (org, id, member_already) in pending {
        // One membership per organization: a second invitation to an organization the
        // account already belongs to stays pending for the admins to revoke.
        if !member_already && !taken.contains(&org) {
            take_invitation(
                conn,
                OrgId(org),
                id.into(),
                account,
                audit,
                EventKind::MemberJoined,
            )
            .await?;
            taken.push(org);
        }
    }
    let orgs: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT org_id, id FROM memberships WHERE account_id = $1")
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
    for (org, id) in orgs {
        let mut entries = Vec::with_capacity(2);
        if phone_recovered {
            // The admins see that the member came back with a new number, and since when.
            entries.push((
                EventKind::AccountPhoneRecovered,
                Some(("member", id)),
                serde_json::json!({}),
            ));
        }
        entries.push((
            EventKind::AccountSignedIn,
            Some(("member", id)),
            method.clone(),
        ));
        record_all(conn, OrgId(org), audit, &entries).await?;
    }
    Ok(())
}

/// Refuses to erase an account that is the last active owner of an organization, naming it.
pub(super) async fn ensure_not_last_owner(
    conn: &mut Conn,
    account: AccountId,
) -> Result<(), StoreError> {
    let sole: Option<(String,)> = sqlx::query_as(
        "SELECT o.slug FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.account_id = $1 AND m.status = 'active' \
         AND CAST(m.areas AS TEXT) LIKE '%\"owner\"%' \
         AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.org_id = m.org_id \
             AND x.id <> m.id AND x.status = 'active' \
             AND CAST(x.areas AS TEXT) LIKE '%\"owner\"%') \
         ORDER BY o.slug LIMIT 1",
    )
    .bind(account.0)
    .fetch_optional(conn)
    .await?;
    match sole {
        Some((slug,)) => Err(StoreError::conflict(
            "last_owner",
            None,
            format!(
                "you are the last owner of organization {slug:?}; make someone else an owner \
                 first"
            ),
        )),
        None => Ok(()),
    }
}

/// Keeps an erased account's events with an anonymous actor, and blanks the summaries that
/// name its addresses (invitations sent to them). The summaries are searched in full: account
/// deletion is rare, and an address may appear in any organization's log.
pub(super) async fn anonymise_events(
    conn: &mut Conn,
    account: AccountId,
    addresses: &[String],
) -> Result<(), StoreError> {
    for address in addresses {
        sqlx::query(
            "UPDATE events SET summary = $2 \
             WHERE LOWER(CAST(summary AS TEXT)) LIKE $1 ESCAPE '\\'",
        )
        .bind(like_pattern(address))
        .bind(Json(serde_json::json!({ "erased": true })))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE events SET actor_id = NULL, actor_name = $2 \
         WHERE actor_kind = 'member' AND actor_id = $1",
    )
    .bind(account.0)
    .bind(lintel_domain::EventActor::DELETED_ACCOUNT)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl MemberStore for Backend {
    async fn create_membership(
        &self,
        org: OrgId,
        member: &NewMember,
        audit: &Audit,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        add_member(&mut tx, org, member, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_member(&self, org: OrgId, id: MembershipId) -> Result<MemberRecord, StoreError> {
        let mut conn = self.reader().acquire().await?;
        member(&mut conn, org, id).await
    }

    async fn find_members(
        &self,
        org: OrgId,
        ids: &[MembershipId],
    ) -> Result<Vec<MemberRecord>, StoreError> {
        let ids: Vec<Uuid> = ids.iter().map(|m| m.0).collect();
        let mut conn = self.reader().acquire().await?;
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_AT_ONCE) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new(concat!(member_select!(), "WHERE m.org_id = "));
            q.push_bind(org.0).push(" AND m.id IN ");
            push_list(&mut q, chunk);
            q.push(" ORDER BY m.id");
            let rows: Vec<MemberRow> = q.build_query_as().fetch_all(&mut *conn).await?;
            found.extend(records(&mut conn, org, rows).await?);
        }
        Ok(found)
    }

    async fn find_membership(
        &self,
        org: OrgId,
        account: AccountId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let row = sqlx::query_as::<_, MemberRow>(concat!(
            member_select!(),
            "WHERE m.org_id = $1 AND m.account_id = $2"
        ))
        .bind(org.0)
        .bind(account.0)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(row) => Ok(records(&mut conn, org, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn list_members(
        &self,
        org: OrgId,
        filter: &MemberFilter,
        page: PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let rows = sqlx::query_as::<_, MemberRow>(concat!(
            member_select!(),
            "WHERE m.org_id = $1 AND ($2 IS NULL OR m.id > $2) \
             AND ($3 IS NULL OR m.status = $3) \
             AND ($4 IS NULL OR CAST(m.areas AS TEXT) LIKE $4) \
             AND ($5 IS NULL OR EXISTS (SELECT 1 FROM membership_groups g \
                  WHERE g.membership_id = m.id AND g.group_id = $5)) \
             AND ($6 IS NULL OR LOWER(a.first_name || ' ' || a.last_name) LIKE $6 ESCAPE '\\' \
                  OR LOWER(a.email) LIKE $6 ESCAPE '\\' OR a.phone LIKE $6 ESCAPE '\\' \
                  OR LOWER(m.invite_address) LIKE $6 ESCAPE '\\') \
             ORDER BY m.id LIMIT $7"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(filter.status.map(MembershipStatus::as_str))
        .bind(filter.area.map(|a| format!("%\"{a}\"%")))
        .bind(filter.group.map(|g| g.0))
        .bind(filter.query.as_deref().map(like_pattern))
        .bind(fetch_limit(page))
        .fetch_all(&mut *conn)
        .await?;
        let items = records(&mut conn, org, rows).await?;
        Ok(page_of(items, page, |r| r.membership.id.0))
    }

    async fn list_admins(&self, org: OrgId) -> Result<Vec<MemberRecord>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let rows = sqlx::query_as::<_, MemberRow>(concat!(
            member_select!(),
            "WHERE m.org_id = $1 AND m.status = 'active' AND CAST(m.areas AS TEXT) <> '[]' \
             ORDER BY m.id LIMIT 100"
        ))
        .bind(org.0)
        .fetch_all(&mut *conn)
        .await?;
        records(&mut conn, org, rows).await
    }

    async fn update_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        change: Change<'_, Membership>,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        let mut tx = self.writer().begin().await?;
        lock_org(&mut tx, org).await?;
        let before = member(&mut tx, org, id).await?.membership;
        let mut after = before.clone();
        change(&mut after)?;
        sqlx::query(
            "UPDATE memberships SET status = $3, areas = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(after.status.as_str())
        .bind(Json(&after.areas))
        .bind(after.updated_at)
        .execute(&mut *tx)
        .await?;
        if after.groups != before.groups {
            write_groups(&mut tx, org, id, &after.groups).await?;
        }
        if before.is_owner() && !after.is_owner() && active_owners(&mut tx, org).await? == 0 {
            return Err(last_owner());
        }
        let kind = match (before.status, after.status) {
            (MembershipStatus::Active, MembershipStatus::Suspended) => EventKind::MemberSuspended,
            (MembershipStatus::Suspended, MembershipStatus::Active) => EventKind::MemberReinstated,
            _ => EventKind::MemberUpdated,
        };
        record(
            &mut tx,
            org,
            audit,
            kind,
            Some(("member", id.0)),
            event::changes(&before, &after),
        )
        .await?;
        let updated = member(&mut tx, org, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        audit: &Audit,
        kind: EventKind,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        lock_org(&mut tx, org).await?;
        let before = member(&mut tx, org, id).await?.membership;
        super::links::revoke_made_by(&mut tx, org, id, audit.at).await?;
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if before.is_owner() && active_owners(&mut tx, org).await? == 0 {
            return Err(last_owner());
        }
        record(
            &mut tx,
            org,
            audit,
            kind,
            Some(("member", id.0)),
            event::deleted(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The invitation whose link token hashes to `token_hash`, with its organization. Expired
    /// ones too: the caller says so.
    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(Organization, MemberRecord)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let found: Option<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT org_id, id FROM memberships WHERE invite_token_hash = $1 AND account_id IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((org, id)) = found else {
            return Ok(None);
        };
        let org = OrgId(org);
        let organization: Organization = sqlx::query_as::<_, OrgRow>(concat!(
            "SELECT ",
            org_columns!(),
            " FROM organizations WHERE id = $1"
        ))
        .bind(org.0)
        .fetch_one(&mut *conn)
        .await?
        .try_into()?;
        Ok(Some((
            organization,
            member(&mut conn, org, id.into()).await?,
        )))
    }

    async fn accept_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        account: AccountId,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        let mut tx = self.writer().begin().await?;
        take_invitation(&mut tx, org, id, account, audit, EventKind::MemberJoined).await?;
        let joined = member(&mut tx, org, id).await?;
        tx.commit().await?;
        Ok(joined)
    }

    async fn renew_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        link: &InviteLink,
        message: &Message,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE memberships SET invite_token_hash = $3, invite_expires_at = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2 AND account_id IS NULL",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(&link.token_hash)
        .bind(link.expires_at)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        enqueue(&mut tx, message).await?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::MemberInvitationResent,
            Some(("member", id.0)),
            serde_json::json!({ "expires_at": link.expires_at }),
        )
        .await?;
        let renewed = member(&mut tx, org, id).await?;
        tx.commit().await?;
        Ok(renewed)
    }

    async fn ensure_not_last_owner(&self, account: AccountId) -> Result<(), StoreError> {
        let mut conn = self.reader().acquire().await?;
        ensure_not_last_owner(&mut conn, account).await
    }

    async fn account_memberships(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Organization, MemberRecord)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let ids: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT org_id, id FROM memberships WHERE account_id = $1 ORDER BY id")
                .bind(account.0)
                .fetch_all(&mut *conn)
                .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (org, id) in ids {
            let organization: Organization = sqlx::query_as::<_, OrgRow>(concat!(
                "SELECT ",
                org_columns!(),
                " FROM organizations WHERE id = $1"
            ))
            .bind(org)
            .fetch_one(&mut *conn)
            .await?
            .try_into()?;
            let record = member(&mut conn, OrgId(org), id.into()).await?;
            out.push((organization, record));
        }
        Ok(out)
    }
}
