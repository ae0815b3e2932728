//! My profile in the browser: my names, my email and phone, my devices.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceId;
use serde::Deserialize;
use uuid::Uuid;

use super::html::{Lang, Tab, app_page, error_box, escape, hidden, input, input_as, page_in};
use super::{SameOrigin, Session, explain, forbidden, session_cookie};
use crate::app::me::{ChangeEmail, ChangePhone, UpdateMe};
use crate::app::verification::ConfirmCode;
use crate::app::{self, AppState};

async fn profile_html(
    state: &AppState,
    browser: Lang,
    session: &Session,
    error: Option<&str>,
) -> Result<String, app::Error> {
    let account = app::me::get(state, &session.actor).await?;
    let lang = browser.preferring(account.language.as_deref());
    let w = |id| escape(&lang.word(id));
    let devices = app::me::devices(state, &session.actor).await?;
    let organizations = super::invitations::memberships_section(state, lang, session).await?;
    let ways = super::sign_in_methods::profile_section(state, lang, session).await?;
    let mut list = String::new();
    for d in &devices {
        let label = if d.current {
            "me-sign-out"
        } else {
            "me-unregister"
        };
        let used = lang.text(
            "me-device-used",
            &[
                (
                    "kind",
                    &lang.word(&format!("me-device-{}", d.device.kind.as_str())),
                ),
                ("when", &lang.date_time(d.device.last_seen_at.naive_utc())),
            ],
        );
        list.push_str(&format!(
            "<li><strong>{}</strong>{} <span class=\"hint\">({})</span>\
             <form method=\"post\" action=\"/me/devices/{}/unregister\">{}\
             <button class=\"secondary\">{}</button></form></li>",
            escape(&d.device.name),
            if d.current {
                format!(" — {}", w("me-this-browser"))
            } else {
                String::new()
            },
            escape(&used),
            d.device.id,
            hidden("csrf", &session.csrf),
            w(label),
        ));
    }
    let phone = account
        .phone
        .as_ref()
        .map_or_else(|| lang.word("me-no-phone"), |p| p.as_str().to_owned());
    Ok(app_page(
        lang,
        &format!("{} {}", account.first_name, account.last_name),
        Tab::Profile,
        &format!(
            "{}{organizations}<form class=\"card\" method=\"post\" action=\"/me/names\">\
             <h2>{}</h2>{}{}{}<button>{}</button></form>{}\
             <section><h2>{}</h2><p>{}<br>{}</p>\
             <form method=\"post\" action=\"/me/email\">{csrf}{}{}<button class=\"secondary\">\
             {}</button></form>\
             <form method=\"post\" action=\"/me/phone\">{csrf}{}{}<button class=\"secondary\">\
             {}</button></form></section>\
             <section><h2>{}</h2><p class=\"hint\">{}</p><ul class=\"devices\">{list}</ul>\
             </section>{ways}\
             <section><h2>{}</h2><p>{}</p><form method=\"post\" action=\"/me/delete\">{csrf}\
             <button class=\"danger\">{}</button></form></section>",
            error_box(error),
            w("me-your-name"),
            hidden("csrf", &session.csrf),
            input(
                "first_name",
                &lang.word("field-first-name"),
                "text",
                &account.first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                &lang.word("field-last-name"),
                "text",
                &account.last_name,
                "required autocomplete=\"family-name\""
            ),
            w("save"),
            language_form(lang, &session.csrf, account.language.as_deref()),
            w("me-contact"),
            escape(&lang.text("me-email-is", &[("email", account.email.as_str())])),
            escape(&lang.text("me-phone-is", &[("phone", &phone)])),
            input_as(
                "new_email",
                "address",
                &lang.word("me-new-email"),
                "email",
                "",
                "required autocomplete=\"email\""
            ),
            input_as(
                "email_pin",
                "pin",
                &lang.word("me-app-pin"),
                "password",
                "",
                PIN_INPUT
            ),
            w("me-change-email"),
            input_as(
                "new_phone",
                "address",
                &lang.word("field-new-phone"),
                "tel",
                "",
                "required autocomplete=\"tel\""
            ),
            input_as(
                "phone_pin",
                "pin",
                &lang.word("me-app-pin"),
                "password",
                "",
                PIN_INPUT
            ),
            w("me-change-phone"),
            w("me-devices"),
            w("me-devices-hint"),
            w("me-delete-title"),
            w("me-delete-explain"),
            w("me-delete-button"),
            csrf = hidden("csrf", &session.csrf),
        ),
    ))
}

fn rendered(lang: Lang, result: Result<String, app::Error>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            let (status, message) = explain(lang, err);
            let page = page_in(
                lang,
                &lang.word("error-page-title"),
                &error_box(Some(&message)),
            );
            (status, Html(page)).into_response()
        }
    }
}

