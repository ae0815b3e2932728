//! The dashboard's kit: what every section's pages and forms share. A page is a `Screen`
//! (where it is, how it is drawn); `get_page` shows one for a GET, `act` runs a form's action
//! and returns to a page, `show_once` answers with a page that shows a secret once. Each of
//! them checks the session's form token (forms) and enters the organization first.
//!
//! Every form posts to its own route and, on success, redirects back to its page (so reloading
//! does not repeat it); on failure the page is shown again with the error.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::handler::Handler;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDateTime, TimeZone as _, Utc};
use lintel_domain::{Area, Areas, ValidationError};
use uuid::Uuid;

use super::SECTIONS;
use crate::app::{self, AppState, ListRequest, OrgCtx, enter_org};
use crate::http::error::ApiError;
use crate::web::html::{Lang, copy_button, error_box, escape, hidden, page_with_nav, toast};
use crate::web::{SameOrigin, Session, explain, forbidden, people_words};

/// A page of the dashboard (or of the member app) that forms return to.
pub(crate) trait Screen: Send + Sync + Sized {
    /// The page a GET of its route shows, given the route's `{id}`.
    fn at(id: Option<Uuid>) -> Option<Self>;
    /// Its address in organization `slug`.
    fn path(&self, slug: &str) -> String;
    /// Its HTML, with `top` (a notice or an error) above it.
    fn render(
        &self,
        state: &AppState,
        ctx: &OrgCtx,
        session: &Session,
        top: &str,
    ) -> impl Future<Output = Result<String, app::Error>> + Send;
}

/// Declares a dashboard page at `/admin/{slug}/<path>` (with `(id)`: `…/<path>/{id}`), drawn by
/// `render(state, ctx, session, [id,] top)`.
macro_rules! screen {
    ($name:ident at $path:literal by $render:ident) => {
        pub(crate) struct $name;

        impl $crate::web::admin::kit::Screen for $name {
            fn at(_: Option<uuid::Uuid>) -> Option<Self> {
                Some($name)
            }

            fn path(&self, slug: &str) -> String {
                format!("/admin/{slug}/{}", $path)
            }

            async fn render(
                &self,
                state: &$crate::app::AppState,
                ctx: &$crate::app::OrgCtx,
                session: &$crate::web::Session,
                top: &str,
            ) -> Result<String, $crate::app::Error> {
                $render(state, ctx, session, top).await
            }
        }
    };
    ($name:ident(id) at $path:literal by $render:ident) => {
        pub(crate) struct $name(pub(crate) uuid::Uuid);

        impl $crate::web::admin::kit::Screen for $name {
            fn at(id: Option<uuid::Uuid>) -> Option<Self> {
                id.map($name)
            }

            fn path(&self, slug: &str) -> String {
                format!("/admin/{slug}/{}/{}", $path, self.0)
            }

            async fn render(
                &self,
                state: &$crate::app::AppState,
                ctx: &$crate::app::OrgCtx,
                session: &$crate::web::Session,
                top: &str,
            ) -> Result<String, $crate::app::Error> {
                $render(state, ctx, session, self.0, top).await
            }
        }
    };
}
pub(crate) use screen;

/// A handler that ends the object whose id is in its path (delete, revoke, remove) with
/// `$use_case(state, ctx, $id(id))`, then shows `$back`.
macro_rules! ending {
    ($name:ident: $use_case:path, $id:path, back to $back:expr) => {
        pub async fn $name(post: $crate::web::admin::kit::Posted) -> axum::response::Response {
            let (state, id) = (&post.state, post.id);
            post.act($back, |ctx| async move {
                $use_case(state, &ctx, $id(id)).await.map(|_| ())
            })
            .await
        }
    };
}
pub(crate) use ending;

