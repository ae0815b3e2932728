//! Configuration: built-in defaults, then a TOML file, then `LINTEL_…` environment variables,
//! then command-line flags; each layer overrides the one before.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything `lintel` can be configured with. Works with no file and no variables at all.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// `postgres://…` for PostgreSQL or `sqlite://PATH` for SQLite; when unset, SQLite in
    /// `data_dir/lintel.db`.
    pub database_url: Option<String>,
    /// Where the embedded SQLite database lives.
    pub data_dir: PathBuf,
    /// `human` or `json` logs, on standard error.
    pub log_format: LogFormat,
    /// A tracing filter: `info`, `debug`, `lintel_server=debug,sqlx=warn`, …
    pub log_level: String,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// Where people reach Lintel, for links in emails (`https://access.example.com`); when
    /// unset, `http://` and the `listen` address.
    pub public_url: Option<String>,
    /// Where email goes: `smtps://USER:PASSWORD@HOST:465`, `smtp://…?tls=required`
    /// (STARTTLS) or `smtp://HOST:25`; when unset, emails are written to the log.
    pub smtp_url: Option<String>,
    /// The sender of emails.
    pub email_from: String,
    /// The HTTP endpoint SMS are POSTed to (see README); when unset, SMS go to the log.
    pub sms_url: Option<String>,
    /// The `Authorization` header value for `sms_url`, such as `Bearer KEY`.
    pub sms_authorization: Option<String>,
    /// The sender name or number of SMS.
    pub sms_from: String,
    /// Behind one reverse proxy: the header it puts the client's address in
    /// (`X-Forwarded-For`, `X-Real-IP`), so limits per source count clients, not the proxy.
    /// Never set it when clients reach Lintel directly: they could claim any address.
    pub client_ip_header: Option<String>,
    /// The server key: 64 hexadecimal digits (`openssl rand -hex 32`) that protect members'
    /// PIN codes. When unset, `data_dir/secret.key` is used, made on first start. Every node
    /// sharing a database needs the same key; a lost key makes every PIN code unusable.
    pub secret_key: Option<String>,
    /// The countries (ISO 3166 codes such as `SE`, `US`) whose numbers may be texted before
    /// they are proven (registering, a new phone, taking over a number). Empty: any country.
    pub sms_countries: Vec<String>,
    /// SMS to numbers not yet proven, at most this many an hour across the whole server: a
    /// ceiling on what SMS pumping can cost.
    pub sms_per_hour: usize,
    /// OpenID Connect providers people may sign in with (`[[oidc]]` tables in the file).
    pub oidc: Vec<OidcProvider>,
}

/// An OpenID Connect provider: discovered from its issuer, used with the authorization code
/// flow and PKCE. Register `<public_url>/auth/oidc/<id>/callback` as its redirect URI.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// A short name for URLs: `google`, `apple`, `corp`.
    pub id: String,
    /// What the sign-in button says: "Sign in with <name>".
    pub name: String,
    /// The issuer URL; `<issuer>/.well-known/openid-configuration` must answer.
    pub issuer: String,
    pub client_id: String,
    /// For Apple, the client secret is a JWT you sign with your key (valid up to 6 months).
    pub client_secret: String,
    /// `form_post` for providers that answer with a POST (Apple); otherwise the answer comes
    /// back in the query string.
    #[serde(default)]
    pub response_mode: Option<String>,
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

/// The keys of `Config`, the only `LINTEL_…` variables read (so that variables meant for other
/// tools, such as `LINTEL_TEST_POSTGRES_URL`, are not mistaken for settings).
const KEYS: [&str; 16] = [
    "sms_countries",
    "sms_per_hour",
    "client_ip_header",
    "secret_key",
    "listen",
    "public_url",
    "smtp_url",
    "email_from",
    "sms_url",
    "sms_authorization",
    "sms_from",
    "database_url",
    "data_dir",
    "log_format",
    "log_level",
    "max_body_bytes",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Human,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("lintel-data"),
            log_format: LogFormat::Human,
            log_level: "info".into(),
            max_body_bytes: 64 * 1024,
            public_url: None,
            smtp_url: None,
            email_from: "Lintel <no-reply@localhost>".into(),
            sms_url: None,
            sms_authorization: None,
            sms_from: "Lintel".into(),
            client_ip_header: None,
            secret_key: None,
            sms_countries: Vec::new(),
            sms_per_hour: crate::app::limits::SmsPolicy::PER_HOUR,
            oidc: Vec::new(),
        }
    }
}

