//! `consult serve` (the HTTP server: the REST API and the public hub) and `consult copy`.
//! The only commands that use consult-api.

use crate::{CliError, Result};
use clap::Args;
use consult_app::App;
use consult_store::Store;
use std::io::Write;

/// Arguments of `consult serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONSULT_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Load example data if the database is empty.
    #[arg(long)]
    demo: bool,
    /// Behind a reverse proxy: take client addresses from X-Forwarded-For (the right-most
    /// address that is not a trusted proxy, when the connection comes from a trusted proxy).
    #[arg(long, env = "CONSULT_TRUST_PROXY")]
    trust_proxy: bool,
    /// A trusted reverse proxy, as an address or a network in CIDR notation (repeatable;
    /// implies --trust-proxy). Without any, loopback and the private ranges are trusted.
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        env = "CONSULT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<consult_api::extract::Cidr>,
    /// Anonymous writes allowed per client per minute (0: no limit). A client is an IPv4
    /// address or an IPv6 /64.
    #[arg(long, env = "CONSULT_ANONYMOUS_WRITES_PER_MINUTE", default_value_t = 30)]
    anonymous_writes_per_minute: u32,
    /// Anonymous reads allowed per client per minute, cached or not (0: no limit).
    #[arg(long, env = "CONSULT_ANONYMOUS_READS_PER_MINUTE", default_value_t = 600)]
    anonymous_reads_per_minute: u32,
    /// The address the public reaches the server at, e.g. https://consult.example.gov.uk.
    /// When it is https://, the hub's anti-forgery cookie is `__Host-` prefixed and `Secure`.
    #[arg(long, env = "CONSULT_PUBLIC_URL", value_parser = public_url)]
    public_url: Option<String>,
    /// Milliseconds an anonymous read (the public register, forward plan, library, hub pages)
    /// is answered from this instance's cache (0: never). Writes through the instance empty it.
    #[arg(long, env = "CONSULT_PUBLIC_CACHE_MS", default_value_t = 1000)]
    public_cache_ms: u64,
    /// Days a resident's registration waits for its verification code before it is deleted
    /// (swept hourly).
    #[arg(long, env = "CONSULT_UNVERIFIED_DAYS", default_value_t = consult_app::DEFAULT_UNVERIFIED_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=365))]
    unverified_days: u32,
    /// Staff also sign in through this OpenID Connect provider (its issuer, e.g.
    /// https://login.microsoftonline.com/<tenant>/v2.0). consult's client id and secret there
    /// come from CONSULT_OIDC_CLIENT_ID and CONSULT_OIDC_CLIENT_SECRET; register
    /// <public url>/staff/sign-in/oidc/callback as its redirect address (--public-url needed).
    #[arg(long, env = "CONSULT_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    #[command(flatten)]
    delivery: crate::outbox::DeliveryArgs,
}

/// Deletes unverified registrations older than the configured days, queues the day's
/// briefings (councillors' digests, coordinators' alerts; from 07:00 UTC) and forgets staff
/// sessions and failed sign-ins no longer of use, now and then every hour, for as long as the
/// server runs. A failed sweep is logged (its count, never a person) and tried again an hour
/// later.
async fn sweep_unverified(app: App) {
    let actor = consult_core::Actor {
        name: "consult serve (hourly sweep)".into(),
        role: consult_core::Role::Admin,
        organisation: None,
        staff: None,
    };
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The last day the briefings were queued.
    let mut briefed = None;
    loop {
        every.tick().await;
        match app.purge_unverified(&actor).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted unverified registrations"),
            Err(e) => tracing::warn!(error = %e, "sweeping unverified registrations failed"),
        }
        match app.sweep_briefings(briefed).await {
            Ok((q, day)) => {
                briefed = day;
                if q.digests + q.alerts > 0 {
                    tracing::info!(digests = q.digests, alerts = q.alerts, "queued briefings");
                }
            }
            Err(e) => tracing::warn!(error = %e, "queueing briefings failed"),
        }
        match app.purge_sign_in().await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "forgot idle staff sessions"),
            Err(e) => tracing::warn!(error = %e, "forgetting idle staff sessions failed"),
        }
    }
}

/// `--public-url`: an http:// or https:// address.
pub(crate) fn public_url(s: &str) -> std::result::Result<String, String> {
    let lower = s.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://")) && !s.contains(char::is_whitespace) {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err("the public URL starts with https:// (or http:// for local use)".into())
    }
}

