//! Cards and PIN codes. Revoking keeps the row (so the engine can say `credential_revoked`);
//! uniqueness holds among active ones, by partial unique indexes. PIN codes arrive as digests
//! and sealed codes: the store never sees a code.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::credential::{KeyParts, card_key, key_parts, pin_key, pin_space_allows};
use lintel_domain::decision::{CredentialKey, CredentialRule};
use lintel_domain::{
    AccountId, Card, CardId, CredentialStatus, EventKind, OrgId, Pin, PinId, SiteId, event,
};
use uuid::Uuid;

use super::events::record;
use super::{Backend, Conn, fetch_in_org, fetch_limit, is_unique_violation, page_from_rows};
use crate::rows::{CardRow, PinRow, to_i32};
use crate::{
    Audit, CredentialFilter, CredentialStore, NewPin, OwnPin, Page, PageRequest, RuleObjects,
    StoreError,
};

macro_rules! card_columns {
    () => {
        "id, membership_id, number, facility_code, description, status, created_at, revoked_at"
    };
}

macro_rules! pin_columns {
    () => {
        "id, membership_id, site_id, length, status, created_at, revoked_at"
    };
}

const SELECT_CARD: &str = concat!(
    "SELECT ",
    card_columns!(),
    " FROM cards WHERE org_id = $1 AND id = $2"
);
const SELECT_PIN: &str = concat!(
    "SELECT ",
    pin_columns!(),
    " FROM pins WHERE org_id = $1 AND id = $2"
);

/// Refuses a member of another organization, or none, as a missing reference.
async fn member_exists(conn: &mut Conn, org: OrgId, member: Uuid) -> Result<(), StoreError> {
    let found: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM memberships WHERE org_id = $1 AND id = $2")
            .bind(org.0)
            .bind(member)
            .fetch_optional(conn)
            .await?;
    found
        .map(|_| ())
        .ok_or(StoreError::MissingReference { field: "member_id" })
}

async fn counts(conn: &mut Conn, site: SiteId) -> Result<Vec<(u8, u64)>, StoreError> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT length, COUNT(*) FROM pins WHERE site_id = $1 AND status = 'active' \
         GROUP BY length ORDER BY length",
    )
    .bind(site.0)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(len, n)| {
            (
                u8::try_from(len).unwrap_or(u8::MAX),
                u64::try_from(n).unwrap_or(0),
            )
        })
        .collect())
}

/// Locks the site's row (PostgreSQL; SQLite's single writer already serialises), so two
/// codes issued at once cannot both take the last room of a length.
async fn lock_site(conn: &mut Conn, org: OrgId, site: SiteId) -> Result<(), StoreError> {
    let found: Option<(Uuid,)> = sqlx::query_as(concat!(
        "SELECT id FROM sites WHERE org_id = $1 AND id = $2",
        for_update!()
    ))
    .bind(org.0)
    .bind(site.0)
    .fetch_optional(conn)
    .await?;
    found
        .map(|_| ())
        .ok_or(StoreError::MissingReference { field: "site_id" })
}

#[derive(sqlx::FromRow)]
struct OwnPinRow {
    #[sqlx(flatten)]
    pin: PinRow,
    org_slug: String,
    org_name: String,
    site_name: String,
    sealed: Vec<u8>,
}

/// Every card and PIN code of the organization as the engine knows them, revoked first.
pub(super) async fn rules(
    conn: &mut Conn,
    org: OrgId,
) -> Result<Vec<(CredentialKey, CredentialRule)>, StoreError> {
    let cards: Vec<(Uuid, String, Option<i32>, String)> = sqlx::query_as(
        "SELECT membership_id, number, facility_code, status FROM cards WHERE org_id = $1",
    )
    .bind(org.0)
    .fetch_all(&mut *conn)
    .await?;
    let pins: Vec<(Uuid, Uuid, Vec<u8>, String)> =
        sqlx::query_as("SELECT membership_id, site_id, digest, status FROM pins WHERE org_id = $1")
            .bind(org.0)
            .fetch_all(&mut *conn)
            .await?;
    Ok(engine_rules(&cards, &pins))
}

