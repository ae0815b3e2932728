//! My profile in the browser: my names, my email and phone, my devices.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceId;
use serde::Deserialize;
use uuid::Uuid;

use super::html::{Lang, Tab, app_page, error_box, escape, hidden, input, input_as, page};
use super::{SameOrigin, Session, explain, forbidden, session_cookie};
use crate::app::me::{ChangeEmail, ChangePhone, UpdateMe};
use crate::app::verification::{CodeSentTo, ConfirmCode};
use crate::app::{self, AppState};

async fn profile_html(
    state: &AppState,
    session: &Session,
    error: Option<&str>,
) -> Result<String, app::Error> {
    let account = app::me::get(state, &session.actor).await?;
    let devices = app::me::devices(state, &session.actor).await?;
    let organizations = super::invitations::memberships_section(state, session).await?;
    let ways = super::sign_in_methods::profile_section(state, session).await?;
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
    Ok(app_page(
        Lang::En,
        &format!("{} {}", account.first_name, account.last_name),
        Tab::Profile,
        &format!(
            "{}{organizations}<form class=\"card\" method=\"post\" action=\"/me/names\"><h2>Your name</h2>{}{}{}\
             <button>Save</button></form>{}\
             <section><h2>Contact</h2><p>Email: {}<br>Phone: {}</p>\
             <form method=\"post\" action=\"/me/email\">{csrf}{}{}<button class=\"secondary\">\
             Change email</button></form>\
             <form method=\"post\" action=\"/me/phone\">{csrf}{}{}<button class=\"secondary\">\
             Change phone</button></form></section>\
             <section><h2>Your devices</h2><p class=\"hint\">Unregistering a device signs it \
             out; your account and access stay.</p><ul class=\"devices\">{list}</ul></section>{ways}\
             <section><h2>Delete your account</h2><p>This cannot be undone: your account, \
             your devices and what Lintel keeps about you are erased. A code goes to your \
             phone first.</p><form method=\"post\" action=\"/me/delete\">{csrf}\
             <button class=\"danger\">Delete my account</button></form></section>",
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
            language_form(&session.csrf, account.language.as_deref()),
            escape(account.email.as_str()),
            escape(account.phone.as_ref().map_or("none", |p| p.as_str())),
            input_as(
                "new_email",
                "address",
                "New email",
                "email",
                "",
                "required autocomplete=\"email\""
            ),
            input_as(
                "email_pin",
                "pin",
                "Your app PIN",
                "password",
                "",
                PIN_INPUT
            ),
            input_as(
                "new_phone",
                "address",
                "New mobile phone",
                "tel",
                "",
                "required autocomplete=\"tel\""
            ),
            input_as(
                "phone_pin",
                "pin",
                "Your app PIN",
                "password",
                "",
                PIN_INPUT
            ),
            csrf = hidden("csrf", &session.csrf),
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

/// The form that chooses the language of pages: each named in itself, or the browser's.
fn language_form(csrf: &str, chosen: Option<&str>) -> String {
    let options: String = [
        ("", "Your browser's choice"),
        ("en", "English"),
        ("sv", "Svenska"),
        ("fr", "Français"),
    ]
    .iter()
    .map(|(tag, name)| {
        let on = if chosen.unwrap_or_default() == *tag {
            " selected"
        } else {
            ""
        };
        let lang = if tag.is_empty() {
            String::new()
        } else {
            format!(" lang=\"{tag}\"")
        };
        format!("<option value=\"{tag}\"{lang}{on}>{name}</option>")
    })
    .collect();
    format!(
        "<form class=\"card\" method=\"post\" action=\"/me/language\"><h2>Language</h2>{}\
         <label for=\"language\">Pages that speak it are shown in</label><select id=\"language\" \
         name=\"language\">{options}</select> <button class=\"secondary\">Save</button>\
         <p class=\"hint\">My doors and guests' link pages speak English, Svenska and Français \
         so far; other pages are in English.</p></form>",
        hidden("csrf", csrf)
    )
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

pub async fn language(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Form(form): Form<LanguageForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let change = UpdateMe {
        language: Some(form.language),
        ..UpdateMe::default()
    };
    saved(
        &state,
        &session,
        app::me::update(&state, &session.actor, change).await,
    )
    .await
}

/// Back to the profile once a change is saved, or the profile again with the reason.
async fn saved<T>(state: &AppState, session: &Session, result: Result<T, app::Error>) -> Response {
    match result {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            let html = profile_html(state, session, Some(&message)).await;
            (status, rendered(html)).into_response()
        }
    }
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
        language: None,
    };
    saved(
        &state,
        &session,
        app::me::update(&state, &session.actor, change).await,
    )
    .await
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

/// The page that asks for a code sent to prove an address.
fn code_page(
    title: &str,
    action: &str,
    sent: &CodeSentTo,
    csrf: &str,
    error: Option<&str>,
) -> String {
    page(
        title,
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"{action}\">{}{}\
             <p>We sent a 6-digit code to {}. It works for 10 minutes.</p>{}\
             <button>Confirm</button></form><p><a href=\"/me\">Cancel</a></p>",
            error_box(error),
            hidden("csrf", csrf),
            hidden("verification", &sent.verification),
            escape(&sent.sent_to),
            input(
                "code",
                "Code",
                "text",
                "",
                "required inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" autofocus"
            ),
        ),
    )
}

/// A page shown after a change that signed every device out, this browser included.
fn signed_out(state: &AppState, title: &str, text: &str) -> Response {
    let mut response = Html(page(
        title,
        &format!(
            "<p class=\"notice\" role=\"status\">{}</p><p><a href=\"/signin\">Sign in</a></p>",
            escape(text)
        ),
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state.public_url, None));
    response
}

/// The app PIN asked before a change of address: a session alone must not change them.
const PIN_INPUT: &str =
    "required inputmode=\"numeric\" autocomplete=\"off\" pattern=\"[0-9]{4,8}\"";

#[derive(Debug, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    pin: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verification: String,
    #[serde(default)]
    code: String,
}

/// What the three flows below differ in.
#[derive(Clone, Copy)]
pub enum Flow {
    Email,
    Phone,
    Delete,
}

impl Flow {
    fn title(self) -> &'static str {
        match self {
            Flow::Email => "Confirm your new email",
            Flow::Phone => "Confirm your new phone",
            Flow::Delete => "Confirm deleting your account",
        }
    }

    fn verify_action(self) -> &'static str {
        match self {
            Flow::Email => "/me/email/verify",
            Flow::Phone => "/me/phone/verify",
            Flow::Delete => "/me/delete/confirm",
        }
    }
}

