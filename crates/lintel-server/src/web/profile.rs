//! My profile in the browser: my names, my email and phone, my devices.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceId;
use serde::Deserialize;
use uuid::Uuid;

use super::html::{error_box, escape, hidden, input, page};
use super::{SameOrigin, Session, explain, forbidden, session_cookie};
use crate::app::me::UpdateMe;
use crate::app::{self, AppState};

async fn profile_html(
    state: &AppState,
    session: &Session,
    error: Option<&str>,
) -> Result<String, app::Error> {
    let account = app::me::get(state, &session.actor).await?;
    let devices = app::me::devices(state, &session.actor).await?;
    let mut list = String::new();
    for d in &devices {
        let label = if d.current { "Sign out" } else { "Unregister" };
        list.push_str(&format!(
            "<li><strong>{}</strong>{} <span class=\"hint\">({}, last used {})</span>\
             <form method=\"post\" action=\"/me/devices/{}/unregister\">{}\
             <button class=\"secondary\">{label}</button></form></li>",
            escape(&d.device.name),
            if d.current { " — this browser" } else { "" },
            d.device.kind.as_str(),
            d.device.last_seen_at.format("%Y-%m-%d %H:%M UTC"),
            d.device.id,
            hidden("csrf", &session.csrf),
        ));
    }
    Ok(page(
        &format!("{} {}", account.first_name, account.last_name),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/me/names\"><h2>Your name</h2>{}{}{}\
             <button>Save</button></form>\
             <section><h2>Contact</h2><p>Email: {}<br>Phone: {}</p></section>\
             <section><h2>Your devices</h2><p class=\"hint\">Unregistering a device signs it \
             out; your account and access stay.</p><ul class=\"devices\">{list}</ul></section>",
            error_box(error),
            hidden("csrf", &session.csrf),
            input(
                "first_name",
                "First name",
                "text",
                &account.first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                "Last name",
                "text",
                &account.last_name,
                "required autocomplete=\"family-name\""
            ),
            escape(account.email.as_str()),
            escape(account.phone.as_ref().map_or("none", |p| p.as_str())),
        ),
    ))
}

fn rendered(result: Result<String, app::Error>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (
                status,
                Html(page("Something went wrong", &error_box(Some(&message)))),
            )
                .into_response()
        }
    }
}

pub async fn me_page(State(state): State<AppState>, session: Session) -> Response {
    rendered(profile_html(&state, &session, None).await)
}

#[derive(Debug, Deserialize)]
pub struct NamesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

pub async fn names(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Form(form): Form<NamesForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let change = UpdateMe {
        first_name: Some(form.first_name),
        last_name: Some(form.last_name),
    };
    match app::me::update(&state, &session.actor, change).await {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            let html = profile_html(&state, &session, Some(&message)).await;
            (status, rendered(html)).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Unregisters one of my devices; this browser's own is signing out.
pub async fn unregister(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(device_id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let device = DeviceId(device_id);
    if let Err(err) = app::me::unregister(&state, &session.actor, device).await {
        let (status, message) = explain(err);
        return (
            status,
            rendered(profile_html(&state, &session, Some(&message)).await),
        )
            .into_response();
    }
    if device == session.device {
        let mut response = Redirect::to("/signin").into_response();
        response
            .headers_mut()
            .insert(header::SET_COOKIE, session_cookie(&state.public_url, None));
        return response;
    }
    Redirect::to("/me").into_response()
}
