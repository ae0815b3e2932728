//! The web pages, driven as a browser drives them: forms, redirects and the session cookie.

use chrono::Duration;
use lintel_store::Channel;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::{TestApp, code_sent_to};

on_both_backends!(
    a_person_registers_and_signs_in_with_the_browser,
    forms_from_other_sites_or_without_the_session_token_are_refused,
    a_browser_session_ends_after_twelve_idle_hours,
    a_browser_session_ends_thirty_days_after_it_began,
    the_phone_is_changed_and_the_account_deleted_from_the_profile,
    the_dashboard_does_what_the_viewers_areas_allow_and_nothing_else,
    my_doors_open_with_a_button_and_say_why_not,
    an_admin_builds_the_staff_access_in_the_dashboard,
    cards_and_pin_codes_in_the_dashboard_and_the_member_app,
    a_guest_opens_a_door_from_the_link_page,
    a_member_sends_a_link_to_their_own_guest,
    the_previous_owner_of_a_recycled_number_adds_a_new_one_from_a_page,
    controllers_are_added_wired_and_rotated_from_the_dashboard,
    the_first_page_shows_what_is_left_to_set_up_and_todays_doors,
    long_lists_page_on_and_keep_their_filters,
);

/// A browser: keeps cookies, and shows redirects rather than following them.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser { app, client }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let resp = self.client.get(self.app.url(path)).send().await.unwrap();
        (resp.status(), resp.headers().clone(), resp)
            .into_parts()
            .await
    }

    /// `get` by a browser that prefers the languages `accept_language` lists.
    async fn get_in(&self, path: &str, accept_language: &str) -> (StatusCode, String) {
        let resp = self
            .client
            .get(self.app.url(path))
            .header("accept-language", accept_language)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// `post` by a browser that prefers the languages `accept_language` lists.
    async fn post_in(&self, path: &str, form: &[(&str, &str)], accept_language: &str) -> String {
        self.client
            .post(self.app.url(path))
            .header("origin", self.app.url("").trim_end_matches('/'))
            .header("accept-language", accept_language)
            .form(form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Submits a form from a page of the app itself.
    pub(crate) async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, reqwest::header::HeaderMap) {
        self.post_from(&self.app.url(""), path, form).await
    }

    async fn post_from(
        &self,
        origin: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let resp = self
            .client
            .post(self.app.url(path))
            .header("origin", origin.trim_end_matches('/'))
            .form(form)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.headers().clone(), resp)
            .into_parts()
            .await
    }

    /// Invites Ada to acme with `area` (by the owner's `key`) and signs her in in a new
    /// browser.
    async fn admin_of_acme(app: &'a TestApp, key: &str, area: &str) -> Browser<'a> {
        app.invite(
            key,
            "acme",
            serde_json::json!({ "email": "ada@example.com", "areas": [area] }),
        )
        .await;
        app.deliver().await;
        let browser = Browser::new(app);
        browser.sign_up().await;
        browser
    }

    /// Registers Ada and signs this browser in; returns the profile page.
    async fn sign_up(&self) -> String {
        self.sign_up_as("Ada", "ada@example.com", "+46 70 123 45 67")
            .await
    }

    /// Registers someone (last name Lovelace) and signs this browser in; returns the
    /// profile page.
    async fn sign_up_as(&self, first_name: &str, email: &str, phone: &str) -> String {
        let (status, page, _) = self
            .post(
                "/register",
                &[
                    ("first_name", first_name),
                    ("last_name", "Lovelace"),
                    ("email", email),
                    ("phone", phone),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Check your email"), "{page}");
        self.follow_link(&format!("+•••••••••{}", &phone[phone.len() - 2..]))
            .await
    }

    /// Follows the emailed link to the code page (which names the phone as `masked`), gets
    /// one code wrong, then the right one; returns the profile page.
    async fn follow_link(&self, masked: &str) -> String {
        let sent = self.app.deliver().await;
        let link = &sent
            .iter()
            .find(|m| m.channel == Channel::Email)
            .unwrap()
            .body;
        let path = link
            .lines()
            .find(|l| l.contains("/auth/confirm?token="))
            .unwrap()
            .trim()
            .replace(&self.app.url(""), "");

        // Opening the link shows a button and uses nothing up.
        let (status, confirm_page, _) = self.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            confirm_page.contains("<button>Continue</button>"),
            "{confirm_page}"
        );
        let token = field(&confirm_page, "token");
        let (status, code_page, _) = self.post("/auth/confirm", &[("token", &token)]).await;
        assert_eq!(status, StatusCode::OK, "{code_page}");
        assert!(code_page.contains(masked), "{code_page}");
        let sign_in = field(&code_page, "sign_in");
        let sms = self.app.deliver().await;
        let code: String = sms[0]
            .body
            .chars()
            .filter(char::is_ascii_digit)
            .take(6)
            .collect();

        let wrong = if code == "111111" { "222222" } else { "111111" };
        let (status, again, _) = self
            .post(
                "/auth/code",
                &[
                    ("sign_in", &sign_in),
                    ("code", wrong),
                    ("device_name", "Laptop"),
                    ("pin", "2580"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            again.contains("You have 4 more tries.") && again.contains("role=\"alert\""),
            "{again}"
        );

        let (status, _, headers) = self
            .post(
                "/auth/code",
                &[
                    ("sign_in", &sign_in),
                    ("code", &code),
                    ("device_name", "Laptop"),
                    ("pin", "2580"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers["location"], "/me");
        let cookie = headers["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("lintel_session=lat_"), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
        let (status, profile, _) = self.get("/me").await;
        assert_eq!(status, StatusCode::OK, "{profile}");
        profile
    }
}

trait IntoParts {
    async fn into_parts(self) -> (StatusCode, String, reqwest::header::HeaderMap);
}

impl IntoParts for (StatusCode, reqwest::header::HeaderMap, reqwest::Response) {
    async fn into_parts(self) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let (status, headers, resp) = self;
        (status, resp.text().await.unwrap(), headers)
    }
}

/// Gives `member` two accesses: `day` at any time, `night` on Monday nights only (a test
/// clock's Monday 10:00 is outside them).
async fn day_and_night(
    app: &TestApp,
    key: &str,
    member: &serde_json::Value,
    day: &str,
    night: &str,
) {
    let (_, nights) = app
        .post(
            key,
            "/api/v1/orgs/acme/schedules",
            serde_json::json!({ "name": "Nights", "windows": [{ "day": "monday", "start": "22:00", "end": "06:00" }] }),
        )
        .await;
    for (name, door, schedule) in [("Day", day, None), ("Night", night, Some(&nights["id"]))] {
        let (status, body) = app
            .post(
                key,
                "/api/v1/orgs/acme/accesses",
                serde_json::json!({ "name": name, "doors": [{ "door_id": door }],
                                    "users": [member], "schedule_id": schedule }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// The value of the form field `name` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn a_person_registers_and_signs_in_with_the_browser(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    let (status, _, headers) = browser.get("/").await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/signin")
    );
    let (status, register, _) = browser.get("/register").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        register.contains("<label for=\"email\">") && register.contains("lang=\"en\""),
        "{register}"
    );

    let profile = browser.sign_up().await;
    assert!(profile.contains("Ada Lovelace"), "{profile}");
    assert!(
        profile.contains("Laptop") && profile.contains("this browser"),
        "{profile}"
    );
    assert!(profile.contains("ada@example.com") && profile.contains("+46701234567"));

    // Names are changed, and shown escaped; markup is no name.
    let csrf = field(&profile, "csrf");
    let (status, _, _) = browser
        .post(
            "/me/names",
            &[
                ("csrf", &csrf),
                ("first_name", "<b>Ada</b>"),
                ("last_name", "King"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = browser
        .post(
            "/me/names",
            &[
                ("csrf", &csrf),
                ("first_name", "Ada"),
                ("last_name", "O'King"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, profile, _) = browser.get("/me").await;
    assert!(
        profile.contains("Ada O&#39;King") && !profile.contains("O'King"),
        "{profile}"
    );
    let (status, refused, _) = browser
        .post(
            "/me/names",
            &[("csrf", &csrf), ("first_name", ""), ("last_name", "King")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("First name must be filled in."),
        "{refused}"
    );

    // Signed in, the sign-in pages lead to the profile.
    assert_eq!(browser.get("/signin").await.2["location"], "/me");

    // Signing out unregisters this browser's device and drops the cookie.
    let device = profile
        .split("/me/devices/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let (status, _, headers) = browser
        .post(
            &format!("/me/devices/{device}/unregister"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/signin");
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(browser.get("/me").await.2["location"], "/signin");
}

async fn forms_from_other_sites_or_without_the_session_token_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    let profile = browser.sign_up().await;
    let csrf = field(&profile, "csrf");
    let names = [
        ("csrf", csrf.as_str()),
        ("first_name", "Mallory"),
        ("last_name", "X"),
    ];
    let (status, page, _) = browser
        .post_from("https://evil.example", "/me/names", &names)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("another site"), "{page}");
    let (status, _, _) = browser
        .post(
            "/me/names",
            &[
                ("csrf", "guess"),
                ("first_name", "Mallory"),
                ("last_name", "X"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = browser
        .post_from(
            "https://evil.example",
            "/signin",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, profile, _) = browser.get("/me").await;
    assert!(
        profile.contains("Ada Lovelace") && !profile.contains("Mallory"),
        "{profile}"
    );
}

async fn a_browser_session_ends_after_twelve_idle_hours(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    browser.sign_up().await;
    // Each visit moves the end of the session.
    for _ in 0..3 {
        app.clock.advance(Duration::hours(11));
        assert_eq!(browser.get("/me").await.0, StatusCode::OK);
    }
    app.clock.advance(Duration::hours(12));
    let (status, _, headers) = browser.get("/me").await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/signin")
    );
}

async fn a_browser_session_ends_thirty_days_after_it_began(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    browser.sign_up().await;
    // However often it is used.
    for _ in 0..(29 * 2) {
        app.clock
            .advance(Duration::hours(12) - Duration::minutes(1));
        assert_eq!(browser.get("/me").await.0, StatusCode::OK);
    }
    app.clock.advance(Duration::days(1) + Duration::hours(1));
    assert_eq!(browser.get("/me").await.0, StatusCode::SEE_OTHER);
}

async fn the_phone_is_changed_and_the_account_deleted_from_the_profile(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    let profile = browser.sign_up().await;
    let csrf = field(&profile, "csrf");

    let (status, page, _) = browser
        .post(
            "/me/phone",
            &[
                ("csrf", &csrf),
                ("address", "+46 70 123 45 99"),
                ("pin", "2580"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("+•••••••••99"), "{page}");
    let verification = field(&page, "verification");
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    let form = [
        ("csrf", csrf.as_str()),
        ("verification", verification.as_str()),
        ("code", code.as_str()),
    ];
    let (status, done, headers) = browser.post("/me/phone/verify", &form).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Phone changed"), "{done}");
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        browser.get("/me").await.2["location"],
        "/signin",
        "every device is signed out"
    );

    // Signed in again (the code now goes to the new phone), the account is deleted.
    browser
        .post("/signin", &[("email", "ada@example.com")])
        .await;
    let sent = app.deliver().await;
    let link = sent
        .iter()
        .rev()
        .find(|m| m.recipient == "ada@example.com")
        .unwrap();
    let token = link
        .body
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (_, code_page, _) = browser.post("/auth/confirm", &[("token", &token)]).await;
    let sign_in = field(&code_page, "sign_in");
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    let (status, _, _) = browser
        .post(
            "/auth/code",
            &[
                ("sign_in", &sign_in),
                ("code", &code),
                ("device_name", "Laptop"),
                ("pin", "2580"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, profile, _) = browser.get("/me").await;
    assert!(profile.contains("+46701234599"), "{profile}");
    let csrf = field(&profile, "csrf");
    let (_, page, _) = browser.post("/me/delete", &[("csrf", &csrf)]).await;
    let verification = field(&page, "verification");
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let (status, again, _) = browser
        .post(
            "/me/delete/confirm",
            &[
                ("csrf", &csrf),
                ("verification", &verification),
                ("code", wrong),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("You have 4 more tries."), "{again}");
    let (status, gone, _) = browser
        .post(
            "/me/delete/confirm",
            &[
                ("csrf", &csrf),
                ("verification", &verification),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(gone.contains("Account deleted"), "{gone}");
    let email = lintel_domain::Email::parse("e", "ada@example.com").unwrap();
    assert!(
        app.state
            .store
            .find_account_by_email(&email)
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_dashboard_does_what_the_viewers_areas_allow_and_nothing_else(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    app.invite(
        &key,
        "acme",
        serde_json::json!({ "email": "ada@example.com", "areas": ["doors"] }),
    )
    .await;
    app.deliver().await; // the invitation email, which she need not open
    let browser = Browser::new(&app);
    let profile = browser.sign_up().await;
    assert!(profile.contains("href=\"/admin/acme\""), "{profile}");

    // Her nav offers what `doors` reads, and nothing of members, keys or events.
    let (status, places, _) = browser.get("/admin/acme/places").await;
    assert_eq!(status, StatusCode::OK, "{places}");
    assert!(places.contains("Add a site"), "{places}");
    for hidden in [
        "/admin/acme/members",
        "/admin/acme/api-keys",
        "/admin/acme/events",
    ] {
        assert!(!places.contains(hidden), "{hidden} is shown: {places}");
    }
    let csrf = field(&places, "csrf");
    let (status, _, headers) = browser
        .post(
            "/admin/acme/sites",
            &[
                ("csrf", &csrf),
                ("name", "HQ"),
                ("address", "Main St 1"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Back to the list, which says once that it worked (a fixed word, not text from the URL).
    assert_eq!(headers["location"], "/admin/acme/places?done=saved");
    let (_, page, _) = browser.get("/admin/acme/places?done=saved").await;
    assert!(
        page.contains("<p class=\"toast\" role=\"status\">Saved.</p>"),
        "{page}"
    );
    let (_, page, _) = browser.get("/admin/acme/places?done=%3Cb%3E").await;
    assert!(
        !page.contains("class=\"toast\"") && !page.contains("<b>"),
        "{page}"
    );
    let (_, sites) = app.get(&key, "/api/v1/orgs/acme/sites").await;
    assert_eq!(sites["items"][0]["name"], "HQ");
    let site = sites["items"][0]["id"].as_str().unwrap().to_owned();

    // A refused change shows the page again with the reason, and with what was typed.
    let (status, page, _) = browser
        .post(
            "/admin/acme/sites",
            &[("csrf", &csrf), ("name", ""), ("address", "Storgatan 1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("role=\"alert\"") && page.contains("Add a site"),
        "{page}"
    );
    // And beside the field it names, in the form that was sent (the door form below has a
    // name field too).
    let form = &page[page.find("action=\"/admin/acme/sites\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(
        form.contains(
            "name=\"name\" type=\"text\" value=\"\" required aria-invalid=\"true\" \
                       aria-describedby=\"field-error\"><span class=\"field-error\" \
                       id=\"field-error\">"
        ),
        "{form}"
    );
    assert_eq!(page.matches("aria-invalid=\"true\"").count(), 1, "{page}");
    assert!(
        form.contains("name=\"address\" type=\"text\" value=\"Storgatan 1\""),
        "{form}"
    );

    // Editing a door through its page, recorded as hers.
    let door = app.door(&key, "acme", &site, "Front").await;
    let (status, _, _) = browser
        .post(
            &format!("/admin/acme/doors/{door}"),
            &[
                ("csrf", &csrf),
                ("site_id", &site),
                ("name", "Front door"),
                ("kind", "gate"),
                ("unlock_duration_secs", "8"),
                ("description", ""),
                ("reader_required", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, changed) = app
        .get(&key, &format!("/api/v1/orgs/acme/doors/{door}"))
        .await;
    assert_eq!(changed["name"], "Front door");
    assert_eq!(changed["kind"], "gate");
    assert_eq!(changed["reader_required"], true);
    let (_, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=door.updated")
        .await;
    assert_eq!(log["items"][0]["actor"]["name"], "Ada Lovelace");

    // What her areas do not allow is refused, shown or not.
    let (status, page, _) = browser.get("/admin/acme/members").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    let (status, _, _) = browser
        .post("/admin/acme/groups", &[("csrf", &csrf), ("name", "Sneaky")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, groups) = app.get(&key, "/api/v1/orgs/acme/groups").await;
    assert!(groups["items"].as_array().unwrap().is_empty());
    // Without the session's token, nothing happens.
    let (status, _, _) = browser
        .post(
            "/admin/acme/sites",
            &[("csrf", "forged"), ("name", "Forged")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another organization does not exist for her.
    app.org("other").await;
    let (status, _, _) = browser.get("/admin/other/places").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn my_doors_open_with_a_button_and_say_why_not(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front").await;
    let night_door = app.door(&key, "acme", &site, "Loading dock").await;
    let invited = app
        .invite(
            &key,
            "acme",
            serde_json::json!({ "email": "ada@example.com" }),
        )
        .await;
    // Olive grants accesses: refusals name her as whom to ask.
    app.invite(
        &key,
        "acme",
        serde_json::json!({ "email": "olive@example.com", "areas": ["delegation"] }),
    )
    .await;
    app.deliver().await;
    day_and_night(&app, &key, &invited["id"], &front, &night_door).await;
    Browser::new(&app)
        .sign_up_as("Olive", "olive@example.com", "+46 70 123 45 68")
        .await;
    let browser = Browser::new(&app);
    let profile = browser.sign_up().await;
    assert!(profile.contains("href=\"/doors\""), "{profile}");
    let (status, page, _) = browser.get("/doors").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Front"), "{page}");
    assert!(
        !page.contains("Loading dock"),
        "not open at this hour: {page}"
    );
    let csrf = field(&page, "csrf");
    let (status, page, _) = browser
        .post(&format!("/doors/acme/{front}/unlock"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Unlocked."), "{page}");
    // A door outside its hours says so, in words.
    let (_, page, _) = browser
        .post(
            &format!("/doors/acme/{night_door}/unlock"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(
        page.contains(
            "Your access does not cover this time of day. Ask Olive Lovelace \
             (olive@example.com) if you need it now."
        ),
        "{page}"
    );
    // Where the organization hides admins' emails, the refusal names her only.
    app.patch(
        &key,
        "/api/v1/orgs/acme",
        serde_json::json!({ "settings": { "show_admin_email": false } }),
    )
    .await;
    let (_, page, _) = browser
        .post(
            &format!("/doors/acme/{night_door}/unlock"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(
        page.contains("Ask Olive Lovelace if you need it now.") && !page.contains("olive@"),
        "{page}"
    );
    // Her profile says whom to ask, the same way (emails hidden now).
    let (_, me, _) = browser.get("/me").await;
    assert!(
        me.contains("To ask for access: Olive Lovelace</span>") && !me.contains("olive@"),
        "{me}"
    );
    // Chosen in the profile, a language wins over the browser's.
    assert!(
        me.contains("<option value=\"sv\" lang=\"sv\">Svenska</option>"),
        "{me}"
    );
    let (status, _, _) = browser
        .post("/me/language", &[("csrf", &csrf), ("language", "fr")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, me, _) = browser.get("/me").await;
    assert!(
        me.contains("<option value=\"fr\" lang=\"fr\" selected>"),
        "{me}"
    );
    let (_, page) = browser.get_in("/doors", "sv").await;
    assert!(page.contains("<h1>Mes portes</h1>"), "{page}");
    let (status, _, _) = browser
        .post("/me/language", &[("csrf", &csrf), ("language", "")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // In Swedish and in French, as the browser asks: the page, its tabs and the refusal.
    let (_, page) = browser.get_in("/doors", "sv-SE,sv;q=0.9,en;q=0.5").await;
    assert!(
        page.contains("<html lang=\"sv\">")
            && page.contains("<h1>Mina dörrar</h1>")
            && page.contains("<button>Lås upp</button>")
            && page.contains("Profil</a>"),
        "{page}"
    );
    let refused = browser
        .post_in(
            &format!("/doors/acme/{night_door}/unlock"),
            &[("csrf", &csrf)],
            "fr-FR,fr;q=0.9",
        )
        .await;
    assert!(
        refused.contains("<html lang=\"fr\">")
            && refused.contains(
                "Votre accès ne couvre pas cette heure de la journée. Demandez à Olive Lovelace \
                 si vous en avez besoin maintenant."
            ),
        "{refused}"
    );
    let (_, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 4);
}

async fn an_admin_builds_the_staff_access_in_the_dashboard(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front").await;
    let browser = Browser::admin_of_acme(&app, &key, "owner").await;
    let (_, page, _) = browser.get("/admin/acme/schedules").await;
    let csrf = field(&page, "csrf");

    // A mistyped line is refused with its number, and nothing is stored.
    let (status, page, _) = browser
        .post(
            "/admin/acme/schedules",
            &[
                ("csrf", &csrf),
                ("name", "Staff"),
                ("time_zone", "Europe/Stockholm"),
                ("windows", "monday 07:00 to 19:00"),
                ("exceptions", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("Line 1 of windows must look like"), "{page}");
    let weekdays = "monday 07:00-19:00\ntuesday 07:00-19:00\nwednesday 07:00-19:00\n\
                    thursday 07:00-19:00\nfriday 07:00-19:00";
    let (status, _, _) = browser
        .post(
            "/admin/acme/schedules",
            &[
                ("csrf", &csrf),
                ("name", "Staff"),
                ("time_zone", "Europe/Stockholm"),
                ("windows", weekdays),
                ("exceptions", "2026-12-24 closed"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, schedules) = app.get(&key, "/api/v1/orgs/acme/schedules").await;
    let staff = &schedules["items"][0];
    assert_eq!(staff["windows"].as_array().unwrap().len(), 5);
    let schedule_id = staff["id"].as_str().unwrap().to_owned();
    let (_, members) = app.get(&key, "/api/v1/orgs/acme/members").await;
    let ada = members["items"][0]["id"].as_str().unwrap().to_owned();

    let (status, page, _) = browser
        .post(
            "/admin/acme/accesses",
            &[
                ("csrf", &csrf),
                ("name", "Staff"),
                ("kind", "permanent"),
                ("schedule_id", &schedule_id),
                ("valid_from", ""),
                ("valid_to", ""),
                (&format!("door_{front}"), "on"),
                ("in_mobile", "on"),
                ("in_card", "on"),
                (&format!("user_{ada}"), "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, accesses) = app.get(&key, "/api/v1/orgs/acme/accesses").await;
    let access = &accesses["items"][0];
    assert_eq!(
        access["doors"][0]["in_auth_types"],
        serde_json::json!(["mobile", "card"])
    );
    assert_eq!(access["doors"][0]["out_auth_types"], serde_json::json!([]));
    assert_eq!(access["users"], serde_json::json!([ada]));

    // Monday 10:00 in Stockholm: she opens the front door; the door page says who can.
    let (_, page, _) = browser.get(&format!("/admin/acme/doors/{front}")).await;
    assert!(
        page.contains("Who can open it now") && page.contains("Ada Lovelace"),
        "{page}"
    );
    let (_, page, _) = browser
        .post(&format!("/doors/acme/{front}/unlock"), &[("csrf", &csrf)])
        .await;
    assert!(page.contains("Unlocked."), "{page}");
    let (_, page, _) = browser.get("/admin/acme/accesses").await;
    assert!(page.contains("in: mobile, card; out: any"), "{page}");

    // An administrator with `doors` opens it from the door's page too, on record as remote.
    let (status, _, headers) = browser
        .post(
            &format!("/admin/acme/doors/{front}/remote-unlock"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/admin/acme/doors/{front}?done=unlocked").as_str()
    );
    let (_, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=decision")
        .await;
    assert_eq!(log["items"][0]["summary"]["credential"], "remote");
    assert_eq!(log["items"][0]["actor"]["name"], "Ada Lovelace");

    // The access's own page edits it: the form shows what it has, and saving replaces it.
    let access_id = access["id"].as_str().unwrap();
    let (_, page, _) = browser
        .get(&format!("/admin/acme/accesses/{access_id}"))
        .await;
    assert!(
        page.contains(&format!("name=\"door_{front}\" checked"))
            && page.contains("name=\"in_card\" checked")
            && page.contains(&format!("value=\"{schedule_id}\" selected")),
        "{page}"
    );
    let (status, page, _) = browser
        .post(
            &format!("/admin/acme/accesses/{access_id}"),
            &[
                ("csrf", &csrf),
                ("name", "Staff (phones)"),
                ("kind", "temporary"),
                ("schedule_id", &schedule_id),
                ("valid_from", ""),
                ("valid_to", ""),
                (&format!("door_{front}"), "on"),
                ("in_mobile", "on"),
                (&format!("user_{ada}"), "on"),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "temporary needs an end"
    );
    assert!(page.contains("valid_to"), "{page}");
    let (status, page, _) = browser
        .post(
            &format!("/admin/acme/accesses/{access_id}"),
            &[
                ("csrf", &csrf),
                ("name", "Staff (phones)"),
                ("kind", "temporary"),
                ("schedule_id", &schedule_id),
                ("valid_from", ""),
                ("valid_to", "2026-06-30T18:00"),
                (&format!("door_{front}"), "on"),
                ("in_mobile", "on"),
                (&format!("user_{ada}"), "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, changed) = app
        .get(&key, &format!("/api/v1/orgs/acme/accesses/{access_id}"))
        .await;
    assert_eq!(changed["name"], "Staff (phones)");
    assert_eq!(changed["kind"], "temporary");
    // 18:00 in Stockholm (summer time) is 16:00 UTC.
    assert_eq!(changed["valid_to"], "2026-06-30T16:00:00Z");
    assert_eq!(
        changed["doors"][0]["in_auth_types"],
        serde_json::json!(["mobile"])
    );
}

async fn cards_and_pin_codes_in_the_dashboard_and_the_member_app(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let browser = Browser::admin_of_acme(&app, &key, "delegation").await;
    let (status, page, _) = browser.get("/admin/acme/credentials").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Cards &amp; PINs") && page.contains("No cards yet"),
        "{page}"
    );
    let csrf = field(&page, "csrf");
    let (_, members) = app.get(&key, "/api/v1/orgs/acme/members").await;
    let ada = members["items"][0]["id"].as_str().unwrap().to_owned();

    let (status, _, _) = browser
        .post(
            "/admin/acme/cards",
            &[
                ("csrf", &csrf),
                ("member_id", &ada),
                ("number", "4711"),
                ("facility_code", "12"),
                ("description", "Blue fob"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, page, _) = browser
        .post(
            "/admin/acme/cards",
            &[
                ("csrf", &csrf),
                ("member_id", &ada),
                ("number", "4711"),
                ("facility_code", "12"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("Another member&#39;s active card"), "{page}");

    // The code is on the answer to the form, and not kept by the browser.
    let (status, page, headers) = browser
        .post(
            "/admin/acme/pins",
            &[
                ("csrf", &csrf),
                ("member_id", &ada),
                ("site_id", &site),
                ("code", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    let start = page.find("<output id=\"pin_code\"").unwrap();
    let code: String = page[start..]
        .split("<code class=\"pin\">")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{page}");
    // Then never again on the dashboard; only in Ada's own app.
    let (_, page, _) = browser.get("/admin/acme/credentials").await;
    assert!(!page.contains(&code), "{page}");
    assert!(
        page.contains("Blue fob") && page.contains("6 digits"),
        "{page}"
    );
    let (_, page, headers) = browser.get("/doors").await;
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        page.contains("My PIN codes") && page.contains(&code),
        "{page}"
    );

    let (_, pins) = app.get(&key, "/api/v1/orgs/acme/pins").await;
    let pin = pins["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = browser
        .post(
            &format!("/admin/acme/pins/{pin}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = browser.get("/doors").await;
    assert!(!page.contains("My PIN codes"), "{page}");
    let (_, page, _) = browser.get("/admin/acme/credentials").await;
    assert!(page.contains("revoked 2026-03-02"), "{page}");
}

async fn a_guest_opens_a_door_from_the_link_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front").await;
    let (_, group) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            serde_json::json!({ "name": "Visitors" }),
        )
        .await;
    let group = group["id"].as_str().unwrap().to_owned();
    app.post(
        &key,
        "/api/v1/orgs/acme/accesses",
        serde_json::json!({ "name": "Visitors", "groups": [group], "doors": [{ "door_id": front }] }),
    )
    .await;
    let admin = Browser::admin_of_acme(&app, &key, "delegation").await;
    let (_, page, _) = admin.get("/admin/acme/links").await;
    assert!(page.contains("Send an access link"), "{page}");
    let csrf = field(&page, "csrf");
    let form = |name: &'static str, until: &'static str| {
        vec![
            ("recipient_name", name),
            ("group_id", ""),
            ("delivery", "manual"),
            ("address", ""),
            ("valid_from", ""),
            ("valid_until", until),
        ]
    };
    let send = |name: &'static str, until: &'static str| {
        let mut fields = form(name, until);
        fields[1].1 = group.as_str();
        fields.push(("csrf", csrf.as_str()));
        let admin = &admin;
        async move { admin.post("/admin/acme/links", &fields).await }
    };
    // The link is shown this once, on the answer.
    let (status, page, headers) = send("Grace", "").await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(page.contains("Copy the link now"), "{page}");
    let url = field(&page, "link_url").replace("&#39;", "'");
    let path = url.replace(&app.url(""), "");
    assert!(path.starts_with("/l/lnk_"), "{path}");
    let (_, page, _) = admin.get("/admin/acme/links").await;
    assert!(page.contains("Grace") && !page.contains(&path), "{page}");

    // A guest, signed in nowhere, opens it and unlocks.
    let guest = Browser::new(&app);
    let (status, page, headers) = guest.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(
        page.contains("Hello Grace") && page.contains("Org acme") && page.contains("Front"),
        "{page}"
    );
    let (status, page, _) = guest
        .post(&format!("{path}/doors/{front}/unlock"), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Unlocked."), "{page}");
    let (_, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=decision.granted")
        .await;
    assert_eq!(log["items"][0]["actor"]["name"], "Grace");
    // A door the link does not open says whom to ask: who sent it.
    let back = app.door(&key, "acme", &site, "Back").await;
    let (_, page, _) = guest
        .post(&format!("{path}/doors/{back}/unlock"), &[])
        .await;
    assert!(
        page.contains(
            "This link does not open this door. Ask Ada Lovelace, who sent it, for access."
        ),
        "{page}"
    );
    // A guest whose browser prefers Swedish reads the page in Swedish.
    let (_, page) = guest.get_in(&path, "sv").await;
    assert!(
        page.contains("Hej Grace. Den här länken kommer från Org acme och öppnar de här dörrarna.")
            && page.contains("<button>Lås upp</button>"),
        "{page}"
    );
    // From another site, the button is refused.
    let (status, _, _) = guest
        .post_from(
            "https://evil.example",
            &format!("{path}/doors/{front}/unlock"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoked from the dashboard: the page says so and has no button.
    let (_, links) = app.get(&key, "/api/v1/orgs/acme/access-links").await;
    let id = links["items"][0]["id"].as_str().unwrap();
    let (status, _, _) = admin
        .post(
            &format!("/admin/acme/links/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The dashboard lists by state.
    let (_, revoked, _) = admin.get("/admin/acme/links?state=revoked&sort=name").await;
    let (_, active, _) = admin.get("/admin/acme/links?state=active").await;
    assert!(revoked.contains("<td>Grace</td>"), "{revoked}");
    assert!(
        revoked.contains("<option value=\"revoked\" selected>"),
        "{revoked}"
    );
    assert!(
        !active.contains("<td>Grace</td>") && active.contains("No links in this state"),
        "{active}"
    );
    let (_, page, _) = guest.get(&path).await;
    assert!(
        page.contains("This link has been revoked.") && !page.contains("<button>Unlock"),
        "{page}"
    );
    let (_, page, _) = guest
        .post(&format!("{path}/doors/{front}/unlock"), &[])
        .await;
    assert!(
        page.contains("This link has been revoked.") && !page.contains("Unlocked."),
        "{page}"
    );

    // One until 12:00 in Stockholm today, seen at 12:00: expired.
    let (_, page, _) = send("Heidi", "2026-03-02T12:00").await;
    let later = field(&page, "link_url").replace(&app.url(""), "");
    app.clock.advance(Duration::hours(2));
    let (_, page, _) = guest.get(&later).await;
    assert!(
        page.contains("Valid until 2 Mar 2026, 12:00 (Europe/Stockholm)."),
        "in the organization's zone: {page}"
    );
    assert!(
        page.contains("This link has expired.") && !page.contains("<button>Unlock"),
        "{page}"
    );
    // A made-up link is not found.
    let (status, _, _) = guest.get("/l/lnk_nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_member_sends_a_link_to_their_own_guest(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front").await;
    let (_, staff) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            serde_json::json!({ "name": "Staff" }),
        )
        .await;
    app.post(
        &key,
        "/api/v1/orgs/acme/accesses",
        serde_json::json!({ "name": "Staff", "groups": [staff["id"]], "doors": [{ "door_id": front }] }),
    )
    .await;
    app.invite(
        &key,
        "acme",
        serde_json::json!({ "email": "ada@example.com", "groups": [staff["id"]] }),
    )
    .await;
    app.deliver().await;
    let ada = Browser::new(&app);
    ada.sign_up().await;
    // Not offered, nor allowed, until the organization lets members send links.
    let (_, page, _) = ada.get("/doors").await;
    assert!(!page.contains("/guests/acme"), "{page}");
    let (status, _, _) = ada.get("/guests/acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.patch(
        &key,
        "/api/v1/orgs/acme",
        serde_json::json!({ "settings": { "guest_links_by_members": true } }),
    )
    .await;
    let (_, page, _) = ada.get("/doors").await;
    assert!(page.contains("href=\"/guests/acme\">My guests"), "{page}");
    let (status, page, _) = ada.get("/guests/acme").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("My guests at Org acme") && page.contains(">Staff</option>"),
        "{page}"
    );
    let csrf = field(&page, "csrf");
    let group = staff["id"].as_str().unwrap();
    let (status, page, _) = ada
        .post(
            "/guests/acme",
            &[
                ("csrf", &csrf),
                ("recipient_name", "Ada's plumber"),
                ("group_id", group),
                ("delivery", "manual"),
                ("address", ""),
                ("valid_from", ""),
                ("valid_until", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(
        page.contains("Copy the link now") && page.contains("Ada&#39;s plumber"),
        "{page}"
    );
    let (_, links) = app.get(&key, "/api/v1/orgs/acme/access-links").await;
    assert_eq!(links["items"][0]["created_by_name"], "Ada Lovelace");
}

async fn the_previous_owner_of_a_recycled_number_adds_a_new_one_from_a_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = Browser::new(&app);
    browser.sign_up().await;
    // The number's new owner proves it: Ada's account has no phone any more.
    let (_, sent) = app
        .post(
            "",
            "/api/v1/auth/reset-account",
            serde_json::json!({ "phone": "+46701234567" }),
        )
        .await;
    let code = code_sent_to(&app.deliver().await, "+46701234567");
    let body = serde_json::json!({ "verification": sent["verification"], "code": code });
    let (status, _) = app
        .post("", "/api/v1/auth/reset-account/verify", body)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.deliver().await;

    let browser = Browser::new(&app);
    let (_, signin, _) = browser.get("/signin").await;
    assert!(signin.contains("href=\"/recover\""), "{signin}");
    let (status, page, _) = browser.get("/recover").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<label for=\"phone\">New mobile phone</label>"),
        "{page}"
    );
    let (status, refused, _) = browser
        .post("/recover", &[("email", "ada@example.com"), ("phone", "07")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("role=\"alert\"") && refused.contains("value=\"ada@example.com\""),
        "the form comes back with what was typed: {refused}"
    );
    let (status, page, _) = browser
        .post(
            "/recover",
            &[("email", "ada@example.com"), ("phone", "+46 70 123 45 99")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Check your email"), "{page}");
    let profile = browser.follow_link("+•••••••••99").await;
    assert!(profile.contains("+46701234599"), "{profile}");
}

async fn controllers_are_added_wired_and_rotated_from_the_dashboard(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Front").await;
    let browser = Browser::admin_of_acme(&app, &key, "doors").await;
    let (status, page, _) = browser.get("/admin/acme/controllers").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("No controllers yet"), "{page}");
    let csrf = field(&page, "csrf");

    // The token is on the answer to the form, and nowhere after.
    let (status, page, headers) = browser
        .post(
            "/admin/acme/controllers",
            &[("csrf", &csrf), ("name", "Cabinet"), ("site_id", &site)],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    let start = page.find("value=\"lct_").unwrap() + "value=\"".len();
    let token: String = page[start..].chars().take_while(|c| *c != '"').collect();
    let (_, listed, _) = browser.get("/admin/acme/controllers").await;
    assert!(
        listed.contains("Cabinet") && listed.contains("never connected"),
        "{listed}"
    );
    assert!(!listed.contains(&token));
    let (_, controllers) = app.get(&key, "/api/v1/orgs/acme/controllers").await;
    let id = controllers["items"][0]["id"].as_str().unwrap().to_owned();

    // Wired from the door's page.
    let (status, _, _) = browser
        .post(
            &format!("/admin/acme/doors/{door}"),
            &[
                ("csrf", &csrf),
                ("name", "Front"),
                ("kind", "door"),
                ("site_id", &site),
                ("controller_id", &id),
                ("unlock_duration_secs", "5"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, wired) = app
        .get(&key, &format!("/api/v1/orgs/acme/doors/{door}"))
        .await;
    assert_eq!(wired["controller_id"], id.as_str(), "{wired}");
    let (_, page, _) = browser.get(&format!("/admin/acme/doors/{door}")).await;
    assert!(
        page.contains(&format!("<option value=\"{id}\" selected>Cabinet</option>")),
        "{page}"
    );
    assert!(
        page.contains("</a>: never connected; no rules yet: its doors open nothing"),
        "{page}"
    );

    // Once it held current rules and went away, both pages say until when it decides alone.
    let org = app.state.store.get_org_by_slug("acme").await.unwrap();
    let controller = lintel_domain::ControllerId(id.parse().unwrap());
    let confirmed = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .to_utc();
    let live = lintel_domain::controller::ControllerLive {
        last_seen_at: Some(confirmed),
        rules_version: Some(1),
        rules_in_sync: true,
        rules_confirmed_at: Some(confirmed),
        ..Default::default()
    };
    app.state
        .store
        .set_controller_live(org.id, controller, &live)
        .await
        .unwrap();
    for path in [
        format!("/admin/acme/doors/{door}"),
        format!("/admin/acme/controllers/{id}"),
    ] {
        let (_, page, _) = browser.get(&path).await;
        // 30 days later, in Stockholm.
        assert!(page.contains("2026-04-01 11:00"), "{page}");
    }

    // The door board: nothing reported yet, then the state the controller reports.
    let (status, board, _) = browser.get("/admin/acme/board").await;
    assert_eq!(status, StatusCode::OK, "{board}");
    assert!(board.contains("not reported yet"), "{board}");
    assert!(board.contains("http-equiv=\"refresh\""), "{board}");
    let forced = lintel_domain::door::DoorState {
        door_id: lintel_domain::DoorId(door.parse().unwrap()),
        state: "forced_open".into(),
        cause: "opened".into(),
        at: confirmed,
    };
    app.state
        .store
        .store_controller_events(org.id, &[], std::slice::from_ref(&forced))
        .await
        .unwrap();
    // Its readers, from the newest reader events: the newer of two for the same reader.
    let reader = |state: &str, tamper: bool, secs: i64| lintel_domain::Event {
        id: lintel_domain::EventId::new(confirmed + chrono::Duration::seconds(secs)),
        at: confirmed + chrono::Duration::seconds(secs),
        kind: "reader.state_changed".into(),
        actor: lintel_domain::EventActor::System,
        object_kind: Some("door".into()),
        object_id: Some(forced.door_id.0),
        summary: serde_json::json!({ "reader": "front-in", "state": state, "tamper": tamper }),
    };
    app.state
        .store
        .store_controller_events(
            org.id,
            &[reader("online", false, 1), reader("refused", true, 2)],
            &[],
        )
        .await
        .unwrap();
    let (_, board, _) = browser.get("/admin/acme/board").await;
    assert!(
        board.contains("readers: front-in refused (not on its key), tamper")
            && !board.contains("front-in online"),
        "{board}"
    );
    assert!(
        board.contains("<span class=\"state forced_open\">Forced open</span>")
            && board.contains("1 door(s) held or forced open")
            && board.contains("2026-03-02 10:00:00 <span class=\"hint\">door opened</span>"),
        "{board}"
    );
    // The first page says so too, and which controller has gone silent since when.
    let (_, first, _) = browser.get("/admin/acme").await;
    assert!(
        first
            .contains("1</span> <span>held or forced open</span><span class=\"hint\">Front</span>"),
        "{first}"
    );
    assert!(
        first.contains("0</span> <span>of 1 controller online</span>")
            && first.contains(
                "Cabinet (last heard under a minute ago; deciding offline until 2026-04-01 11:00)"
            ),
        "{first}"
    );

    // A new token, shown once; the controller is not deleted while a door is wired to it.
    let (status, page, _) = browser
        .post(
            &format!("/admin/acme/controllers/{id}/rotate-token"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert!(
        page.contains("value=\"lct_") && !page.contains(&token),
        "{page}"
    );
    // A pairing code to type on site, shown once with the command that takes it.
    let (status, page, _) = browser
        .post(
            &format!("/admin/acme/controllers/{id}/pairing-code"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let marker = "id=\"secret\" readonly value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let code: String = page[at..].chars().take_while(|c| *c != '"').collect();
    assert!(
        code.len() == 11 && page.contains(&format!(" pair {code}</code>")),
        "{page}"
    );
    let (status, paired) = app
        .post(
            "",
            "/api/v1/controllers/pair",
            serde_json::json!({ "code": code }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paired}");
    let (status, page, _) = browser
        .post(
            &format!("/admin/acme/controllers/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("wired to this controller"), "{page}");
}

async fn the_first_page_shows_what_is_left_to_set_up_and_todays_doors(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let ada = app
        .invite(
            &key,
            "acme",
            serde_json::json!({ "email": "ada@example.com", "areas": ["owner"] }),
        )
        .await;
    app.deliver().await;
    let browser = Browser::new(&app);
    browser.sign_up().await;
    let (status, page, _) = browser.get("/admin/acme").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("5 of 5 steps left"), "{page}");
    assert!(page.contains("No one has used a door today."), "{page}");

    // A site, two doors and her accesses: two steps are left.
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front").await;
    let dock = app.door(&key, "acme", &site, "Loading dock").await;
    day_and_night(&app, &key, &ada["id"], &front, &dock).await;
    let (_, page, _) = browser.get("/admin/acme").await;
    assert!(page.contains("2 of 5 steps left"), "{page}");
    assert!(
        page.contains("href=\"/admin/acme/controllers\">Connect a door controller</a>"),
        "{page}"
    );
    assert!(
        page.contains("0</span> <span>of 2 doors online</span>"),
        "{page}"
    );
    assert!(page.contains("2 without a controller"), "{page}");

    // The page's live part hears of her next door decisions.
    let stream = browser
        .client
        .get(app.url("/admin/acme/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let (_, doors, _) = browser.get("/doors").await;
    let csrf = field(&doors, "csrf");
    for door in [&front, &front, &dock] {
        browser
            .post(&format!("/doors/acme/{door}/unlock"), &[("csrf", &csrf)])
            .await;
    }
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut stream = stream;
        let mut seen = String::new();
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: changed") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("the stream says the log changed");
    assert!(heard.contains("event: changed"), "{heard}");

    // One person got in twice and was refused once: the figures, the hour's bar and the
    // denial, in the administrator's words.
    let (_, page, _) = browser.get("/admin/acme").await;
    assert!(
        page.contains("1</span> <span>person got in today</span>")
            && page.contains("2 entries granted, 1 denied"),
        "{page}"
    );
    assert!(
        page.contains("aria-label=\"HQ: 2 granted and 1 denied today"),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a href=\"/admin/acme/doors/{dock}\">Loading dock</a>: outside the access&#39;s schedule"))
            || page.contains(&format!("<a href=\"/admin/acme/doors/{dock}\">Loading dock</a>: outside the access's schedule")),
        "{page}"
    );

    // Only the organization's administrators hear of changes, and see the live part.
    app.org("other").await;
    let (status, _, _) = browser.get("/admin/other/live").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = Browser::new(&app).get("/admin/acme/live").await;
    assert_ne!(status, StatusCode::OK);
    // Someone else takes over as owner; Ada keeps `doors`, then nothing.
    app.invite(
        &key,
        "acme",
        serde_json::json!({ "email": "ida@example.com", "areas": ["owner"] }),
    )
    .await;
    app.deliver().await;
    Browser::new(&app)
        .sign_up_as("Ida", "ida@example.com", "+46 70 765 43 21")
        .await;
    let set_areas = |areas: serde_json::Value| {
        let path = format!("/api/v1/orgs/acme/members/{}", ada["id"].as_str().unwrap());
        let (app, key) = (&app, &key);
        async move {
            let (status, body) = app
                .patch(key, &path, serde_json::json!({ "areas": areas }))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    set_areas(serde_json::json!(["doors"])).await;
    let (_, page, _) = browser.get("/admin/acme").await;
    assert!(page.contains("of 2 doors online"), "{page}");
    assert!(
        !page.contains("got in today") && !page.contains("Latest denials"),
        "the log is audit's: {page}"
    );
    assert!(!page.contains("Getting started"), "{page}");
    set_areas(serde_json::json!([])).await;
    let (status, _, _) = browser.get("/admin/acme/live").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page, _) = browser.get("/admin/acme").await;
    assert!(!page.contains("data-live"), "{page}");
}

async fn long_lists_page_on_and_keep_their_filters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    app.invite(
        &key,
        "acme",
        serde_json::json!({ "email": "ada@example.com", "areas": ["owner"] }),
    )
    .await;
    for i in 0..201 {
        if i % 100 == 99 {
            // Past the hour's invitation limit.
            app.clock.advance(chrono::Duration::minutes(61));
        }
        app.invite(
            &key,
            "acme",
            serde_json::json!({ "email": format!("person{i}@example.com") }),
        )
        .await;
    }
    app.deliver().await;
    let browser = Browser::new(&app);
    browser.sign_up().await;
    let rows = |page: &str| {
        page.matches("<tr><td><a href=\"/admin/acme/members/")
            .count()
    };
    let (_, first, _) = browser.get("/admin/acme/members?status=invited").await;
    assert_eq!(rows(&first), 200);
    // The next page keeps the filter; the first has no way back, being the first.
    let at = first.find("rel=\"next\"").expect("a next page");
    let href = &first[first[..at].rfind("href=\"").unwrap() + 6..at - 2];
    assert!(
        href.starts_with("/admin/acme/members?status=invited&amp;after="),
        "{href}"
    );
    assert!(!first.contains("First page"), "{first}");
    let (status, second, _) = browser.get(&href.replace("&amp;", "&")).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(rows(&second), 1, "{second}");
    assert!(
        second.contains("<a href=\"/admin/acme/members?status=invited\">First page</a>")
            && !second.contains("rel=\"next\""),
        "{second}"
    );
    // Nobody is on both pages.
    let names = |page: &str| -> Vec<String> {
        page.split("<tr><td><a href=\"/admin/acme/members/")
            .skip(1)
            .map(|row| row[..36].to_owned())
            .collect()
    };
    let seen = names(&first);
    assert!(names(&second).iter().all(|id| !seen.contains(id)));
    // A cursor that is not one is a clear refusal, not a crash.
    let (status, page, _) = browser.get("/admin/acme/members?after=nonsense").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");

    // Cards and PINs: the forms list the first 200 members and say so; a search finds the
    // others, and a card's owner is named wherever they are in the list.
    let (_, page, _) = browser.get("/admin/acme/credentials").await;
    assert!(page.contains("hold the first 200 members"), "{page}");
    let listed = page.split("<option value=\"").skip(1).count();
    let (_, all) = app
        .get(&key, "/api/v1/orgs/acme/members?limit=200&status=invited")
        .await;
    let (_, rest) = app
        .get(
            &key,
            &format!(
                "/api/v1/orgs/acme/members?status=invited&cursor={}",
                all["next_cursor"].as_str().unwrap()
            ),
        )
        .await;
    let last = &rest["items"][0];
    let id = last["id"].as_str().unwrap();
    assert!(
        !page.contains(&format!("<option value=\"{id}\"")),
        "{listed}"
    );
    let (status, card) = app
        .post(
            &key,
            "/api/v1/orgs/acme/cards",
            serde_json::json!({ "member_id": id, "number": "4711" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    let email = last["invitation"]["address"].as_str().unwrap();
    let (_, page, _) = browser.get("/admin/acme/credentials").await;
    assert!(
        page.contains(&format!("<tr><td>{email}</td><td><code>4711</code>")),
        "{page}"
    );
    let (_, found, _) = browser
        .get(&format!("/admin/acme/credentials?member_q={email}"))
        .await;
    assert!(
        found.contains(&format!("<option value=\"{id}\">"))
            && !found.contains("hold the first 200 members"),
        "{found}"
    );
    let (_, none, _) = browser
        .get("/admin/acme/credentials?member_q=nobody-at-all")
        .await;
    assert!(none.contains("No member matches."), "{none}");
}