async fn start_flow(
    state: &AppState,
    session: &Session,
    flow: Flow,
    form: AddressForm,
) -> Response {
    let (address, pin) = (form.address, form.pin);
    let sent = match flow {
        Flow::Email => {
            let change = ChangeEmail {
                email: address,
                pin,
            };
            app::me::change_email(state, &session.actor, change).await
        }
        Flow::Phone => {
            let change = ChangePhone {
                phone: address,
                pin,
            };
            app::me::change_phone(state, &session.actor, change).await
        }
        Flow::Delete => app::me::delete(state, &session.actor).await,
    };
    match sent {
        Ok(sent) => Html(code_page(
            flow.title(),
            flow.verify_action(),
            &sent,
            &session.csrf,
            None,
        ))
        .into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (
                status,
                rendered(profile_html(state, session, Some(&message)).await),
            )
                .into_response()
        }
    }
}

async fn finish_flow(state: &AppState, session: &Session, flow: Flow, form: CodeForm) -> Response {
    let code = ConfirmCode {
        verification: form.verification.clone(),
        code: form.code,
    };
    let done = match flow {
        Flow::Email => app::me::confirm_email(state, &session.actor, code).await,
        Flow::Phone => app::me::confirm_phone(state, &session.actor, code).await,
        Flow::Delete => app::me::confirm_delete(state, &session.actor, code).await,
    };
    match (done, flow) {
        (Ok(()), Flow::Email) => signed_out(
            state,
            "Email changed",
            "Your email is changed and every device was signed out. Sign in with the new address.",
        ),
        (Ok(()), Flow::Phone) => signed_out(
            state,
            "Phone changed",
            "Your phone number is changed and every device was signed out. Sign in again.",
        ),
        (Ok(()), Flow::Delete) => signed_out(
            state,
            "Account deleted",
            "Your account and what Lintel kept about you are deleted.",
        ),
        (Err(err), _) => {
            let (status, message) = explain(err);
            // The code page again, for a wrong code; the message says when to start over.
            let sent = CodeSentTo {
                verification: form.verification,
                sent_to: "you".into(),
                expires_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            };
            let html = code_page(
                flow.title(),
                flow.verify_action(),
                &sent,
                &session.csrf,
                Some(&message),
            );
            (status, Html(html)).into_response()
        }
    }
}

macro_rules! flow_handlers {
    ($start:ident, $finish:ident, $flow:expr) => {
        pub async fn $start(
            State(state): State<AppState>,
            _: SameOrigin,
            session: Session,
            Form(form): Form<AddressForm>,
        ) -> Response {
            if !session.sent(&form.csrf) {
                return forbidden();
            }
            start_flow(&state, &session, $flow, form).await
        }

        pub async fn $finish(
            State(state): State<AppState>,
            _: SameOrigin,
            session: Session,
            Form(form): Form<CodeForm>,
        ) -> Response {
            if !session.sent(&form.csrf) {
                return forbidden();
            }
            finish_flow(&state, &session, $flow, form).await
        }
    };
}

flow_handlers!(change_email, confirm_email, Flow::Email);
flow_handlers!(change_phone, confirm_phone, Flow::Phone);
flow_handlers!(delete, confirm_delete, Flow::Delete);
