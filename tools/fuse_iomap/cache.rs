// SPDX-License-Identifier: GPL-2.0

//! `cache`: the module's mapping cache on the host.
//!
//! - `cache replay [--policy clock|drop] [FILE]` replays a mapping-cache
//!   trace (standard input without FILE) through the module's own cache
//!   code and prints what the kernel would answer.
//! - `cache workload NAME` prints the trace of an access pattern
//!   (`sequential`, `zipf`, `hotset`, `mixed`).
//! - `cache compare` replays every workload under both policies and prints
//!   the upcalls of each, as a table.
//!
//! Exit status 0; 2 for a bad command line, or with `line <n>: <what>` on
//! standard error for a malformed trace line; 1 when output fails.

use clap::{Args, Parser, Subcommand};
use fuse_iomap::replay::{self, CachePolicy, Stats};
use fuse_iomap::workload::{self, Params};
use std::io::{self, Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cache", about = "The module's mapping cache on the host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replays a trace and prints what the kernel would answer.
    Replay {
        /// What a full fork gives up: the module's CLOCK eviction, or the
        /// C series' whole-fork drop.
        #[arg(long, value_enum, default_value = "clock")]
        policy: CachePolicy,
        /// The trace; standard input without it.
        file: Option<String>,
    },
    /// Prints the trace of an access pattern.
    Workload {
        /// sequential, zipf, hotset or mixed.
        name: String,
        #[command(flatten)]
        params: Sizes,
    },
    /// Replays every workload under both policies; prints the upcalls.
    Compare {
        #[command(flatten)]
        params: Sizes,
        /// Write a reStructuredText table.
        #[arg(long)]
        rst: bool,
    },
}

#[derive(Args)]
struct Sizes {
    /// Extents in the file.
    #[arg(long, default_value_t = Params::default().extents)]
    extents: u64,
    /// Accesses made.
    #[arg(long, default_value_t = Params::default().accesses)]
    accesses: u64,
    /// The seed of the random choices.
    #[arg(long, default_value_t = Params::default().seed)]
    seed: u64,
    /// The limit of each fork, in bytes (as the server configures it).
    #[arg(long, default_value_t = Params::default().cache_maxbytes)]
    cache_maxbytes: u32,
}

impl Sizes {
    fn params(&self) -> Params {
        Params {
            extents: self.extents,
            accesses: self.accesses,
            seed: self.seed,
            cache_maxbytes: self.cache_maxbytes,
        }
    }
}

/// Why the tool stops: its message and exit status.
struct Failure(String, u8);

fn io_failure(e: io::Error) -> Failure {
    Failure(format!("cache: writing the output: {e}"), 1)
}

fn replay_failure(e: replay::Error) -> Failure {
    match e {
        replay::Error::Trace(e) => Failure(e.to_string(), 2),
        replay::Error::Io(e) => io_failure(e),
    }
}

fn read_trace(file: Option<&str>) -> Result<String, Failure> {
    let trace = match file {
        Some(path) => std::fs::read_to_string(path),
        None => {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s).map(|_| s)
        }
    };
    trace.map_err(|e| {
        Failure(
            format!("cache: {}: {e}", file.unwrap_or("standard input")),
            2,
        )
    })
}

/// The trace of workload `name`.
fn trace_of(name: &str, p: &Params) -> Result<String, Failure> {
    let mut trace = Vec::new();
    match workload::write(name, p, &mut trace) {
        None => Err(Failure(
            format!(
                "cache: unknown workload '{name}' (one of {})",
                workload::NAMES.join(", ")
            ),
            2,
        )),
        Some(written) => {
            written.map_err(io_failure)?;
            Ok(String::from_utf8(trace).expect("workloads are ASCII"))
        }
    }
}

fn compare(p: &Params, rst: bool, out: &mut impl Write) -> Result<(), Failure> {
    let rows: Vec<[String; 8]> = workload::NAMES
        .iter()
        .map(|name| {
            let trace = trace_of(name, p)?;
            let stats = |policy| -> Result<Stats, Failure> {
                replay::run_with(&trace, policy, &mut io::sink()).map_err(replay_failure)
            };
            let (drop, clock) = (stats(CachePolicy::DropFork)?, stats(CachePolicy::Clock)?);
            let ratio = match clock.capacity {
                0 => "-".to_string(),
                c => format!("{:.1}", drop.capacity as f64 / c as f64),
            };
            Ok([
                name.to_string(),
                drop.accesses.to_string(),
                drop.first.to_string(),
                drop.upcalls.to_string(),
                clock.upcalls.to_string(),
                drop.capacity.to_string(),
                clock.capacity.to_string(),
                ratio,
            ])
        })
        .collect::<Result<_, Failure>>()?;
    let head = [
        "workload",
        "accesses",
        "first",
        "upcalls drop",
        "upcalls clock",
        "capacity drop",
        "capacity clock",
        "drop/clock",
    ]
    .map(String::from);
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .chain([&head])
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut dyn Write, r: &[String; 8]| -> io::Result<()> {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| match i {
                0 => format!("{c:<w$}"),
                _ => format!("{c:>w$}"),
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())
    };
    let rule = |out: &mut dyn Write| -> io::Result<()> {
        let cells: Vec<String> = widths.iter().map(|w| "=".repeat(*w)).collect();
        writeln!(out, "{}", cells.join("  "))
    };
    (|| {
        if rst {
            rule(out)?;
        }
        line(out, &head)?;
        rule(out)?;
        for r in &rows {
            line(out, r)?;
        }
        if rst {
            rule(out)?;
        }
        Ok(())
    })()
    .map_err(io_failure)
}

fn run(cli: Cli, out: &mut impl Write) -> Result<(), Failure> {
    match cli.command {
        Command::Replay { policy, file } => {
            let trace = read_trace(file.as_deref())?;
            replay::run_with(&trace, policy, out)
                .map(|_| ())
                .map_err(replay_failure)
        }
        Command::Workload { name, params } => {
            let trace = trace_of(&name, &params.params())?;
            out.write_all(trace.as_bytes()).map_err(io_failure)
        }
        Command::Compare { params, rst } => compare(&params.params(), rst, out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = run(cli, &mut out).and_then(|()| out.flush().map_err(io_failure));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg, status)) => {
            // What was written before a malformed line stays written.
            let _ = out.flush();
            eprintln!("{msg}");
            ExitCode::from(status)
        }
    }
}