/// Every card and PIN code with one of the asked keys, or sharing its key with an asked card
/// or PIN code, as the engine knows them, revoked first.
pub(super) async fn rules_sharing_keys(
    conn: &mut Conn,
    org: OrgId,
    asked: &RuleObjects,
) -> Result<Vec<(CredentialKey, CredentialRule)>, StoreError> {
    type CardRule = (Uuid, String, Option<i32>, String);
    type PinRule = (Uuid, Uuid, Vec<u8>, String);
    let mut cards: Vec<CardRule> = Vec::new();
    let mut pins: Vec<PinRule> = Vec::new();
    for id in &asked.cards {
        cards.extend(
            sqlx::query_as::<_, CardRule>(
                "SELECT c.membership_id, c.number, c.facility_code, c.status FROM cards c \
                 JOIN cards asked ON asked.org_id = c.org_id AND asked.number = c.number \
                 AND COALESCE(asked.facility_code, -1) = COALESCE(c.facility_code, -1) \
                 WHERE asked.org_id = $1 AND asked.id = $2",
            )
            .bind(org.0)
            .bind(id.0)
            .fetch_all(&mut *conn)
            .await?,
        );
    }
    for id in &asked.pins {
        pins.extend(
            sqlx::query_as::<_, PinRule>(
                "SELECT p.membership_id, p.site_id, p.digest, p.status FROM pins p \
                 JOIN pins asked ON asked.org_id = p.org_id AND asked.site_id = p.site_id \
                 AND asked.digest = p.digest WHERE asked.org_id = $1 AND asked.id = $2",
            )
            .bind(org.0)
            .bind(id.0)
            .fetch_all(&mut *conn)
            .await?,
        );
    }
    for key in &asked.credential_keys {
        match key_parts(key) {
            Some(KeyParts::Card {
                facility_code,
                number,
            }) => cards.extend(
                sqlx::query_as::<_, CardRule>(
                    "SELECT membership_id, number, facility_code, status FROM cards \
                     WHERE org_id = $1 AND number = $2 AND COALESCE(facility_code, -1) = $3",
                )
                .bind(org.0)
                .bind(number)
                .bind(facility_code.map_or(-1, to_i32))
                .fetch_all(&mut *conn)
                .await?,
            ),
            Some(KeyParts::Pin { site, digest }) => pins.extend(
                sqlx::query_as::<_, PinRule>(
                    "SELECT membership_id, site_id, digest, status FROM pins \
                     WHERE org_id = $1 AND site_id = $2 AND digest = $3",
                )
                .bind(org.0)
                .bind(site.0)
                .bind(digest)
                .fetch_all(&mut *conn)
                .await?,
            ),
            None => {}
        }
    }
    Ok(engine_rules(&cards, &pins))
}

/// Cards and PIN codes as the engine knows them, revoked first, so that an active credential
/// wins over a revoked one with its key.
fn engine_rules(
    cards: &[(Uuid, String, Option<i32>, String)],
    pins: &[(Uuid, Uuid, Vec<u8>, String)],
) -> Vec<(CredentialKey, CredentialRule)> {
    let mut all: Vec<(CredentialKey, CredentialRule)> = cards
        .iter()
        .map(|(member, number, fc, status)| {
            let fc = fc.and_then(|fc| u32::try_from(fc).ok());
            (card_key(fc, number), rule(*member, status))
        })
        .chain(pins.iter().map(|(member, site, digest, status)| {
            (pin_key((*site).into(), digest), rule(*member, status))
        }))
        .collect();
    all.sort_by_key(|(_, r)| !r.revoked);
    all
}

fn rule(member: Uuid, status: &str) -> CredentialRule {
    CredentialRule {
        member: member.into(),
        revoked: status != "active",
    }
}

#[async_trait]
impl CredentialStore for Backend {
    async fn create_card(&self, org: OrgId, card: &Card, audit: &Audit) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        member_exists(&mut tx, org, card.member_id.0).await?;
        sqlx::query(concat!(
            "INSERT INTO cards (org_id, ",
            card_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(org.0)
        .bind(card.id.0)
        .bind(card.member_id.0)
        .bind(&card.number)
        .bind(card.facility_code.map(to_i32))
        .bind(&card.description)
        .bind(card.status.as_str())
        .bind(card.created_at)
        .bind(card.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::exists(
                    "card_taken",
                    Some("number"),
                    "another member's active card has this number and facility code",
                )
            } else {
                e.into()
            }
        })?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::CardCreated,
            Some(("card", card.id.0)),
            event::created(card),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_card(&self, org: OrgId, id: CardId) -> Result<Card, StoreError> {
        fetch_in_org::<CardRow, _>(self.reader(), SELECT_CARD, org, id.0).await
    }

