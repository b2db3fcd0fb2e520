// SPDX-License-Identifier: GPL-2.0

//! The handshake of a connection: `FUSE_INIT`, then `FUSE_IOMAP_CONFIG`.
//!
//! The kernel offers `FUSE_IOMAP`, and `FUSE_DAX_FMAP` only to a server
//! with `CAP_SYS_RAWIO`; what the server's reply keeps of that offer is
//! what the connection has. A connection with iomap then asks for its
//! configuration: the server sets the block size, maxbytes and the cache
//! limit it likes, and leaves the rest at the defaults.
//!
//! The handshake's states and moves ([`Phase`], [`advance`]) live here too,
//! apart from the channel that sleeps on them, so that the host tests can
//! drive every order of replies through them.

use crate::abi::{
    InitIn, InitOut, IomapConfigIn, IomapConfigOut, CONFIG_BLOCKSIZE, CONFIG_CACHE_MAXBYTES,
    CONFIG_MAXBYTES, FUSE_DAX_FMAP, FUSE_DONT_MASK, FUSE_INIT_EXT, FUSE_IOMAP,
    FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION,
};
use crate::cache::CacheLimit;
use crate::errno::eproto;
use crate::mapping::Geometry;
use crate::request::MAX_IO;
use kernel::prelude::*;

/// The `FUSE_IOMAP_CONFIG` fields the kernel understands.
const CONFIG_FLAGS: u64 = CONFIG_BLOCKSIZE | CONFIG_MAXBYTES | CONFIG_CACHE_MAXBYTES;

/// What a connection negotiated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Features {
    /// `FUSE_IOMAP`: mappings come from the cache, BPF and `IOMAP_BEGIN`.
    pub(crate) iomap: bool,
    /// `FUSE_DAX_FMAP`: famfs files, opened with `GET_FMAP`.
    pub(crate) famfs: bool,
    /// `FUSE_DONT_MASK`: the server applies a new file's umask.
    pub(crate) dont_mask: bool,
    /// Protocol 7.16 or later: `FORGET`s may go as one `BATCH_FORGET`.
    pub(crate) batch_forget: bool,
    /// The most file data one `WRITE` carries: the server's `max_write`,
    /// at least a page (as fuse makes it) and at most [`MAX_IO`].
    pub(crate) max_write: u32,
}

impl Features {
    /// The mode of a new file or directory as `CREATE` and `MKDIR` carry
    /// it, next to `umask`: masked here, as fuse does (the superblock has
    /// `SB_POSIXACL`, so the VFS leaves the umask to us), unless the server
    /// applies it itself. libfuse servers such as fuse-overlayfs insist on
    /// `FUSE_DONT_MASK`.
    pub(crate) fn create_mode(features: Option<Features>, mode: u32, umask: u32) -> u32 {
        match features {
            Some(Features {
                dont_mask: true, ..
            }) => mode,
            _ => mode & !umask,
        }
    }
}

/// The smallest `max_write` a server gets, as fuse gives it: a page.
const MIN_WRITE: u32 = 4096;

/// The minor version that brought `FUSE_BATCH_FORGET`.
const BATCH_FORGET_MINOR: u32 = 16;

/// The 64 flag bits of an `INIT` message.
fn flags64(flags: u32, flags2: u32) -> u64 {
    let flags = u64::from(flags);
    if flags & FUSE_INIT_EXT == 0 {
        return flags;
    }
    flags | u64::from(flags2) << 32
}

/// The `FUSE_INIT` request; `famfs` if the server may have famfs.
pub(crate) fn init_in(famfs: bool) -> InitIn {
    let offer = FUSE_INIT_EXT | FUSE_DONT_MASK | FUSE_IOMAP | if famfs { FUSE_DAX_FMAP } else { 0 };
    InitIn {
        major: FUSE_KERNEL_VERSION,
        minor: FUSE_KERNEL_MINOR_VERSION,
        // The low and high halves of the offer.
        flags: offer as u32,
        flags2: (offer >> 32) as u32,
        ..InitIn::default()
    }
}

