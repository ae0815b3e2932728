//! The member app's "My doors": the doors I can open now, with an Unlock button each, and a
//! plain sentence for every reason an unlock can be refused.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use lintel_domain::decision::{DenyReason, Direction};
use lintel_domain::{Area, DoorId};
use uuid::Uuid;

use super::html::{Lang, Tab, app_page, error_box, escape, hidden};
use super::{SameOrigin, Session, explain, forbidden};
use crate::app::decisions::{Location, Unlock, UnlockRequest};
use crate::app::{self, AppState, OrgCtx, enter_org};

/// The admin area that can set right a refusal for `reason`, to name whom to ask; `None`
/// where asking would not help (a PIN to type, a place to be, a phone to sign in again).
pub fn area_to_ask(reason: DenyReason) -> Option<Area> {
    match reason {
        DenyReason::MembershipSuspended | DenyReason::CredentialRevoked => Some(Area::Members),
        DenyReason::NoAccess
        | DenyReason::NotYetValid
        | DenyReason::Expired
        | DenyReason::OutsideSchedule
        | DenyReason::AuthTypeNotAllowed => Some(Area::Delegation),
        DenyReason::DoorOffline | DenyReason::RulesStale => Some(Area::Doors),
        DenyReason::UnknownCredential
        | DenyReason::PinRequired
        | DenyReason::OutsideGeofence
        | DenyReason::ReaderRequired
        | DenyReason::TooManyAttempts => None,
    }
}

/// The message id of what to tell a person refused for `reason`.
fn reason_id(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::UnknownCredential => "deny-unknown-credential",
        DenyReason::CredentialRevoked => "deny-credential-revoked",
        DenyReason::MembershipSuspended => "deny-membership-suspended",
        DenyReason::NoAccess => "deny-no-access",
        DenyReason::NotYetValid => "deny-not-yet-valid",
        DenyReason::Expired => "deny-expired",
        DenyReason::OutsideSchedule => "deny-outside-schedule",
        DenyReason::AuthTypeNotAllowed => "deny-auth-type-not-allowed",
        DenyReason::PinRequired => "deny-pin-required",
        DenyReason::OutsideGeofence => "deny-outside-geofence",
        DenyReason::ReaderRequired => "deny-reader-required",
        DenyReason::DoorOffline => "deny-door-offline",
        DenyReason::TooManyAttempts => "deny-too-many-attempts",
        DenyReason::RulesStale => "deny-rules-stale",
    }
}

/// What to tell a person whose unlock was refused, and what to do next, in `lang`: `ask`
/// names whom to ask (see `whom_to_ask`).
pub fn reason_text(lang: Lang, reason: DenyReason, ask: &str) -> String {
    lang.text(reason_id(reason), &[("ask", ask)])
}

/// Whom a member of `ctx`'s organization refused for `reason` should ask: up to two of the
/// administrators holding the area that can set it right, with the email or phone the
/// organization chooses to show; "an administrator" when there is none to name.
pub async fn whom_to_ask(
    state: &AppState,
    ctx: &OrgCtx,
    lang: Lang,
    reason: DenyReason,
) -> Result<String, app::Error> {
    let Some(area) = area_to_ask(reason) else {
        return Ok(String::new());
    };
    let admins = app::members::admins(state, ctx).await?;
    let names: Vec<String> = admins
        .iter()
        .filter(|a| a.areas.allows(area))
        .take(2)
        .map(app::members::AdminContact::reach)
        .collect();
    Ok(match names.as_slice() {
        [] => lang.word("ask-an-administrator"),
        [one] => one.clone(),
        [first, second, ..] => lang.text("ask-either", &[("first", first), ("second", second)]),
    })
}

/// Fills the location fields of a door that needs it before its form is sent. The page's
/// Content-Security-Policy allows this script by its hash, and no other.
pub(super) const LOCATION_SCRIPT: &str = "
document.querySelectorAll('form[data-geofence]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    if (form.dataset.located || !navigator.geolocation) { return; }
    event.preventDefault();
    navigator.geolocation.getCurrentPosition(function (p) {
      form.latitude.value = p.coords.latitude;
      form.longitude.value = p.coords.longitude;
      form.dataset.located = '1';
      form.submit();
    }, function () { form.dataset.located = '1'; form.submit(); });
  });
});
";

