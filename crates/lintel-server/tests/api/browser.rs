//! A person in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven through chromedriver registers, follows the emailed link, enters the texted code,
//! changes their phone, signs in again and signs out, reading the captured email and SMS; an
//! invitee registers through an OpenID provider; a person signs in with a passkey held by
//! Chromium's virtual authenticator.
//!
//! Without chromium and chromedriver the test says so and passes, except with `CI=true` or
//! `LINTEL_TEST_REQUIRE_BROWSER=1`, where it fails (`.ci/run` installs both).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use lintel_store::Channel;
use lintel_testkit::{Backend, on_both_backends};
use serde_json::json;

use crate::{TestApp, code_sent_to};
use reqwest::StatusCode;

on_both_backends!(
    a_guest_opens_a_door_with_a_link_in_a_fresh_browser,
    an_invited_person_registers_with_a_provider_in_chromium,
    a_person_adds_a_passkey_signs_in_with_it_and_removes_it_in_chromium,
    a_person_registers_changes_their_phone_and_signs_out_in_chromium,
    an_owner_invites_by_email_and_the_invitee_registers_from_the_email,
    the_member_pages_speak_swedish_and_french_in_chromium,
);

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("LINTEL_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// Starts chromedriver, or says why not.
fn start_driver() -> Option<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let present = std::path::Path::new("/usr/bin/chromium").exists();
    let spawned = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match (present, spawned) {
        (true, Ok(child)) => Some(Driver {
            child,
            port,
            _profile: tempfile::tempdir().unwrap(),
        }),
        (present, spawned) => {
            let why = format!(
                "chromium present: {present}, chromedriver: {:?}",
                spawned.err()
            );
            assert!(
                !required(),
                "the browser test needs chromium and chromium-driver ({why})"
            );
            eprintln!(
                "skipped: no browser to drive ({why}); apt-get install chromium chromium-driver"
            );
            None
        }
    }
}

/// A browser as a phone shows pages: 390 CSS pixels wide.
async fn connect(driver: &Driver) -> Client {
    connect_at(driver, 390).await
}

/// A browser whose pages are `width` CSS pixels wide (emulated: a headless window has a
/// least width wider than a phone's), with its own profile.
async fn connect_at(driver: &Driver, width: u32) -> Client {
    connect_speaking(driver, width, "en").await
}

/// `connect_at` with a browser whose preferred language is `lang` (`Accept-Language`).
async fn connect_speaking(driver: &Driver, width: u32, lang: &str) -> Client {
    let profile = driver._profile.path().join(format!("{width}-{lang}"));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--window-size={},900", width.max(500)),
                format!("--user-data-dir={}", profile.display()),
                format!("--lang={lang}"),
            ],
            "prefs": { "intl.accept_languages": lang },
            "mobileEmulation": { "deviceMetrics": { "width": width, "height": 900, "pixelRatio": 1 } }
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    // chromedriver takes a moment to listen.
    for _ in 0..100 {
        let builder = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match builder {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not answer at {url}");
}

/// What a page must not do at any width: scroll sideways, repeat an id, or have a label
/// that belongs to no field.
const PAGE_FAULTS: &str = "
var faults = [];
var root = document.documentElement;
if (root.scrollWidth > root.clientWidth) {
  faults.push('scrolls sideways: ' + root.scrollWidth + ' px wide in ' + root.clientWidth);
}
var seen = {};
document.querySelectorAll('[id]').forEach(function (e) {
  if (seen[e.id]) { faults.push('id used twice: ' + e.id); }
  seen[e.id] = true;
});
document.querySelectorAll('label[for]').forEach(function (l) {
  if (!document.getElementById(l.htmlFor)) { faults.push('label for nothing: ' + l.htmlFor); }
});
return faults;
";

/// The English words a page in another language shows, from its visible text and its
/// labels: words common in English sentences that Swedish and French do not use, so that
/// any of them is a message left untranslated. (Names and addresses in the test data avoid
/// them.)
const ENGLISH_WORDS: &str = "
var english = ['the', 'your', 'you', 'with', 'this', 'and', 'for', 'not', 'are', 'has',
  'have', 'will', 'can', 'must', 'please', 'sign', 'link', 'email', 'phone', 'open', 'name',
  'new', 'save', 'back', 'try', 'again', 'ask', 'access', 'account', 'devices', 'continue',
  'confirm', 'cancel', 'remove', 'unlock', 'unregister', 'choose', 'enter', 'use', 'who'];
var text = document.body.innerText + ' ' + document.title;
document.querySelectorAll('[aria-label], [data-unsupported]').forEach(function (e) {
  text += ' ' + (e.getAttribute('aria-label') || '') + ' ' + Object.values(e.dataset).join(' ');
});
var words = text.toLowerCase().match(/\\p{L}+/gu) || [];
return words.filter(function (w, i) { return english.indexOf(w) >= 0 && words.indexOf(w) === i; });
";

/// Checks that the page is in `lang`: its `<html lang>`, and no English word in it.
async fn speaks(browser: &Client, lang: &str, name: &str) {
    let tag = browser
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(tag, json!(lang), "the page {name}");
    let english = browser.execute(ENGLISH_WORDS, vec![]).await.unwrap();
    let page = browser.source().await.unwrap_or_default();
    assert_eq!(
        english,
        json!([]),
        "the page {name} has English in it: {page}"
    );
}

/// Waits for the element at `css` to be on the page.
async fn shows(browser: &Client, css: &str) {
    for _ in 0..100 {
        if browser.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.source().await.unwrap_or_default();
    panic!("the page never showed {css}: {page}");
}

/// axe-core, the accessibility rules engine, from the npm registry (`tests/support/axe`,
/// which `.ci/run` installs with `npm ci`); `None` when it is not installed, which fails the
/// test where the browser is required.
fn axe_core() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/axe/node_modules/axe-core/axe.min.js"
        );
        let source = std::fs::read_to_string(path).ok();
        assert!(
            source.is_some() || !required(),
            "the browser test needs axe-core: npm ci --prefix crates/lintel-server/tests/support/axe"
        );
        source
    })
    .as_deref()
}

