//! `lintel`: runs the server, migrates its database, and does the operator's tasks.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::Duration;
use clap::{Parser, Subcommand};
use lintel_domain::{Area, Areas, Clock as _, EventActor, SystemClock};
use lintel_server::app::limits::SmsPolicy;
use lintel_server::app::orgs::{CreateOrganization, FirstOwner};
use lintel_server::app::server_key::ServerKey;
use lintel_server::app::{self, Actor, AppState, housekeeping, outbox};
use lintel_server::config::{Config, LogFormat, Overrides};
use lintel_server::{HttpOptions, notify, serve};
use lintel_store::{Audit, PageRequest, StoreError};
use tokio::net::TcpListener;

mod demo;

/// Lintel: self-hostable access control for doors, gates, lockers and storage units.
///
/// Settings come from built-in defaults, then the --config file, then LINTEL_* environment
/// variables (LINTEL_LISTEN, LINTEL_DATABASE_URL, LINTEL_DATA_DIR, LINTEL_LOG_FORMAT,
/// LINTEL_LOG_LEVEL, LINTEL_MAX_BODY_BYTES, LINTEL_PUBLIC_URL, LINTEL_SMTP_URL,
/// LINTEL_EMAIL_FROM, LINTEL_SMS_URL, LINTEL_SMS_AUTHORIZATION, LINTEL_SMS_FROM,
/// LINTEL_CLIENT_IP_HEADER), then these flags. With none of them, Lintel
/// keeps its data in ./lintel-data/lintel.db and listens on 127.0.0.1:8080.
#[derive(Debug, Parser)]
#[command(name = "lintel", version)]
struct Cli {
    /// A TOML configuration file; its keys are those `lintel config` prints.
    #[arg(long, global = true, env = "LINTEL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// The database: postgres://USER@HOST/DB for PostgreSQL, or sqlite://PATH for a SQLite
    /// file. Default: SQLite in the data directory.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,

    /// Where the embedded SQLite database is kept [default: ./lintel-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Log lines for people (human) or for log collectors (json) [default: human].
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,

    /// Which log lines to show, as a tracing filter such as `info` or
    /// `lintel_server=debug,sqlx=warn` [default: info].
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: migrate the database, then serve the HTTP API until SIGINT or SIGTERM.
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Run the server with a demo organization and a door controller with simulated readers
    /// and relays wired to its doors; print how to sign in and present a card.
    Demo {
        /// The address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// The demo organization's slug (made if missing; found again if made by a demo).
        #[arg(long, default_value = "demo")]
        slug: String,
        /// The email you sign in with, invited as the demo's owner.
        #[arg(long, default_value = "you@example.com")]
        owner_email: String,
        /// The local interface of the demo's controller (present cards, open doors).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
        controller_listen: SocketAddr,
        /// Seconds between the demo's walks through the front door.
        #[arg(long, default_value_t = 20)]
        walk_every: u64,
    },
    /// Apply the database migrations this version needs, then exit.
    Migrate,
    /// The operator's tasks: create organizations and API keys.
    #[command(subcommand)]
    Admin(Admin),
    /// Print the effective configuration as TOML, with passwords hidden.
    Config,
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Create an organization and invite its first owner. The owner becomes one by signing
    /// in (or registering) with that email or phone, or by opening the printed link.
    CreateOrg {
        /// The organization's URL name: 3 to 63 characters of a-z, 0-9 and '-'.
        #[arg(long)]
        slug: String,
        /// The organization's display name.
        #[arg(long)]
        name: String,
        /// Its IANA time zone, such as Europe/Stockholm.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// The first owner's email; the invitation goes there.
        #[arg(long, value_name = "EMAIL", conflicts_with = "owner_phone")]
        owner_email: Option<String>,
        /// The first owner's phone (E.164, e.g. +46701234567), instead of an email.
        #[arg(long, value_name = "PHONE")]
        owner_phone: Option<String>,
    },
    /// Create an API key and print its secret once, on standard output. Only a hash is kept.
    CreateApiKey {
        /// The organization (slug) the key acts for.
        #[arg(
            long,
            required_unless_present = "operator",
            conflicts_with = "operator"
        )]
        org: Option<String>,
        /// Make an operator key instead: it creates, lists and deletes organizations.
        #[arg(long)]
        operator: bool,
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// An admin area the key may use; repeat for several: members, delegation, doors,
        /// api, audit, owner (everything).
        #[arg(long = "area", value_name = "AREA", default_value = "owner")]
        areas: Vec<String>,
        /// Days until the key stops working [default: never].
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
    /// Set an organization's quotas on access links, or print them when given none.
    LinkQuotas {
        /// The organization (slug).
        #[arg(long)]
        org: String,
        /// Email links in use at once [default: 1000].
        #[arg(long, value_name = "N")]
        email_links: Option<u32>,
        /// SMS links sent per calendar month of the organization's time zone [default: 10].
        #[arg(long, value_name = "N")]
        sms_links_per_month: Option<u32>,
    },
    /// Lift the sign-in lock of an account that entered too many wrong codes (it also lifts
    /// by itself after 24 hours).
    UnlockAccount {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen, .. } => *listen,
        _ => None,
    };
    let config = Config::load(
        cli.config.as_deref(),
        Overrides {
            listen,
            database_url: cli.database_url,
            data_dir: cli.data_dir,
            log_format: cli.log_format,
            log_level: cli.log_level,
        },
    )
    .context("reading the configuration")?;
    init_logging(&config)?;

    match cli.command {
        Command::Config => {
            print!("{}", config.to_redacted_toml());
            Ok(())
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            tracing::info!(backend = store.backend(), "database is up to date");
            Ok(())
        }
        Command::Serve { .. } => run_server(&config).await,
        Command::Demo {
            slug,
            owner_email,
            controller_listen,
            walk_every,
            ..
        } => {
            let demo = demo::Demo {
                slug,
                owner_email,
                controller_listen,
                controller_data: config.data_dir.join("demo-controller"),
                walk_every: std::time::Duration::from_secs(walk_every.max(1)),
            };
            run_demo(&config, demo).await
        }
        Command::Admin(admin) => {
            let mut state = app_state(&config, open_store(&config).await?).await?;
            // Links this command puts in emails must be the ones the server answers on: its
            // own public_url when this shell has none set.
            if config.public_url.is_none()
                && let Some(url) = state.store.stored_public_url().await?
            {
                state.public_url = url.into();
            }
            run_admin(&state, &config, admin).await
        }
    }
}

