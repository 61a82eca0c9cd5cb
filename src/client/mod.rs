//! The `rpm-ostree` command line client: parses argv, talks to the daemon, and
//! renders what it says. It never links daemon modules: only the bus contract.

pub mod cli;
mod cmd;
mod connection;
mod json;
mod pkgdiff;
mod progress;
mod status_text;
mod txn;

pub use pkgdiff::daemon_executable;

use clap::Parser;
use clap::error::ErrorKind;
use std::ffi::OsString;
use std::process::ExitCode;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Ok,
    /// Nothing changed (`--unchanged-exit-77`, `upgrade --check` without update),
    /// or a pending deployment exists (`status --pending-exit-77`).
    Unchanged,
}

fn version_text() -> String {
    format!(
        "rpm-ostree:\n Version: '{}'\n Git: {}\n Features:\n  - rust\n  - bin-unit-tests\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("RPMOSTREE_GIT_REV").unwrap_or("unknown")
    )
}

fn print_error(msg: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[31merror: \x1b[0m{msg}");
    } else {
        eprintln!("error: {msg}");
    }
}

/// Runs the client with `args` (argv, program name first).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let mut utf8 = Vec::with_capacity(args.len());
    for a in &args {
        match a.to_str() {
            Some(s) => utf8.push(s.to_string()),
            None => {
                print_error(&format!(
                    "Argument is invalid UTF-8: {}",
                    a.to_string_lossy()
                ));
                return ExitCode::FAILURE;
            }
        }
    }
    if utf8.len() > 1 && utf8[1..].iter().any(|a| a == "--version") {
        print!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    let cli = match cli::Cli::try_parse_from(&utf8) {
        Ok(c) => c,
        Err(e) => return clap_error(e, &utf8),
    };
    let Some(command) = cli.command else {
        let _ = <cli::Cli as clap::CommandFactory>::command().print_help();
        return ExitCode::FAILURE;
    };
    // What the daemon shows as the transaction title: argv after the program
    // name, each followed by a space.
    let cmdline: String = utf8[1..].iter().map(|a| format!("{a} ")).collect();
    let ctx = cmd::Context {
        quiet: cli.quiet,
        cmdline,
    };
    match cmd::run(command, &ctx) {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Unchanged) => ExitCode::from(77),
        Err(e) => {
            print_error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn clap_error(e: clap::Error, args: &[String]) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::FAILURE
        }
        ErrorKind::InvalidSubcommand => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            eprintln!("{}", cmd.render_help());
            let unknown = args
                .iter()
                .skip(1)
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_default();
            print_error(&format!("Unknown command '{unknown}'"));
            ExitCode::FAILURE
        }
        _ => {
            let _ = e.print();
            ExitCode::FAILURE
        }
    }
}
