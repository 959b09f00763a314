//! `audiencectl`, the audience-sync command-line tool: the command-line interface and the
//! dispatch to one module per subcommand (mini-redis' one-file-per-command layout). `main.rs`
//! only parses the arguments and calls [`execute`], so every subcommand is testable as a library.
//!
//! Subcommands:
//! - [`hash`]: normalize and hash customer data exactly as the services do before sending it to
//!   Meta, one JSON line in, one JSON line out.
//! - [`segments`]: each customer of a shop with segment, counted orders, spend and last order
//!   time, and the count per segment, from the segmenter's database.

pub mod hash;
pub mod segments;

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tools for audience-sync (Shopify customer data → Meta ads).
#[derive(Debug, Parser)]
#[command(name = "audiencectl", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Normalize and SHA-256-hash customer data the way it is sent to Meta (JSON lines on stdin).
    #[command(long_about = hash::LONG_ABOUT, after_help = hash::EXIT_STATUS)]
    Hash,
    /// List a shop's customers with their lifecycle segment, and the count per segment.
    #[command(after_help = segments::EXIT_STATUS)]
    Segments(segments::SegmentsArgs),
}

/// Runs a parsed command line and returns the process exit code.
pub fn execute(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Hash => run_hash(),
        Command::Segments(args) => segments::execute(&args),
    }
}

/// `audiencectl hash` on stdin/stdout.
fn run_hash() -> ExitCode {
    let stdin = io::stdin().lock();
    // Someone typing lines wants each answer at once; a pipe is served faster in blocks.
    let result = if io::stdin().is_terminal() {
        hash::run(stdin, io::stdout().lock())
    } else {
        let mut out = io::BufWriter::new(io::stdout().lock());
        hash::run(stdin, &mut out).and_then(|summary| out.flush().map(|()| summary))
    };
    match result {
        Ok(summary) => summary.exit_code(),
        Err(e) => {
            // Nothing else can report it: the output itself is what failed (or the input).
            let _ = writeln!(io::stderr(), "audiencectl hash: {e}");
            ExitCode::from(hash::EXIT_IO_ERROR)
        }
    }
}
