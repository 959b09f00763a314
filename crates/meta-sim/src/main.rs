//! The `meta-sim` binary: serves the simulator until Ctrl-C or SIGTERM.

use std::io::Write;

use anyhow::Context;
use audience_meta_sim::{SimConfig, spawn_at};
use clap::Parser;

/// A Meta Graph API simulator (Conversions API and Custom Audiences), state in memory.
#[derive(Debug, Parser)]
#[command(name = "meta-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "META_SIM_BIND", default_value = "127.0.0.1:8090")]
    bind: String,
    /// JSON configuration file (accounts, budgets, fault delays). Without it, the development
    /// account is registered: token `dev-token`, ad account `1000`, pixel `2000`.
    #[arg(long, env = "META_SIM_CONFIG")]
    config: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match &args.config {
        Some(path) => SimConfig::from_file(path)?,
        None => SimConfig::dev(),
    };
    let accounts = config.accounts.clone();
    let sim = spawn_at(config, &args.bind).await?;

    let mut banner = format!("meta-sim listening on {}\n", sim.base_url());
    for account in &accounts {
        banner.push_str(&format!(
            "  access_token={} ad_account=act_{} pixels=[{}]\n",
            account.access_token,
            account.bare_ad_account_id(),
            account.pixel_ids.join(", ")
        ));
    }
    std::io::stdout()
        .write_all(banner.as_bytes())
        .context("Failed to print the start-up banner")?;

    let handle = sim.handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("Shutdown signal received; stopping.");
        handle.stop(true).await;
    });
    sim.wait().await
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