/// Arguments of `consult copy`.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The SQLite database, `sqlite://PATH`.
    #[arg(long)]
    from: String,
    /// The PostgreSQL database, `postgres://...` (created and migrated if new; it must hold
    /// no data yet).
    #[arg(long)]
    to: String,
}

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise.
pub(crate) fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a terminal only: logs written to files and journals stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// `consult serve`: migrate, load the demo data if asked, build the caches, then serve until
/// interrupted.
/// The identity provider of `--oidc-issuer`, discovered now (a provider that cannot be reached
/// or a setting missing stops the server with the reason, rather than failing at sign-in).
async fn oidc_provider(issuer: &str, public_url: Option<&str>) -> Result<consult_app::oidc::OidcProvider> {
    let input = |m: &str| crate::CliError::Input(m.to_owned());
    let public_url = public_url.ok_or_else(|| {
        input("--oidc-issuer needs --public-url: the provider sends browsers back to <public url>/staff/sign-in/oidc/callback")
    })?;
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| input(&format!("--oidc-issuer needs {name} in the environment")))
    };
    let settings = consult_app::oidc::OidcSettings {
        issuer: issuer.to_owned(),
        client_id: var("CONSULT_OIDC_CLIENT_ID")?,
        client_secret: var("CONSULT_OIDC_CLIENT_SECRET")?,
        redirect_url: format!("{}/staff/sign-in/oidc/callback", public_url.trim_end_matches('/')),
    };
    consult_app::oidc::OidcProvider::discover(settings)
        .await
        .map_err(|e| input(&format!("--oidc-issuer {issuer}: {e}")))
}

pub(crate) async fn serve(database: &str, args: &ServeArgs) -> Result<()> {
    init_logging();
    let limits = consult_api::Limits {
        trust_forwarded_for: args.trust_proxy || !args.trusted_proxies.is_empty(),
        trusted_proxies: args.trusted_proxies.clone(),
        anonymous_writes_per_minute: args.anonymous_writes_per_minute,
        anonymous_reads_per_minute: args.anonymous_reads_per_minute,
        public_url: args.public_url.clone(),
        public_cache: std::time::Duration::from_millis(args.public_cache_ms),
        ..consult_api::Limits::default()
    };
    let store = Store::connect(database).await?;
    let mut app = App::new(store).with_unverified_days(args.unverified_days);
    if let Some(url) = &args.public_url {
        app = app.with_public_url(url);
    }
    if let Some(token) = &args.delivery.notify_callback_token {
        if token.len() < 10 {
            return Err(crate::CliError::Input(
                "--notify-callback-token must be at least 10 characters (Notify asks the same)".into(),
            ));
        }
        app = app.with_provider_token(token.clone());
    }
    if let Some(issuer) = &args.oidc_issuer {
        app = app.with_oidc(oidc_provider(issuer, args.public_url.as_deref()).await?);
    }
    let deliverer = args.delivery.deliverer(&app)?;
    if args.demo && app.load_demo_if_empty().await? {
        tracing::info!("loaded the demo data");
    }
    let warmed = app.warm().await?;
    tracing::info!(activities = warmed.activities, "overlap index built");
    tracing::info!(residents = warmed.residents, "residents' audience index built");
    let bind = &args.bind;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| CliError::Input(format!("cannot listen on {bind}: {e}")))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %redact(database), "consult listening on http://{addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let sweep = tokio::spawn(sweep_unverified(app.clone()));
    let (stop_delivery, delivery_stopped) = tokio::sync::oneshot::channel::<()>();
    let delivery = match deliverer {
        Some(d) => {
            tracing::info!(channels = ?d.channels(), "delivering the outbox");
            Some(tokio::spawn(async move {
                d.run(async {
                    let _ = delivery_stopped.await;
                })
                .await;
            }))
        }
        None => {
            tracing::info!(
                "no delivery channel configured (--smtp-url, --notify-api-key): messages stay queued in the outbox"
            );
            None
        }
    };
    let state = consult_api::AppState::from_app(app.clone()).with_limits(limits);
    let served = consult_api::serve(listener, state, shutdown).await;
    sweep.abort();
    // The round in progress finishes and records its outcomes before the server stops.
    let _ = stop_delivery.send(());
    if let Some(d) = delivery {
        let _ = d.await;
    }
    served?;
    app.close().await;
    Ok(())
}

/// `consult copy --from sqlite://... --to postgres://...`.
pub(crate) async fn copy(args: &CopyArgs) -> Result<()> {
    let (from, to) = (args.from.as_str(), args.to.as_str());
    if !from.starts_with("sqlite:") || !(to.starts_with("postgres:") || to.starts_with("postgresql:")) {
        return Err(CliError::Input(
            "copy moves a deployment from --from sqlite://PATH to --to postgres://...".into(),
        ));
    }
    if from
        .strip_prefix("sqlite://")
        .is_some_and(|path| !std::path::Path::new(path).exists())
    {
        return Err(CliError::Input(format!("there is no SQLite database at {from}")));
    }
    let source = Store::connect(from).await?;
    let target = Store::connect(to).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    let result = consult_store::copy::copy_deployment(&source, &target, |table, rows| {
        bar.set_message(format!("{table}: {rows} rows"));
        bar.tick();
    })
    .await;
    bar.finish_and_clear();
    source.close().await;
    target.close().await;
    let tables = result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<32} {:>10}  checksum", "table", "rows")?;
    for t in &tables {
        writeln!(out, "{:<32} {:>10}  {}", t.table, t.rows, t.checksum)?;
    }
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    eprintln!(
        "consult: copied {} tables, {rows} rows, from {} to {}; counts and checksums agree",
        tables.len(),
        redact(from),
        redact(to)
    );
    Ok(())
}

/// The URL without a password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}