/// A GET handler `$name` for a page drawn by `$html(state, ctx, session, asked, top)` from its
/// query (`asked`: filters, `?after=` cursors), `top` being the toast its `done` asks for.
macro_rules! listing {
    ($name:ident by $html:ident) => {
        pub async fn $name(
            axum::extract::State(state): axum::extract::State<$crate::app::AppState>,
            session: $crate::web::Session,
            axum::extract::Path(slug): axum::extract::Path<String>,
            axum::extract::Query(asked): axum::extract::Query<$crate::web::admin::kit::Fields>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse as _;
            use $crate::web::admin::kit::{error_page, optional};
            let ctx = match $crate::app::enter_org(&state, session.actor.clone(), &slug).await {
                Ok(ctx) => ctx,
                Err(err) => return error_page(err),
            };
            let top = $crate::web::html::toast(optional(&asked, "done").as_deref());
            match $html(&state, &ctx, &session, &asked, top).await {
                Ok(html) => axum::response::Html(html).into_response(),
                Err(err) => error_page(err),
            }
        }
    };
}
pub(crate) use listing;

/// The routes of a section about one kind of object: `/admin/{slug}/<path>` shows `List`
/// and creates, `…/{id}` shows `One` and updates, `…/{id}/delete` deletes.
pub(super) fn object_routes<List, One, C, CT, U, UT, D, DT>(
    path: &str,
    create: C,
    update: U,
    delete: D,
) -> Router<AppState>
where
    List: Screen + Send + 'static,
    One: Screen + Send + 'static,
    C: Handler<CT, AppState>,
    U: Handler<UT, AppState>,
    D: Handler<DT, AppState>,
    CT: 'static,
    UT: 'static,
    DT: 'static,
{
    Router::new()
        .route(
            &format!("/admin/{{slug}}/{path}"),
            get(get_page::<List>).post(create),
        )
        .route(
            &format!("/admin/{{slug}}/{path}/{{id}}"),
            get(get_page::<One>).post(update),
        )
        .route(
            &format!("/admin/{{slug}}/{path}/{{id}}/delete"),
            post(delete),
        )
}

/// A form posted to a dashboard route: from this site (`SameOrigin`), by a signed-in
/// session, with the route's organization and `{id}` (nil when the route has none). Its
/// `act` and `show_once` check the form's token and enter the organization.
pub(crate) struct Posted {
    pub state: AppState,
    pub session: Session,
    pub slug: String,
    pub id: Uuid,
    pub form: Fields,
    /// Where the form was posted: what it did (`done_by`) and which form to mark a
    /// refused field in.
    pub path: String,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        SameOrigin::from_request_parts(&mut parts, state).await?;
        let path = parts.uri.path().to_owned();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let id = match params.get("id") {
            Some(id) => id
                .parse()
                .map_err(|_| error_page(app::Error::NotFound { what: "page" }))?,
            None => Uuid::nil(),
        };
        let Form(form) = Form::<Fields>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Posted {
            state: state.clone(),
            session,
            slug: params.get("slug").cloned().unwrap_or_default(),
            id,
            form,
            path,
        })
    }
}

impl Posted {
    /// `act` for this form.
    pub(crate) async fn act<S: Screen, F, Fut>(&self, page: S, action: F) -> Response
    where
        F: FnOnce(OrgCtx) -> Fut,
        Fut: Future<Output = Result<(), app::Error>>,
    {
        act(
            &self.state,
            &self.session,
            &self.slug,
            (&self.form, &self.path),
            page,
            action,
        )
        .await
    }

    /// `show_once` for this form.
    pub(crate) async fn show_once<S: Screen, F, Fut>(&self, page: S, action: F) -> Response
    where
        F: FnOnce(OrgCtx) -> Fut,
        Fut: Future<Output = Result<String, app::Error>>,
    {
        show_once(
            &self.state,
            &self.session,
            &self.slug,
            (&self.form, &self.path),
            page,
            action,
        )
        .await
    }
}

