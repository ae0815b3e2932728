//! The member app's "My doors": the doors I can open now, with an Unlock button each, and a
//! plain sentence for every reason an unlock can be refused.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use lintel_domain::DoorId;
use lintel_domain::decision::{DenyReason, Direction};
use uuid::Uuid;

use super::html::{error_box, escape, hidden, page};
use super::{SameOrigin, Session, explain, forbidden};
use crate::app::decisions::{Location, Unlock, UnlockRequest};
use crate::app::{self, AppState, enter_org};

/// What to tell a person whose unlock was refused.
pub fn reason_text(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::UnknownCredential => "This phone is not known here. Sign in again.",
        DenyReason::CredentialRevoked => "This phone can no longer open doors here.",
        DenyReason::MembershipSuspended => {
            "Your membership is suspended. Ask an administrator to reinstate it."
        }
        DenyReason::NoAccess => "You have no access to this door.",
        DenyReason::NotYetValid => "Your access to this door has not started yet.",
        DenyReason::Expired => "Your access to this door has ended.",
        DenyReason::OutsideSchedule => "Your access does not cover this time of day.",
        DenyReason::AuthTypeNotAllowed => "This door does not open with the app this way.",
        DenyReason::PinRequired => "Enter your app PIN to unlock.",
        DenyReason::OutsideGeofence => {
            "You need to be at the site: allow this page to use your location, and try again there."
        }
        DenyReason::ReaderRequired => "This door opens only at its reader, with your card or PIN.",
        DenyReason::DoorOffline => "The door cannot be reached right now. Try again soon.",
        DenyReason::TooManyAttempts => {
            "Too many wrong codes were typed at this door. Use your phone or card, or wait a \
             few minutes."
        }
        DenyReason::RulesStale => {
            "The door has been cut off from Lintel for too long to trust its rules. Ask an \
             administrator to reconnect its controller."
        }
    }
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
    result: Option<(DoorId, &Unlock)>,
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
    if let Some((_, answer)) = result {
        body.push_str(&if answer.granted {
            "<p class=\"notice\" role=\"status\">Unlocked.</p>".to_owned()
        } else {
            error_box(answer.reason.map(reason_text))
        });
    }
    if by_org.is_empty() {
        body.push_str(
            "<section><p>There is no door you can open right now. Your organizations' \
             administrators grant access; see <a href=\"/me\">your profile</a> for whom to ask.\
             </p></section>",
        );
    }
    let pin_due = result.is_some_and(|(_, a)| a.reason == Some(DenyReason::PinRequired));
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
            let pin = if pin_due && result.is_some_and(|(d, _)| d == door.id) {
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
    Ok(page("My doors", &body))
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
            (status, Html(page("My doors", &error_box(Some(&message))))).into_response()
        }
    }
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
        Ok(ctx) => app::decisions::unlock_by_phone(&state, &ctx, DoorId(door), request).await,
        Err(err) => Err(err),
    };
    let html = match &result {
        Ok(answer) => doors_html(&state, &session, Some((DoorId(door), answer))).await,
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
            (status, Html(page("My doors", &body))).into_response()
        }
    }
}