/// Runs axe-core on the page (injected the first time) and answers its serious and critical
/// violations, each as its rule, what it asks and up to three places it failed.
const AXE_RUN: &str = "
var done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then(function (result) {
  done(result.violations
    .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
    .map(function (v) {
      return v.id + ' (' + v.help + ') at ' + v.nodes.slice(0, 3).map(function (n) {
        return n.target.join(' ') + ': ' + n.failureSummary;
      }).join('; ');
    }));
}, function (e) { done(['axe did not run: ' + e]); });
";

/// The page's serious and critical accessibility violations, by axe-core.
async fn accessibility_faults(browser: &Client) -> serde_json::Value {
    let Some(axe) = axe_core() else {
        return json!([]);
    };
    let present = browser.execute("return typeof axe", vec![]).await.unwrap();
    if present != json!("object") {
        browser.execute(axe, vec![]).await.unwrap();
    }
    browser.execute_async(AXE_RUN, vec![]).await.unwrap()
}

/// Checks the page for `PAGE_FAULTS` and for axe-core's serious and critical violations at
/// the width the browser shows pages at, then saves a screenshot of it as `<name>.png` in
/// `LINTEL_SCREENSHOTS`, when that is set, to look at the pages as a person sees them.
async fn snap(browser: &Client, name: &str) {
    let faults = browser.execute(PAGE_FAULTS, vec![]).await.unwrap();
    assert_eq!(faults, json!([]), "the page {name} is at fault");
    let faults = accessibility_faults(browser).await;
    assert_eq!(faults, json!([]), "the page {name} is not accessible");
    if let Ok(dir) = std::env::var("LINTEL_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
    if std::env::var("LINTEL_WRITE_SCREENSHOTS").is_ok_and(|v| v == "1")
        && README_SHOTS.contains(&name)
    {
        let png = browser.screenshot().await.unwrap();
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    }
}

/// The pages the README shows, as this code draws them: `LINTEL_WRITE_SCREENSHOTS=1 cargo
/// test -p lintel-server --test api -- browser::` writes them to `docs/screenshots`.
const README_SHOTS: &[&str] = &[
    "overview-wide",
    "overview",
    "admin-acme-members-wide",
    "api-key-revoke-asks",
    "link-unlocked",
    "me",
];

fn screenshots_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

/// The README shows the screenshots the browser test makes, each of them, and no other.
#[test]
fn the_readme_shows_the_screenshots_the_browser_test_makes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let mut shown: Vec<&str> = readme
        .split("docs/screenshots/")
        .skip(1)
        .map(|rest| rest.split(".png").next().unwrap())
        .collect();
    shown.sort();
    let mut made = README_SHOTS.to_vec();
    made.sort();
    assert_eq!(
        shown, made,
        "the README's screenshots and README_SHOTS differ"
    );
    for name in made {
        let path = screenshots_dir().join(format!("{name}.png"));
        assert!(
            path.exists(),
            "{} is missing: LINTEL_WRITE_SCREENSHOTS=1 cargo test -p lintel-server --test api -- browser::",
            path.display()
        );
    }
}

