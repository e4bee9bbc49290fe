//! The `dealflow` binary: one file per subcommand under `command/`.

mod command;
mod telemetry;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = command::Cli::parse();
    telemetry::init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(cli.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line (with its causes), never a panic trace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
