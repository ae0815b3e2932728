//! The other ways to sign in, in the browser: a provider's button on `/signin` and
//! `/register` (and linking one from `/me`), and passkeys (signing in from `/signin`, adding
//! and removing them on `/me`).
//!
//! A provider flow is tied to the browser that began it by the `lintel_oidc` cookie, whose
//! hash the flow keeps: the provider's answer opened in another browser goes nowhere, so no
//! one can sign a victim in to the attacker's account by sending them an answer. Providers
//! that answer with a cross-site POST (Apple's `form_post`) carry no SameSite=Lax cookie, so
//! that POST gets a page that posts the answer again from this site, where the cookie goes.
//!
//! Passkeys need a script (the browser's WebAuthn API); everything else works without one.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lintel_domain::DeviceKind;
use serde::Deserialize;
use uuid::Uuid;

use super::html::{error_box, escape, hidden, input, input_as, page};
use super::signin::{check_email_html, code_html};
use super::{SameOrigin, Session, cookie, explain, forbidden, session_cookie};
use crate::app::oidc::{Intent, OidcRegisterRequest, Outcome, PhoneNeeded};
use crate::app::passkeys::{AddPasskey, PasskeySignIn};
use crate::app::{self, AppState, secrets};
use crate::http::error::ApiError;
use crate::http::extract::Source;

const FLOW_COOKIE: &str = "lintel_oidc";

/// Posts a provider's cross-site answer again from this site, and asks for a passkey on the
/// forms that take one. Allowed by the Content-Security-Policy by its hash.
pub(super) const SCRIPT: &str = "
document.querySelectorAll('form[data-autosubmit]').forEach(function (form) { form.submit(); });
document.querySelectorAll('form[data-passkey]').forEach(function (form) {
  var status = form.querySelector('[role=status]');
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
    status.textContent = 'This browser cannot use passkeys.';
    return;
  }
  form.addEventListener('submit', function (event) {
    if (form.dataset.ready) { return; }
    event.preventDefault();
    if (!form.reportValidity()) { return; }
    var body = new URLSearchParams();
    if (form.csrf) { body.set('csrf', form.csrf.value); }
    status.textContent = 'Waiting for your passkey…';
    fetch(form.dataset.options, { method: 'POST', body: body })
      .then(function (r) { return r.json().then(function (c) {
        if (!r.ok) { throw new Error(c.message); }
        return c;
      }); })
      .then(function (c) {
        form.ceremony.value = c.ceremony;
        if (form.dataset.passkey === 'create') {
          return navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(c.options.publicKey) });
        }
        return navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(c.options.publicKey) });
      })
      .then(function (credential) {
        form.credential.value = JSON.stringify(credential.toJSON());
        form.dataset.ready = '1';
        form.submit();
      })
      .catch(function (e) { status.textContent = 'No passkey was used: ' + e.message; });
  });
});
";

fn script() -> String {
    format!("<script>{SCRIPT}</script>")
}

/// The provider buttons and the passkey form for `/signin` and `/register`.
pub(super) fn other_ways(state: &AppState, verb: &str) -> String {
    let mut out = String::new();
    let providers = state.oidc.list();
    if !providers.is_empty() {
        out.push_str("<section><h2>Or use another account</h2>");
        for p in providers {
            out.push_str(&format!(
                "<form method=\"post\" action=\"/auth/oidc/{}\"><button class=\"secondary\">\
                 {verb} with {}</button></form>",
                escape(&p.id),
                escape(&p.name)
            ));
        }
        out.push_str(
            "<p class=\"hint\">The provider's email must be the one your organization knows \
             you by. A code still goes to your phone.</p></section>",
        );
    }
    if verb == "Sign in" && state.passkeys.available() {
        out.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/auth/passkey\" data-passkey=\"get\" \
             data-options=\"/auth/passkey/options\"><h2>Sign in with a passkey</h2>{}{}{}{}\
             <p class=\"hint\">Your phone or computer checks it is you. The PIN protects \
             unlocking in this browser.</p><button>Use a passkey</button>\
             <p class=\"hint\" role=\"status\"></p></form>{}",
            hidden("ceremony", ""),
            hidden("credential", ""),
            hidden("device_name", "Browser"),
            input_as(
                "passkey_pin",
                "pin",
                "Choose a PIN for this browser",
                "password",
                "",
                "required inputmode=\"numeric\" pattern=\"[0-9]{4,8}\" autocomplete=\"off\""
            ),
            script()
        ));
    }
    out
}

