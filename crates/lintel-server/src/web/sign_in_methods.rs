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

use super::html::{Lang, error_box, escape, hidden, input, input_as, page_in};
use super::signin::{check_email_html, code_html, code_sent, start_again};
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
    status.textContent = form.dataset.unsupported;
    return;
  }
  form.addEventListener('submit', function (event) {
    if (form.dataset.ready) { return; }
    event.preventDefault();
    if (!form.reportValidity()) { return; }
    var body = new URLSearchParams();
    if (form.csrf) { body.set('csrf', form.csrf.value); }
    status.textContent = form.dataset.waiting;
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
      .catch(function (e) { status.textContent = form.dataset.failed + ' ' + e.message; });
  });
});
";

fn script() -> String {
    format!("<script>{SCRIPT}</script>")
}

/// What a page with the other ways to sign in is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    SignIn,
    Register,
}

/// The attributes a passkey form's script reads its words from, in `lang`.
fn passkey_words(lang: Lang) -> String {
    format!(
        "data-unsupported=\"{}\" data-waiting=\"{}\" data-failed=\"{}\"",
        escape(&lang.word("passkey-unsupported")),
        escape(&lang.word("passkey-waiting")),
        escape(&lang.word("passkey-not-used")),
    )
}

/// The provider buttons and the passkey form for `/signin` and `/register`.
pub(super) fn other_ways(lang: Lang, state: &AppState, verb: Verb) -> String {
    let w = |id| escape(&lang.word(id));
    let mut out = String::new();
    let providers = state.oidc.list();
    if !providers.is_empty() {
        out.push_str(&format!("<section><h2>{}</h2>", w("other-ways-title")));
        let with = match verb {
            Verb::SignIn => "other-ways-sign-in",
            Verb::Register => "other-ways-register",
        };
        for p in providers {
            out.push_str(&format!(
                "<form method=\"post\" action=\"/auth/oidc/{}\"><button class=\"secondary\">\
                 {}</button></form>",
                escape(&p.id),
                escape(&lang.text(with, &[("provider", &p.name)]))
            ));
        }
        out.push_str(&format!(
            "<p class=\"hint\">{}</p></section>",
            w("other-ways-hint")
        ));
    }
    if verb == Verb::SignIn && state.passkeys.available() {
        out.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/auth/passkey\" data-passkey=\"get\" \
             data-options=\"/auth/passkey/options\" {}><h2>{}</h2>{}{}{}{}\
             <p class=\"hint\">{}</p><button>{}</button>\
             <p class=\"hint\" role=\"status\"></p></form>{}",
            passkey_words(lang),
            w("passkey-title"),
            hidden("ceremony", ""),
            hidden("credential", ""),
            hidden("device_name", &lang.word("device-browser")),
            input_as(
                "passkey_pin",
                "pin",
                &lang.word("field-browser-pin"),
                "password",
                "",
                "required inputmode=\"numeric\" pattern=\"[0-9]{4,8}\" autocomplete=\"off\""
            ),
            w("passkey-hint"),
            w("passkey-use"),
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
    lang: Lang,
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
        Err(err) => failed(lang, err, "/signin"),
    }
}

fn failed(lang: Lang, err: app::Error, back: &str) -> Response {
    let (status, message) = explain(lang, err);
    let body = format!(
        "{}<p><a href=\"{back}\">{}</a></p>",
        error_box(Some(&message)),
        escape(&lang.word("go-back"))
    );
    (
        status,
        Html(page_in(lang, &lang.word("failed-title"), &body)),
    )
        .into_response()
}

