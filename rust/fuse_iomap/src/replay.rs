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
//! server <read|write> <offset> <length> <type> <addr|-> <dev> <flags>
//! access <read|write> <offset>
//! stats
//! ```
//!
//! The last three play a server and its clients, to judge a cache policy
//! by the upcalls it causes: `server` sets what the server answers for a
//! range, `access` is an `iomap_begin` (a lookup, and on a miss an upcall
//! whose answer the server upserts before the kernel looks again), and
//! `stats` counts them.

use crate::abi::{
    IomapInvalMappingsOut, IomapIo, IomapUpsertMappingsOut, MappingType, Range, INVAL_TO_EOF,
    NULL_ADDR,
};
use crate::cache::{CacheLimit, Fork, Forks, Lookup, Policy, Seq};
use crate::devices::DeviceTable;
use crate::mapping::Geometry;
use crate::notify;
use std::collections::{BTreeMap, BTreeSet};
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

/// The upcalls an access pattern caused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// `access` commands.
    pub accesses: u64,
    /// Accesses the cache answered.
    pub hits: u64,
    /// Accesses that missed: each an upcall.
    pub upcalls: u64,
    /// Misses on a server record not fetched before (or changed or
    /// invalidated since): no policy avoids them.
    pub first: u64,
    /// The other misses: what the cache had and gave up.
    pub capacity: u64,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stats accesses={} hits={} upcalls={} first={} capacity={}",
            self.accesses, self.hits, self.upcalls, self.first, self.capacity
        )
    }
}

/// The server's answers for one fork, by offset, and which of them the
/// kernel fetched since they last changed.
#[derive(Default)]
struct ServerFork {
    records: BTreeMap<u64, IomapIo>,
    fetched: BTreeSet<u64>,
}

impl ServerFork {
    fn at(&self, off: u64) -> Option<IomapIo> {
        let (_, r) = self.records.range(..=off).next_back()?;
        (off - r.offset < r.length).then_some(*r)
    }

    /// Forgets that the records meeting `[offset, end)` were fetched.
    fn unfetch(&mut self, offset: u64, end: u64) {
        let first = self.at(offset).map_or(offset, |r| r.offset);
        let hit: Vec<u64> = self.fetched.range(first..end).copied().collect();
        for off in hit {
            self.fetched.remove(&off);
        }
    }
}

/// The state of a replay: one inode's cache and the connection around it.
struct Replay {
    geo: Geometry,
    devices: DeviceTable,
    forks: Forks,
    seq: Seq,
    policy: Policy,
    configured: bool,
    server: [ServerFork; 2],
    stats: Stats,
}