/// The cookie that ties a provider flow to this browser, or clears it.
fn flow_cookie(public_url: &str, secret: Option<&str>) -> HeaderValue {
    let secure = if public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = secret.map_or(("", 0), |s| (s, 600));
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are ASCII")
}

/// Sends the browser to the provider, with a new flow tied to it.
async fn to_provider(
    state: &AppState,
    provider: &str,
    intent: Intent,
    session: Option<&Session>,
) -> Response {
    let account = match (intent, session) {
        (Intent::Link, Some(s)) => app::me::me(&s.actor).ok().map(|(a, _)| a),
        _ => None,
    };
    let secret = secrets::token("");
    match app::oidc::start(state, provider, intent, account, Some(&secret)).await {
        Ok(started) => {
            let mut response = Redirect::to(&started.authorization_url).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                flow_cookie(&state.public_url, Some(&secret)),
            );
            response
        }
        Err(err) => failed(err, "/signin"),
    }
}

fn failed(err: app::Error, back: &str) -> Response {
    let (status, message) = explain(err);
    let body = format!(
        "{}<p><a href=\"{back}\">Go back</a></p>",
        error_box(Some(&message))
    );
    (status, Html(page("That did not work", &body))).into_response()
}

pub async fn begin(
    State(state): State<AppState>,
    _: SameOrigin,
    Path(provider): Path<String>,
) -> Response {
    to_provider(&state, &provider, Intent::SignIn, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ProviderAnswer {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    /// Set when the person cancelled or the provider refused.
    #[serde(default)]
    error: Option<String>,
}

/// The provider's answer by redirect (`?code=…&state=…`).
pub async fn callback(
    State(state): State<AppState>,
    session: Option<Session>,
    Source(source): Source,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(answer): Query<ProviderAnswer>,
) -> Response {
    answered(&state, session, source, &provider, &headers, answer).await
}

/// The provider's answer by cross-site POST (`form_post`): posted again from this site.
pub async fn form_post(
    Path(provider): Path<String>,
    Form(answer): Form<ProviderAnswer>,
) -> Response {
    let body = format!(
        "<form class=\"card\" method=\"post\" action=\"/auth/oidc/{}/return\" data-autosubmit>\
         {}{}{}<p>Back from the provider.</p><button>Continue</button></form>{}",
        escape(&provider),
        hidden("state", &answer.state),
        hidden("code", &answer.code),
        answer
            .error
            .as_deref()
            .map(|e| hidden("error", e))
            .unwrap_or_default(),
        script()
    );
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("Signing in", &body)),
    )
        .into_response()
}

/// The answer of a `form_post` provider, posted again from this site.
pub async fn returned(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Option<Session>,
    Source(source): Source,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Form(answer): Form<ProviderAnswer>,
) -> Response {
    answered(&state, session, source, &provider, &headers, answer).await
}

