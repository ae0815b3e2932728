//! Registering and signing in, in the browser: email, then the emailed link (a page whose
//! button confirms: opening the link alone changes nothing), then the SMS code.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceKind;
use serde::Deserialize;

use super::html::{Lang, error_box, escape, hidden, input, page_in};
use super::sign_in_methods::Verb;
use super::{SameOrigin, Session, explain, session_cookie};
use crate::app::auth::{
    CodeSent, CompleteRequest, LoginRequest, RecoverRequest, RegisterRequest, VerifyCodeRequest,
    VerifyEmailRequest,
};
use crate::app::{self, AppState};
use crate::http::extract::Source;

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

fn register_html(lang: Lang, state: &AppState, form: &RegisterForm, error: Option<&str>) -> String {
    let w = |id| lang.word(id);
    page_in(
        lang,
        &w("register-title"),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/register\">{}{}{}{}\
             <p class=\"hint\">{}</p><button>{}</button></form>{}\
             <p>{} <a href=\"/signin\">{}</a></p>",
            error_box(error),
            input(
                "first_name",
                &w("field-first-name"),
                "text",
                &form.first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                &w("field-last-name"),
                "text",
                &form.last_name,
                "required autocomplete=\"family-name\""
            ),
            input(
                "email",
                &w("field-email"),
                "email",
                &form.email,
                "required autocomplete=\"email\""
            ),
            input(
                "phone",
                &w("field-phone"),
                "tel",
                &form.phone,
                "required autocomplete=\"tel\""
            ),
            escape(&w("register-phone-hint")),
            escape(&w("register-button")),
            super::sign_in_methods::other_ways(lang, state, Verb::Register),
            escape(&w("register-have-account")),
            escape(&w("signin-title")),
        ),
    )
}

/// The page after an email was asked for: where the link went (`email`, or the provider's
/// email when `None`).
pub(super) fn check_email_html(lang: Lang, email: Option<&str>) -> String {
    let sent = match email {
        Some(email) => lang.text("check-email-sent", &[("email", email)]),
        None => lang.word("check-email-sent-provider"),
    };
    page_in(
        lang,
        &lang.word("check-email-title"),
        &format!(
            "<section><p class=\"notice\" role=\"status\">{}</p>\
             <p class=\"hint\">{} <a href=\"/signin\">{}</a></p></section>",
            escape(&sent),
            escape(&lang.word("check-email-nothing")),
            escape(&lang.word("try-again")),
        ),
    )
}

pub async fn register_page(
    State(state): State<AppState>,
    lang: Lang,
    session: Option<Session>,
) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(register_html(lang, &state, &RegisterForm::default(), None)).into_response()
}

