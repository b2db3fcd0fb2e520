// SPDX-License-Identifier: GPL-2.0

//! `fmap check`, `fmap resolve` and `fmap build`: the logic behind
//! `tools/fuse_iomap/fmap.rs`, on the module's own parser ([`crate::fmap`]).

use crate::fmap::{Fmap, Rejected, EXT_SIMPLE};
use crate::fmap_build::{Ext, FmapSpec, Group, Layout};

/// Why a command failed.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The module would refuse the fmap or the resolution: exit status 1,
    /// `error: <ERRNAME>: <reason>`.
    Rejected(String),
    /// The command line is wrong: exit status 2.
    Usage(String),
}

fn rejected(r: Rejected) -> Failure {
    Failure::Rejected(format!(
        "{}: {}",
        r.error.name().unwrap_or("EUNKNOWN"),
        r.reason
    ))
}

/// `fmap check`: the summary of a valid fmap as one JSON object.
pub fn check(buf: &[u8]) -> Result<String, Failure> {
    let f = Fmap::parse(buf).map_err(rejected)?;
    let devices: Vec<String> = (0..32)
        .filter(|i| f.devices() & (1 << i) != 0)
        .map(|i| i.to_string())
        .collect();
    let ext = if f.ext_type() == EXT_SIMPLE {
        "simple"
    } else {
        "interleave"
    };
    Ok(format!(
        "{{\"file_type\":{},\"file_size\":{},\"ext_type\":\"{}\",\"nextents\":{},\"devices\":[{}]}}",
        f.file_type(),
        f.file_size(),
        ext,
        f.nextents(),
        devices.join(",")
    ))
}

/// Where the `len` file bytes at `offset` of the fmap `buf` live, as the
/// module resolves them: daxdev index, device offset and length (up to
/// the end of their extent or chunk). What a server that answers
/// `iomap_begin` for famfs files answers with.
pub fn locate(buf: &[u8], offset: u64, len: u64) -> Result<(u32, u64, u64), Failure> {
    let f = Fmap::parse(buf).map_err(rejected)?;
    let r = f.resolve(offset, len).map_err(rejected)?;
    Ok((r.dev_index, r.dev_offset, r.length))
}

/// `fmap resolve`: where the file bytes at `offset` live, as one JSON
/// object.
pub fn resolve(buf: &[u8], offset: u64, len: u64) -> Result<String, Failure> {
    let (dev_index, dev_offset, length) = locate(buf, offset, len)?;
    Ok(format!(
        "{{\"dev_index\":{dev_index},\"dev_offset\":{dev_offset},\"length\":{length}}}"
    ))
}

/// A number: decimal or `0x` hex, with an optional binary `K`, `M` or `G`.
pub fn number(word: &str) -> Result<u64, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "'{word}' is not a number (decimal or 0x hex, optional K, M, G)"
        ))
    };
    let (digits, shift) = match word.as_bytes().last() {
        Some(b'K' | b'k') => (&word[..word.len() - 1], 10),
        Some(b'M' | b'm') => (&word[..word.len() - 1], 20),
        Some(b'G' | b'g') => (&word[..word.len() - 1], 30),
        _ => (word, 0),
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .map_err(|_| bad())?;
    n.checked_mul(1 << shift).ok_or_else(bad)
}

fn small<T: TryFrom<u64>>(word: &str) -> Result<T, Failure> {
    T::try_from(number(word)?).map_err(|_| Failure::Usage(format!("'{word}' is out of range")))
}

fn ext(word: &str) -> Result<Ext, Failure> {
    match word.split(':').collect::<Vec<_>>()[..] {
        [dev, offset, len] => Ok(Ext {
            dev: small(dev)?,
            offset: number(offset)?,
            len: number(len)?,
        }),
        _ => Err(Failure::Usage(format!(
            "extent '{word}' is not INDEX:OFFSET:LENGTH"
        ))),
    }
}

fn group(word: &str) -> Result<Group, Failure> {
    let usage = || Failure::Usage(format!("group '{word}' is not CHUNK:NBYTES=STRIP,STRIP..."));
    let (head, strips) = word.split_once('=').ok_or_else(usage)?;
    let (chunk, nbytes) = head.split_once(':').ok_or_else(usage)?;
    Ok(Group {
        chunk: small(chunk)?,
        nbytes: number(nbytes)?,
        strips: strips.split(',').map(ext).collect::<Result<_, _>>()?,
    })
}

/// The usage of `fmap build`.
pub const BUILD_USAGE: &str = "\
fmap build [OPTIONS] simple INDEX:OFFSET:LENGTH...
fmap build [OPTIONS] interleave CHUNK:NBYTES=INDEX:OFFSET:LENGTH,...  ...
  Writes a GET_FMAP reply. Numbers are decimal or 0x hex, with an optional
  K, M or G. Options (for hostile replies, all but -o and --size):
  -o FILE          write to FILE, not standard output
  --size N         file size (default: the bytes the extents hold)
  --file-type N    file_type (default 0, regular)
  --version N      fmap_version (default 1)
  --ext-type N     ext_type (default: the layout's)
  --nextents N     nextents (default: the number given)
  --reserved N     the value of every reserved field (default 0)
  --trailing N     zero bytes after the last extent (default 0)";

/// `fmap build`: the reply described by `args`, and where to write it.
pub fn build(args: &[String]) -> Result<(Vec<u8>, Option<String>), Failure> {
    let mut out = None;
    let mut size = None;
    let mut spec = FmapSpec::new(Layout::Simple(Vec::new()));
    let mut it = args.iter();
    let kind = loop {
        let arg = it
            .next()
            .ok_or_else(|| Failure::Usage(BUILD_USAGE.into()))?;
        if !arg.starts_with('-') {
            break arg.as_str();
        }
        let value = it
            .next()
            .ok_or_else(|| Failure::Usage(format!("{arg} needs a value")))?;
        match arg.as_str() {
            "-o" => out = Some(value.clone()),
            "--size" => size = Some(number(value)?),
            "--file-type" => spec.file_type = small(value)?,
            "--version" => spec.version = small(value)?,
            "--ext-type" => spec.ext_type = Some(small(value)?),
            "--nextents" => spec.nextents = Some(small(value)?),
            "--reserved" => spec.reserved = number(value)?,
            "--trailing" => spec.trailing = small(value)?,
            _ => {
                return Err(Failure::Usage(format!(
                    "unknown option {arg}\n{BUILD_USAGE}"
                )))
            }
        }
    };
    let rest: Vec<&String> = it.collect();
    let layout = match kind {
        "simple" => Layout::Simple(rest.iter().map(|w| ext(w)).collect::<Result<_, _>>()?),
        "interleave" => {
            Layout::Interleave(rest.iter().map(|w| group(w)).collect::<Result<_, _>>()?)
        }
        _ => {
            return Err(Failure::Usage(format!(
                "'{kind}' is not simple or interleave\n{BUILD_USAGE}"
            )))
        }
    };
    let fresh = FmapSpec::new(layout);
    spec.file_size = size.unwrap_or(fresh.file_size);
    spec.layout = fresh.layout;
    Ok((spec.build(), out))
}
