//! The web front end, served by the same binary: server-rendered pages that call the same
//! `app::` use cases as the API.
//!
//! A signed-in browser is a device whose auth token is the `lintel_session` cookie (HttpOnly,
//! SameSite=Lax, Secure over HTTPS), ending after 12 hours unused. Every form POST must come
//! from this site (`Origin`), and forms of a signed-in page also carry a token derived from the
//! session, which another site cannot read.

mod admin;
mod doors;
mod html;
mod invitations;
mod links;
mod profile;
mod sign_in_methods;
mod signin;

use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lintel_domain::DeviceId;

use crate::app::{self, Actor, AppState, secrets};
use crate::http::error::ApiError;
use crate::i18n::Lang;

const SESSION_COOKIE: &str = "lintel_session";

/// The pages and the form posts behind them.
/// What pages may load: nothing from elsewhere, no frames around them, forms only to this
/// server and the sign-in providers' `origins`, and of inline code only the style and the
/// scripts they have, by hash.
pub fn content_security_policy(origins: &[String]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
    };
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}' 'sha256-{}' \
         'sha256-{}' 'sha256-{}' 'sha256-{}'; \
         img-src 'self' data:; connect-src 'self'; form-action 'self'{}; \
         frame-ancestors 'none'; base-uri 'none'",
        hash(html::STYLE),
        hash(doors::LOCATION_SCRIPT),
        hash(sign_in_methods::SCRIPT),
        hash(admin::activity::LIVE_SCRIPT),
        hash(html::COPY_SCRIPT),
        hash(html::NAV_SCRIPT),
        origins.iter().map(|o| format!(" {o}")).collect::<String>()
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route(
            "/register",
            get(signin::register_page).post(signin::register),
        )
        .route("/signin", get(signin::signin_page).post(signin::signin))
        .route("/recover", get(signin::recover_page).post(signin::recover))
        .route(
            "/auth/confirm",
            get(signin::confirm_page).post(signin::confirm),
        )
        .route("/auth/code", post(signin::code))
        .route("/auth/oidc/register", post(sign_in_methods::register))
        .route("/auth/oidc/{provider}", post(sign_in_methods::begin))
        .route(
            "/auth/oidc/{provider}/callback",
            get(sign_in_methods::callback).post(sign_in_methods::form_post),
        )
        .route(
            "/auth/oidc/{provider}/return",
            post(sign_in_methods::returned),
        )
        .route(
            "/auth/passkey/options",
            post(sign_in_methods::sign_in_options),
        )
        .route("/auth/passkey", post(sign_in_methods::sign_in))
        .route("/me/providers/{provider}/link", post(sign_in_methods::link))
        .route(
            "/me/providers/{provider}/unlink",
            post(sign_in_methods::unlink),
        )
        .route("/me/passkeys", post(sign_in_methods::add))
        .route("/me/passkeys/options", post(sign_in_methods::add_options))
        .route("/me/passkeys/{id}/remove", post(sign_in_methods::remove))
        .route("/me", get(profile::me_page))
        .route("/me/names", post(profile::names))
        .route("/me/language", post(profile::language))
        .route(
            "/me/devices/{device_id}/unregister",
            post(profile::unregister),
        )
        .route("/me/email", post(profile::change_email))
        .route("/me/email/verify", post(profile::confirm_email))
        .route("/me/phone", post(profile::change_phone))
        .route("/me/phone/verify", post(profile::confirm_phone))
        .route("/me/delete", post(profile::delete))
        .route("/me/delete/confirm", post(profile::confirm_delete))
        .route("/me/memberships/{slug}/leave", post(invitations::leave))
        .route("/doors", get(doors::my_doors))
        .route("/doors/{slug}/{door_id}/unlock", post(doors::unlock))
        .route("/l/{secret}", get(links::guest_page))
        .route(
            "/l/{secret}/doors/{door_id}/unlock",
            post(links::guest_unlock),
        )
        .route(
            "/guests/{slug}",
            get(links::guests).post(links::create_guest_link),
        )
        .route("/guests/{slug}/{id}/revoke", post(links::revoke_guest_link))
        .route("/invitations/{token}", get(invitations::invitation_page))
        .route("/invitations/{token}/accept", post(invitations::accept))
        .merge(admin::routes())
}

