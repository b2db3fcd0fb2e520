// SPDX-License-Identifier: GPL-2.0

//! `cache replay`: runs a text trace of upserts, invalidations and lookups
//! through the module's mapping cache ([`crate::cache`]) and validation
//! ([`crate::mapping`]), and prints what the kernel would answer.
//!
//! The format (`Documentation/fuse_iomap/cache.rst`):
//!
//! ```text
//! config blocksize=<n> maxbytes=<n> cache_maxbytes=<n>
//! device <dev> <size_bytes>
//! upsert <read|write> <offset> <length> <type> <addr|-> <dev> <flags>
//! inval <read|write|both> <offset> <length|eof>
//! lookup <read|write> <offset>
//! dump <read|write>
//! ```

use crate::abi::{
    IomapInvalMappingsOut, IomapIo, IomapUpsertMappingsOut, MappingType, Range, INVAL_TO_EOF,
    NULL_ADDR,
};
use crate::cache::{CacheLimit, Fork, Forks, Lookup, Seq};
use crate::devices::DeviceTable;
use crate::mapping::Geometry;
use crate::notify;
use std::fmt;
use std::io::{self, Write};

/// A malformed trace line: its number (from 1) and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub what: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// Why [`run`] stopped.
#[derive(Debug)]
pub enum Error {
    /// A malformed line: the replay stops there.
    Trace(TraceError),
    /// Writing the output failed.
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

const TYPES: [(&str, MappingType); 8] = [
    ("hole", MappingType::Hole),
    ("delalloc", MappingType::Delalloc),
    ("mapped", MappingType::Mapped),
    ("unwritten", MappingType::Unwritten),
    ("inline", MappingType::Inline),
    ("pure_overwrite", MappingType::PureOverwrite),
    ("nocache", MappingType::NoCache),
    ("retry_cache", MappingType::RetryCache),
];

fn type_name(raw: u16) -> &'static str {
    TYPES
        .iter()
        .find(|(_, t)| *t as u16 == raw)
        .map_or("?", |(name, _)| name)
}

/// The state of a replay: one inode's cache and the connection around it.
struct Replay {
    geo: Geometry,
    devices: DeviceTable,
    forks: Forks,
    seq: Seq,
    configured: bool,
}

fn number(word: &str) -> Result<u64, String> {
    let parsed = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => word.parse(),
    };
    parsed.map_err(|_| format!("'{word}' is not a 64-bit decimal or 0x-hex number"))
}

fn small<T: TryFrom<u64>>(word: &str, what: &str) -> Result<T, String> {
    T::try_from(number(word)?).map_err(|_| format!("{what} '{word}' is out of range"))
}

fn fork(word: &str) -> Result<Fork, String> {
    match word {
        "read" => Ok(Fork::Read),
        "write" => Ok(Fork::Write),
        _ => Err(format!("fork '{word}' is not read or write")),
    }
}

fn args<'a, const N: usize>(words: &[&'a str], usage: &str) -> Result<[&'a str; N], String> {
    words.try_into().map_err(|_| format!("usage: {usage}"))
}

fn errname(e: kernel::error::Error) -> &'static str {
    e.name().unwrap_or("EUNKNOWN")
}

