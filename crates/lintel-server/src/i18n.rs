//! The words pages say, in the person's language: English, Swedish or French, from the
//! Fluent files in `locales/` (built into the binary). A browser's `Accept-Language` picks
//! the language, unless a signed-in person chose one in their profile; English is the
//! fallback. Every page a member or guest sees speaks all three: signing in and registering,
//! My doors, the profile, invitations and guest link pages, with the errors they show
//! (`error-<code>`) and dates written the local way. The administrators' dashboard is
//! English so far.

use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{Datelike as _, NaiveDate, NaiveDateTime};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use lintel_domain::AccountId;

use crate::app::{self, Actor, AppState};

/// A language Lintel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Sv,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Sv, Lang::Fr];

    /// Its tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
            Lang::Fr => "fr",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.ftl"),
            Lang::Sv => include_str!("../locales/sv.ftl"),
            Lang::Fr => include_str!("../locales/fr.ftl"),
        }
    }

    /// The language an `Accept-Language` header prefers most among those Lintel speaks
    /// (`sv-SE;q=0.8, fr` gives French), or English.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.trim().split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The language a request's `Accept-Language` header prefers, or English.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::from_accept_language)
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        static BUNDLES: OnceLock<Vec<FluentBundle<FluentResource>>> = OnceLock::new();
        let bundles = BUNDLES.get_or_init(|| {
            Lang::ALL
                .into_iter()
                .map(|lang| {
                    let resource = FluentResource::try_new(lang.source().to_owned())
                        .unwrap_or_else(|(_, errors)| {
                            panic!("locales/{}.ftl does not parse: {errors:?}", lang.tag())
                        });
                    let id = lang.tag().parse().expect("a language tag");
                    let mut bundle = FluentBundle::new_concurrent(vec![id]);
                    // Plain text in HTML: no invisible direction marks around arguments.
                    bundle.set_use_isolating(false);
                    bundle
                        .add_resource(resource)
                        .expect("each message once per file");
                    bundle
                })
                .collect()
        });
        &bundles[Lang::ALL.iter().position(|l| *l == self).expect("listed")]
    }

    /// The message `id` in this language, with `args` (name, value) in its placeholders;
    /// not escaped for HTML. A message missing here (which the tests rule out) falls back to
    /// English, then to its id.
    pub fn text(self, id: &str, args: &[(&str, &str)]) -> String {
        self.format(id, args, None)
    }

    /// `text` with a number `count` for the message to choose its plural form by.
    pub fn count(self, id: &str, count: u64, args: &[(&str, &str)]) -> String {
        self.format(id, args, Some(count))
    }

    /// Whether this language has the message `id`.
    pub fn has(self, id: &str) -> bool {
        self.bundle().has_message(id)
    }

    fn format(self, id: &str, args: &[(&str, &str)], count: Option<u64>) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        if let Some(count) = count {
            fluent_args.set("count", count);
        }
        for lang in [self, Lang::En] {
            let bundle = lang.bundle();
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, Some(&fluent_args), &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }

    /// The language whose tag is `tag`, if Lintel speaks it.
    pub fn parse(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The language a person chose (`chosen`, their profile's setting) if they chose one,
    /// else this one.
    pub fn preferring(self, chosen: Option<&str>) -> Lang {
        chosen.and_then(Lang::parse).unwrap_or(self)
    }

    /// The language `account` chose, else this one: also with no account, or one that cannot
    /// be read (a message in this language is better than none).
    pub async fn preferred_by(self, state: &AppState, account: Option<AccountId>) -> Lang {
        let Some(account) = account else {
            return self;
        };
        match state.store.get_account(account).await {
            Ok(found) => self.preferring(found.account.language.as_deref()),
            Err(_) => self,
        }
    }

    /// The language for a signed-in person: the one chosen in their profile, else the one
    /// their browser prefers (`self`).
    pub async fn for_person(self, state: &AppState, actor: &Actor) -> Lang {
        let account = app::me::me(actor).ok().map(|(account, _)| account);
        self.preferred_by(state, account).await
    }

    /// A day as people write it here: `2 Mar 2026`, `2 mars 2026`.
    pub fn date(self, day: NaiveDate) -> String {
        self.text(
            "date",
            &[
                ("day", &day.day().to_string()),
                ("month", &self.word(&format!("month-{}", day.month()))),
                ("year", &day.year().to_string()),
            ],
        )
    }

    /// A day and a time of day (24-hour): `2 Mar 2026, 14:05`, `2 mars 2026 à 14:05`.
    pub fn date_time(self, at: NaiveDateTime) -> String {
        self.text(
            "date-time",
            &[
                ("date", &self.date(at.date())),
                ("time", &at.format("%H:%M").to_string()),
            ],
        )
    }

    /// `text` of a message without placeholders.
    pub fn word(self, id: &str) -> String {
        self.text(id, &[])
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of_request(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of a language's file.
    fn ids(lang: Lang) -> Vec<String> {
        let mut ids: Vec<String> = lang
            .source()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
            .collect();
        ids.sort();
        ids
    }

    /// The placeholders messages may use, besides `count`.
    const PLACEHOLDERS: &[&str] = &[
        "ask", "sender", "name", "org", "from", "until", "first", "second", "email", "phone",
        "field", "provider", "when", "by", "to", "date", "time", "day", "month", "year", "kind",
        "address", "digits", "code", "url", "validity", "access", "old", "new",
    ];

    /// The placeholders message `id` uses in `lang`'s file, over all its lines.
    fn placeholders(lang: Lang, id: &str) -> Vec<String> {
        let mut lines = lang
            .source()
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{id} = ")));
        let first = lines.next().unwrap_or_default();
        let mut names: Vec<String> = std::iter::once(first)
            .chain(lines.take_while(|l| l.starts_with(' ')))
            .flat_map(|line| line.split("{ $").skip(1))
            .map(|rest| rest.split([' ', '}']).next().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn every_message_is_in_every_language_and_formats_without_error() {
        let english = ids(Lang::En);
        assert!(english.len() > 40, "{english:?}");
        for lang in Lang::ALL {
            assert_eq!(
                ids(lang),
                english,
                "locales/{}.ftl differs from en.ftl",
                lang.tag()
            );
            let bundle = lang.bundle();
            for id in &english {
                let message = bundle
                    .get_message(id)
                    .unwrap_or_else(|| panic!("{id} is missing in {}", lang.tag()));
                let pattern = message.value().expect("a value");
                // Each plural form, with every placeholder the messages use.
                for count in [1_u64, 2, 5] {
                    let mut args = FluentArgs::new();
                    for name in PLACEHOLDERS {
                        args.set(*name, "X");
                    }
                    args.set("count", count);
                    let mut errors = Vec::new();
                    let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                    assert!(errors.is_empty(), "{id} in {}: {errors:?}", lang.tag());
                    assert!(!text.trim().is_empty(), "{id} in {}", lang.tag());
                }
                // A placeholder English has is in every translation, and no other.
                assert_eq!(
                    placeholders(lang, id),
                    placeholders(Lang::En, id),
                    "{id} in {}",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn the_browser_s_preferred_language_is_chosen_among_those_spoken() {
        assert_eq!(
            Lang::from_accept_language("sv-SE,sv;q=0.9,en;q=0.8"),
            Lang::Sv
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, fr;q=0.5, en;q=0.3"),
            Lang::Fr
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, fr-CA;q=0.9"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("de, ja"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr;q=0, sv;q=0.1"), Lang::Sv);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::Sv.word("tab-doors"), "Mina dörrar");
        assert_eq!(
            Lang::Fr.text("ask-either", &[("first", "Ada"), ("second", "Grace")]),
            "Ada ou Grace"
        );
        assert_eq!(Lang::Sv.word("no-such-message"), "no-such-message");
        let at = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(14, 5, 0)
            .unwrap();
        assert_eq!(Lang::En.date_time(at), "2 Mar 2026, 14:05");
        assert_eq!(Lang::Sv.date_time(at), "2 mars 2026 14:05");
        assert_eq!(Lang::Fr.date_time(at), "2 mars 2026 à 14:05");
        assert_eq!(
            Lang::Fr.date(at.date().with_month(8).unwrap()),
            "2 août 2026"
        );
    }
}
