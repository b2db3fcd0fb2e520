// SPDX-License-Identifier: GPL-2.0

//! `fmap`: famfs file maps through the module's own parser.
//!
//! - `fmap check FILE`: exit 0 and a JSON summary, or exit 1 and
//!   `error: <ERRNAME>: <reason>` for a reply the module would refuse;
//! - `fmap resolve FILE OFFSET LEN`: exit 0 and where those bytes live, or
//!   exit 1 as for check (`EIO` for an offset that cannot be resolved);
//! - `fmap build ...`: writes a reply (`fmap build` without arguments says
//!   how).
//!
//! A wrong command line exits with status 2.

use fuse_iomap::fmap_tool::{self, Failure};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: fmap check FILE | fmap resolve FILE OFFSET LEN | fmap build ...";

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))
}

fn run(args: &[String]) -> Result<(), Failure> {
    match args {
        [cmd, file] if cmd == "check" => {
            println!("{}", fmap_tool::check(&read(file)?)?);
            Ok(())
        }
        [cmd, file, offset, len] if cmd == "resolve" => {
            let (offset, len) = (fmap_tool::number(offset)?, fmap_tool::number(len)?);
            println!("{}", fmap_tool::resolve(&read(file)?, offset, len)?);
            Ok(())
        }
        [cmd, rest @ ..] if cmd == "build" => {
            let (bytes, out) = fmap_tool::build(rest)?;
            let written = match out {
                Some(path) => std::fs::write(&path, bytes).map_err(|e| format!("{path}: {e}")),
                None => std::io::stdout()
                    .write_all(&bytes)
                    .map_err(|e| e.to_string()),
            };
            written.map_err(Failure::Usage)
        }
        _ => Err(Failure::Usage(USAGE.into())),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Rejected(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("fmap: {e}");
            ExitCode::from(2)
        }
    }
}
