//! `audiencectl`: parses the command line and hands over to [`audience_cli::execute`].

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    audience_cli::execute(audience_cli::Cli::parse())
}
