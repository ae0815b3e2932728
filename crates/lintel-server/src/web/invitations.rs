//! A person's side of memberships in the browser: the page behind an invitation link, and
//! "your organizations" on the profile, with whom to ask for access and a way to leave.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::html::{confirm_form, error_box, escape, hidden, page};
use super::{SameOrigin, Session, explain, forbidden};
use crate::app::{self, AppState, enter_org};

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn invitation_page(
    State(state): State<AppState>,
    session: Option<Session>,
    Path(token): Path<String>,
) -> Response {
    let preview = match app::members::preview(&state, &token).await {
        Ok(preview) => preview,
        Err(err) => {
            let (status, message) = explain(err);
            let body = format!(
                "{}<p>Ask the organization's administrator to send you a new invitation.</p>",
                error_box(Some(&message))
            );
            return (status, Html(page("Invitation", &body))).into_response();
        }
    };
    let org = escape(&preview.org_name);
    let body = match session {
        Some(session) => format!(
            "<section><p>You are invited to join <strong>{org}</strong>.</p>\
             <form method=\"post\" action=\"/invitations/{}/accept\">{}<button>Accept invitation\
             </button></form></section>",
            escape(&token),
            hidden("csrf", &session.csrf)
        ),
        None => format!(
            "<section><p>You are invited to join <strong>{org}</strong>. The invitation went to \
             {}.</p><p>Create your account or sign in with that address, and the invitation \
             becomes yours by itself. With another address, sign in and open this link again \
             to accept it.</p><p><a href=\"/register\">Create an account</a> · \
             <a href=\"/signin\">Sign in</a></p></section>",
            escape(&preview.address)
        ),
    };
    Html(page("Invitation", &body)).into_response()
}

pub async fn accept(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    match app::members::accept(&state, &session.actor, &token).await {
        Ok(joined) => Redirect::to(&format!("/admin/{}", joined.org_slug)).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (status, Html(page("Invitation", &error_box(Some(&message))))).into_response()
        }
    }
}

/// The profile's "Your organizations" section.
pub async fn memberships_section(
    state: &AppState,
    session: &Session,
) -> Result<String, app::Error> {
    let mine = app::members::mine(state, &session.actor).await?;
    if mine.is_empty() {
        return Ok(
            "<section><h2>Your organizations</h2><p>None yet. An administrator can invite \
                   you.</p></section>"
                .into(),
        );
    }
    let mut out = String::from("<section><h2>Your organizations</h2><ul class=\"rows\">");
    for m in &mine {
        let slug = escape(&m.org_slug);
        let mut item = format!(
            "<li><a href=\"/admin/{slug}\">{}</a> <span class=\"hint\">{}</span>",
            escape(&m.org_name),
            m.status.as_str()
        );
        if m.areas.is_empty() {
            // Someone without admin areas may need to ask for access: say whom.
            let ctx = enter_org(state, session.actor.clone(), &m.org_slug).await?;
            let admins = app::members::admins(state, &ctx).await?;
            let names: Vec<String> = admins.iter().map(|a| escape(&a.reach())).collect();
            if !names.is_empty() {
                item.push_str(&format!(
                    "<br><span class=\"hint\">To ask for access: {}</span>",
                    names.join("; ")
                ));
            }
        }
        item.push_str(&confirm_form(
            &format!("/me/memberships/{slug}/leave"),
            &session.csrf,
            "Leave",
            &format!(
                "Leave {}? You can no longer open its doors, and only a new invitation brings \
                 you back.",
                m.org_name
            ),
        ));
        item.push_str("</li>");
        out.push_str(&item);
    }
    out.push_str("</ul></section>");
    Ok(out)
}

pub async fn leave(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    match app::members::leave(&state, session.actor.clone(), &slug).await {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (
                status,
                Html(page(
                    "Leaving",
                    &format!(
                        "{}<p><a href=\"/me\">Back to your profile</a></p>",
                        error_box(Some(&message))
                    ),
                )),
            )
                .into_response()
        }
    }
}