async fn doors_html(
    state: &AppState,
    session: &Session,
    lang: Lang,
    result: Option<(DoorId, &Unlock, &str)>,
) -> Result<String, app::Error> {
    let mine = app::decisions::my_doors(state, &session.actor).await?;
    let mut by_org: Vec<(String, String, Vec<_>)> = Vec::new();
    for d in mine {
        match by_org.iter_mut().find(|(slug, ..)| *slug == d.org_slug) {
            Some((_, _, doors)) => doors.push(d.door),
            None => by_org.push((d.org_slug, d.org_name, vec![d.door])),
        }
    }
    let mut body = String::new();
    if let Some((_, answer, refusal)) = result {
        body.push_str(&if answer.granted {
            format!(
                "<p class=\"notice\" role=\"status\">{}</p>",
                escape(&lang.word("doors-unlocked"))
            )
        } else {
            error_box(Some(refusal))
        });
    }
    if by_org.is_empty() {
        body.push_str(&format!(
            "<section><p>{} <a href=\"/me\">{}</a></p></section>",
            escape(&lang.word("doors-none")),
            escape(&lang.word("doors-whom-to-ask"))
        ));
    }
    let pin_due = result.is_some_and(|(_, a, _)| a.reason == Some(DenyReason::PinRequired));
    for (slug, name, doors) in by_org {
        // Where the organization lets members send links, to their own guests.
        let guests = match state.store.get_org_by_slug(&slug).await {
            Ok(org) if org.settings.guest_links_by_members => format!(
                " <a class=\"hint\" href=\"/guests/{}\">{}</a>",
                escape(&slug),
                escape(&lang.word("doors-my-guests"))
            ),
            _ => String::new(),
        };
        body.push_str(&format!(
            "<section><h2>{}{guests}</h2><ul class=\"rows\">",
            escape(&name)
        ));
        for door in doors {
            let pin = if pin_due && result.is_some_and(|(d, ..)| d == door.id) {
                format!(
                    "<label for=\"pin\">{}</label><input id=\"pin\" name=\"pin\" \
                     type=\"password\" inputmode=\"numeric\" autocomplete=\"off\" required>",
                    escape(&lang.word("doors-app-pin"))
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<li><strong>{}</strong> <span class=\"hint\">{}</span>\
                 <form method=\"post\" action=\"/doors/{}/{}/unlock\"{}>{}{}{}{}\
                 <button>{}</button></form></li>",
                escape(&door.name),
                escape(&lang.word(&format!("kind-{}", door.kind.as_str().replace('_', "-")))),
                escape(&slug),
                door.id,
                if door.geofence_required {
                    " data-geofence=\"1\""
                } else {
                    ""
                },
                hidden("csrf", &session.csrf),
                hidden("latitude", ""),
                hidden("longitude", ""),
                pin,
                escape(&lang.word("doors-unlock")),
            ));
        }
        body.push_str("</ul></section>");
    }
    let pins = app::credentials::my_pins(state, &session.actor).await?;
    if !pins.is_empty() {
        let rows: String = pins
            .iter()
            .map(|p| {
                format!(
                    "<li>{} · {}: <code class=\"pin\">{}</code></li>",
                    escape(&p.org_name),
                    escape(&p.site_name),
                    escape(&p.code)
                )
            })
            .collect();
        body.push_str(&format!(
            "<section><h2>{}</h2><p class=\"hint\">{}</p><details><summary>{}</summary>\
             <ul class=\"rows\">{rows}</ul></details></section>",
            escape(&lang.word("doors-pins-title")),
            escape(&lang.word("doors-pins-hint")),
            escape(&lang.word("doors-pins-show")),
        ));
    }
    body.push_str("<script>");
    body.push_str(LOCATION_SCRIPT);
    body.push_str("</script>");
    Ok(app_page(lang, &lang.word("doors-title"), Tab::Doors, &body))
}

/// The page as an answer that no cache keeps: it may show PIN codes.
fn private(html: String) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

pub async fn my_doors(State(state): State<AppState>, session: Session, browser: Lang) -> Response {
    let lang = browser.for_person(&state, &session.actor).await;
    match doors_html(&state, &session, lang, None).await {
        Ok(html) => private(html),
        Err(err) => refused_page(lang, err),
    }
}

/// The page when it cannot be shown, or an unlock failed: the error, and the way back.
fn refused_page(lang: Lang, err: app::Error) -> Response {
    let (status, message) = explain(lang, err);
    let title = lang.word("doors-title");
    let body = format!(
        "{}<p><a href=\"/doors\">{}</a></p>",
        error_box(Some(&message)),
        escape(&title)
    );
    (status, Html(app_page(lang, &title, Tab::Doors, &body))).into_response()
}

/// Unlocks by phone, with what to tell the person when it is refused.
async fn refused_how(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    request: UnlockRequest,
    lang: Lang,
) -> Result<(Unlock, String), app::Error> {
    let answer = app::decisions::unlock_by_phone(state, ctx, door, request).await?;
    let refusal = match answer.reason {
        Some(reason) => reason_text(lang, reason, &whom_to_ask(state, ctx, lang, reason).await?),
        None => String::new(),
    };
    Ok((answer, refusal))
}

pub async fn unlock(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    browser: Lang,
    Path((slug, door)): Path<(String, Uuid)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = browser.for_person(&state, &session.actor).await;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if !session.sent(field("csrf")) {
        return forbidden();
    }
    let location = match (field("latitude").parse(), field("longitude").parse()) {
        (Ok(latitude), Ok(longitude)) => Some(Location {
            latitude,
            longitude,
        }),
        _ => None,
    };
    let pin = Some(field("pin").to_owned()).filter(|p| !p.is_empty());
    let request = UnlockRequest {
        direction: Some(Direction::In),
        pin,
        location,
        reader_proof: None,
    };
    let result = match enter_org(&state, session.actor.clone(), &slug).await {
        Ok(ctx) => refused_how(&state, &ctx, DoorId(door), request, lang).await,
        Err(err) => Err(err),
    };
    let html = match &result {
        Ok((answer, refusal)) => {
            doors_html(
                &state,
                &session,
                lang,
                Some((DoorId(door), answer, refusal)),
            )
            .await
        }
        Err(_) => doors_html(&state, &session, lang, None).await,
    };
    match (result, html) {
        (Ok(_), Ok(html)) => private(html),
        (Err(err), _) | (_, Err(err)) => refused_page(lang, err),
    }
}
