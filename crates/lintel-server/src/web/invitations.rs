//! A person's side of memberships in the browser: the page behind an invitation link, and
//! "your organizations" on the profile, with whom to ask for access and a way to leave.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::html::{Lang, confirm_form, error_box, escape, hidden, page_in};
use super::{SameOrigin, Session, explain, forbidden};
use crate::app::{self, AppState, enter_org};

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn invitation_page(
    State(state): State<AppState>,
    browser: Lang,
    session: Option<Session>,
    Path(token): Path<String>,
) -> Response {
    let lang = match &session {
        Some(session) => browser.for_person(&state, &session.actor).await,
        None => browser,
    };
    let w = |id| escape(&lang.word(id));
    let title = lang.word("invitation-title");
    let preview = match app::members::preview(&state, &token).await {
        Ok(preview) => preview,
        Err(err) => {
            let (status, message) = explain(lang, err);
            let body = format!(
                "{}<p>{}</p>",
                error_box(Some(&message)),
                w("invitation-ask-again")
            );
            return (status, Html(page_in(lang, &title, &body))).into_response();
        }
    };
    let org = &preview.org_name;
    let body = match session {
        Some(session) => format!(
            "<section><p>{}</p><form method=\"post\" action=\"/invitations/{}/accept\">{}\
             <button>{}</button></form></section>",
            escape(&lang.text("invitation-join", &[("org", org)])),
            escape(&token),
            hidden("csrf", &session.csrf),
            w("invitation-accept"),
        ),
        None => format!(
            "<section><p>{}</p><p>{}</p><p><a href=\"/register\">{}</a> · \
             <a href=\"/signin\">{}</a></p></section>",
            escape(&lang.text(
                "invitation-went-to",
                &[("org", org), ("address", &preview.address)]
            )),
            w("invitation-how"),
            w("signin-create"),
            w("signin-title"),
        ),
    };
    Html(page_in(lang, &title, &body)).into_response()
}

pub async fn accept(
    State(state): State<AppState>,
    browser: Lang,
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
            let lang = browser.for_person(&state, &session.actor).await;
            let (status, message) = explain(lang, err);
            let page = page_in(
                lang,
                &lang.word("invitation-title"),
                &error_box(Some(&message)),
            );
            (status, Html(page)).into_response()
        }
    }
}

/// The profile's "Your organizations" section.
pub async fn memberships_section(
    state: &AppState,
    lang: Lang,
    session: &Session,
) -> Result<String, app::Error> {
    let mine = app::members::mine(state, &session.actor).await?;
    let title = escape(&lang.word("me-orgs"));
    if mine.is_empty() {
        return Ok(format!(
            "<section><h2>{title}</h2><p>{}</p></section>",
            escape(&lang.word("me-orgs-none"))
        ));
    }
    let mut out = format!("<section><h2>{title}</h2><ul class=\"rows\">");
    for m in &mine {
        let slug = escape(&m.org_slug);
        let mut item = format!(
            "<li><a href=\"/admin/{slug}\">{}</a> <span class=\"hint\">{}</span>",
            escape(&m.org_name),
            escape(&lang.word(&format!("me-status-{}", m.status.as_str())))
        );
        if m.areas.is_empty() {
            // Someone without admin areas may need to ask for access: say whom.
            let ctx = enter_org(state, session.actor.clone(), &m.org_slug).await?;
            let admins = app::members::admins(state, &ctx).await?;
            let names: Vec<String> = admins.iter().map(|a| a.reach()).collect();
            if !names.is_empty() {
                item.push_str(&format!(
                    "<br><span class=\"hint\">{}</span>",
                    escape(&lang.text("me-to-ask", &[("ask", &names.join("; "))]))
                ));
            }
        }
        item.push_str(&confirm_form(
            &format!("/me/memberships/{slug}/leave"),
            &session.csrf,
            &escape(&lang.word("me-leave")),
            &lang.text("me-leave-warning", &[("org", &m.org_name)]),
        ));
        item.push_str("</li>");
        out.push_str(&item);
    }
    out.push_str("</ul></section>");
    Ok(out)
}

pub async fn leave(
    State(state): State<AppState>,
    browser: Lang,
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
            let lang = browser.for_person(&state, &session.actor).await;
            let (status, message) = explain(lang, err);
            let body = format!(
                "{}<p><a href=\"/me\">{}</a></p>",
                error_box(Some(&message)),
                escape(&lang.word("me-back"))
            );
            (
                status,
                Html(page_in(lang, &lang.word("me-leaving-title"), &body)),
            )
                .into_response()
        }
    }
}