/// What a form posted to `path` did, by the route's last word: the toast its page shows.
pub(crate) fn done_by(path: &str) -> &'static str {
    match path.rsplit('/').next() {
        Some("delete") => "deleted",
        Some("revoke") => "revoked",
        Some("remove" | "leave") => "removed",
        Some("resend") => "sent",
        Some("remote-unlock") => "unlocked",
        _ => "saved",
    }
}

/// The GET of a page `S`: the organization and the `{id}` come from the route; `?done=`
/// says what the form that led here did.
pub(crate) async fn get_page<S: Screen>(
    State(state): State<AppState>,
    session: Session,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<Fields>,
) -> Response {
    let slug = params.get("slug").map_or("", String::as_str);
    let id = params.get("id").and_then(|id| id.parse().ok());
    let top = toast(query.get("done").map(String::as_str));
    match S::at(id) {
        Some(page) => show(&state, &session, slug, page, StatusCode::OK, top).await,
        None => error_page(app::Error::NotFound { what: "page" }),
    }
}

/// A submitted form: fields by name. Checkboxes are named `area_<name>` and `group_<id>`.
pub(crate) type Fields = HashMap<String, String>;

pub(crate) fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

pub(crate) fn optional(form: &Fields, name: &str) -> Option<String> {
    Some(field(form, name).trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The tabs of the Credentials section: cards and PIN codes, and access links.
pub(crate) fn credential_tabs(ctx: &OrgCtx, current: &str) -> String {
    let slug = ctx.org.slug.as_str();
    let tab = |path: &str, label: &str| {
        let here = if path == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<a href=\"/admin/{slug}/{path}\"{here}>{label}</a>")
    };
    format!(
        "<nav class=\"tabs\" aria-label=\"Credentials\">{}{}</nav>",
        tab("credentials", "Cards &amp; PINs"),
        tab("links", "Access links")
    )
}

/// The dashboard's side navigation: the organization, its overview and the sections the
/// viewer may see, `current` marked (`""` for the overview), then the way out to the member
/// app. A column beside the page on a wide screen, a row that scrolls on a phone.
pub(crate) fn nav(ctx: &OrgCtx, current: &str) -> String {
    let slug = ctx.org.slug.as_str();
    let link = |path: &str, label: &str| {
        let here = if path == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let href = if path.is_empty() {
            format!("/admin/{slug}")
        } else {
            format!("/admin/{slug}/{path}")
        };
        format!("<li><a href=\"{href}\"{here}>{label}</a></li>")
    };
    let mut out = format!(
        "<nav class=\"side\" aria-label=\"Dashboard\"><p><a href=\"/admin\" \
         title=\"All your organizations\">{}</a></p><ul>{}",
        escape(&ctx.org.name),
        link("", "Overview")
    );
    for section in SECTIONS {
        if (section.may_see)(ctx) {
            out.push_str(&link(section.path, section.label));
        }
    }
    out.push_str(
        "<li class=\"mine\"><a href=\"/doors\">My doors</a></li>\
         <li><a href=\"/me\">My profile</a></li></ul></nav>",
    );
    out
}

pub(crate) fn areas_text(areas: &Areas) -> String {
    let names: Vec<_> = areas.iter().map(Area::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

pub(crate) fn max_page() -> ListRequest {
    ListRequest {
        limit: Some(ListRequest::MAX_LIMIT),
        cursor: None,
    }
}

/// A list page's rows: as many as a page holds, after the cursor `?{key}=` that the page
/// before linked to (`more_link`), or from the start.
pub(crate) fn list_page(asked: &Fields, key: &str) -> ListRequest {
    ListRequest {
        limit: Some(ListRequest::MAX_LIMIT),
        cursor: optional(asked, key),
    }
}

/// Links to the rows after these (`next`: the list's `next_cursor`) and back to the first,
/// on `path` with the page's other query fields kept (`asked`, but for `key` and the
/// one-time `done`); nothing for a list that fits on one page.
pub(crate) fn more_link(path: &str, asked: &Fields, key: &str, next: Option<&str>) -> String {
    let mut kept: Vec<(&String, &String)> = asked
        .iter()
        .filter(|(k, _)| *k != key && *k != "done")
        .collect();
    kept.sort();
    let query = |cursor: Option<&str>| {
        let mut pairs: Vec<String> = kept
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        if let Some(cursor) = cursor {
            pairs.push(format!("{key}={}", url_encode(cursor)));
        }
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", pairs.join("&amp;"))
        }
    };
    let mut links = Vec::new();
    if asked.contains_key(key) {
        links.push(format!("<a href=\"{}\">First page</a>", query(None)));
    }
    if let Some(next) = next {
        links.push(format!(
            "<a href=\"{}\" rel=\"next\">Next page</a>",
            query(Some(next))
        ));
    }
    if links.is_empty() {
        String::new()
    } else {
        format!("<p class=\"pages\">{}</p>", links.join(" · "))
    }
}

/// `value` for a URL's query: letters, digits and `-_.` as they are, every other byte
/// %-encoded.
pub(crate) fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A small form of one button, with the session's token.
pub(crate) fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{action}\">{}\
         <button class=\"{class}\">{label}</button></form>",
        hidden("csrf", csrf)
    )
}

