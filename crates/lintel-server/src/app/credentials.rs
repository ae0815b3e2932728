//! Cards and PIN codes: assigned and revoked by administrators with `delegation`; a PIN
//! code is shown once to whoever issues it and afterwards only to its owner (`my_pins`).

use chrono::Duration;
use lintel_domain::credential::{
    self, PIN_GENERATED_MIN_LEN, PIN_MAX_LEN, PIN_MIN_LEN, is_guessable, shortest_pin_length,
};
use lintel_domain::{
    Area, Card, CardId, CredentialStatus, MembershipId, Pin, PinId, SiteId, ValidationError,
    validate,
};
use lintel_store::{CredentialFilter, NewPin, StoreError};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, AppState, Error, Found, ListRequest, Listed, OrgCtx, limits};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCard {
    pub member_id: Uuid,
    /// Decimal digits, as printed on the card or read by the reader.
    #[schema(example = "4711")]
    pub number: String,
    /// 0 to 65535, for formats that carry one (26-bit Wiegand: 0 to 255).
    pub facility_code: Option<i64>,
    pub description: Option<String>,
}

/// Narrows a list of cards or PIN codes.
#[derive(Debug, Default, Clone)]
pub struct CredentialQuery {
    pub member: Option<Uuid>,
    pub status: Option<String>,
    pub site: Option<Uuid>,
}

impl CredentialQuery {
    fn filter(&self) -> Result<CredentialFilter, Error> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(CredentialStatus::parse(s).ok_or_else(|| {
                ValidationError::new(
                    "status",
                    "unknown_status",
                    "status must be active or revoked",
                )
            })?),
        };
        Ok(CredentialFilter {
            member: self.member.map(MembershipId),
            status,
            site: self.site.map(SiteId),
        })
    }
}

pub async fn create_card(state: &AppState, ctx: &OrgCtx, req: CreateCard) -> Result<Card, Error> {
    ctx.require(Area::Delegation)?;
    let card = Card {
        id: CardId::new(ctx.now),
        member_id: MembershipId(req.member_id),
        number: credential::card_number("number", &req.number)?,
        facility_code: req
            .facility_code
            .map(|fc| credential::facility_code("facility_code", fc))
            .transpose()?,
        description: validate::description(req.description.as_deref().unwrap_or(""))?,
        status: CredentialStatus::Active,
        created_at: ctx.now,
        revoked_at: None,
    };
    state
        .store
        .create_card(ctx.org_id(), &card, &ctx.audit())
        .await?;
    Ok(card)
}

pub async fn get_card(state: &AppState, ctx: &OrgCtx, id: CardId) -> Result<Card, Error> {
    ctx.require(Area::Delegation)?;
    state.store.get_card(ctx.org_id(), id).await.found("card")
}

pub async fn list_cards(
    state: &AppState,
    ctx: &OrgCtx,
    query: &CredentialQuery,
    req: &ListRequest,
) -> Result<Listed<Card>, Error> {
    ctx.require(Area::Delegation)?;
    if query.site.is_some() {
        // Cards open doors at every site; a filter that matched nothing would mislead.
        return Err(ValidationError::new(
            "site",
            "not_for_cards",
            "cards are not tied to a site; site filters PIN codes only",
        )
        .into());
    }
    Ok(state
        .store
        .list_cards(ctx.org_id(), query.filter()?, req.page()?)
        .await?
        .into())
}

/// Revokes a card: presenting it is then answered `credential_revoked`.
pub async fn revoke_card(state: &AppState, ctx: &OrgCtx, id: CardId) -> Result<Card, Error> {
    ctx.require(Area::Delegation)?;
    state
        .store
        .revoke_card(ctx.org_id(), id, &ctx.audit())
        .await
        .found("card")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePin {
    pub member_id: Uuid,
    /// The site whose doors the code opens.
    pub site_id: Uuid,
    /// A code of 4 to 12 digits to use; when left out, Lintel makes a random one.
    pub code: Option<String>,
    /// The length of the code Lintel makes: at least 6, and longer when the site's codes of
    /// that length are too many (see `pin_space_exhausted`). Not with `code`.
    #[schema(minimum = 6, maximum = 12)]
    pub length: Option<u8>,
}

/// A new PIN code. The code is in this answer only; afterwards only its owner reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedPin {
    #[serde(flatten)]
    pub pin: Pin,
    pub code: String,
}

/// Refused codes given by hand: each one tells whether some member has that code at the
/// site, so they are rationed.
const TAKEN_CODES: [(Duration, usize); 1] = [(Duration::hours(1), 10)];

