//! The `svchunt` command: a thin clap front end over the library.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Hunt remote service execution in Windows event logs.
#[derive(Parser)]
struct Cli {
    /// Files or folders to read.
    paths: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = svchunt::read::ReadOptions::default();
    let c = svchunt::hunt::collect(&cli.paths, &opts);
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    for e in &c.events {
        println!("{} {} {} {}", e.time, e.computer, e.event_id, e.origin);
    }
    eprintln!("{:?}", c.stats);
    ExitCode::SUCCESS
}