/// Waits for the page's heading to read `text`.
async fn heading_is(browser: &Client, text: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(h1) = browser.find(Locator::Css("h1")).await {
            seen = h1.text().await.unwrap_or_default();
            if seen == text {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.source().await.unwrap_or_default();
    panic!("expected the heading {text:?}, saw {seen:?}: {page}");
}

/// Waits for the page to contain `text`.
async fn page_shows(browser: &Client, text: &str) {
    let mut page = String::new();
    for _ in 0..100 {
        page = browser.source().await.unwrap_or_default();
        if page.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}: {page}");
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Presses Enter on the element at `xpath`, as someone using the keyboard only.
async fn press_enter(browser: &Client, xpath: &str) {
    browser
        .find(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"))
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
}

/// Clicks the element, scrolled to the middle of the screen first as a person would: at the
/// bottom edge, the member app's tab bar covers it.
async fn click(browser: &Client, css: &str) {
    let element = browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    let arg = serde_json::to_value(&element).unwrap();
    browser
        .execute(
            "arguments[0].scrollIntoView({ block: 'center' })",
            vec![arg],
        )
        .await
        .unwrap();
    element.click().await.unwrap();
}

/// Follows the last emailed link and enters the texted code.
async fn link_and_code(app: &TestApp, browser: &Client, phone: &str) {
    let sent = app.deliver().await;
    let mail = sent
        .iter()
        .rev()
        .find(|m| m.channel == Channel::Email)
        .expect("an email");
    let link = mail
        .body
        .lines()
        .find(|l| l.contains("/auth/confirm?token="))
        .unwrap()
        .trim();
    browser.goto(link).await.unwrap();
    heading_is(browser, "Confirm it is you").await;
    click(browser, "form[action='/auth/confirm'] button").await;
    heading_is(browser, "Enter your code").await;
    let code = code_sent_to(&app.deliver().await, phone);
    fill(browser, "#code", &code).await;
    fill(browser, "#device_name", "Ada's laptop").await;
    fill(browser, "#pin", "2580").await;
    click(browser, "form[action='/auth/code'] button").await;
}

async fn a_person_registers_changes_their_phone_and_signs_out_in_chromium(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let browser = connect(&driver).await;
    const LONG: &str = "Wolfeschlegelsteinhausenbergerdorff";
    let email = format!("ada.{}@example.com", LONG.to_lowercase());

    browser.goto(&app.url("/register")).await.unwrap();
    heading_is(&browser, "Create your account").await;
    fill(&browser, "#first_name", "Ada").await;
    // A long name, unbroken, must not make a phone's page scroll sideways.
    fill(&browser, "#last_name", LONG).await;
    fill(&browser, "#email", &email).await;
    fill(&browser, "#phone", "+46 70 123 45 67").await;
    click(&browser, "form[action='/register'] button").await;
    heading_is(&browser, "Check your email").await;

    link_and_code(&app, &browser, "+46701234567").await;
    heading_is(&browser, &format!("Ada {LONG}")).await;
    snap(&browser, "profile-long-name").await;
    let profile = browser.source().await.unwrap();
    assert!(
        profile.contains("Ada's laptop") && profile.contains("this browser"),
        "{profile}"
    );

    // Change the phone: a code to the new number, then every device is signed out.
    fill(
        &browser,
        "form[action='/me/phone'] input[name='address']",
        "+46 70 123 45 99",
    )
    .await;
    fill(&browser, "#phone_pin", "2580").await;
    click(&browser, "form[action='/me/phone'] button").await;
    heading_is(&browser, "Confirm your new phone").await;
    let code = code_sent_to(&app.deliver().await, "+46701234599");
    fill(&browser, "#code", &code).await;
    click(&browser, "form[action='/me/phone/verify'] button").await;
    heading_is(&browser, "Phone changed").await;
    browser.goto(&app.url("/me")).await.unwrap();
    heading_is(&browser, "Sign in").await;

    // Sign in again: the code now goes to the new number.
    fill(&browser, "#email", &email).await;
    click(&browser, "form[action='/signin'] button").await;
    heading_is(&browser, "Check your email").await;
    link_and_code(&app, &browser, "+46701234599").await;
    heading_is(&browser, &format!("Ada {LONG}")).await;
    assert!(browser.source().await.unwrap().contains("+46701234599"));

    // Sign out.
    click(&browser, "ul.devices form button").await;
    heading_is(&browser, "Sign in").await;
    browser.goto(&app.url("/me")).await.unwrap();
    heading_is(&browser, "Sign in").await;
    browser.close().await.unwrap();
}

/// Registers in the browser as `first last` with `email` and `phone`, through link and code.
async fn register(app: &TestApp, browser: &Client, first: &str, email: &str, phone: &str) {
    heading_is(browser, "Create your account").await;
    fill(browser, "#first_name", first).await;
    fill(browser, "#last_name", "Tester").await;
    fill(browser, "#email", email).await;
    fill(browser, "#phone", phone).await;
    click(browser, "form[action='/register'] button").await;
    heading_is(browser, "Check your email").await;
    link_and_code(app, browser, phone).await;
    heading_is(browser, &format!("{first} Tester")).await;
}

async fn an_owner_invites_by_email_and_the_invitee_registers_from_the_email(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let (_, staff) = app
        .post(&key, "/api/v1/orgs/acme/groups", json!({ "name": "Staff" }))
        .await;
    app.invite(
        &key,
        "acme",
        json!({ "email": "owner@example.com", "areas": ["owner"] }),
    )
    .await;
    let browser = connect(&driver).await;

    // The owner registers; the invitation to their email makes them the owner.
    browser.goto(&app.url("/register")).await.unwrap();
    register(&app, &browser, "Olive", "owner@example.com", "+46701111111").await;
    assert!(browser.source().await.unwrap().contains("Org acme"));

    // The owner invites Grace by email with the members area and the Staff group.
    browser.goto(&app.url("/admin/acme/members")).await.unwrap();
    heading_is(&browser, "Members").await;
    snap(&browser, "members-empty").await;
    // Sent with no address, the form comes back saying so beside the email field, which a
    // screen reader reads with the field.
    click(&browser, "form[action='/admin/acme/invitations'] button").await;
    page_shows(
        &browser,
        "id=\"field-error\">Give exactly one of email and phone.</span>",
    )
    .await;
    let described = browser
        .execute(
            "var f = document.getElementById('email'); \
             return [f.getAttribute('aria-invalid'), f.getAttribute('aria-describedby')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(described, json!(["true", "field-error"]));
    snap(&browser, "invite-refused").await;
    fill(&browser, "#email", "grace@example.com").await;
    click(&browser, "input[name='area_members']").await;
    click(
        &browser,
        &format!("input[name='group_{}']", staff["id"].as_str().unwrap()),
    )
    .await;
    click(&browser, "form[action='/admin/acme/invitations'] button").await;
    // The page before the post is also "Members": wait for the one after it.
    page_shows(&browser, "grace@example.com").await;

    // An API key from the dashboard: its secret is shown once, then only its prefix.
    browser
        .goto(&app.url("/admin/acme/api-keys"))
        .await
        .unwrap();
    heading_is(&browser, "API keys").await;
    fill(&browser, "#name", "door sync").await;
    click(&browser, "input[name='area_doors']").await;
    click(&browser, "form[action='/admin/acme/api-keys'] button").await;
    page_shows(&browser, "Copy the key now").await;
    // Its Copy button puts it on the clipboard.
    click(&browser, "button[data-copy='secret']").await;
    page_shows(&browser, ">Copied</button>").await;
    snap(&browser, "api-key-created").await;
    let secret = browser
        .find(Locator::Css("#secret"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("lnt_"), "{secret}");
    assert_eq!(
        app.get(&secret, "/api/v1/orgs/acme/doors").await.0,
        StatusCode::OK
    );
    browser
        .goto(&app.url("/admin/acme/api-keys"))
        .await
        .unwrap();
    heading_is(&browser, "API keys").await;
    assert!(!browser.source().await.unwrap().contains(&secret));
    // Revoking asks first: the button opens a box that says what happens, whose own button
    // does it; the list then says so once.
    // From the keyboard: Enter on the button opens the box, Enter on its own button revokes.
    let row = "//tr[td[normalize-space()='door sync']]//details";
    press_enter(&browser, &format!("{row}/summary")).await;
    page_shows(&browser, "Programs using this key are refused at once.").await;
    snap(&browser, "api-key-revoke-asks").await;
    press_enter(&browser, &format!("{row}//button")).await;
    page_shows(&browser, "<p class=\"toast\" role=\"status\">Revoked.</p>").await;
    snap(&browser, "api-key-revoked").await;
    assert_eq!(
        app.get(&secret, "/api/v1/orgs/acme/doors").await.0,
        StatusCode::UNAUTHORIZED
    );
    // A PIN code issued from the dashboard is on the answer once, then in the owner's app.
    app.site(&key, "acme", "HQ").await;
    browser
        .goto(&app.url("/admin/acme/credentials"))
        .await
        .unwrap();
    heading_is(&browser, "Cards & PINs").await;
    click(&browser, "form[action='/admin/acme/pins'] button").await;
    page_shows(&browser, "Tell the member their code").await;
    snap(&browser, "pin-issued").await;
    let code = browser
        .find(Locator::Css("#pin_code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(code.trim().len(), 6, "{code}");
    browser.goto(&app.url("/doors")).await.unwrap();
    heading_is(&browser, "My doors").await;
    click(&browser, "details summary").await;
    page_shows(&browser, code.trim()).await;
    snap(&browser, "my-pin-codes").await;
    browser.goto(&app.url("/admin/acme/events")).await.unwrap();
    heading_is(&browser, "Events").await;
    snap(&browser, "events").await;
    // The first page: what is left to set up, and today's doors, kept current by its
    // script (which the page's policy lets run) as cards are shown at a door.
    let (_, sites) = app.get(&key, "/api/v1/orgs/acme/sites").await;
    let site = sites["items"][0]["id"].as_str().unwrap().to_owned();
    let door = app.door(&key, "acme", &site, "Front").await;
    browser.goto(&app.url("/admin/acme")).await.unwrap();
    heading_is(&browser, "Org acme").await;
    page_shows(&browser, "2 of 5 steps left").await;
    page_shows(&browser, "No one has used a door today.").await;
    for _ in 0..3 {
        let (status, answer) = app
            .post(
                &key,
                &format!("/api/v1/orgs/acme/doors/{door}/present"),
                json!({ "card": { "number": "4711", "facility_code": 12 } }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    page_shows(&browser, "0 entries granted, 3 denied").await;
    page_shows(&browser, "unknown card, code or phone").await;
    snap(&browser, "overview").await;
    // The same page on a desktop, signed in as the same person.
    let wide = connect_at(&driver, 1280).await;
    wide.goto(&app.url("/")).await.unwrap();
    for cookie in browser.get_all_cookies().await.unwrap() {
        wide.add_cookie(cookie).await.unwrap();
    }
    wide.goto(&app.url("/admin/acme")).await.unwrap();
    page_shows(&wide, "0 entries granted, 3 denied").await;
    snap(&wide, "overview-wide").await;
    // Every page an owner sees, on a phone and on a desktop: no sideways scroll, no
    // repeated id, no serious accessibility fault. (The door board is left out: it loads
    // itself again every 3 seconds, which would cut a check short.)
    let (_, members) = app.get(&key, "/api/v1/orgs/acme/members").await;
    let member = members["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, schedule) = app
        .post(
            &key,
            "/api/v1/orgs/acme/schedules",
            json!({ "name": "Office hours", "windows": [
                { "day": "monday", "start": "07:00", "end": "19:00" }
            ] }),
        )
        .await;
    let schedule = schedule["id"].as_str().unwrap().to_owned();
    for (path, heading) in [
        ("/admin".to_owned(), "Your organizations"),
        ("/admin/acme/places".to_owned(), "Sites & doors"),
        (format!("/admin/acme/sites/{site}"), "HQ"),
        (format!("/admin/acme/doors/{door}"), "Front"),
        ("/admin/acme/controllers".to_owned(), "Controllers"),
        ("/admin/acme/groups".to_owned(), "Groups"),
        ("/admin/acme/schedules".to_owned(), "Schedules"),
        (format!("/admin/acme/schedules/{schedule}"), "Office hours"),
        ("/admin/acme/accesses".to_owned(), "Accesses"),
        ("/admin/acme/credentials".to_owned(), "Cards & PINs"),
        ("/admin/acme/links".to_owned(), "Access links"),
        ("/admin/acme/members".to_owned(), "Members"),
        (format!("/admin/acme/members/{member}"), ""),
        ("/admin/acme/api-keys".to_owned(), "API keys"),
        ("/admin/acme/events".to_owned(), "Events"),
        ("/doors".to_owned(), "My doors"),
        ("/me".to_owned(), ""),
    ] {
        // Named by the path, with "one" for an object's id: admin-acme-schedules-one.
        let name: Vec<&str> = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| if segment.len() == 36 { "one" } else { segment })
            .collect();
        let name = name.join("-");
        for (at, suffix) in [(&browser, ""), (&wide, "-wide")] {
            at.goto(&app.url(&path)).await.unwrap();
            if !heading.is_empty() {
                heading_is(at, heading).await;
            }
            snap(at, &format!("{name}{suffix}")).await;
        }
    }
    wide.close().await.unwrap();

    // Grace, in a browser nobody is signed in to, follows the emailed invitation.
    browser.delete_all_cookies().await.unwrap();
    let sent = app.deliver().await;
    let invitation = sent
        .iter()
        .rev()
        .find(|m| m.recipient == "grace@example.com")
        .expect("an invitation email");
    let link = invitation
        .body
        .lines()
        .find(|l| l.contains("/invitations/"))
        .unwrap()
        .trim();
    browser.goto(link).await.unwrap();
    heading_is(&browser, "Invitation").await;
    snap(&browser, "invitation").await;
    assert!(browser.source().await.unwrap().contains("Org acme"));
    click(&browser, "a[href='/register']").await;
    register(&app, &browser, "Grace", "grace@example.com", "+46702222222").await;
    assert!(browser.source().await.unwrap().contains("Org acme"));
    snap(&browser, "profile-grace").await;

    // She is an active member with the chosen area and group, and can use her area.
    let (_, found) = app.get(&key, "/api/v1/orgs/acme/members?q=grace@").await;
    let grace = &found["items"][0];
    assert_eq!(grace["status"], "active", "{found}");
    assert_eq!(grace["areas"], json!(["members"]));
    assert_eq!(grace["groups"], json!([staff["id"]]));
    browser.goto(&app.url("/admin/acme/members")).await.unwrap();
    heading_is(&browser, "Members").await;
    let page = browser.source().await.unwrap();
    assert!(
        page.contains("Olive Tester") && page.contains("Send invitation"),
        "{page}"
    );
    snap(&browser, "members-as-grace").await;
    assert!(
        !page.contains("/admin/acme/api-keys"),
        "no API keys for her: {page}"
    );
    browser
        .goto(&app.url("/admin/acme/api-keys"))
        .await
        .unwrap();
    heading_is(&browser, "Something went wrong").await;
    snap(&browser, "api-keys-refused").await;

    // The log says who did what.
    let (status, log) = app.get(&key, "/api/v1/orgs/acme/events?kind=member").await;
    assert_eq!(status, StatusCode::OK);
    let invited = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "member.invited" && e["object_id"] == grace["id"])
        .expect("the invitation is on record");
    assert_eq!(invited["actor"]["name"], "Olive Tester");
    browser.close().await.unwrap();
}

async fn a_guest_opens_a_door_with_a_link_in_a_fresh_browser(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let front = app.door(&key, "acme", &site, "Front door").await;
    let (_, visitors) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Visitors" }),
        )
        .await;
    app.post(
        &key,
        "/api/v1/orgs/acme/accesses",
        json!({ "name": "Visitors", "groups": [visitors["id"]], "doors": [{ "door_id": front }] }),
    )
    .await;
    app.invite(
        &key,
        "acme",
        json!({ "email": "owner@example.com", "areas": ["owner"] }),
    )
    .await;
    let browser = connect(&driver).await;
    browser.goto(&app.url("/register")).await.unwrap();
    register(&app, &browser, "Olive", "owner@example.com", "+46701111111").await;

    // The admin sends a link to hand over; the dialog shows it once.
    browser.goto(&app.url("/admin/acme/links")).await.unwrap();
    heading_is(&browser, "Access links").await;
    fill(&browser, "#recipient_name", "Grace Guest").await;
    click(
        &browser,
        "form[method='post'][action='/admin/acme/links'] button",
    )
    .await;
    page_shows(&browser, "Copy the link now").await;
    snap(&browser, "link-sent").await;
    let url = browser
        .find(Locator::Css("#link_url"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(url.contains("/l/lnk_"), "{url}");

    // The guest, in a browser nobody is signed in to, opens it and unlocks.
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&url).await.unwrap();
    heading_is(&browser, "Org acme").await;
    page_shows(&browser, "Hello Grace Guest").await;
    snap(&browser, "link-page").await;
    click(&browser, "form[action$='/unlock'] button").await;
    page_shows(&browser, "Unlocked.").await;
    snap(&browser, "link-unlocked").await;
    let (status, log) = app
        .get(&key, "/api/v1/orgs/acme/events?kind=decision.granted")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log["items"][0]["actor"]["name"], "Grace Guest", "{log}");
    assert_eq!(log["items"][0]["object_id"], front.as_str());

    // Revoked, it says so and offers nothing to press.
    let (_, links) = app.get(&key, "/api/v1/orgs/acme/access-links").await;
    let id = links["items"][0]["id"].as_str().unwrap();
    app.delete(&key, &format!("/api/v1/orgs/acme/access-links/{id}"))
        .await;
    browser.goto(&url).await.unwrap();
    page_shows(&browser, "This link has been revoked.").await;
    assert!(browser.find(Locator::Css("form button")).await.is_err());
    snap(&browser, "link-revoked").await;

    // One that has ended says that.
    let (_, short) = app
        .post(
            &key,
            "/api/v1/orgs/acme/access-links",
            json!({ "group_id": visitors["id"], "recipient_name": "Heidi", "delivery": "manual",
                    "valid_until": "2026-03-02T10:00:00Z" }),
        )
        .await;
    app.clock.advance(chrono::Duration::hours(2));
    browser.goto(short["url"].as_str().unwrap()).await.unwrap();
    page_shows(&browser, "This link has expired.").await;
    assert!(browser.find(Locator::Css("form button")).await.is_err());
    snap(&browser, "link-expired").await;
    browser.close().await.unwrap();
}

/// Chromium's virtual authenticator (WebDriver's WebAuthn extension): a platform
/// authenticator that keeps discoverable credentials and verifies its user.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let authenticator = json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true,
        });
        (http::Method::POST, Some(authenticator.to_string()))
    }
}

/// Signs in at the provider's page as `login`, when it asks (it remembers a recent one).
async fn at_provider(browser: &Client, login: &str, then: &str) {
    // The provider's pages move on by themselves: a field found may be gone a moment later,
    // so a step that fails is tried again on the next round, never unwrapped.
    for _ in 0..100 {
        if let Ok(field) = browser.find(Locator::Css("input[name='login']")).await {
            let _ = field.clear().await;
            let _ = field.send_keys(login).await;
            if let Ok(password) = browser.find(Locator::Css("input[name='password']")).await {
                let _ = password.clear().await;
                let _ = password.send_keys("any").await;
            }
            if let Ok(submit) = browser.find(Locator::Css("button[type='submit']")).await {
                let _ = submit.click().await;
            }
        }
        if let Ok(h1) = browser.find(Locator::Css("h1")).await
            && h1.text().await.unwrap_or_default() == then
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.source().await.unwrap_or_default();
    panic!("never came back from the provider to {then:?}: {page}");
}

async fn an_invited_person_registers_with_a_provider_in_chromium(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    let Some((app, _op)) = crate::oidc::app_with_provider(backend, "127.0.0.1").await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    app.invite(&key, "acme", json!({ "email": "grace@example.com" }))
        .await;
    app.deliver().await;
    let browser = connect(&driver).await;

    browser.goto(&app.url("/signin")).await.unwrap();
    heading_is(&browser, "Sign in").await;
    snap(&browser, "signin-with-providers").await;
    click(&browser, "form[action='/auth/oidc/op'] button").await;
    at_provider(
        &browser,
        "grace@example.com",
        "Finish creating your account",
    )
    .await;
    // The names come from the provider; the phone is Grace's to give.
    assert_eq!(
        browser
            .find(Locator::Css("#first_name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Grace")
    );
    fill(&browser, "#phone", "+46 70 999 99 99").await;
    click(&browser, "form[action='/auth/oidc/register'] button").await;
    heading_is(&browser, "Enter your code").await;
    let code = code_sent_to(&app.deliver().await, "+46709999999");
    fill(&browser, "#code", &code).await;
    fill(&browser, "#pin", "2580").await;
    click(&browser, "form[action='/auth/code'] button").await;
    heading_is(&browser, "Grace Tester").await;
    page_shows(&browser, "Org acme").await;
    page_shows(&browser, "Test OP").await;
    snap(&browser, "profile-with-provider").await;

    // Signed out, Grace comes back through the provider that answers by POST (Apple's way).
    click(&browser, "ul.devices form button").await;
    heading_is(&browser, "Sign in").await;
    click(&browser, "form[action='/auth/oidc/op-post'] button").await;
    at_provider(&browser, "grace@example.com", "Enter your code").await;
    let code = code_sent_to(&app.deliver().await, "+46709999999");
    fill(&browser, "#code", &code).await;
    fill(&browser, "#pin", "2580").await;
    click(&browser, "form[action='/auth/code'] button").await;
    heading_is(&browser, "Grace Tester").await;

    // Someone the organization does not know gets what an unknown email gets. (The cookies
    // go, the provider's with them: it would remember Grace.)
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&app.url("/signin")).await.unwrap();
    heading_is(&browser, "Sign in").await;
    click(&browser, "form[action='/auth/oidc/op'] button").await;
    at_provider(&browser, "stranger@example.com", "Check your email").await;
    assert!(app.deliver().await.is_empty(), "nothing goes to a stranger");
    browser.close().await.unwrap();
}

async fn a_person_adds_a_passkey_signs_in_with_it_and_removes_it_in_chromium(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    // Passkeys refuse IP addresses: the browser goes to http://localhost:<port>.
    let Some((app, ())) = TestApp::spawn_with(backend, "localhost", |_| (Vec::new(), ())).await
    else {
        return;
    };
    let at = |path: &str| format!("{}{path}", app.state.public_url);
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Front door").await;
    let ada = app
        .invite(&key, "acme", json!({ "email": "ada@example.com" }))
        .await;
    let (status, access) = app
        .post(
            &key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Front", "doors": [{ "door_id": door }], "users": [ada["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{access}");
    app.deliver().await;
    let browser = connect(&driver).await;
    browser.issue_cmd(AddVirtualAuthenticator).await.unwrap();

    browser.goto(&at("/register")).await.unwrap();
    register(&app, &browser, "Ada", "ada@example.com", "+46701234567").await;

    // Add a passkey from the profile.
    fill(&browser, "#passkey_name", "Ada's laptop key").await;
    click(&browser, "form[action='/me/passkeys'] button").await;
    page_shows(&browser, "Ada's laptop key</strong>").await;
    snap(&browser, "profile-with-passkey").await;

    // Sign out, and in again with the passkey alone: no email, no code.
    click(&browser, "ul.devices form button").await;
    heading_is(&browser, "Sign in").await;
    app.deliver().await;
    fill(&browser, "#passkey_pin", "2580").await;
    click(&browser, "form[action='/auth/passkey'] button").await;
    heading_is(&browser, "Ada Tester").await;
    assert!(app.deliver().await.is_empty(), "nothing was sent");
    page_shows(&browser, "last used").await;

    // Remove it: it signs nobody in any more, though the authenticator still holds it.
    click(&browser, "form[action$='/remove'] button").await;
    page_shows(&browser, "No passkey yet").await;
    click(&browser, "ul.devices form button").await;
    heading_is(&browser, "Sign in").await;
    fill(&browser, "#passkey_pin", "2580").await;
    click(&browser, "form[action='/auth/passkey'] button").await;
    page_shows(&browser, "answer could not be checked").await;

    // Email link and SMS code still sign Ada in, and her door is still hers.
    browser.goto(&at("/signin")).await.unwrap();
    fill(&browser, "#email", "ada@example.com").await;
    click(&browser, "form[action='/signin'] button").await;
    heading_is(&browser, "Check your email").await;
    link_and_code(&app, &browser, "+46701234567").await;
    heading_is(&browser, "Ada Tester").await;
    browser.goto(&at("/doors")).await.unwrap();
    page_shows(&browser, "Front door").await;
    browser.close().await.unwrap();
}

/// Every page a member or a guest sees, in Swedish and in French, on a phone and on a
/// desktop: in the language the browser asks for, with nothing left in English, no sideways
/// scroll and no serious accessibility fault. A person registers through the translated
/// pages, and their invitation makes them a member who can open a door.
async fn the_member_pages_speak_swedish_and_french_in_chromium(backend: Backend) {
    let Some(driver) = start_driver() else { return };
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let site = app.site(&key, "acme", "HQ").await;
    let door = app.door(&key, "acme", &site, "Ingång").await;
    let (_, group) = app
        .post(
            &key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Personal" }),
        )
        .await;
    let (status, access) = app
        .post(
            &key,
            "/api/v1/orgs/acme/accesses",
            json!({ "name": "Personal", "groups": [group["id"]], "doors": [{ "door_id": door }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{access}");
    for (lang, phone) in [("sv", "+46701234561"), ("fr", "+33612345678")] {
        let email = format!("ada.{lang}@example.com");
        app.invite(
            &key,
            "acme",
            json!({ "email": email, "groups": [group["id"]] }),
        )
        .await;
        let invitation = app
            .deliver()
            .await
            .into_iter()
            .find(|m| m.recipient == email)
            .expect("an invitation email");
        let invitation = invitation
            .body
            .lines()
            .find(|l| l.contains("/invitations/"))
            .unwrap()
            .trim()
            .to_owned();
        let (status, link) = app
            .post(
                &key,
                "/api/v1/orgs/acme/access-links",
                json!({ "group_id": group["id"], "recipient_name": "Greta", "delivery": "manual" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        let link = link["url"].as_str().unwrap().to_owned();

        let phone_browser = connect_speaking(&driver, 390, lang).await;
        let wide = connect_speaking(&driver, 1280, lang).await;
        let both = [(&phone_browser, ""), (&wide, "-wide")];
        // Signed out: the ways in, an invitation and a guest's link.
        for path in ["/signin", "/register", "/recover"] {
            for (at, suffix) in both {
                at.goto(&app.url(path)).await.unwrap();
                shows(at, "form.card button").await;
                let name = format!("{}-{lang}{suffix}", &path[1..]);
                speaks(at, lang, &name).await;
                snap(at, &name).await;
            }
        }
        for (url, page) in [(&invitation, "invitation"), (&link, "link")] {
            for (at, suffix) in both {
                at.goto(url).await.unwrap();
                shows(at, "main section").await;
                let name = format!("{page}-{lang}{suffix}");
                speaks(at, lang, &name).await;
                snap(at, &name).await;
            }
        }

        // Registering, in the browser's language; the invitation becomes hers.
        let b = &phone_browser;
        b.goto(&app.url("/register")).await.unwrap();
        fill(b, "#first_name", "Ada").await;
        fill(b, "#last_name", "Lund").await;
        fill(b, "#email", &email).await;
        fill(b, "#phone", phone).await;
        click(b, "form[action='/register'] button").await;
        shows(b, "p.notice").await;
        speaks(b, lang, "check-email").await;
        let sent = app.deliver().await;
        let confirm = sent
            .iter()
            .find(|m| m.recipient == email)
            .expect("a sign-in email")
            .body
            .lines()
            .find(|l| l.contains("/auth/confirm?token="))
            .unwrap()
            .trim()
            .to_owned();
        b.goto(&confirm).await.unwrap();
        shows(b, "form[action='/auth/confirm'] button").await;
        speaks(b, lang, "confirm").await;
        click(b, "form[action='/auth/confirm'] button").await;
        shows(b, "#code").await;
        speaks(b, lang, "code").await;
        snap(b, &format!("code-{lang}")).await;
        let code = code_sent_to(&app.deliver().await, phone);
        // A wrong code first: the error is in her language too.
        let wrong = if code == "111111" { "222222" } else { "111111" };
        fill(b, "#code", wrong).await;
        fill(b, "#device_name", "Mobil").await;
        fill(b, "#pin", "2580").await;
        click(b, "form[action='/auth/code'] button").await;
        shows(b, "p.error").await;
        speaks(b, lang, "wrong-code").await;
        fill(b, "#code", &code).await;
        fill(b, "#pin", "2580").await;
        click(b, "form[action='/auth/code'] button").await;
        heading_is(b, "Ada Lund").await;

        // Signed in: My doors and the profile.
        wide.goto(&app.url("/")).await.unwrap();
        for cookie in b.get_all_cookies().await.unwrap() {
            wide.add_cookie(cookie).await.unwrap();
        }
        for path in ["/doors", "/me"] {
            for (at, suffix) in both {
                at.goto(&app.url(path)).await.unwrap();
                shows(at, "nav.tabbar").await;
                let name = format!("{}-{lang}{suffix}", &path[1..]);
                speaks(at, lang, &name).await;
                snap(at, &name).await;
            }
        }
        b.goto(&app.url("/doors")).await.unwrap();
        page_shows(b, "Ingång").await;
        page_shows(
            b,
            if lang == "sv" {
                ">Lås upp<"
            } else {
                ">Déverrouiller<"
            },
        )
        .await;
        phone_browser.close().await.unwrap();
        wide.close().await.unwrap();
    }
}
