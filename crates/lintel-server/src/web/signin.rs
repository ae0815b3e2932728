//! Registering and signing in, in the browser: email, then the emailed link (a page whose
//! button confirms: opening the link alone changes nothing), then the SMS code.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceKind;
use serde::Deserialize;

use super::html::{error_box, hidden, input, page};
use super::{SameOrigin, Session, explain, session_cookie};
use crate::app::auth::{
    CompleteRequest, LoginRequest, RecoverRequest, RegisterRequest, VerifyCodeRequest,
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

fn register_html(state: &AppState, form: &RegisterForm, error: Option<&str>) -> String {
    page(
        "Create your account",
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/register\">{}{}{}{}\
             <p class=\"hint\">In international format, such as +46 70 123 45 67. Sign-in codes \
             go to this number.</p><button>Create account</button></form>{}\
             <p>Already have an account? <a href=\"/signin\">Sign in</a></p>",
            error_box(error),
            input(
                "first_name",
                "First name",
                "text",
                &form.first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                "Last name",
                "text",
                &form.last_name,
                "required autocomplete=\"family-name\""
            ),
            input(
                "email",
                "Email",
                "email",
                &form.email,
                "required autocomplete=\"email\""
            ),
            input(
                "phone",
                "Mobile phone",
                "tel",
                &form.phone,
                "required autocomplete=\"tel\""
            ),
            super::sign_in_methods::other_ways(state, "Register"),
        ),
    )
}

pub(super) fn check_email_html(email: &str) -> String {
    page(
        "Check your email",
        &format!(
            "<section><p class=\"notice\" role=\"status\">If {} can sign in, a link is on its \
             way. Open it on this device within 15 minutes; it works once.</p>\
             <p class=\"hint\">Nothing arriving? Check the spam folder, or \
             <a href=\"/signin\">try again</a>.</p></section>",
            super::html::escape(email)
        ),
    )
}

pub async fn register_page(State(state): State<AppState>, session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(register_html(&state, &RegisterForm::default(), None)).into_response()
}

pub async fn register(
    State(state): State<AppState>,
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
    match app::auth::register(&state, source, req).await {
        Ok(_) => Html(check_email_html(&form.email)).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (status, Html(register_html(&state, &form, Some(&message)))).into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    email: String,
}

pub(super) fn signin_html(state: &AppState, email: &str, error: Option<&str>) -> String {
    page(
        "Sign in",
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/signin\">{}\
             <p class=\"hint\">No password: we email you a link, then text you a code.</p>\
             <button>Email me a link</button></form>{}\
             <p>New here? <a href=\"/register\">Create an account</a></p>\
             <p>Your old number now belongs to someone else? \
             <a href=\"/recover\">Add your new number</a></p>",
            error_box(error),
            input(
                "email",
                "Email",
                "email",
                email,
                "required autocomplete=\"email\" autofocus"
            ),
            super::sign_in_methods::other_ways(state, "Sign in"),
        ),
    )
}

pub async fn signin_page(State(state): State<AppState>, session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(signin_html(&state, "", None)).into_response()
}