pub async fn create_pin(
    state: &AppState,
    ctx: &OrgCtx,
    req: CreatePin,
) -> Result<IssuedPin, Error> {
    ctx.require(Area::Delegation)?;
    let site = SiteId(req.site_id);
    let member = MembershipId(req.member_id);
    if let Some(code) = req.code {
        if req.length.is_some() {
            return Err(ValidationError::new(
                "length",
                "length_with_code",
                "give either code or length, not both",
            )
            .into());
        }
        credential::pin_code("code", &code)?;
        let taken_key = format!("pin-taken:{}", ctx.org_id());
        // Each chosen code takes a slot, given back unless the code was taken: the limit
        // counts probes of other people's codes, atomically.
        limits::take_one(state, ctx.now, &taken_key, &TAKEN_CODES).await?;
        return match issue(state, ctx, member, site, code).await {
            Err(Error::Exists {
                code: "pin_taken", ..
            }) => Err(Error::exists(
                "pin_taken",
                Some("code"),
                "this code is not available at this site; choose another, or leave code out \
                 to have one made",
            )),
            other => {
                state.store.give_back(&taken_key, ctx.now).await?;
                other
            }
        };
    }
    let counts = match state.store.pin_counts(ctx.org_id(), site).await {
        Err(StoreError::NotFound) => {
            return Err(StoreError::MissingReference { field: "site_id" }.into());
        }
        other => other?,
    };
    let issued = |len: u8| {
        counts
            .iter()
            .find(|(l, _)| *l == len)
            .map_or(0, |(_, n)| *n)
    };
    let at_least = match req.length {
        Some(len) if (PIN_GENERATED_MIN_LEN..=PIN_MAX_LEN).contains(&len) => len,
        Some(_) => {
            return Err(ValidationError::new(
                "length",
                "out_of_range",
                format!("length must be between {PIN_GENERATED_MIN_LEN} and {PIN_MAX_LEN}"),
            )
            .into());
        }
        None => PIN_GENERATED_MIN_LEN,
    };
    let Some(length) = shortest_pin_length(at_least, issued) else {
        return Err(Error::conflict(
            "pin_space_exhausted",
            Some("length"),
            format!("the site has too many codes for {at_least} to {PIN_MAX_LEN} digits"),
        ));
    };
    // A random code collides with an issued one at most once in a thousand tries.
    let mut last = None;
    for _ in 0..5 {
        match issue(state, ctx, member, site, random_code(length)).await {
            Err(Error::Exists {
                code: "pin_taken", ..
            }) => last = Some("pin_taken"),
            other => return other,
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "no free code of {length} digits after five tries ({last:?})"
    )))
}

/// `length` random digits that are not guessable.
fn random_code(length: u8) -> String {
    debug_assert!((PIN_MIN_LEN..=PIN_MAX_LEN).contains(&length));
    let mut rng = rand::rng();
    loop {
        let code: String = (0..length)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        if !is_guessable(&code) {
            return code;
        }
    }
}

async fn issue(
    state: &AppState,
    ctx: &OrgCtx,
    member: MembershipId,
    site: SiteId,
    code: String,
) -> Result<IssuedPin, Error> {
    let pin = Pin {
        id: PinId::new(ctx.now),
        member_id: member,
        site_id: site,
        length: u8::try_from(code.len()).unwrap_or(u8::MAX),
        status: CredentialStatus::Active,
        created_at: ctx.now,
        revoked_at: None,
    };
    let new = NewPin {
        digest: state.key.pin_digest(site, &code),
        sealed: state.key.seal_pin(pin.id, &code),
        pin,
    };
    state
        .store
        .create_pin(ctx.org_id(), &new, &ctx.audit())
        .await?;
    Ok(IssuedPin { pin: new.pin, code })
}

pub async fn get_pin(state: &AppState, ctx: &OrgCtx, id: PinId) -> Result<Pin, Error> {
    ctx.require(Area::Delegation)?;
    state.store.get_pin(ctx.org_id(), id).await.found("pin")
}

pub async fn list_pins(
    state: &AppState,
    ctx: &OrgCtx,
    query: &CredentialQuery,
    req: &ListRequest,
) -> Result<Listed<Pin>, Error> {
    ctx.require(Area::Delegation)?;
    Ok(state
        .store
        .list_pins(ctx.org_id(), query.filter()?, req.page()?)
        .await?
        .into())
}

/// Revokes a PIN code and forgets the sealed code.
pub async fn revoke_pin(state: &AppState, ctx: &OrgCtx, id: PinId) -> Result<Pin, Error> {
    ctx.require(Area::Delegation)?;
    state
        .store
        .revoke_pin(ctx.org_id(), id, &ctx.audit())
        .await
        .found("pin")
}

/// One of my PIN codes, readable by me only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyPin {
    pub org_slug: String,
    pub org_name: String,
    pub site_id: Uuid,
    pub site_name: String,
    pub pin_id: Uuid,
    pub code: String,
}

/// My active PIN codes, in the organizations where I am an active member.
pub async fn my_pins(state: &AppState, actor: &Actor) -> Result<Vec<MyPin>, Error> {
    let Actor::Device { account, .. } = actor else {
        return Err(Error::DeviceOnly);
    };
    let mut mine = Vec::new();
    for own in state.store.account_pins(*account).await? {
        let Some(code) = state.key.open_pin(own.pin.id, &own.sealed) else {
            tracing::error!(pin = %own.pin.id, "a sealed PIN code does not open with the server key");
            continue;
        };
        mine.push(MyPin {
            org_slug: own.org_slug,
            org_name: own.org_name,
            site_id: own.pin.site_id.0,
            site_name: own.site_name,
            pin_id: own.pin.id.0,
            code,
        });
    }
    Ok(mine)
}