async fn home(session: Option<Session>) -> Redirect {
    match session {
        Some(_) => Redirect::to("/me"),
        None => Redirect::to("/signin"),
    }
}

/// A signed-in browser.
pub struct Session {
    pub actor: Actor,
    pub device: DeviceId,
    /// The token forms of this session carry.
    pub csrf: String,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn csrf_for(session_token: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(secrets::hash(&format!("lintel-csrf:{session_token}")))
}

impl OptionalFromRequestParts<AppState> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Session>, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, session_cookie_name(&state.public_url)) else {
            return Ok(None);
        };
        if !app::bearer::is_auth_token(token) {
            return Ok(None);
        }
        Ok(
            match app::bearer::authenticate_device(state, token, None).await {
                Ok(actor @ Actor::Device { device, .. }) => Some(Session {
                    actor,
                    device,
                    csrf: csrf_for(token),
                }),
                _ => None,
            },
        )
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Redirect> {
        match <Session as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
        {
            Ok(Some(session)) => Ok(session),
            _ => Err(Redirect::to("/signin")),
        }
    }
}

/// A form POST that came from a page of this site: refused when the browser says it came
/// from another origin.
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let claimed = parts
            .headers
            .get(header::ORIGIN)
            .or_else(|| parts.headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok());
        let Some(claimed) = claimed else {
            // Not a browser, or a very old one: no cross-site request to fear.
            return Ok(SameOrigin);
        };
        let claimed_host = claimed
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        if claimed_host.is_some() && claimed_host == host {
            Ok(SameOrigin)
        } else {
            Err(forbidden())
        }
    }
}

pub(super) fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(html::page(
            "Not allowed",
            "<p class=\"error\" role=\"alert\">This form was sent from another site, or from a \
             page that has expired. Go back, reload the page and try again.</p>",
        )),
    )
        .into_response()
}

impl Session {
    /// Whether a form carries this session's token.
    pub fn sent(&self, csrf: &str) -> bool {
        secrets::same(self.csrf.as_bytes(), csrf.as_bytes())
    }
}

/// The session cookie's name: over https with the `__Host-` prefix, which browsers accept
/// only from this host, secure and for the whole site (no subdomain can set or shadow it).
fn session_cookie_name(public_url: &str) -> &'static str {
    if public_url.starts_with("https://") {
        "__Host-lintel_session"
    } else {
        SESSION_COOKIE
    }
}

/// The cookie that signs a browser in, or out when `token` is `None`. It lives as long as the
/// session may (`BROWSER_MAX_AGE`); the server ends it sooner after 12 idle hours.
fn session_cookie(public_url: &str, token: Option<&str>) -> HeaderValue {
    let name = session_cookie_name(public_url);
    let secure = if public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = match token {
        Some(token) => (token, app::auth::BROWSER_MAX_AGE.num_seconds()),
        None => ("", 0),
    };
    let cookie =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).expect("cookie values are ASCII")
}

/// A use-case error as a sentence in `lang` for a page, with the status it deserves.
fn explain(lang: Lang, err: app::Error) -> (StatusCode, String) {
    let api = ApiError::from(err);
    (api.status, people_words(lang, &api))
}