pub async fn me_page(State(state): State<AppState>, browser: Lang, session: Session) -> Response {
    rendered(browser, profile_html(&state, browser, &session, None).await)
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
fn language_form(lang: Lang, csrf: &str, chosen: Option<&str>) -> String {
    let browsers = lang.word("me-language-browser");
    let options: String = [
        ("", browsers.as_str()),
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
        format!(
            "<option value=\"{tag}\"{lang}{on}>{}</option>",
            escape(name)
        )
    })
    .collect();
    format!(
        "<form class=\"card\" method=\"post\" action=\"/me/language\"><h2>{}</h2>{}\
         <label for=\"language\">{}</label><select id=\"language\" \
         name=\"language\">{options}</select> <button class=\"secondary\">{}</button>\
         <p class=\"hint\">{}</p></form>",
        escape(&lang.word("me-language")),
        hidden("csrf", csrf),
        escape(&lang.word("me-language-label")),
        escape(&lang.word("save")),
        escape(&lang.word("me-language-hint")),
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
    browser: Lang,
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
        browser,
        &session,
        app::me::update(&state, &session.actor, change).await,
    )
    .await
}

/// Back to the profile once a change is saved, or the profile again with the reason.
async fn saved<T>(
    state: &AppState,
    browser: Lang,
    session: &Session,
    result: Result<T, app::Error>,
) -> Response {
    match result {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(err) => {
            let lang = browser.for_person(state, &session.actor).await;
            let (status, message) = explain(lang, err);
            let html = profile_html(state, browser, session, Some(&message)).await;
            (status, rendered(lang, html)).into_response()
        }
    }
}

pub async fn names(
    State(state): State<AppState>,
    browser: Lang,
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
        browser,
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
    browser: Lang,
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
        return saved::<()>(&state, browser, &session, Err(err)).await;
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

/// The page that asks for a code sent to prove an address (to `sent_to`, or to the person
/// when `None`).
fn code_page(
    lang: Lang,
    flow: Flow,
    verification: &str,
    sent_to: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let sent = match sent_to {
        Some(to) => lang.text("me-code-sent", &[("to", to)]),
        None => lang.word("me-code-sent-you"),
    };
    page_in(
        lang,
        &lang.word(flow.title()),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"{}\">{}{}<p>{}</p>{}\
             <button>{}</button></form><p><a href=\"/me\">{}</a></p>",
            error_box(error),
            flow.verify_action(),
            hidden("csrf", csrf),
            hidden("verification", verification),
            escape(&sent),
            input(
                "code",
                &lang.word("field-code"),
                "text",
                "",
                "required inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" autofocus"
            ),
            escape(&lang.word("confirm")),
            escape(&lang.word("cancel")),
        ),
    )
}

/// A page shown after a change that signed every device out, this browser included.
fn signed_out(state: &AppState, lang: Lang, title: &str, text: &str) -> Response {
    let mut response = Html(page_in(
        lang,
        &lang.word(title),
        &format!(
            "<p class=\"notice\" role=\"status\">{}</p><p><a href=\"/signin\">{}</a></p>",
            escape(&lang.word(text)),
            escape(&lang.word("signin-title")),
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
            Flow::Email => "me-confirm-email",
            Flow::Phone => "me-confirm-phone",
            Flow::Delete => "me-confirm-delete",
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
    browser: Lang,
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
            app::me::change_email(state, browser, &session.actor, change).await
        }
        Flow::Phone => {
            let change = ChangePhone {
                phone: address,
                pin,
            };
            app::me::change_phone(state, browser, &session.actor, change).await
        }
        Flow::Delete => app::me::delete(state, browser, &session.actor).await,
    };
    match sent {
        Ok(sent) => {
            let lang = browser.for_person(state, &session.actor).await;
            let html = code_page(
                lang,
                flow,
                &sent.verification,
                Some(&sent.sent_to),
                &session.csrf,
                None,
            );
            Html(html).into_response()
        }
        Err(err) => saved::<()>(state, browser, session, Err(err)).await,
    }
}

async fn finish_flow(
    state: &AppState,
    browser: Lang,
    session: &Session,
    flow: Flow,
    form: CodeForm,
) -> Response {
    // Read before the change: a deleted account has no language left to read.
    let lang = browser.for_person(state, &session.actor).await;
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
        (Ok(()), Flow::Email) => {
            signed_out(state, lang, "me-email-changed-title", "me-email-changed")
        }
        (Ok(()), Flow::Phone) => {
            signed_out(state, lang, "me-phone-changed-title", "me-phone-changed")
        }
        (Ok(()), Flow::Delete) => signed_out(state, lang, "me-deleted-title", "me-deleted"),
        (Err(err), _) => {
            let (status, message) = explain(lang, err);
            // The code page again, for a wrong code; the message says when to start over.
            let html = code_page(
                lang,
                flow,
                &form.verification,
                None,
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
            browser: Lang,
            _: SameOrigin,
            session: Session,
            Form(form): Form<AddressForm>,
        ) -> Response {
            if !session.sent(&form.csrf) {
                return forbidden();
            }
            start_flow(&state, browser, &session, $flow, form).await
        }

        pub async fn $finish(
            State(state): State<AppState>,
            browser: Lang,
            _: SameOrigin,
            session: Session,
            Form(form): Form<CodeForm>,
        ) -> Response {
            if !session.sent(&form.csrf) {
                return forbidden();
            }
            finish_flow(&state, browser, &session, $flow, form).await
        }
    };
}

flow_handlers!(change_email, confirm_email, Flow::Email);
flow_handlers!(change_phone, confirm_phone, Flow::Phone);
flow_handlers!(delete, confirm_delete, Flow::Delete);
