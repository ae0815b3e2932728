//! The words pages say, in the person's language: English, Swedish or French, from the
//! Fluent files in `locales/` (built into the binary). A browser's `Accept-Language` picks
//! the language, unless a signed-in person chose one in their profile; English is the
//! fallback. Translated so far: the member app's tabs, My doors
//! and a guest's link page (the rest of the pages are English).

use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use super::Session;
use crate::app::{self, AppState};

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
            Lang::En => include_str!("../../locales/en.ftl"),
            Lang::Sv => include_str!("../../locales/sv.ftl"),
            Lang::Fr => include_str!("../../locales/fr.ftl"),
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
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
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

    /// The language for a signed-in person: the one chosen in their profile, else the one
    /// their browser prefers (`self`).
    pub async fn for_person(self, state: &AppState, session: &Session) -> Lang {
        match app::me::get(state, &session.actor).await {
            Ok(account) => account
                .language
                .as_deref()
                .and_then(Lang::parse)
                .unwrap_or(self),
            Err(_) => self,
        }
    }

    /// `text` of a message without placeholders.
    pub fn word(self, id: &str) -> String {
        self.text(id, &[])
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::from_accept_language))
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
                let mut args = FluentArgs::new();
                for name in [
                    "ask", "sender", "name", "org", "from", "until", "first", "second",
                ] {
                    args.set(name, "X");
                }
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{id} in {}: {errors:?}", lang.tag());
                assert!(!text.trim().is_empty(), "{id} in {}", lang.tag());
                // A placeholder English has is in every translation, and no other.
                let english_pattern = Lang::En
                    .source()
                    .lines()
                    .find(|l| l.starts_with(&format!("{id} = ")));
                let own = lang
                    .source()
                    .lines()
                    .find(|l| l.starts_with(&format!("{id} = ")));
                let placeholders = |line: Option<&str>| {
                    let mut names: Vec<String> = line
                        .unwrap_or_default()
                        .split("{ $")
                        .skip(1)
                        .map(|rest| rest.split(' ').next().unwrap_or_default().to_owned())
                        .collect();
                    names.sort();
                    names
                };
                assert_eq!(
                    placeholders(own),
                    placeholders(english_pattern),
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
    }
}