pub async fn register(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<RegisterForm>,
) -> Response {
    let req = RegisterRequest {
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    match app::auth::register(&state, source, lang, req).await {
        Ok(_) => Html(check_email_html(lang, Some(&form.email))).into_response(),
        Err(err) => {
            let (status, message) = explain(lang, err);
            (
                status,
                Html(register_html(lang, &state, &form, Some(&message))),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    email: String,
}

pub(super) fn signin_html(
    lang: Lang,
    state: &AppState,
    email: &str,
    error: Option<&str>,
) -> String {
    let w = |id| escape(&lang.word(id));
    page_in(
        lang,
        &lang.word("signin-title"),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/signin\">{}\
             <p class=\"hint\">{}</p><button>{}</button></form>{}\
             <p>{} <a href=\"/register\">{}</a></p>\
             <p>{} <a href=\"/recover\">{}</a></p>",
            error_box(error),
            input(
                "email",
                &lang.word("field-email"),
                "email",
                email,
                "required autocomplete=\"email\" autofocus"
            ),
            w("signin-hint"),
            w("signin-button"),
            super::sign_in_methods::other_ways(lang, state, Verb::SignIn),
            w("signin-new"),
            w("signin-create"),
            w("signin-new-number"),
            w("recover-title"),
        ),
    )
}

pub async fn signin_page(
    State(state): State<AppState>,
    lang: Lang,
    session: Option<Session>,
) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(signin_html(lang, &state, "", None)).into_response()
}

pub async fn signin(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<SigninForm>,
) -> Response {
    let req = LoginRequest {
        email: form.email.clone(),
    };
    match app::auth::login(&state, source, lang, req).await {
        Ok(_) => Html(check_email_html(lang, Some(&form.email))).into_response(),
        Err(err) => {
            let (status, message) = explain(lang, err);
            (
                status,
                Html(signin_html(lang, &state, &form.email, Some(&message))),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RecoverForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

fn recover_html(lang: Lang, form: &RecoverForm, error: Option<&str>) -> String {
    let w = |id| escape(&lang.word(id));
    page_in(
        lang,
        &lang.word("recover-title"),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/recover\"><p>{}</p>{}{}\
             <p class=\"hint\">{}</p><button>{}</button></form>\
             <p>{} <a href=\"/signin\">{}</a></p>",
            error_box(error),
            w("recover-explain"),
            input(
                "email",
                &lang.word("field-account-email"),
                "email",
                &form.email,
                "required autocomplete=\"email\" autofocus"
            ),
            input(
                "phone",
                &lang.word("field-new-phone"),
                "tel",
                &form.phone,
                "required autocomplete=\"tel\""
            ),
            w("phone-hint"),
            w("signin-button"),
            w("recover-has-number"),
            w("signin-title"),
        ),
    )
}

pub async fn recover_page(lang: Lang, session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(recover_html(lang, &RecoverForm::default(), None)).into_response()
}

pub async fn recover(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<RecoverForm>,
) -> Response {
    let req = RecoverRequest {
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    match app::auth::recover(&state, source, lang, req).await {
        Ok(_) => Html(check_email_html(lang, Some(&form.email))).into_response(),
        Err(err) => {
            let (status, message) = explain(lang, err);
            (status, Html(recover_html(lang, &form, Some(&message)))).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

/// What the emailed link opens: a button, so that a mail scanner fetching the link uses
/// nothing up.
pub async fn confirm_page(lang: Lang, Query(q): Query<TokenForm>) -> Html<String> {
    Html(page_in(
        lang,
        &lang.word("confirm-title"),
        &format!(
            "<form class=\"card\" method=\"post\" action=\"/auth/confirm\">{}\
             <p>{}</p><button>{}</button></form>",
            hidden("token", &q.token),
            escape(&lang.word("confirm-explain")),
            escape(&lang.word("continue")),
        ),
    ))
}

/// The code page once a code is on its way to the phone.
pub(super) fn code_sent(lang: Lang, sent: &CodeSent) -> Response {
    Html(code_html(
        lang,
        &sent.sign_in,
        Some(&sent.phone),
        None,
        None,
    ))
    .into_response()
}

/// The last step of signing in: the code texted to `phone`, or, with no phone, no code (a
/// provider sign-in whose organizations need none); then the device's name and PIN.
pub(super) fn code_html(
    lang: Lang,
    sign_in: &str,
    phone: Option<&str>,
    device_name: Option<&str>,
    error: Option<&str>,
) -> String {
    let w = |id| escape(&lang.word(id));
    let (title, step) = match phone {
        Some(phone) => (
            "code-title",
            format!(
                "<p>{}</p>{}",
                escape(&lang.text("code-sent", &[("phone", phone)])),
                input(
                    "code",
                    &lang.word("field-code"),
                    "text",
                    "",
                    "required inputmode=\"numeric\" autocomplete=\"one-time-code\" \
                     pattern=\"[0-9]{6}\" autofocus"
                )
            ),
        ),
        None => (
            "code-device-title",
            format!(
                "{}<p>{}</p>",
                hidden("without_code", "1"),
                w("code-none-needed")
            ),
        ),
    };
    let device_name = device_name.map_or_else(|| lang.word("device-browser"), str::to_owned);
    page_in(
        lang,
        &lang.word(title),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/auth/code\">{}{step}{}{}\
             <p class=\"hint\">{}</p><button>{}</button></form>",
            error_box(error),
            hidden("sign_in", sign_in),
            input(
                "device_name",
                &lang.word("code-device-title"),
                "text",
                &device_name,
                "required"
            ),
            input(
                "pin",
                &lang.word("field-choose-pin"),
                "password",
                "",
                "required inputmode=\"numeric\" pattern=\"[0-9]{4,8}\""
            ),
            w("pin-hint"),
            w("signin-title"),
        ),
    )
}

pub async fn confirm(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Form(form): Form<TokenForm>,
) -> Response {
    match app::auth::verify_email(&state, lang, VerifyEmailRequest { token: form.token }).await {
        Ok(sent) => code_sent(lang, &sent),
        Err(err) => {
            let (status, message) = explain(lang, err);
            let body = format!(
                "{}<p><a href=\"/signin\">{}</a></p>",
                error_box(Some(&message)),
                escape(&lang.word("get-new-link"))
            );
            let page = page_in(lang, &lang.word("link-broken-title"), &body);
            (status, Html(page)).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    sign_in: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    pin: String,
    /// Set by the page of a sign-in that needs no code (the server checks that it needs
    /// none).
    #[serde(default)]
    without_code: String,
}

pub async fn code(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Form(form): Form<CodeForm>,
) -> Response {
    let without_code = !form.without_code.is_empty();
    let result = if without_code {
        let req = CompleteRequest {
            sign_in: form.sign_in.clone(),
            device_name: form.device_name.clone(),
            pin: form.pin,
        };
        app::auth::complete_without_code(&state, req, DeviceKind::Browser).await
    } else {
        let req = VerifyCodeRequest {
            sign_in: form.sign_in.clone(),
            code: form.code,
            device_name: form.device_name.clone(),
            pin: form.pin,
        };
        app::auth::verify_code(&state, req, DeviceKind::Browser).await
    };
    match result {
        Ok(signed_in) => {
            let mut response = Redirect::to("/me").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state.public_url, Some(&signed_in.tokens.auth_token)),
            );
            response
        }
        Err(err) => {
            let (status, message) = explain(lang, err);
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                // A wrong code or PIN: the attempt goes on.
                let your_phone = lang.word("code-your-phone");
                let html = code_html(
                    lang,
                    &form.sign_in,
                    (!without_code).then_some(&your_phone),
                    Some(&form.device_name),
                    Some(&message),
                );
                return (status, Html(html)).into_response();
            }
            start_again(lang, status, &message, "sign-in-failed-title")
        }
    }
}

/// A step of signing in that cannot go on: the reason, titled `title`, and the way back to
/// the sign-in page.
pub(super) fn start_again(lang: Lang, status: StatusCode, message: &str, title: &str) -> Response {
    let body = format!(
        "{}<p><a href=\"/signin\">{}</a></p>",
        error_box(Some(message)),
        escape(&lang.word("start-again"))
    );
    (status, Html(page_in(lang, &lang.word(title), &body))).into_response()
}