pub async fn begin(
    State(state): State<AppState>,
    lang: Lang,
    _: SameOrigin,
    Path(provider): Path<String>,
) -> Response {
    to_provider(lang, &state, &provider, Intent::SignIn, None).await
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
    lang: Lang,
    Path(provider): Path<String>,
    Form(answer): Form<ProviderAnswer>,
) -> Response {
    let body = format!(
        "<form class=\"card\" method=\"post\" action=\"/auth/oidc/{}/return\" data-autosubmit>\
         {}{}{}<p>{}</p><button>{}</button></form>{}",
        escape(&provider),
        hidden("state", &answer.state),
        hidden("code", &answer.code),
        answer
            .error
            .as_deref()
            .map(|e| hidden("error", e))
            .unwrap_or_default(),
        escape(&lang.word("provider-back")),
        escape(&lang.word("continue")),
        script()
    );
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(page_in(lang, &lang.word("provider-back-title"), &body)),
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
    let browser = Lang::of_request(headers);
    let lang = match &session {
        Some(session) => browser.for_person(state, &session.actor).await,
        None => browser,
    };
    let name = state.oidc.name(provider).unwrap_or(provider).to_owned();
    let mut response = match answer.error {
        Some(_) => {
            let body = format!(
                "{}<p><a href=\"/signin\">{}</a></p>",
                error_box(Some(&lang.text("provider-refused", &[("provider", &name)]))),
                escape(&lang.word("back-to-sign-in"))
            );
            let page = page_in(lang, &lang.word("provider-refused-title"), &body);
            (StatusCode::BAD_REQUEST, Html(page)).into_response()
        }
        None => {
            let browser = cookie(headers, FLOW_COOKIE);
            match app::oidc::finish(state, provider, &answer.state, &answer.code, browser).await {
                Ok(proven) if proven.intent == Intent::Link => match session {
                    Some(session) => match app::me::me(&session.actor) {
                        Ok((account, _)) => match app::oidc::link(state, account, proven).await {
                            Ok(_) => Redirect::to("/me").into_response(),
                            Err(err) => failed(lang, err, "/me"),
                        },
                        Err(err) => failed(lang, err, "/me"),
                    },
                    None => Redirect::to("/signin").into_response(),
                },
                Ok(proven) => match app::oidc::sign_in(state, source, lang, proven).await {
                    Ok(Outcome::CodeSent(sent)) => code_sent(lang, &sent),
                    Ok(Outcome::Ready(ready)) => {
                        Html(code_html(lang, &ready.sign_in, None, None, None)).into_response()
                    }
                    Ok(Outcome::PhoneNeeded(needed)) => Html(phone_html(
                        lang,
                        &needed,
                        &needed.first_name,
                        &needed.last_name,
                        "",
                        None,
                    ))
                    .into_response(),
                    Ok(Outcome::CheckYourEmail(_)) => {
                        Html(check_email_html(lang, None)).into_response()
                    }
                    Err(err) => failed(lang, err, "/signin"),
                },
                Err(err) => failed(lang, err, "/signin"),
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
    lang: Lang,
    needed: &PhoneNeeded,
    first_name: &str,
    last_name: &str,
    phone: &str,
    error: Option<&str>,
) -> String {
    let w = |id| escape(&lang.word(id));
    page_in(
        lang,
        &lang.word("finish-account-title"),
        &format!(
            "{}<form class=\"card\" method=\"post\" action=\"/auth/oidc/register\">{}{}\
             <p>{}</p>{}{}{}<p class=\"hint\">{}</p><button>{}</button></form>",
            error_box(error),
            hidden("registration", &needed.registration),
            hidden("email", &needed.email),
            escape(&lang.text("finish-account-explain", &[("email", &needed.email)])),
            input(
                "first_name",
                &lang.word("field-first-name"),
                "text",
                first_name,
                "required autocomplete=\"given-name\""
            ),
            input(
                "last_name",
                &lang.word("field-last-name"),
                "text",
                last_name,
                "required autocomplete=\"family-name\""
            ),
            input(
                "phone",
                &lang.word("field-phone"),
                "tel",
                phone,
                "required autocomplete=\"tel\" autofocus"
            ),
            w("phone-hint"),
            w("finish-account-button"),
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
    lang: Lang,
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
    match app::oidc::register(&state, source, lang, req).await {
        Ok(sent) => code_sent(lang, &sent),
        Err(err) => {
            let (status, message) = explain(lang, err);
            if status != StatusCode::UNPROCESSABLE_ENTITY && status != StatusCode::CONFLICT {
                return start_again(lang, status, &message, "failed-title");
            }
            // A field to correct, or a phone another account has: the registration waits.
            let needed = PhoneNeeded {
                registration: form.registration,
                email: form.email,
                first_name: String::new(),
                last_name: String::new(),
            };
            let html = phone_html(
                lang,
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
    browser: Lang,
    _: SameOrigin,
    session: Session,
    Path(provider): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let lang = browser.for_person(&state, &session.actor).await;
    to_provider(lang, &state, &provider, Intent::Link, Some(&session)).await
}

pub async fn unlink(
    State(state): State<AppState>,
    browser: Lang,
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
    let lang = browser.for_person(&state, &session.actor).await;
    match result {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(err) => failed(lang, err, "/me"),
    }
}

/// `/me`'s section: linked providers and passkeys.
pub(super) async fn profile_section(
    state: &AppState,
    lang: Lang,
    session: &Session,
) -> Result<String, app::Error> {
    let w = |id| escape(&lang.word(id));
    let (account, _) = app::me::me(&session.actor)?;
    let csrf = hidden("csrf", &session.csrf);
    let mut out = format!("<section><h2>{}</h2>", w("me-ways"));
    let providers = state.oidc.list();
    if !providers.is_empty() {
        let linked = app::oidc::linked(state, account).await?;
        out.push_str(&format!(
            "<h3>{}</h3><ul class=\"rows\">",
            w("me-providers")
        ));
        for p in &providers {
            match linked.iter().find(|l| l.provider == p.id) {
                Some(l) => out.push_str(&format!(
                    "<li><strong>{}</strong> {} <form class=\"inline\" method=\"post\" \
                     action=\"/me/providers/{}/unlink\">{csrf}<button class=\"small secondary\">\
                     {}</button></form></li>",
                    escape(&p.name),
                    escape(&l.email),
                    escape(&p.id),
                    w("me-unlink"),
                )),
                None => out.push_str(&format!(
                    "<li><strong>{}</strong> {} <form class=\"inline\" method=\"post\" \
                     action=\"/me/providers/{}/link\">{csrf}<button class=\"small\">{}\
                     </button></form></li>",
                    escape(&p.name),
                    w("me-not-linked"),
                    escape(&p.id),
                    w("me-link"),
                )),
            }
        }
        out.push_str("</ul>");
    }
    if state.passkeys.available() {
        let passkeys = app::passkeys::list(state, &session.actor).await?;
        out.push_str(&format!("<h3>{}</h3>", w("me-passkeys")));
        if passkeys.is_empty() {
            out.push_str(&format!("<p class=\"hint\">{}</p>", w("me-no-passkey")));
        } else {
            out.push_str("<ul class=\"rows\">");
            for p in &passkeys {
                let date = lang.date(p.created_at.date_naive());
                let added = match p.last_used_at {
                    Some(at) => lang.text(
                        "me-passkey-used",
                        &[("date", &date), ("when", &lang.date_time(at.naive_utc()))],
                    ),
                    None => lang.text("me-passkey-added", &[("date", &date)]),
                };
                out.push_str(&format!(
                    "<li><strong>{}</strong> <span class=\"hint\">{}</span> \
                     <form class=\"inline\" method=\"post\" action=\"/me/passkeys/{}/remove\">\
                     {csrf}<button class=\"small danger\">{}</button></form></li>",
                    escape(&p.name),
                    escape(&added),
                    p.id,
                    w("me-passkey-remove"),
                ));
            }
            out.push_str("</ul>");
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"/me/passkeys\" data-passkey=\"create\" \
             data-options=\"/me/passkeys/options\" {}>{csrf}{}{}{}<button>{}</button>\
             <p class=\"hint\" role=\"status\"></p></form>{}",
            passkey_words(lang),
            hidden("ceremony", ""),
            hidden("credential", ""),
            input_as(
                "passkey_name",
                "name",
                &lang.word("me-passkey-name"),
                "text",
                "",
                "required maxlength=\"60\""
            ),
            w("me-passkey-add"),
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
    lang: Lang,
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
            let (status, message) = explain(lang, err);
            (
                status,
                Html(super::signin::signin_html(lang, &state, "", Some(&message))),
            )
                .into_response()
        }
    }
}

pub async fn add(
    State(state): State<AppState>,
    browser: Lang,
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
    let lang = browser.for_person(&state, &session.actor).await;
    match app::passkeys::add(&state, &session.actor, req).await {
        Ok(_) => Redirect::to("/me").into_response(),
        Err(err) => failed(lang, err, "/me"),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    browser: Lang,
    _: SameOrigin,
    session: Session,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !session.sent(&form.csrf) {
        return forbidden();
    }
    let lang = browser.for_person(&state, &session.actor).await;
    match app::passkeys::remove(&state, &session.actor, id).await {
        Ok(()) => Redirect::to("/me").into_response(),
        Err(err) => failed(lang, err, "/me"),
    }
}