fn init_logging(config: &Config) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .with_context(|| format!("log_level {:?} is not a valid filter", config.log_level))?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    Ok(())
}

async fn app_state(config: &Config, store: Arc<dyn lintel_store::Store>) -> Result<AppState> {
    let key = server_key(config)?;
    let stored = store
        .server_key_fingerprint(&key.fingerprint(), SystemClock.now())
        .await?;
    if stored != key.fingerprint() {
        bail!(
            "this database's PIN codes were made with another server key (fingerprint {stored}, \
             this one is {}): start Lintel with the secret_key it was first started with",
            key.fingerprint()
        );
    }
    Ok(AppState {
        store,
        clock: Arc::new(SystemClock),
        public_url: config.public_url().into(),
        rules: Arc::default(),
        key: Arc::new(key),
        sms: Arc::new(SmsPolicy {
            countries: config.sms_countries.clone(),
            per_hour: config.sms_per_hour,
        }),
        controllers: Arc::default(),
        oidc: Arc::new(lintel_server::app::oidc::Providers::new(
            config.oidc.clone(),
            &config.public_url(),
        )),
        passkeys: Arc::new(lintel_server::app::passkeys::Passkeys::new(
            &config.public_url(),
        )),
    })
}

/// The configured server key, or the one in the data directory, made there on first start.
fn server_key(config: &Config) -> Result<ServerKey> {
    if let Some(hex) = config.secret_key.as_deref() {
        return ServerKey::from_hex(hex)
            .context("secret_key must be 64 hexadecimal digits (openssl rand -hex 32)");
    }
    let path = config.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => ServerKey::from_hex(&text)
            .with_context(|| format!("{} does not hold 64 hexadecimal digits", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            lintel_store::create_private_dir(&config.data_dir)
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            let key = ServerKey::generate();
            let mut file = std::fs::OpenOptions::new();
            file.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
            std::io::Write::write_all(
                &mut file
                    .open(&path)
                    .with_context(|| format!("creating {}", path.display()))?,
                format!("{}\n", key.to_hex()).as_bytes(),
            )?;
            tracing::info!(path = %path.display(), "made a new server key: back it up");
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

async fn open_store(config: &Config) -> Result<Arc<dyn lintel_store::Store>> {
    let url = config.database_url();
    let shown = lintel_server::config::redact_url(&url);
    let store = lintel_store::connect(&url)
        .await
        .with_context(|| format!("opening the database {shown}"))?;
    let applied = store
        .migrate(SystemClock.now())
        .await
        .with_context(|| format!("migrating the database {shown}"))?;
    for name in applied {
        tracing::info!(migration = name, "applied migration");
    }
    Ok(store)
}

/// The database opened and migrated, the listener bound, the server's state.
async fn start(config: &Config) -> Result<(TcpListener, AppState)> {
    let store = open_store(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let state = app_state(config, store).await?;
    // Before it says it listens, so that a command run beside it finds the URL.
    state.store.remember_public_url(&state.public_url).await?;
    tracing::info!(
        %addr,
        backend = state.store.backend(),
        "Lintel is listening: HTTP API, web pages and gRPC (lintel.v1, with reflection)"
    );
    Ok((listener, state))
}

async fn run_demo(config: &Config, demo: demo::Demo) -> Result<()> {
    let (listener, state) = start(config).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve_until_stopped(config.clone(), listener, state.clone()));
    tokio::select! {
        ran = demo.run(&state, addr) => ran,
        served = server => served.context("the server stopped")?,
    }
}

async fn run_server(config: &Config) -> Result<()> {
    let (listener, state) = start(config).await?;
    let addr = listener.local_addr()?;
    let empty = state
        .store
        .list_orgs(PageRequest {
            limit: 1,
            after: None,
        })
        .await?
        .items
        .is_empty();
    if empty {
        print_first_steps(addr, config.smtp_url.is_none() || config.sms_url.is_none());
    }
    serve_until_stopped(config.clone(), listener, state).await
}

/// Serves HTTP (with gRPC), delivers messages and keeps house until SIGINT or SIGTERM.
async fn serve_until_stopped(config: Config, listener: TcpListener, state: AppState) -> Result<()> {
    let config = &config;
    let client_ip_header = config
        .client_ip_header
        .as_deref()
        .map(|h| {
            axum::http::HeaderName::try_from(h.trim())
                .with_context(|| format!("client_ip_header {h:?} is not a header name"))
        })
        .transpose()?;
    let options = HttpOptions {
        max_body_bytes: config.max_body_bytes,
        client_ip_header,
        timeouts: lintel_server::Timeouts::default(),
    };
    let transports = notify::from_config(config)?;
    if config.smtp_url.is_none() || config.sms_url.is_none() {
        tracing::info!(
            "no {} configured: those messages, links and codes included, go to this log",
            match (config.smtp_url.is_none(), config.sms_url.is_none()) {
                (true, true) => "email or SMS provider",
                (true, false) => "email provider (smtp_url)",
                _ => "SMS provider (sms_url)",
            }
        );
    }
    let delivery = tokio::spawn(outbox::run(state.clone(), Arc::new(transports)));
    let housekeeping = tokio::spawn(housekeeping::run(state.clone()));
    let served = serve(listener, state, options, shutdown_signal()).await;
    delivery.abort();
    housekeeping.abort();
    served.context("serving HTTP")?;
    tracing::info!("stopped");
    Ok(())
}

/// What a newcomer needs to do next on a fresh database, printed where they are looking.
fn print_first_steps(addr: SocketAddr, messages_to_log: bool) {
    let me = invoked_as();
    let where_codes_go = if messages_to_log {
        "The sign-in link and code will appear in this log (no email or SMS provider is configured)."
    } else {
        "The sign-in link goes by email and the code by SMS."
    };
    println!(
        "\nLintel is running. First create an organization with you as its owner, in another \
         terminal:\n\n\
         \x20 {me} admin create-org --slug acme --name \"Acme\" --owner-email you@example.com\n\n\
         Then create your account with that email in a browser: http://{addr}/register\n\
         {where_codes_go}\n\
         Once signed in, the dashboard is at http://{addr}/admin\n\n\
         For the API, a key: KEY=$({me} admin create-api-key --org acme --name first-key)\n\
         \x20 curl -H \"Authorization: Bearer $KEY\" http://{addr}/api/v1/orgs/acme\n\
         The API is described at http://{addr}/api/v1/openapi.json\n"
    );
}

/// How to run this same binary again: `cargo run …` when started by cargo.
fn invoked_as() -> String {
    let exe = std::env::args().next().unwrap_or_else(|| "lintel".into());
    if exe.contains("/target/") {
        "cargo run -q --bin lintel --".into()
    } else {
        exe
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn run_admin(state: &AppState, config: &Config, admin: Admin) -> Result<()> {
    match admin {
        Admin::CreateOrg {
            slug,
            name,
            time_zone,
            owner_email,
            owner_phone,
        } => {
            let owner = (owner_email.is_some() || owner_phone.is_some()).then_some(FirstOwner {
                email: owner_email,
                phone: owner_phone,
            });
            let created = app::orgs::create(
                state,
                &Actor::Console,
                CreateOrganization {
                    slug,
                    name,
                    time_zone: Some(time_zone),
                    settings: None,
                    owner,
                },
            )
            .await
            .map_err(explain)?;
            let org = &created.org;
            println!(
                "Created organization {} ({}), id {}, time zone {}.",
                org.slug,
                org.name,
                org.id,
                org.time_zone.name()
            );
            match &created.owner_invited {
                Some((address, link)) => eprintln!(
                    "Invited {address} as its owner. They become the owner when they sign in or \
                     register at {public}/register with that address, or by opening {link} \
                     (also sent to them).",
                    public = state.public_url
                ),
                None => eprintln!(
                    "It has no owner yet: give one with --owner-email next time, or use an API \
                     key: {} admin create-api-key --org {} --name NAME",
                    invoked_as(),
                    org.slug
                ),
            }
            Ok(())
        }
        Admin::CreateApiKey {
            org,
            operator: _,
            name,
            areas,
            expires_in_days,
        } => {
            let org = match org {
                Some(slug) => Some(state.store.get_org_by_slug(&slug).await.map_err(
                    |e| match e {
                        StoreError::NotFound => {
                            anyhow::anyhow!("there is no organization with slug {slug:?}")
                        }
                        other => other.into(),
                    },
                )?),
                None => None,
            };
            let areas = Areas::new(
                areas
                    .iter()
                    .map(|a| Area::parse("--area", a))
                    .collect::<Result<Vec<_>, _>>()?,
            );
            let expires_at =
                expires_in_days.map(|days| state.clock.now() + Duration::days(i64::from(days)));
            let issued = app::api_keys::issue(
                state,
                org.as_ref().map(|o| o.id),
                &name,
                areas,
                expires_at,
                None,
                Some(&Audit {
                    actor: EventActor::Console,
                    at: state.clock.now(),
                }),
            )
            .await
            .map_err(explain)?;
            let whose = match &org {
                Some(o) => format!("organization {}", o.slug),
                None => "the operator".into(),
            };
            let area_list: Vec<_> = issued.key.areas.iter().map(Area::as_str).collect();
            eprintln!(
                "Created API key {:?} ({}) for {whose}, areas: {}. The secret follows; it is \
                 shown only this once. Use it as 'Authorization: Bearer <secret>' on http://{}/api/v1/",
                issued.key.name,
                issued.key.prefix,
                if area_list.is_empty() {
                    "none (operator)".into()
                } else {
                    area_list.join(", ")
                },
                config.listen
            );
            println!("{}", issued.secret);
            Ok(())
        }
        Admin::LinkQuotas {
            org,
            email_links,
            sms_links_per_month,
        } => {
            let ctx = app::enter_org(state, Actor::Console, &org)
                .await
                .map_err(explain)?;
            let mut quotas = app::links::quotas(state, &ctx).await.map_err(explain)?;
            if email_links.is_some() || sms_links_per_month.is_some() {
                quotas.email_links = email_links.unwrap_or(quotas.email_links);
                quotas.sms_links_per_month =
                    sms_links_per_month.unwrap_or(quotas.sms_links_per_month);
                quotas = app::links::set_quotas(state, &ctx, quotas)
                    .await
                    .map_err(explain)?;
            }
            println!(
                "{}: at most {} email links in use, {} SMS links a month",
                org, quotas.email_links, quotas.sms_links_per_month
            );
            Ok(())
        }
        Admin::UnlockAccount { email } => unlock_account(state, &email).await,
    }
}

async fn unlock_account(state: &AppState, email: &str) -> Result<()> {
    let email =
        lintel_domain::Email::parse("--email", email).map_err(|e| anyhow::anyhow!(e.message))?;
    match state.store.unlock_account(&email).await {
        Ok(()) => {
            println!("Unlocked {email}: it can sign in again.");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(anyhow::anyhow!("there is no account with email {email}")),
        Err(other) => Err(other.into()),
    }
}

/// Use-case errors as one line for the terminal.
fn explain(err: app::Error) -> anyhow::Error {
    match err {
        app::Error::Invalid(v) => anyhow::anyhow!("{} ({})", v.message, v.code),
        other => anyhow::Error::new(other),
    }
}