/// Settings given as flags; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl Config {
    /// Layers defaults, `file` (which must exist when given), the environment and `flags`.
    pub fn load(file: Option<&Path>, flags: Overrides) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(Box::new(figment::Error::from(format!(
                    "configuration file {} does not exist",
                    file.display()
                ))));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::prefixed("LINTEL_").only(&KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    /// The database to open: `database_url`, or the SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!("sqlite://{}", self.data_dir.join("lintel.db").display()),
        }
    }

    /// Where people reach Lintel, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.listen),
        }
    }

    /// The configuration as TOML, with the database password hidden.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = shown.database_url.as_deref().map(redact_url);
        shown.smtp_url = shown.smtp_url.as_deref().map(redact_url);
        shown.sms_authorization = shown.sms_authorization.as_ref().map(|_| "***".into());
        shown.secret_key = shown.secret_key.as_ref().map(|_| "***".into());
        for p in &mut shown.oidc {
            p.client_secret = "***".into();
        }
        toml_string(&shown)
    }
}

fn toml_string(config: &Config) -> String {
    // Written by hand: six flat keys do not need a TOML serialiser dependency.
    let mut out = format!("listen = {:?}\n", config.listen.to_string());
    if let Some(url) = &config.database_url {
        out.push_str(&format!("database_url = {url:?}\n"));
    }
    for (key, value) in [
        ("public_url", &config.public_url),
        ("smtp_url", &config.smtp_url),
        ("sms_url", &config.sms_url),
        ("sms_authorization", &config.sms_authorization),
        ("client_ip_header", &config.client_ip_header),
        ("secret_key", &config.secret_key),
    ] {
        if let Some(value) = value {
            out.push_str(&format!("{key} = {value:?}\n"));
        }
    }
    out.push_str(&format!(
        "email_from = {:?}\nsms_from = {:?}\n",
        config.email_from, config.sms_from
    ));
    out.push_str(&format!(
        "data_dir = {:?}\nlog_format = {:?}\nlog_level = {:?}\nmax_body_bytes = {}\n",
        config.data_dir.display().to_string(),
        match config.log_format {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        },
        config.log_level,
        config.max_body_bytes
    ));
    for p in &config.oidc {
        out.push_str(&format!(
            "\n[[oidc]]\nid = {:?}\nname = {:?}\nissuer = {:?}\nclient_id = {:?}\n\
             client_secret = {:?}\n",
            p.id, p.name, p.issuer, p.client_id, p.client_secret
        ));
        if let Some(mode) = &p.response_mode {
            out.push_str(&format!("response_mode = {mode:?}\n"));
        }
    }
    out
}

/// Hides the password of a `scheme://user:password@host/…` URL.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("email_from", &self.email_from)
            .field("sms_url", &self.sms_url)
            .field(
                "sms_authorization",
                &self.sms_authorization.as_ref().map(|_| "***"),
            )
            .field("sms_from", &self.sms_from)
            .field("client_ip_header", &self.client_ip_header)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closures' error type
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://lintel:s3cret@db.example:5432/lintel"),
            "postgres://lintel:***@db.example:5432/lintel"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite://lintel-data/lintel.db"),
            "sqlite://lintel-data/lintel.db"
        );
        let config = Config {
            database_url: Some("postgres://u:hunter2@h/db".into()),
            smtp_url: Some("smtps://mailer:hunter2@smtp.example.com".into()),
            sms_authorization: Some("Bearer hunter2".into()),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.to_redacted_toml().contains("hunter2"));
    }

    #[test]
    fn layers_override_in_order_and_unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lintel.toml",
                "listen = \"0.0.0.0:9000\"\nlog_level = \"debug\"\nmax_body_bytes = 1000\n",
            )?;
            jail.set_env("LINTEL_LOG_LEVEL", "warn");
            jail.set_env("LINTEL_TEST_POSTGRES_URL", "ignored");
            let flags = Overrides {
                listen: Some("127.0.0.1:9001".parse().unwrap()),
                ..Overrides::default()
            };
            let config = Config::load(Some(Path::new("lintel.toml")), flags).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9001); // flag beats file
            assert_eq!(config.log_level, "warn"); // environment beats file
            assert_eq!(config.max_body_bytes, 1000); // file beats default
            assert_eq!(config.database_url(), "sqlite://lintel-data/lintel.db");
            assert_eq!(config.public_url(), "http://127.0.0.1:9001");

            jail.create_file("bad.toml", "listen_address = \"x\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("listen_address"), "{err}");
            assert!(Config::load(Some(Path::new("missing.toml")), Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_printed_configuration_loads_back() {
        figment::Jail::expect_with(|jail| {
            let config = Config {
                database_url: Some("postgres://postgres@127.0.0.1/test".into()),
                log_format: LogFormat::Json,
                public_url: Some("https://access.example.com".into()),
                ..Config::default()
            };
            jail.create_file("printed.toml", &config.to_redacted_toml())?;
            assert_eq!(
                Config::load(Some(Path::new("printed.toml")), Overrides::default())
                    .map_err(|e| *e)?,
                config
            );
            Ok(())
        });
    }
}