async fn answered(
    state: &AppState,
    session: Option<Session>,
    source: std::net::IpAddr,
    provider: &str,
    headers: &HeaderMap,
    answer: ProviderAnswer,
) -> Response {
    let name = state
        .oidc
        .name(provider)
        .unwrap_or("The provider")
        .to_owned();
    let mut response = match answer.error {
        Some(_) => {
            let body = format!(
                "<p class=\"error\" role=\"alert\">{} did not sign you in.</p>\
                 <p><a href=\"/signin\">Back to sign in</a></p>",
                escape(&name)
            );
            (StatusCode::BAD_REQUEST, Html(page("Not signed in", &body))).into_response()
        }
        None => {
            let browser = cookie(headers, FLOW_COOKIE);
            match app::oidc::finish(state, provider, &answer.state, &answer.code, browser).await {
                Ok(proven) if proven.intent == Intent::Link => match session {
                    Some(session) => match app::me::me(&session.actor) {
                        Ok((account, _)) => match app::oidc::link(state, account, proven).await {
                            Ok(_) => Redirect::to("/me").into_response(),
                            Err(err) => failed(err, "/me"),
                        },
                        Err(err) => failed(err, "/me"),
                    },
                    None => Redirect::to("/signin").into_response(),
                },
                Ok(proven) => match app::oidc::sign_in(state, source, proven).await {
                    Ok(Outcome::CodeSent(sent)) => {
                        let html = code_html(&sent.sign_in, Some(&sent.phone), "Browser", None);
                        Html(html).into_response()
                    }
                    Ok(Outcome::Ready(ready)) => {
                        Html(code_html(&ready.sign_in, None, "Browser", None)).into_response()
                    }
                    Ok(Outcome::PhoneNeeded(needed)) => Html(phone_html(
                        &needed,
                        &needed.first_name,
                        &needed.last_name,
                        "",
                        None,
                    ))
                    .into_response(),
                    Ok(Outcome::CheckYourEmail(_)) => {
                        Html(check_email_html("this email")).into_response()
                    }
                    Err(err) => failed(err, "/signin"),
                },
                Err(err) => failed(err, "/signin"),
            }
        }
    };
    response
        .headers_mut()
        .insert(header::SET_COOKIE, flow_cookie(&state.public_url, None));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn phone_html(
    needed: &PhoneNeeded,
    first_name: &str,
    last_name: &str,
    phone: &str,
    error: Option<&str>,
) -> String {
    page(
        "Finish creating your account",
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/auth/oidc/register\">{}{}\
             <p>Your email {} is proven. Add your mobile phone: sign-in codes go to it.</p>{}{}{}\
             <p class=\"hint\">In international format, such as +46 70 123 45 67.</p>\
             <button>Text me a code</button></form>",
            error_box(error),
            hidden("registration", &needed.registration),
            hidden("email", &needed.email),
            escape(&needed.email),
            input(
                "first_name",
                "First name",
                "text",
                first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                "Last name",
                "text",
                last_name,
                "required autocomplete=\"family-name\""
            ),
            input(
                "phone",
                "Mobile phone",
                "tel",
                phone,
                "required autocomplete=\"tel\" autofocus"
            ),
        ),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    registration: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    phone: String,
}

pub async fn register(
    State(state): State<AppState>,
    _: SameOrigin,
    Source(source): Source,
    Form(form): Form<RegisterForm>,
) -> Response {
    let req = OidcRegisterRequest {
        registration: form.registration.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        phone: form.phone.clone(),
    };
    match app::oidc::register(&state, source, req).await {
        Ok(sent) => {
            Html(code_html(&sent.sign_in, Some(&sent.phone), "Browser", None)).into_response()
        }
        Err(err) => {
            let (status, message) = explain(err);
            if status != StatusCode::UNPROCESSABLE_ENTITY && status != StatusCode::CONFLICT {
                let body = format!(
                    "{}<p><a href=\"/signin\">Start again</a></p>",
                    error_box(Some(&message))
                );
                return (status, Html(page("That did not work", &body))).into_response();
            }
            // A field to correct, or a phone another account has: the registration waits.
            let needed = PhoneNeeded {
                registration: form.registration,
                email: form.email,
                first_name: String::new(),
                last_name: String::new(),
            };
            let html = phone_html(
                &needed,
                &form.first_name,
                &form.last_name,
                &form.phone,
                Some(&message),
            );
            (status, Html(html)).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Links a provider to my account: to the provider, back to `/me`.
pub async fn link(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(provider): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    to_provider(&state, &provider, Intent::Link, Some(&session)).await
}

pub async fn unlink(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(provider): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let result = match app::me::me(&session.actor) {
        Ok((account, _)) => app::oidc::unlink(&state, account, &provider).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(err) => failed(err, "/me"),
    }
}

/// `/me`'s section: linked providers and passkeys.
pub(super) async fn profile_section(
    state: &AppState,
    session: &Session,
) -> Result<String, app::Error> {
    let (account, _) = app::me::me(&session.actor)?;
    let csrf = hidden("csrf", &session.csrf);
    let mut out = String::from("<section><h2>Ways to sign in</h2>");
    let providers = state.oidc.list();
    if !providers.is_empty() {
        let linked = app::oidc::linked(state, account).await?;
        out.push_str("<h3>Providers</h3><ul class=\"rows\">");
        for p in &providers {
            match linked.iter().find(|l| l.provider == p.id) {
                Some(l) => out.push_str(&format!(
                    "<li><strong>{}</strong> {} <form class=\"inline\" method=\"post\" \
                     action=\"/me/providers/{}/unlink\">{csrf}<button class=\"small secondary\">\
                     Unlink</button></form></li>",
                    escape(&p.name),
                    escape(&l.email),
                    escape(&p.id)
                )),
                None => out.push_str(&format!(
                    "<li><strong>{}</strong> not linked <form class=\"inline\" method=\"post\" \
                     action=\"/me/providers/{}/link\">{csrf}<button class=\"small\">Link\
                     </button></form></li>",
                    escape(&p.name),
                    escape(&p.id)
                )),
            }
        }
        out.push_str("</ul>");
    }
    if state.passkeys.available() {
        let passkeys = app::passkeys::list(state, &session.actor).await?;
        out.push_str("<h3>Passkeys</h3>");
        if passkeys.is_empty() {
            out.push_str(
                "<p class=\"hint\">No passkey yet. A passkey signs you in with your phone's or \
                 computer's screen lock, without email or code.</p>",
            );
        } else {
            out.push_str("<ul class=\"rows\">");
            for p in &passkeys {
                out.push_str(&format!(
                    "<li><strong>{}</strong> <span class=\"hint\">added {}{}</span> \
                     <form class=\"inline\" method=\"post\" action=\"/me/passkeys/{}/remove\">\
                     {csrf}<button class=\"small danger\">Remove</button></form></li>",
                    escape(&p.name),
                    p.created_at.format("%Y-%m-%d"),
                    p.last_used_at
                        .map(|at| format!(", last used {}", at.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default(),
                    p.id
                ));
            }
            out.push_str("</ul>");
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"/me/passkeys\" data-passkey=\"create\" \
             data-options=\"/me/passkeys/options\">{csrf}{}{}{}<button>Add a passkey</button>\
             <p class=\"hint\" role=\"status\"></p></form>{}",
            hidden("ceremony", ""),
            hidden("credential", ""),
            input_as(
                "passkey_name",
                "name",
                "Name the new passkey",
                "text",
                "",
                "required maxlength=\"60\""
            ),
            script()
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

/// A ceremony's options as JSON for the page's script, or the error as the API gives it.
fn options_json(result: Result<app::passkeys::Ceremony, app::Error>) -> Response {
    match result {
        Ok(ceremony) => {
            ([(header::CACHE_CONTROL, "no-store")], axum::Json(ceremony)).into_response()
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

pub async fn sign_in_options(State(state): State<AppState>, _: SameOrigin) -> Response {
    options_json(app::passkeys::sign_in_options(&state).await)
}

pub async fn add_options(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    options_json(app::passkeys::add_options(&state, &session.actor).await)
}

#[derive(Debug, Default, Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    pin: String,
}

fn credential(form: &PasskeyForm) -> serde_json::Value {
    serde_json::from_str(&form.credential).unwrap_or(serde_json::Value::Null)
}

pub async fn sign_in(
    State(state): State<AppState>,
    _: SameOrigin,
    Form(form): Form<PasskeyForm>,
) -> Response {
    let req = PasskeySignIn {
        ceremony: form.ceremony.clone(),
        credential: credential(&form),
        device_name: form.device_name.clone(),
        pin: form.pin.clone(),
    };
    match app::passkeys::sign_in(&state, req, DeviceKind::Browser).await {
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
            (
                status,
                Html(super::signin::signin_html(&state, "", Some(&message))),
            )
                .into_response()
        }
    }
}

pub async fn add(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Form(form): Form<PasskeyForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let req = AddPasskey {
        ceremony: form.ceremony.clone(),
        name: form.name.clone(),
        credential: credential(&form),
    };
    match app::passkeys::add(&state, &session.actor, req).await {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(err) => failed(err, "/me"),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    _: SameOrigin,
    session: Session,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    match app::passkeys::remove(&state, &session.actor, id).await {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(err) => failed(err, "/me"),
    }
}