fn print_record(out: &mut impl Write, r: &IomapIo) -> io::Result<()> {
    write!(out, "{} {} {} ", r.offset, r.length, type_name(r.r#type))?;
    if r.addr == NULL_ADDR {
        write!(out, "-")?;
    } else {
        write!(out, "{}", r.addr)?;
    }
    write!(out, " {} {}", r.dev, r.flags)
}

impl Replay {
    fn new() -> Self {
        Self {
            geo: Geometry::DEFAULT,
            devices: DeviceTable::new(),
            forks: Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget()),
            seq: Seq::new(),
            configured: false,
        }
    }

    fn config(&mut self, words: &[&str]) -> Result<(), String> {
        if self.configured {
            return Err("config must be the first command".into());
        }
        let mut blocksize = Geometry::DEFAULT.blocksize;
        let mut maxbytes = Geometry::DEFAULT.maxbytes;
        let mut cache_maxbytes = 0;
        let mut seen = Vec::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("'{word}' is not key=value"))?;
            if seen.contains(&key) {
                return Err(format!("{key} given twice"));
            }
            seen.push(key);
            match key {
                "blocksize" => blocksize = number(value)?,
                "maxbytes" => maxbytes = number(value)?,
                "cache_maxbytes" => cache_maxbytes = small(value, "cache_maxbytes")?,
                _ => return Err(format!("unknown config key '{key}'")),
            }
        }
        let maxbytes =
            i64::try_from(maxbytes).map_err(|_| "maxbytes is past 2^63-1".to_string())?;
        self.geo = Geometry::new(blocksize, maxbytes).map_err(|_| {
            "blocksize must be a power of two from 512 to 2^30, maxbytes positive".to_string()
        })?;
        self.forks = Forks::new(
            CacheLimit::from_config(cache_maxbytes),
            crate::unbounded_budget(),
        );
        Ok(())
    }

    fn device(&mut self, words: &[&str]) -> Result<(), String> {
        let [dev, size] = args(words, "device <dev> <size_bytes>")?;
        let dev: u32 = small(dev, "device cookie")?;
        self.devices
            .add(dev, number(size)?)
            .map_err(|e| format!("device {dev} cannot be registered: {}", errname(e)))
    }

    fn upsert(&mut self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let [f, offset, length, ty, addr, dev, flags] = args(
            words,
            "upsert <read|write> <offset> <length> <type> <addr|-> <dev> <flags>",
        )?;
        let fork = fork(f)?;
        let ty = TYPES
            .iter()
            .find(|(name, _)| *name == ty)
            .ok_or_else(|| format!("unknown mapping type '{ty}'"))?
            .1;
        let map = IomapIo {
            offset: number(offset)?,
            length: number(length)?,
            addr: if addr == "-" {
                NULL_ADDR
            } else {
                number(addr)?
            },
            r#type: ty as u16,
            flags: small(flags, "flags")?,
            dev: small(dev, "device cookie")?,
        };
        let nocache = IomapIo {
            r#type: MappingType::NoCache as u16,
            ..IomapIo::default()
        };
        let (read, write) = match fork {
            Fork::Read => (map, nocache),
            Fork::Write => (nocache, map),
        };
        let msg = IomapUpsertMappingsOut {
            read,
            write,
            ..Default::default()
        };
        let result =
            notify::upsert_mappings(&mut self.forks, &self.seq, &msg, &self.geo, &self.devices);
        Ok(match result {
            Ok(()) => Ok(()),
            Err(e) => writeln!(out, "ERR {}", errname(e)),
        })
    }

    fn inval(&mut self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let [f, offset, length] = args(words, "inval <read|write|both> <offset> <length|eof>")?;
        let offset = number(offset)?;
        let length = if length == "eof" {
            INVAL_TO_EOF
        } else {
            number(length)?
        };
        let range = Range { offset, length };
        let none = Range::default();
        let (read, write) = match f {
            "read" => (range, none),
            "write" => (none, range),
            "both" => (range, range),
            _ => return Err(format!("fork '{f}' is not read, write or both")),
        };
        let msg = IomapInvalMappingsOut {
            read,
            write,
            ..Default::default()
        };
        Ok(
            match notify::inval_mappings(&mut self.forks, &self.seq, &msg, &self.geo) {
                Ok(()) => Ok(()),
                Err(e) => writeln!(out, "ERR {}", errname(e)),
            },
        )
    }

    fn lookup(&self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let [f, offset] = args(words, "lookup <read|write> <offset>")?;
        let answer = self.forks.lookup(&self.seq, fork(f)?, number(offset)?);
        Ok((|| match answer {
            Lookup::Hit(rec, cookie) => {
                write!(out, "HIT ")?;
                print_record(out, &rec)?;
                writeln!(out, " cookie={cookie}")
            }
            Lookup::Miss => writeln!(out, "MISS"),
            Lookup::NoFork => writeln!(out, "NOFORK"),
        })())
    }

    fn dump(&self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let [f] = args(words, "dump <read|write>")?;
        let fork = fork(f)?;
        Ok((|| {
            for rec in self.forks.records(fork) {
                print_record(out, rec)?;
                writeln!(out)?;
            }
            writeln!(out, "end {}", self.forks.len(fork))
        })())
    }

    fn line(&mut self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let (cmd, rest) = words.split_first().ok_or("empty line")?;
        if *cmd == "config" {
            self.config(rest)?;
            self.configured = true;
            return Ok(Ok(()));
        }
        self.configured = true;
        match *cmd {
            "device" => self.device(rest).map(Ok),
            "upsert" => self.upsert(out, rest),
            "inval" => self.inval(out, rest),
            "lookup" => self.lookup(out, rest),
            "dump" => self.dump(out, rest),
            _ => Err(format!("unknown command '{cmd}'")),
        }
    }
}

/// Replays `trace`, writing one line per answer to `out`. Stops at the
/// first malformed line.
pub fn run(trace: &str, out: &mut impl Write) -> Result<(), Error> {
    let mut replay = Replay::new();
    for (i, line) in trace.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        match replay.line(out, &words) {
            Ok(written) => written?,
            Err(what) => return Err(Error::Trace(TraceError { line: i + 1, what })),
        }
    }
    Ok(())
}