pub(crate) fn error_page(err: app::Error) -> Response {
    let (status, message) = explain(Lang::En, err);
    (
        status,
        Html(page_with_nav(
            "Something went wrong",
            "",
            &error_box(Some(&message)),
        )),
    )
        .into_response()
}

/// A number from a form, or a validation error naming the field.
pub(crate) fn number<T: std::str::FromStr>(
    form: &Fields,
    name: &'static str,
) -> Result<Option<T>, app::Error> {
    match optional(form, name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            app::Error::from(lintel_domain::ValidationError::new(
                name,
                "not_a_number",
                format!("{name} must be a number"),
            ))
        }),
    }
}

pub(crate) fn read_only(ctx: &OrgCtx, area: Area) -> &'static str {
    if ctx.require(area).is_ok() {
        ""
    } else {
        "disabled"
    }
}

/// Shows a page, or the error that kept it from showing.
pub(crate) async fn show<S: Screen>(
    state: &AppState,
    session: &Session,
    slug: &str,
    page: S,
    status: StatusCode,
    top: &str,
) -> Response {
    match render(state, session, slug, &page, top).await {
        Ok(html) => (status, Html(html)).into_response(),
        Err(response) => response,
    }
}

/// A page's HTML, or the error page that shows instead.
async fn render<S: Screen>(
    state: &AppState,
    session: &Session,
    slug: &str,
    page: &S,
    top: &str,
) -> Result<String, Response> {
    let ctx = enter_org(state, session.actor.clone(), slug)
        .await
        .map_err(error_page)?;
    page.render(state, &ctx, session, top)
        .await
        .map_err(error_page)
}

/// The page again after its form posted to `action` was refused with `err`: what was typed
/// in that form (`refill`), the reason at the top, and beside the field it names.
async fn refused<S: Screen>(
    state: &AppState,
    session: &Session,
    slug: &str,
    page: S,
    (form, action): (&Fields, &str),
    err: app::Error,
) -> Response {
    let err = ApiError::from(err);
    let message = people_words(Lang::En, &err);
    match render(state, session, slug, &page, &error_box(Some(&message))).await {
        Ok(html) => {
            let html = refill(&html, action, form);
            let html = match &err.field {
                Some(field) => mark_field(&html, action, field, &message),
                None => html,
            };
            (err.status, Html(html)).into_response()
        }
        Err(response) => response,
    }
}

/// The organization entered by the session's person, whose chosen language (English if
/// none) is the one what they send is written in.
async fn in_org_speaking(
    state: &AppState,
    session: &Session,
    slug: &str,
) -> Result<OrgCtx, app::Error> {
    let mut ctx = enter_org(state, session.actor.clone(), slug).await?;
    ctx.lang = Lang::En.for_person(state, &session.actor).await;
    Ok(ctx)
}

