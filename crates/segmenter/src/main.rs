//! The `segmenter` binary: `segmenter migrate` creates the database if needed and applies the
//! migrations; `segmenter run` runs the service until SIGTERM/SIGINT.

use std::process::ExitCode;

use audience_segmenter::config::SegmenterSettings;
use audience_segmenter::db::migrate;
use audience_segmenter::startup::Application;
use clap::{Parser, Subcommand};

/// Customer state, lifecycle segments and the Meta outbox (audience-sync).
#[derive(Debug, Parser)]
#[command(name = "segmenter", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if it does not exist and apply the pending migrations (DATABASE_URL).
    Migrate,
    /// Consume store events, relay the outbox and sweep, until SIGTERM or SIGINT.
    Run,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _telemetry = audience_runtime::telemetry::init("segmenter");
    let settings = match SegmenterSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("segmenter: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Migrate => migrate::migrate(&settings.database_url)
            .await
            .map(|applied| {
                tracing::info!(applied = applied.len(), versions = ?applied, "Migrations applied.");
            })
            .map_err(anyhow::Error::from),
        Command::Run => {
            let shutdown = audience_runtime::shutdown::on_signal();
            match Application::build(settings) {
                Ok(app) => {
                    tracing::info!(port = app.port(), "Segmenter listening.");
                    app.run_until_stopped(shutdown).await
                }
                Err(error) => Err(error),
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error.cause_chain = ?error, error.message = %error, "Segmenter failed.");
            eprintln!("segmenter: {error:#}");
            ExitCode::FAILURE
        }
    }
}
