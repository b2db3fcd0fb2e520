// SPDX-License-Identifier: GPL-2.0

//! `cache replay [FILE]`: replays a mapping-cache trace (standard input
//! without FILE) through the module's own cache code and prints what the
//! kernel would answer. Exit status 0, or 2 with `line <n>: <what>` on
//! standard error for a malformed trace line.

use fuse_iomap::replay;
use std::io::{self, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: cache replay [FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = match args.as_slice() {
        [cmd] if cmd == "replay" => None,
        [cmd, path] if cmd == "replay" => Some(path.as_str()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let trace = match path {
        Some(path) => std::fs::read_to_string(path),
        None => {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s).map(|_| s)
        }
    };
    let trace = match trace {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("cache: {}: {e}", path.unwrap_or("standard input"));
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = replay::run(&trace, &mut out);
    let flushed = out.flush();
    match result
        .map_err(Some)
        .and(flushed.map_err(|e| Some(replay::Error::Io(e))))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(Some(replay::Error::Trace(e))) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(Some(replay::Error::Io(e))) => {
            eprintln!("cache: writing the output: {e}");
            ExitCode::from(1)
        }
        Err(None) => ExitCode::from(1),
    }
}