fn fork_index(fork: Fork) -> usize {
    match fork {
        Fork::Read => 0,
        Fork::Write => 1,
    }
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

/// The mapping of an `upsert` or `server` line: its words after the fork.
fn mapping(words: &[&str]) -> Result<IomapIo, String> {
    let [offset, length, ty, addr, dev, flags] = words
        .try_into()
        .map_err(|_| "expected <offset> <length> <type> <addr|-> <dev> <flags>".to_string())?;
    let ty = TYPES
        .iter()
        .find(|(name, _)| *name == ty)
        .ok_or_else(|| format!("unknown mapping type '{ty}'"))?
        .1;
    Ok(IomapIo {
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
    })
}

impl Replay {
    fn new(policy: Policy) -> Self {
        Self {
            geo: Geometry::DEFAULT,
            devices: DeviceTable::new(),
            forks: Forks::with_policy(CacheLimit::DEFAULT, policy, crate::unbounded_budget()),
            seq: Seq::new(),
            policy,
            configured: false,
            server: Default::default(),
            stats: Stats::default(),
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
        self.forks = Forks::with_policy(
            CacheLimit::from_config(cache_maxbytes),
            self.policy,
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
        let usage = "usage: upsert <read|write> <offset> <length> <type> <addr|-> <dev> <flags>";
        let (f, rest) = words.split_first().ok_or(usage)?;
        let fork = fork(f)?;
        let map = mapping(rest).map_err(|e| format!("{e}; {usage}"))?;
        Ok(match self.notify_upsert(fork, map) {
            Ok(()) => Ok(()),
            Err(e) => writeln!(out, "ERR {}", errname(e)),
        })
    }

    /// An upsert notification of `map` into `fork`, the other half
    /// `NOCACHE`.
    fn notify_upsert(&mut self, fork: Fork, map: IomapIo) -> kernel::error::Result {
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
        notify::upsert_mappings(&mut self.forks, &self.seq, &msg, &self.geo, &self.devices)
    }

    fn server(&mut self, words: &[&str]) -> Result<(), String> {
        let usage = "usage: server <read|write> <offset> <length> <type> <addr|-> <dev> <flags>";
        let (f, rest) = words.split_first().ok_or(usage)?;
        let fork = fork(f)?;
        let map = mapping(rest).map_err(|e| format!("{e}; {usage}"))?;
        let end = map
            .offset
            .checked_add(map.length)
            .filter(|_| map.length > 0)
            .ok_or("a server record must be non-empty and end before 2^64")?;
        let server = &mut self.server[fork_index(fork)];
        let overlaps = server.records.range(..end).next_back().map(|(_, r)| *r);
        match overlaps {
            Some(r) if r.offset + r.length <= map.offset => {}
            Some(r) if r.offset == map.offset && r.length == map.length => {}
            Some(r) => {
                return Err(format!(
                    "server record at {} overlaps part of the one at {}",
                    map.offset, r.offset
                ))
            }
            None => {}
        }
        server.fetched.remove(&map.offset);
        server.records.insert(map.offset, map);
        Ok(())
    }

    fn access(&mut self, out: &mut impl Write, words: &[&str]) -> Result<io::Result<()>, String> {
        let [f, offset] = args(words, "access <read|write> <offset>")?;
        let (mut fork, off) = (fork(f)?, number(offset)?);
        self.stats.accesses += 1;
        let mut answer = self.forks.lookup(&self.seq, fork, off);
        if answer == Lookup::NoFork {
            // Writes overwrite the read mapping.
            fork = Fork::Read;
            answer = self.forks.lookup(&self.seq, fork, off);
        }
        if let Lookup::Hit(..) = answer {
            self.stats.hits += 1;
            return Ok(Ok(()));
        }
        self.stats.upcalls += 1;
        let server = &mut self.server[fork_index(fork)];
        let rec = server
            .at(off)
            .ok_or_else(|| format!("the server maps nothing at {off} in the {f} fork"))?;
        if server.fetched.insert(rec.offset) {
            self.stats.first += 1;
        } else {
            self.stats.capacity += 1;
        }
        // The server upserts its answer and answers RETRY_CACHE; the
        // kernel looks again.
        if let Err(e) = self.notify_upsert(fork, rec) {
            return Ok(writeln!(out, "ERR {}", errname(e)));
        }
        self.forks.lookup(&self.seq, fork, off);
        Ok(Ok(()))
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
        let end = offset.saturating_add(length);
        for (server, range) in self.server.iter_mut().zip([read, write]) {
            if range.length != 0 {
                server.unfetch(offset, end);
            }
        }
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
            "server" => self.server(rest).map(Ok),
            "access" => self.access(out, rest),
            "stats" => match rest {
                [] => Ok(writeln!(out, "{}", self.stats)),
                _ => Err("usage: stats".into()),
            },
            _ => Err(format!("unknown command '{cmd}'")),
        }
    }
}

/// Replays `trace` under the module's cache policy, writing one line per
/// answer to `out`. Stops at the first malformed line.
pub fn run(trace: &str, out: &mut impl Write) -> Result<(), Error> {
    replay(trace, Policy::DEFAULT, out).map(|_| ())
}

/// The cache policies a replay can run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CachePolicy {
    /// The module's: CLOCK eviction.
    Clock,
    /// The C series': the whole fork dropped.
    #[value(name = "drop")]
    DropFork,
}

/// [`run`] under `policy`; returns the counts of the `access` commands.
pub fn run_with(trace: &str, policy: CachePolicy, out: &mut impl Write) -> Result<Stats, Error> {
    let policy = match policy {
        CachePolicy::Clock => Policy::Clock,
        CachePolicy::DropFork => Policy::DropFork,
    };
    replay(trace, policy, out)
}

fn replay(trace: &str, policy: Policy, out: &mut impl Write) -> Result<Stats, Error> {
    let mut replay = Replay::new(policy);
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
    Ok(replay.stats)
}
