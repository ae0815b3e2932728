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

use super::html::{Tab, app_page, error_box, escape, hidden};
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

/// What to tell a person whose unlock was refused, and what to do next: `ask` names whom
/// to ask (see `whom_to_ask`).
pub fn reason_text(reason: DenyReason, ask: &str) -> String {
    match reason {
        DenyReason::UnknownCredential => "This phone is not known here. Sign in again.".into(),
        DenyReason::CredentialRevoked => {
            format!("This phone can no longer open doors here. Ask {ask} why.")
        }
        DenyReason::MembershipSuspended => {
            format!("Your membership here is suspended. Ask {ask} to reinstate it.")
        }
        DenyReason::NoAccess => {
            format!("You have no access to this door. Ask {ask} for access to it.")
        }
        DenyReason::NotYetValid => {
            format!("Your access to this door has not started yet. Ask {ask} if it should have.")
        }
        DenyReason::Expired => {
            format!("Your access to this door has ended. Ask {ask} to extend it.")
        }
        DenyReason::OutsideSchedule => {
            format!("Your access does not cover this time of day. Ask {ask} if you need it now.")
        }
        DenyReason::AuthTypeNotAllowed => format!(
            "This door does not open with the app this way. Use your card or PIN, or ask {ask}."
        ),
        DenyReason::PinRequired => "Enter your app PIN to unlock.".into(),
        DenyReason::OutsideGeofence => "You need to be at the site: allow this page to use \
                                        your location, and try again there."
            .into(),
        DenyReason::ReaderRequired => {
            "This door opens only at its reader, with your card or PIN.".into()
        }
        DenyReason::DoorOffline => format!(
            "The door cannot be reached right now. Try again in a minute; if it lasts, tell \
             {ask}."
        ),
        DenyReason::TooManyAttempts => "Too many wrong codes were typed at this door. Use \
                                        your phone or card, or wait a few minutes."
            .into(),
        DenyReason::RulesStale => format!(
            "The door has been cut off from Lintel for too long to trust its rules. Tell {ask} \
             so they can reconnect its controller."
        ),
    }
}

/// Whom a member of `ctx`'s organization refused for `reason` should ask: up to two of the
/// administrators holding the area that can set it right, with the email or phone the
/// organization chooses to show; "an administrator" when there is none to name.
pub async fn whom_to_ask(
    state: &AppState,
    ctx: &OrgCtx,
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
        .map(|a| {
            let reach: Vec<&str> = [a.email.as_deref(), a.phone.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if reach.is_empty() {
                format!("{} {}", a.first_name, a.last_name)
            } else {
                format!("{} {} ({})", a.first_name, a.last_name, reach.join(", "))
            }
        })
        .collect();
    Ok(if names.is_empty() {
        "an administrator".to_owned()
    } else {
        names.join(" or ")
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
            "<p class=\"notice\" role=\"status\">Unlocked.</p>".to_owned()
        } else {
            error_box(Some(refusal))
        });
    }
    if by_org.is_empty() {
        body.push_str(
            "<section><p>There is no door you can open right now. Your organizations' \
             administrators grant access; see <a href=\"/me\">your profile</a> for whom to ask.\
             </p></section>",
        );
    }
    let pin_due = result.is_some_and(|(_, a, _)| a.reason == Some(DenyReason::PinRequired));
    for (slug, name, doors) in by_org {
        // Where the organization lets members send links, to their own guests.
        let guests = match state.store.get_org_by_slug(&slug).await {
            Ok(org) if org.settings.guest_links_by_members => format!(
                " <a class=\"hint\" href=\"/guests/{}\">My guests</a>",
                escape(&slug)
            ),
            _ => String::new(),
        };
        body.push_str(&format!(
            "<section><h2>{}{guests}</h2><ul class=\"rows\">",
            escape(&name)
        ));
        for door in doors {
            let pin = if pin_due && result.is_some_and(|(d, ..)| d == door.id) {
                "<label for=\"pin\">App PIN</label><input id=\"pin\" name=\"pin\" type=\"password\" \
                 inputmode=\"numeric\" autocomplete=\"off\" required>"
            } else {
                ""
            };
            body.push_str(&format!(
                "<li><strong>{}</strong> <span class=\"hint\">{}</span>\
                 <form method=\"post\" action=\"/doors/{}/{}/unlock\"{}>{}{}{}{}\
                 <button>Unlock</button></form></li>",
                escape(&door.name),
                door.kind.as_str().replace('_', " "),
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
            "<section><h2>My PIN codes</h2><p class=\"hint\">For the keypads of these sites. \
             Only you can see them.</p><details><summary>Show my PIN codes</summary>\
             <ul class=\"rows\">{rows}</ul></details></section>"
        ));
    }
    body.push_str("<script>");
    body.push_str(LOCATION_SCRIPT);
    body.push_str("</script>");
    Ok(app_page("My doors", Tab::Doors, &body))
}

/// The page as an answer that no cache keeps: it may show PIN codes.
fn private(html: String) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

pub async fn my_doors(State(state): State<AppState>, session: Session) -> Response {
    match doors_html(&state, &session, None).await {
        Ok(html) => private(html),
        Err(err) => {
            let (status, message) = explain(err);
            (
                status,
                Html(app_page("My doors", Tab::Doors, &error_box(Some(&message)))),
            )
                .into_response()
        }
    }
}

/// Unlocks by phone, with what to tell the person when it is refused.
async fn refused_how(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    request: UnlockRequest,
) -> Result<(Unlock, String), app::Error> {
    let answer = app::decisions::unlock_by_phone(state, ctx, door, request).await?;
    let refusal = match answer.reason {
        Some(reason) => reason_text(reason, &whom_to_ask(state, ctx, reason).await?),
        None => String::new(),
    };
    Ok((answer, refusal))
}

pub async fn unlock(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path((slug, door)): Path<(String, Uuid)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
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
        Ok(ctx) => refused_how(&state, &ctx, DoorId(door), request).await,
        Err(err) => Err(err),
    };
    let html = match &result {
        Ok((answer, refusal)) => {
            doors_html(&state, &session, Some((DoorId(door), answer, refusal))).await
        }
        Err(_) => doors_html(&state, &session, None).await,
    };
    match (result, html) {
        (Ok(_), Ok(html)) => private(html),
        (Err(err), _) | (_, Err(err)) => {
            let (status, message) = explain(err);
            let body = format!(
                "{}<p><a href=\"/doors\">Back to my doors</a></p>",
                error_box(Some(&message))
            );
            (status, Html(app_page("My doors", Tab::Doors, &body))).into_response()
        }
    }
}
