//! The `ingest` binary: configuration, telemetry, then the server until SIGTERM/SIGINT.

use audience_ingest::config::IngestSettings;

/// mimalloc: a webhook allocates and frees many small buffers (body, parsed strings, hashes,
/// the envelope); with glibc's malloc ingest used ~20% more CPU per request
/// (`make bench-ingest`, docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use audience_ingest::startup::Application;

/// The main thread only supervises (signals, the broker's connection manager and its socket's
/// readiness); the HTTP workers are actix's own threads. One thread is enough for that.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let _telemetry = audience_runtime::telemetry::init("ingest");
    let settings = match IngestSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ingest: configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let shutdown = audience_runtime::shutdown::on_signal();
    let run = async {
        let app = Application::build(settings)?;
        tracing::info!(port = app.port(), "Ingest listening.");
        app.run_until_stopped(shutdown).await
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error.cause_chain = ?error, error.message = %error, "Ingest failed.");
            eprintln!("ingest: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