pub async fn signin(
    State(state): State<AppState>,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<SigninForm>,
) -> Response {
    let req = LoginRequest {
        email: form.email.clone(),
    };
    match app::auth::login(&state, source, req).await {
        Ok(_) => Html(check_email_html(&form.email)).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (
                status,
                Html(signin_html(&state, &form.email, Some(&message))),
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

fn recover_html(form: &RecoverForm, error: Option<&str>) -> String {
    page(
        "Add your new number",
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/recover\">\
             <p>When a carrier gives your old number to someone else and they prove it is \
             theirs, your account loses it. Add your current number here: we email you a link, \
             then text a code to the new number. Your other devices are signed out, and your \
             organizations' administrators are told.</p>{}{}\
             <p class=\"hint\">In international format, such as +46 70 123 45 67.</p>\
             <button>Email me a link</button></form>\
             <p>Your account still has your number? <a href=\"/signin\">Sign in</a></p>",
            error_box(error),
            input(
                "email",
                "Your account's email",
                "email",
                &form.email,
                "required autocomplete=\"email\" autofocus"
            ),
            input(
                "phone",
                "New mobile phone",
                "tel",
                &form.phone,
                "required autocomplete=\"tel\""
            ),
        ),
    )
}

pub async fn recover_page(session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to("/me").into_response();
    }
    Html(recover_html(&RecoverForm::default(), None)).into_response()
}

pub async fn recover(
    State(state): State<AppState>,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<RecoverForm>,
) -> Response {
    let req = RecoverRequest {
        email: form.email.clone(),
        phone: form.phone.clone(),
    };
    match app::auth::recover(&state, source, req).await {
        Ok(_) => Html(check_email_html(&form.email)).into_response(),
        Err(err) => {
            let (status, message) = explain(err);
            (status, Html(recover_html(&form, Some(&message)))).into_response()
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
pub async fn confirm_page(Query(q): Query<TokenForm>) -> Html<String> {
    Html(page(
        "Confirm it is you",
        &format!(
            "<form class=\"card\" method=\"post\" action=\"/auth/confirm\">{}\
             <p>Continue to get a code by text message on your phone.</p>\
             <button>Continue</button></form>",
            hidden("token", &q.token)
        ),
    ))
}

/// The last step of signing in: the code texted to `phone`, or, with no phone, no code (a
/// provider sign-in whose organizations need none); then the device's name and PIN.
pub(super) fn code_html(
    sign_in: &str,
    phone: Option<&str>,
    device_name: &str,
    error: Option<&str>,
) -> String {
    let (title, step) = match phone {
        Some(phone) => (
            "Enter your code",
            format!(
                "<p>We texted a 6-digit code to {}. It works for 10 minutes.</p>{}",
                super::html::escape(phone),
                input(
                    "code",
                    "Code",
                    "text",
                    "",
                    "required inputmode=\"numeric\" autocomplete=\"one-time-code\" \
                     pattern=\"[0-9]{6}\" autofocus"
                )
            ),
        ),
        None => (
            "Name this device",
            format!(
                "{}<p>Your provider has proven who you are, and your organization needs no \
                 text-message code.</p>",
                hidden("without_code", "1")
            ),
        ),
    };
    page(
        title,
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/auth/code\">{}{step}{}{}\
             <p class=\"hint\">A PIN of 4 to 8 digits protects unlocking on this device. \
             Avoid 1234, 0000 and the like.</p><button>Sign in</button></form>",
            error_box(error),
            hidden("sign_in", sign_in),
            input(
                "device_name",
                "Name this device",
                "text",
                device_name,
                "required"
            ),
            input(
                "pin",
                "Choose a PIN",
                "password",
                "",
                "required inputmode=\"numeric\" pattern=\"[0-9]{4,8}\""
            ),
        ),
    )
}

pub async fn confirm(
    State(state): State<AppState>,
    _: SameOrigin,
    Form(form): Form<TokenForm>,
) -> Response {
    match app::auth::verify_email(&state, VerifyEmailRequest { token: form.token }).await {
        Ok(sent) => {
            Html(code_html(&sent.sign_in, Some(&sent.phone), "Browser", None)).into_response()
        }
        Err(err) => {
            let (status, message) = explain(err);
            let body = format!(
                "{}<p><a href=\"/signin\">Get a new link</a></p>",
                error_box(Some(&message))
            );
            (status, Html(page("This link does not work", &body))).into_response()
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
            let (status, message) = explain(err);
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                // A wrong code or PIN: the attempt goes on.
                let html = code_html(
                    &form.sign_in,
                    (!without_code).then_some("your phone"),
                    &form.device_name,
                    Some(&message),
                );
                return (status, Html(html)).into_response();
            }
            let body = format!(
                "{}<p><a href=\"/signin\">Start again</a></p>",
                error_box(Some(&message))
            );
            (status, Html(page("Sign-in did not work", &body))).into_response()
        }
    }
}