    async fn list_cards(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Card>, StoreError> {
        let rows = sqlx::query_as::<_, CardRow>(concat!(
            "SELECT ",
            card_columns!(),
            " FROM cards WHERE org_id = $1 AND ($2 IS NULL OR id > $2) \
             AND ($3 IS NULL OR membership_id = $3) AND ($4 IS NULL OR status = $4) \
             ORDER BY id LIMIT $5"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(filter.member.map(|m| m.0))
        .bind(filter.status.map(CredentialStatus::as_str))
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |c: &Card| c.id.0)
    }

    async fn revoke_card(&self, org: OrgId, id: CardId, audit: &Audit) -> Result<Card, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut card: Card = fetch_in_org::<CardRow, _>(&mut *tx, SELECT_CARD, org, id.0).await?;
        if card.status == CredentialStatus::Active {
            sqlx::query(
                "UPDATE cards SET status = 'revoked', revoked_at = $3 WHERE org_id = $1 AND id = $2",
            )
            .bind(org.0)
            .bind(id.0)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?;
            let before = card.clone();
            card.status = CredentialStatus::Revoked;
            card.revoked_at = Some(audit.at);
            record(
                &mut tx,
                org,
                audit,
                EventKind::CardRevoked,
                Some(("card", id.0)),
                event::changes(&before, &card),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(card)
    }

    async fn pin_counts(&self, org: OrgId, site: SiteId) -> Result<Vec<(u8, u64)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        if !super::places::site_exists(&mut conn, org, site).await? {
            return Err(StoreError::NotFound);
        }
        counts(&mut conn, site).await
    }

    async fn create_pin(&self, org: OrgId, new: &NewPin, audit: &Audit) -> Result<(), StoreError> {
        let pin = &new.pin;
        let mut tx = self.writer().begin().await?;
        lock_site(&mut tx, org, pin.site_id).await?;
        member_exists(&mut tx, org, pin.member_id.0).await?;
        let existing: Option<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM pins WHERE org_id = $1 AND membership_id = $2 AND site_id = $3 \
             AND status = 'active'",
        )
        .bind(org.0)
        .bind(pin.member_id.0)
        .bind(pin.site_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if existing.is_some() {
            return Err(StoreError::conflict(
                "member_has_pin",
                Some("member_id"),
                "the member already has a PIN code at this site; revoke it first",
            ));
        }
        let issued = counts(&mut tx, pin.site_id)
            .await?
            .into_iter()
            .find(|(len, _)| *len == pin.length)
            .map_or(0, |(_, n)| n);
        if !pin_space_allows(pin.length, issued) {
            return Err(StoreError::conflict(
                "pin_space_exhausted",
                Some("length"),
                format!(
                    "the site has {issued} active {}-digit codes: one more would leave fewer than \
                     1000 possible codes for each issued one; use a longer code",
                    pin.length
                ),
            ));
        }
        sqlx::query(concat!(
            "INSERT INTO pins (org_id, ",
            pin_columns!(),
            ", digest, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(org.0)
        .bind(pin.id.0)
        .bind(pin.member_id.0)
        .bind(pin.site_id.0)
        .bind(i32::from(pin.length))
        .bind(pin.status.as_str())
        .bind(pin.created_at)
        .bind(pin.revoked_at)
        .bind(&new.digest)
        .bind(&new.sealed)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::exists(
                    "pin_taken",
                    Some("code"),
                    "this code is not available at this site; choose another",
                )
            } else {
                e.into()
            }
        })?;
        record(
            &mut tx,
            org,
            audit,
            EventKind::PinCreated,
            Some(("pin", pin.id.0)),
            event::created(pin),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_pin(&self, org: OrgId, id: PinId) -> Result<Pin, StoreError> {
        fetch_in_org::<PinRow, _>(self.reader(), SELECT_PIN, org, id.0).await
    }

    async fn list_pins(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Pin>, StoreError> {
        let rows = sqlx::query_as::<_, PinRow>(concat!(
            "SELECT ",
            pin_columns!(),
            " FROM pins WHERE org_id = $1 AND ($2 IS NULL OR id > $2) \
             AND ($3 IS NULL OR membership_id = $3) AND ($4 IS NULL OR status = $4) \
             AND ($5 IS NULL OR site_id = $5) ORDER BY id LIMIT $6"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(filter.member.map(|m| m.0))
        .bind(filter.status.map(CredentialStatus::as_str))
        .bind(filter.site.map(|s| s.0))
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |p: &Pin| p.id.0)
    }

    async fn revoke_pin(&self, org: OrgId, id: PinId, audit: &Audit) -> Result<Pin, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut pin: Pin = fetch_in_org::<PinRow, _>(&mut *tx, SELECT_PIN, org, id.0).await?;
        if pin.status == CredentialStatus::Active {
            sqlx::query(
                "UPDATE pins SET status = 'revoked', revoked_at = $3, sealed = NULL \
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(org.0)
            .bind(id.0)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?;
            let before = pin.clone();
            pin.status = CredentialStatus::Revoked;
            pin.revoked_at = Some(audit.at);
            record(
                &mut tx,
                org,
                audit,
                EventKind::PinRevoked,
                Some(("pin", id.0)),
                event::changes(&before, &pin),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pin)
    }

    async fn account_pins(&self, account: AccountId) -> Result<Vec<OwnPin>, StoreError> {
        let rows: Vec<OwnPinRow> = sqlx::query_as(
            "SELECT p.id, p.membership_id, p.site_id, p.length, p.status, p.created_at, \
             p.revoked_at, o.slug AS org_slug, o.name AS org_name, s.name AS site_name, p.sealed \
             FROM pins p \
             JOIN memberships m ON m.org_id = p.org_id AND m.id = p.membership_id \
             JOIN organizations o ON o.id = p.org_id \
             JOIN sites s ON s.org_id = p.org_id AND s.id = p.site_id \
             WHERE m.account_id = $1 AND m.status = 'active' AND p.status = 'active' \
             AND p.sealed IS NOT NULL ORDER BY o.name, s.name, p.id",
        )
        .bind(account.0)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OwnPin {
                    org_slug: r.org_slug,
                    org_name: r.org_name,
                    site_name: r.site_name,
                    pin: Pin::try_from(r.pin)?,
                    sealed: r.sealed,
                })
            })
            .collect()
    }

    async fn server_key_fingerprint(
        &self,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO server_key (id, fingerprint, created_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (stored,): (String,) =
            sqlx::query_as("SELECT fingerprint FROM server_key WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(stored)
    }
}