/// What the server's `FUSE_INIT` reply `out` keeps of the offer `offer`:
/// `EPROTO` for another major version, as fuse refuses it.
pub(crate) fn init_reply(offer: &InitIn, out: &InitOut) -> Result<Features> {
    if out.major != FUSE_KERNEL_VERSION {
        return Err(eproto());
    }
    let kept = flags64(offer.flags, offer.flags2) & flags64(out.flags, out.flags2);
    Ok(Features {
        iomap: kept & FUSE_IOMAP != 0,
        famfs: kept & FUSE_DAX_FMAP != 0,
        dont_mask: kept & FUSE_DONT_MASK != 0,
        batch_forget: out.minor >= BATCH_FORGET_MINOR,
        max_write: out.max_write.clamp(MIN_WRITE, MAX_IO as u32),
    })
}

/// The `FUSE_IOMAP_CONFIG` request: what the kernel understands, its
/// largest file and its default fork limit.
pub(crate) fn config_in() -> IomapConfigIn {
    IomapConfigIn {
        flags: CONFIG_FLAGS,
        maxbytes: Geometry::DEFAULT.maxbytes as i64,
        cache_maxbytes: CacheLimit::DEFAULT.bytes(),
        ..IomapConfigIn::default()
    }
}

/// The geometry and cache limit of the server's `FUSE_IOMAP_CONFIG` reply:
/// `EINVAL` for a flag the request did not offer, nonzero padding or a
/// geometry the cache cannot use.
pub(crate) fn config_reply(out: &IomapConfigOut) -> Result<(Geometry, CacheLimit)> {
    if out.flags & !CONFIG_FLAGS != 0 || out.padding.iter().any(|&p| p != 0) {
        return Err(EINVAL);
    }
    let set = |flag: u64| out.flags & flag != 0;
    let blocksize = if set(CONFIG_BLOCKSIZE) {
        u64::from(out.blocksize)
    } else {
        Geometry::DEFAULT.blocksize
    };
    let maxbytes = if set(CONFIG_MAXBYTES) {
        out.maxbytes
    } else {
        Geometry::DEFAULT.maxbytes as i64
    };
    let limit = if set(CONFIG_CACHE_MAXBYTES) {
        CacheLimit::from_config(out.cache_maxbytes)
    } else {
        CacheLimit::DEFAULT
    };
    Ok((Geometry::new(blocksize, maxbytes)?, limit))
}

/// Where the handshake of a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No client handle yet, so no `FUSE_INIT`.
    Idle,
    /// `FUSE_INIT` sent with `offer`.
    Init {
        /// The flags offered.
        offer: InitIn,
    },
    /// `FUSE_IOMAP_CONFIG` sent, for a connection with `features`.
    Config {
        /// What `FUSE_INIT` negotiated.
        features: Features,
    },
    /// Done: the connection has these features.
    Ready(Features),
    /// The server refused the handshake, or closed its file.
    Failed,
}

/// A reply to a handshake request, as far as the handshake cares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply<'a> {
    /// A `FUSE_INIT` reply.
    Init(&'a InitOut),
    /// A `FUSE_IOMAP_CONFIG` reply.
    Config(&'a IomapConfigOut),
    /// Any other reply.
    Other,
}

/// What the channel does after a handshake reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send `FUSE_IOMAP_CONFIG` (the phase is now [`Phase::Config`]).
    SendConfig,
    /// Apply the geometry and cache limit; once applied, the connection is
    /// [`Phase::Ready`] with these features.
    Configure(Geometry, CacheLimit, Features),
    /// Nothing: the connection is ready, without iomap.
    Done,
}

/// Moves `phase` on with the server's `reply` (or its error) to the
/// handshake request it answered. A reply the handshake refuses (the
/// server's error, another major version, a bad configuration, a reply out
/// of turn) fails the handshake: `phase` becomes [`Phase::Failed`] and the
/// error is returned.
pub(crate) fn advance(phase: &mut Phase, reply: Result<Reply<'_>>) -> Result<Next> {
    let next = match (*phase, reply) {
        (Phase::Init { offer }, Ok(Reply::Init(out))) => init_reply(&offer, out).map(|features| {
            if features.iomap {
                *phase = Phase::Config { features };
                Next::SendConfig
            } else {
                *phase = Phase::Ready(features);
                Next::Done
            }
        }),
        (Phase::Config { features }, Ok(Reply::Config(out))) => {
            config_reply(out).map(|(geo, limit)| Next::Configure(geo, limit, features))
        }
        (_, Err(e)) => Err(e),
        _ => Err(EINVAL),
    };
    if next.is_err() {
        *phase = Phase::Failed;
    }
    next
}