/// What a person reads for an API error, in `lang`. The errors of signing in and of the
/// member app have a message of their own in each language (`error-<code>` in `locales/`,
/// naming the field by its label); the rest are the API's English sentence written as one
/// (a capital, "; " as a new sentence, the field's name in words, a full stop).
pub(crate) fn people_words(lang: Lang, api: &ApiError) -> String {
    let id = format!("error-{}", api.code.replace('_', "-"));
    if lang.has(&id) {
        let field = api.field.as_deref().unwrap_or_default();
        let label = format!("field-{}", field.replace('_', "-"));
        let label = if lang.has(&label) {
            lang.word(&label)
        } else {
            capitalized(&field.replace('_', " "))
        };
        let count = match api.code.as_str() {
            "too_many_requests" => api.retry_after_secs.unwrap_or(60).div_ceil(60),
            // "…; 2 tries left …": the tries a wrong code or PIN leaves.
            "wrong_code" | "wrong_pin" => api
                .message
                .rsplit("; ")
                .next()
                .and_then(|tail| tail.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            _ => 0,
        };
        return lang.count(&id, count, &[("field", &label)]);
    }
    let mut text = api.message.clone();
    if let Some(field) = api.field.as_deref()
        && text.starts_with(field)
    {
        text = format!("{}{}", field.replace('_', " "), &text[field.len()..]);
    }
    let sentences: Vec<String> = text.split("; ").map(capitalized).collect();
    let mut text = sentences.join(". ");
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `text` with its first letter a capital.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_sentences_for_people() {
        let api = |code: &str, field: Option<&str>, message: &str| ApiError {
            field: field.map(str::to_owned),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        };
        assert_eq!(
            people_words(
                Lang::En,
                &api(
                    "schedule_in_use",
                    None,
                    "accesses use this schedule; change them first"
                )
            ),
            "Accesses use this schedule. Change them first."
        );
        assert_eq!(
            people_words(
                Lang::En,
                &api(
                    "invalid_time_zone",
                    Some("time_zone"),
                    "time_zone must be an IANA time zone"
                )
            ),
            "Time zone must be an IANA time zone."
        );
        assert_eq!(
            people_words(
                Lang::En,
                &api("sign_in_ended", None, "too many wrong codes; start again")
            ),
            "This sign-in can no longer be finished. Start again from the sign-in page with \
             your email."
        );
        let mut slow = api("too_many_requests", None, "too many requests");
        slow.retry_after_secs = Some(3600);
        assert_eq!(
            people_words(Lang::En, &slow),
            "Too many tries. Try again in 60 minutes."
        );
        assert!(people_words(Lang::En, &api("x", None, "Done already.")).ends_with("already."));
        // In Swedish and French too, with the field's label and the tries left.
        assert_eq!(
            people_words(
                Lang::Sv,
                &api(
                    "invalid_phone",
                    Some("phone"),
                    "phone must be a phone number; why"
                )
            ),
            "Mobilnummer måste vara ett telefonnummer i internationellt format, till exempel \
             +46 70 123 45 67."
        );
        assert_eq!(
            people_words(
                Lang::Fr,
                &api(
                    "wrong_code",
                    Some("code"),
                    "the code is not the one sent; 2 tries left"
                )
            ),
            "Ce n'est pas le code que nous avons envoyé. Il vous reste 2 essais."
        );
        assert_eq!(
            people_words(
                Lang::En,
                &api(
                    "wrong_code",
                    Some("code"),
                    "the code is not the one sent; 1 try left"
                )
            ),
            "That is not the code we sent. You have one more try."
        );
        assert_eq!(
            people_words(Lang::Sv, &slow),
            "För många försök. Försök igen om 60 minuter."
        );
    }

    #[test]
    fn session_cookies_are_secure_when_lintel_is_served_over_https() {
        let https = session_cookie("https://access.example.com", Some("lat_x"));
        let https = https.to_str().unwrap();
        assert!(
            https.starts_with("__Host-lintel_session=lat_x;")
                && https.contains("; Secure")
                && https.contains("HttpOnly")
                && https.contains("Max-Age=2592000"),
            "{https}"
        );
        let http = session_cookie("http://127.0.0.1:8080", Some("lat_x"));
        assert!(!http.to_str().unwrap().contains("Secure"));
        let out = session_cookie("https://access.example.com", None);
        assert!(out.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; lintel_session=lat_y; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("lat_y"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