/// Runs a form's action in the organization and answers: back to `page` saying what it did
/// (by `done_by` of the form's `action`) when it worked, the page again with the error when
/// it did not.
pub(crate) async fn act<S: Screen, F, Fut>(
    state: &AppState,
    session: &Session,
    slug: &str,
    (form, action_path): (&Fields, &str),
    page: S,
    action: F,
) -> Response
where
    F: FnOnce(OrgCtx) -> Fut,
    Fut: Future<Output = Result<(), app::Error>>,
{
    if !session.sent(field(form, "csrf")) {
        return forbidden();
    }
    let ctx = match in_org_speaking(state, session, slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    match action(ctx).await {
        Ok(()) => {
            let done = done_by(action_path);
            Redirect::to(&format!("{}?done={done}", page.path(slug))).into_response()
        }
        Err(err) => refused(state, session, slug, page, (form, action_path), err).await,
    }
}

/// Runs a form's action that makes a secret and answers with the page itself, `top` being
/// the action's notice (the secret, shown this once) or the error: never a redirect, and
/// never cached, so the secret lingers nowhere.
pub(crate) async fn show_once<S: Screen, F, Fut>(
    state: &AppState,
    session: &Session,
    slug: &str,
    (form, action_path): (&Fields, &str),
    page: S,
    action: F,
) -> Response
where
    F: FnOnce(OrgCtx) -> Fut,
    Fut: Future<Output = Result<String, app::Error>>,
{
    if !session.sent(field(form, "csrf")) {
        return forbidden();
    }
    let ctx = match in_org_speaking(state, session, slug).await {
        Ok(ctx) => ctx,
        Err(err) => return error_page(err),
    };
    let mut response = match action(ctx).await {
        Ok(notice) => show(state, session, slug, page, StatusCode::CREATED, &notice).await,
        Err(err) => refused(state, session, slug, page, (form, action_path), err).await,
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// `html` with the field `name` of the form posted to `action` marked invalid and `message`
/// beside it (`aria-describedby`, so a screen reader reads it with the field). Unchanged when
/// that form has no such field: the message at the top says it all.
pub(crate) fn mark_field(html: &str, action: &str, name: &str, message: &str) -> String {
    let Some(form_at) = html.find(&format!(" action=\"{action}\"")) else {
        return html.to_owned();
    };
    let form_end = html[form_at..]
        .find("</form>")
        .map_or(html.len(), |i| form_at + i);
    let Some(name_at) = html[form_at..form_end]
        .find(&format!(" name=\"{name}\""))
        .map(|i| form_at + i)
    else {
        return html.to_owned();
    };
    let Some(tag_at) = html[..name_at].rfind('<') else {
        return html.to_owned();
    };
    let tag = &html[tag_at + 1..name_at];
    let closing = if tag.starts_with("select") {
        "</select>"
    } else if tag.starts_with("textarea") {
        "</textarea>"
    } else if tag.starts_with("input") {
        ""
    } else {
        return html.to_owned();
    };
    let Some(tag_end) = html[name_at..].find('>').map(|i| name_at + i) else {
        return html.to_owned();
    };
    let after = if closing.is_empty() {
        tag_end + 1
    } else {
        html[tag_end..]
            .find(closing)
            .map_or(tag_end + 1, |i| tag_end + i + closing.len())
    };
    format!(
        "{} aria-invalid=\"true\" aria-describedby=\"field-error\"{}<span class=\"field-error\" \
         id=\"field-error\">{}</span>{}",
        &html[..tag_end],
        &html[tag_end..after],
        escape(message),
        &html[after..]
    )
}

/// `html` with the form posted to `action` showing again what was posted in `form`: its text
/// fields, text areas and single selects. Hidden fields (the page's own csrf), passwords,
/// check boxes and fields marked `autocomplete="off"` (codes and card numbers: credentials
/// are not echoed) keep what the page drew.
pub(crate) fn refill(html: &str, action: &str, form: &Fields) -> String {
    let Some(form_at) = html.find(&format!(" action=\"{action}\"")) else {
        return html.to_owned();
    };
    let form_end = html[form_at..]
        .find("</form>")
        .map_or(html.len(), |i| form_at + i);
    let mut out = String::with_capacity(html.len());
    out.push_str(&html[..form_at]);
    let mut rest = &html[form_at..form_end];
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(close) = rest.find('>') else {
            break;
        };
        let tag = &rest[..=close];
        rest = &rest[close + 1..];
        let posted = attribute(tag, "name").and_then(|name| form.get(name));
        let element = tag[1..].split([' ', '>']).next().unwrap_or_default();
        match (element, posted) {
            ("input", Some(value))
                if !tag.contains(" autocomplete=\"off\"")
                    && !matches!(
                        attribute(tag, "type"),
                        Some("hidden" | "password" | "checkbox" | "radio" | "submit")
                    ) =>
            {
                out.push_str(&with_value(tag, &escape(value)));
            }
            ("textarea", Some(value)) => {
                out.push_str(tag);
                out.push_str(&escape(value));
                rest = &rest[rest.find("</textarea>").unwrap_or(0)..];
            }
            ("select", Some(value)) if !tag.contains(" multiple") => {
                out.push_str(tag);
                let end = rest.find("</select>").unwrap_or(rest.len());
                let chosen = format!("<option value=\"{}\"", escape(value));
                let options = rest[..end].replace(" selected", "");
                out.push_str(&options.replacen(&chosen, &format!("{chosen} selected"), 1));
                rest = &rest[end..];
            }
            _ => out.push_str(tag),
        }
    }
    out.push_str(rest);
    out.push_str(&html[form_end..]);
    out
}

/// The value of attribute `name` in an HTML tag as this code writes them (`name="value"`,
/// the value escaped).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// An `<input>` tag with its value set to `value` (already escaped).
fn with_value(tag: &str, value: &str) -> String {
    match tag.find(" value=\"") {
        Some(at) => {
            let start = at + " value=\"".len();
            let end = tag[start..].find('"').map_or(start, |i| start + i);
            format!("{}{value}{}", &tag[..start], &tag[end..])
        }
        None => {
            let end = tag.trim_end_matches('>').trim_end_matches('/').len();
            format!("{} value=\"{value}\"{}", &tag[..end], &tag[end..])
        }
    }
}

/// The box that shows a new secret this once (on the answer itself: Lintel keeps only its
/// hash): `what` names it in the heading, `label` is the field's accessible name, `hint` (HTML)
/// says how to use it.
pub(crate) fn secret_notice(what: &str, label: &str, secret: &str, hint: &str) -> String {
    format!(
        "<section class=\"notice\" role=\"status\"><h2>Copy the {what} now</h2><p>This is the \
         only time it is shown; Lintel keeps only a hash of it.</p><p><input id=\"secret\" \
         readonly value=\"{}\" aria-label=\"{label}\"> {}</p><p class=\"hint\">{hint}</p></section>",
        escape(secret),
        copy_button("secret")
    )
}

/// A `datetime-local` value, read in the organization's time zone.
pub(crate) fn local_time(
    ctx: &OrgCtx,
    form: &Fields,
    name: &'static str,
) -> Result<Option<chrono::DateTime<Utc>>, ValidationError> {
    let Some(text) = optional(form, name) else {
        return Ok(None);
    };
    let bad = || {
        ValidationError::new(
            name,
            "invalid_time",
            format!("{name} must be a date and time"),
        )
    };
    let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M").map_err(|_| bad())?;
    let at = ctx
        .org
        .time_zone
        .tz()
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(bad)?;
    Ok(Some(at.with_timezone(&Utc)))
}

pub(crate) fn checked_areas(form: &Fields) -> Vec<String> {
    Area::ALL
        .iter()
        .filter(|a| form.contains_key(&format!("area_{a}")))
        .map(|a| a.as_str().to_owned())
        .collect()
}

/// Checkboxes for the areas the viewer may grant, with `held` ticked.
pub(crate) fn area_boxes(ctx: &OrgCtx, held: &Areas) -> String {
    let mut out = String::from("<fieldset><legend>Admin areas</legend>");
    for area in Area::ALL {
        if ctx.areas.allows(area) {
            let on = if held.iter().any(|a| a == area) {
                " checked"
            } else {
                ""
            };
            out.push_str(&format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"area_{area}\"{on}> \
                 {area}</label>"
            ));
        }
    }
    out.push_str("</fieldset>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_shows_what_was_typed_but_no_credential() {
        let page = "<form action=\"/a\"><input name=\"name\" value=\"kept\"></form>\
                    <form method=\"post\" action=\"/b\"><input type=\"hidden\" name=\"csrf\" \
                    value=\"page\"><input id=\"name\" name=\"name\" type=\"text\" value=\"\" \
                    required><input name=\"note\"><input name=\"code\" type=\"text\" value=\"\" \
                    autocomplete=\"off\"><textarea name=\"about\">old</textarea>\
                    <select name=\"site\"><option value=\"1\" selected>HQ</option>\
                    <option value=\"2\">Annex</option></select><input type=\"checkbox\" \
                    name=\"on\" value=\"1\"></form><p>after</p>";
        let posted: Fields = [
            ("csrf", "forged"),
            ("name", "A \"door\" <b>"),
            ("note", "n"),
            ("code", "4711"),
            ("about", "new </textarea>"),
            ("site", "2"),
            ("on", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            refill(page, "/b", &posted),
            "<form action=\"/a\"><input name=\"name\" value=\"kept\"></form>\
             <form method=\"post\" action=\"/b\"><input type=\"hidden\" name=\"csrf\" \
             value=\"page\"><input id=\"name\" name=\"name\" type=\"text\" \
             value=\"A &quot;door&quot; &lt;b&gt;\" required><input name=\"note\" value=\"n\">\
             <input name=\"code\" type=\"text\" value=\"\" autocomplete=\"off\">\
             <textarea name=\"about\">new &lt;/textarea&gt;</textarea>\
             <select name=\"site\"><option value=\"1\">HQ</option>\
             <option value=\"2\" selected>Annex</option></select><input type=\"checkbox\" \
             name=\"on\" value=\"1\"></form><p>after</p>"
        );
        assert_eq!(refill(page, "/c", &posted), page);
    }

    #[test]
    fn a_refused_field_is_marked_in_the_form_that_was_sent_only() {
        let page = "<form action=\"/a\"><input id=\"a-name\" name=\"name\"></form>\
                    <form action=\"/b\"><input id=\"name\" name=\"name\" value=\"x\">\
                    <select name=\"kind\"><option>1</option></select></form>";
        let marked = mark_field(page, "/b", "name", "name must not be <empty>");
        assert_eq!(
            marked,
            "<form action=\"/a\"><input id=\"a-name\" name=\"name\"></form>\
             <form action=\"/b\"><input id=\"name\" name=\"name\" value=\"x\" \
             aria-invalid=\"true\" aria-describedby=\"field-error\"><span class=\"field-error\" \
             id=\"field-error\">name must not be &lt;empty&gt;</span>\
             <select name=\"kind\"><option>1</option></select></form>"
        );
        // A select's message goes after the whole select.
        let marked = mark_field(page, "/b", "kind", "pick one");
        assert!(
            marked.contains(
                "<select name=\"kind\" aria-invalid=\"true\" \
                             aria-describedby=\"field-error\"><option>1</option></select>\
                             <span class=\"field-error\" id=\"field-error\">pick one</span>"
            ),
            "{marked}"
        );
        // No such form, or no such field in it: unchanged.
        assert_eq!(mark_field(page, "/c", "name", "x"), page);
        assert_eq!(mark_field(page, "/a", "kind", "x"), page);
    }
}
