// SPDX-License-Identifier: GPL-2.0

//! The requests of a channel, and the framing of what a server writes.
//!
//! A request is queued when a caller submits it, sent when the server reads
//! it, and answered when the server writes a reply with its `unique`; the
//! caller then takes the answer and frees the request. A caller that gives
//! up (a signal) frees its request in whatever state it is: a later reply
//! to it is for an unknown `unique`, as on `/dev/fuse` after an interrupt.
//! Requests of the handshake have no caller: their replies are handled by
//! the writer, and the request is freed when it is answered.
//!
//! Once the connection is aborted (the server closed its file), nothing
//! more can be submitted and every waiting caller's answer is `ENOTCONN`.
//!
//! The table is generic over the answer's payload so that it holds the
//! kernel's typed replies and, on the host, whatever a test likes.

use crate::abi::{
    InHeader, OutHeader, FUSE_GET_DAXDEV, FUSE_GET_FMAP, FUSE_INIT, FUSE_IOMAP_BEGIN,
    FUSE_IOMAP_CONFIG, FUSE_IOMAP_END, FUSE_IOMAP_IOEND,
};
use crate::errno::enotconn;
use crate::fuse_abi::{
    AttrOut, BatchForgetIn, EntryOut, ForgetOne, Kstatfs, OpenOut, WriteOut, FUSE_BATCH_FORGET,
    FUSE_CREATE, FUSE_DESTROY, FUSE_FALLOCATE, FUSE_FORGET, FUSE_FSYNC, FUSE_GETATTR, FUSE_LOOKUP,
    FUSE_MKDIR, FUSE_OPEN, FUSE_OPENDIR, FUSE_READ, FUSE_READDIR, FUSE_RELEASE, FUSE_RELEASEDIR,
    FUSE_RENAME, FUSE_RMDIR, FUSE_SETATTR, FUSE_STATFS, FUSE_UNLINK, FUSE_WRITE,
};
use core::mem::size_of;
use kernel::prelude::*;

/// The largest arguments of a request: `RENAME`'s `struct fuse_rename_in`
/// and two names of up to 255 bytes, each NUL-terminated.
pub(crate) const MAX_ARGS: usize = 8 + 2 * 256;

/// The most `FORGET`s one `BATCH_FORGET` carries: as many
/// `struct fuse_forget_one` as fit in the arguments after its
/// `struct fuse_batch_forget_in`.
pub(crate) const MAX_BATCH_FORGET: usize =
    (MAX_ARGS - size_of::<BatchForgetIn>()) / size_of::<ForgetOne>();

/// The largest reply but `READ`'s: a `GET_FMAP` reply fills at most a
/// page.
pub(crate) const MAX_REPLY: usize = 4096;

/// The most file data one `READ` reply or `WRITE` request carries, as
/// fuse's default of 32 pages.
pub(crate) const MAX_IO: usize = 128 * 1024;

/// The size of `struct fuse_in_header` and of `struct fuse_out_header`.
const IN_HEADER: usize = core::mem::size_of::<InHeader>();
const OUT_HEADER: usize = core::mem::size_of::<OutHeader>();

/// The most negative error a reply may carry, exclusive, as on `/dev/fuse`.
const MAX_ERRNO: i32 = 512;

/// Who gets a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A task that waits for it.
    Waiting,
    /// Nobody: the writer of the reply handles it (`INIT`, `IOMAP_CONFIG`).
    Handshake,
    /// Nobody, and no reply comes (`FORGET`): freed once the server read it.
    NoReply,
}

/// The credentials a request carries in its header: the caller's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Creds {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) pid: u32,
}

/// A request's arguments, kept inline: every request's fit in a few words.
#[derive(Clone, Copy)]
pub(crate) struct Args {
    buf: [u8; MAX_ARGS],
    len: usize,
}

impl Args {
    /// The arguments `bytes`; `EINVAL` if they are longer than any request's.
    pub(crate) fn new(bytes: &[u8]) -> Result<Self> {
        let mut buf = [0; MAX_ARGS];
        buf.get_mut(..bytes.len())
            .ok_or(EINVAL)?
            .iter_mut()
            .zip(bytes)
            .for_each(|(d, s)| *d = *s);
        Ok(Self {
            buf,
            len: bytes.len(),
        })
    }

    /// The arguments made of `parts`, one after the other; `EINVAL` if they
    /// are longer than any request's.
    pub(crate) fn concat(parts: &[&[u8]]) -> Result<Self> {
        let mut args = Self {
            buf: [0; MAX_ARGS],
            len: 0,
        };
        for part in parts {
            args.push(part)?;
        }
        Ok(args)
    }

    /// Appends `part`: `EINVAL` if it does not fit.
    fn push(&mut self, part: &[u8]) -> Result {
        let end = self.len.checked_add(part.len()).ok_or(EINVAL)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(EINVAL)?
            .copy_from_slice(part);
        self.len = end;
        Ok(())
    }

    /// The bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

enum State<P> {
    Queued,
    Sent,
    Answered(Result<P>),
}

struct Request<P> {
    header: InHeader,
    args: Args,
    /// File data after the arguments (`WRITE`'s), until sent.
    data: KVec<u8>,
    caller: Caller,
    state: State<P>,
}

/// A request as the server reads it.
pub(crate) struct Sent {
    pub(crate) header: InHeader,
    pub(crate) args: Args,
    pub(crate) data: KVec<u8>,
}

/// The handle of a submitted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    slot: usize,
    unique: u64,
}

/// What the server is replying to: a sent request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) opcode: u32,
    pub(crate) nodeid: u64,
    pub(crate) caller: Caller,
}

/// The requests of one connection.
pub(crate) struct Requests<P> {
    slots: KVec<Option<Request<P>>>,
    next_unique: u64,
    queued: usize,
    aborted: bool,
}

impl<P> Requests<P> {
    /// No requests.
    pub(crate) const fn new() -> Self {
        Self {
            slots: KVec::new(),
            next_unique: 0,
            queued: 0,
            aborted: false,
        }
    }

    /// Queues a request with `data` after its arguments (empty for all but
    /// `WRITE`, at most [`MAX_IO`] bytes); `ENOTCONN` once aborted. Uniques
    /// are even and never 0, as on `/dev/fuse`.
    pub(crate) fn submit(
        &mut self,
        opcode: u32,
        nodeid: u64,
        args: &[u8],
        data: KVec<u8>,
        creds: Creds,
        caller: Caller,
    ) -> Result<Ticket> {
        if self.aborted {
            return Err(enotconn());
        }
        if data.len() > MAX_IO {
            return Err(EINVAL);
        }
        let args = Args::new(args)?;
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(slot) => slot,
            None => {
                self.slots.push(None, GFP_KERNEL_ACCOUNT)?;
                self.slots.len() - 1
            }
        };
        self.next_unique += 2;
        let unique = self.next_unique;
        self.slots[slot] = Some(Request {
            header: InHeader {
                // At most 40 + MAX_ARGS + MAX_IO bytes.
                len: (IN_HEADER + args.len + data.len()) as u32,
                opcode,
                unique,
                nodeid,
                uid: creds.uid,
                gid: creds.gid,
                pid: creds.pid,
                total_extlen: 0,
                padding: 0,
            },
            args,
            data,
            caller,
            state: State::Queued,
        });
        self.queued += 1;
        Ok(Ticket { slot, unique })
    }

    /// Whether a request waits to be read.
    pub(crate) fn has_queued(&self) -> bool {
        self.queued != 0
    }

    /// Whether the connection is aborted.
    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// The slot of the oldest queued request, of opcode `only` if given.
    fn oldest_queued(&self, only: Option<u32>) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, r)| Some((slot, r.as_ref()?)))
            .filter(|(_, r)| matches!(r.state, State::Queued))
            .filter(|(_, r)| only.map_or(true, |op| r.header.opcode == op))
            .min_by_key(|(_, r)| r.header.unique)
            .map(|(slot, _)| slot)
    }

    /// Marks the oldest queued request sent and returns it, to be copied to
    /// the server. A request without a reply is freed: nothing will answer
    /// it, and a copy that fails loses it, as a lost `FORGET` only leaves the
    /// server an inode to keep. When the oldest is a `FORGET` and others are
    /// queued, up to [`MAX_BATCH_FORGET`] of them go as one `BATCH_FORGET`,
    /// as fuse reads its forget list: an unmount or a cache shrink that
    /// drops thousands of inodes costs the server a read per batch. Only
    /// with `batch_forget`: the server speaks protocol 7.16 or later.
    pub(crate) fn send_next(&mut self, batch_forget: bool) -> Option<Sent> {
        let slot = self.oldest_queued(None)?;
        let req = self.slots[slot].as_ref()?;
        if batch_forget
            && req.header.opcode == FUSE_FORGET
            && self.slots.iter().flatten().any(|r| {
                r.header.opcode == FUSE_FORGET
                    && r.header.unique != req.header.unique
                    && matches!(r.state, State::Queued)
            })
        {
            return Some(self.send_batch_forget());
        }
        let entry = &mut self.slots[slot];
        self.queued -= 1;
        let req = entry.as_mut()?;
        let sent = Sent {
            header: req.header,
            args: req.args,
            data: core::mem::take(&mut req.data),
        };
        if req.caller == Caller::NoReply {
            *entry = None;
        } else {
            req.state = State::Sent;
        }
        Some(sent)
    }

    /// Frees the oldest queued `FORGET`s, up to [`MAX_BATCH_FORGET`], and
    /// returns the `BATCH_FORGET` that carries them. Like fuse's, it is
    /// nobody's request: no credentials, and the unique of its first.
    fn send_batch_forget(&mut self) -> Sent {
        let mut args = Args {
            buf: [0; MAX_ARGS],
            len: size_of::<BatchForgetIn>(),
        };
        let mut unique = 0;
        let mut count = 0;
        while count < MAX_BATCH_FORGET {
            let Some(slot) = self.oldest_queued(Some(FUSE_FORGET)) else {
                break;
            };
            let Some(req) = self.slots[slot].take() else {
                break;
            };
            self.queued -= 1;
            if count == 0 {
                unique = req.header.unique;
            }
            let mut nlookup = [0; 8];
            nlookup.copy_from_slice(&req.args.as_bytes()[..8]);
            let one = ForgetOne {
                nodeid: req.header.nodeid,
                nlookup: u64::from_ne_bytes(nlookup),
            };
            // Cannot fail: MAX_BATCH_FORGET records fit in the arguments.
            if args.push(&one.to_ne_bytes()).is_err() {
                break;
            }
            count += 1;
        }
        let head = BatchForgetIn {
            // At most MAX_BATCH_FORGET.
            count: count as u32,
            dummy: 0,
        };
        args.buf[..size_of::<BatchForgetIn>()].copy_from_slice(&head.to_ne_bytes());
        let header = InHeader {
            // At most 40 + MAX_ARGS bytes.
            len: (IN_HEADER + args.len) as u32,
            opcode: FUSE_BATCH_FORGET,
            unique,
            ..InHeader::default()
        };
        Sent {
            header,
            args,
            data: KVec::new(),
        }
    }

    /// Puts a sent request back in the queue, with its `data`: its copy to
    /// the server failed.
    pub(crate) fn unsend(&mut self, unique: u64, data: KVec<u8>) {
        if let Some(req) = self.find_mut(unique) {
            if matches!(req.state, State::Sent) {
                req.state = State::Queued;
                req.data = data;
                self.queued += 1;
            }
        }
    }

    fn find_mut(&mut self, unique: u64) -> Option<&mut Request<P>> {
        self.slots
            .iter_mut()
            .flatten()
            .find(|r| r.header.unique == unique)
    }

    /// The sent request `unique`: `ENOENT` if there is none, as for a reply
    /// to an unknown, unsent or already answered request on `/dev/fuse`.
    pub(crate) fn target(&mut self, unique: u64) -> Result<Target> {
        match self.find_mut(unique) {
            Some(req) if matches!(req.state, State::Sent) => Ok(Target {
                opcode: req.header.opcode,
                nodeid: req.header.nodeid,
                caller: req.caller,
            }),
            _ => Err(ENOENT),
        }
    }

    /// Answers the sent request `unique` (`ENOENT` if there is none): its
    /// caller takes the answer; a handshake request is freed.
    pub(crate) fn answer(&mut self, unique: u64, answer: Result<P>) -> Result {
        let slot = self
            .slots
            .iter()
            .position(|r| {
                r.as_ref()
                    .is_some_and(|r| r.header.unique == unique && matches!(r.state, State::Sent))
            })
            .ok_or(ENOENT)?;
        match &mut self.slots[slot] {
            Some(req) if req.caller == Caller::Waiting => req.state = State::Answered(answer),
            entry => *entry = None,
        }
        Ok(())
    }

    /// Takes the answer of `ticket` and frees it; `None` while unanswered.
    pub(crate) fn take(&mut self, ticket: Ticket) -> Option<Result<P>> {
        let entry = self.slots.get_mut(ticket.slot)?;
        let answered = entry.as_ref().is_some_and(|r| {
            r.header.unique == ticket.unique && matches!(r.state, State::Answered(_))
        });
        if !answered {
            return None;
        }
        match entry.take()?.state {
            State::Answered(answer) => Some(answer),
            _ => None,
        }
    }

    /// Frees `ticket`'s request, whatever its state: its caller gave up.
    pub(crate) fn cancel(&mut self, ticket: Ticket) {
        if let Some(entry) = self.slots.get_mut(ticket.slot) {
            if entry
                .as_ref()
                .is_some_and(|r| r.header.unique == ticket.unique)
            {
                if entry
                    .as_ref()
                    .is_some_and(|r| matches!(r.state, State::Queued))
                {
                    self.queued -= 1;
                }
                *entry = None;
            }
        }
    }

    /// Aborts the connection: every waiting caller's answer is `ENOTCONN`,
    /// handshake requests are dropped, and nothing more can be submitted.
    pub(crate) fn abort(&mut self) {
        self.aborted = true;
        self.queued = 0;
        for entry in self.slots.iter_mut() {
            match entry {
                Some(req) if req.caller == Caller::Waiting => {
                    if !matches!(req.state, State::Answered(_)) {
                        req.state = State::Answered(Err(enotconn()));
                    }
                }
                _ => *entry = None,
            }
        }
    }

    /// How many requests are held, in any state: for the host tests' model.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }
}

/// What a write to the channel is, from its `fuse_out_header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// A notification (`unique == 0`) with its code and payload size.
    Notify { code: i32, size: usize },
    /// A reply to request `unique`: an error, or a payload of `size` bytes.
    Reply {
        unique: u64,
        error: Option<i32>,
        size: usize,
    },
}

/// Checks the header `oh` of a write of `len` bytes, as `/dev/fuse` does:
/// `EINVAL` unless the header fits and gives the write's length, and, for a
/// reply, its error is 0 or a negative errno above -512 and comes alone.
pub(crate) fn parse_header(oh: &OutHeader, len: usize) -> Result<Message> {
    if len < OUT_HEADER || oh.len as usize != len || len > OUT_HEADER + MAX_IO {
        return Err(EINVAL);
    }
    let size = len - OUT_HEADER;
    if oh.unique == 0 {
        return Ok(Message::Notify {
            code: oh.error,
            size,
        });
    }
    let error = match oh.error {
        0 => None,
        e if e < 0 && e > -MAX_ERRNO && size == 0 => Some(e),
        _ => return Err(EINVAL),
    };
    Ok(Message::Reply {
        unique: oh.unique,
        error,
        size,
    })
}

/// Whether `size` bytes are a reply's size for requests of `opcode`: the
/// exact size of its reply structure, or for `GET_FMAP` anything from an
/// fmap header to a page (the fmap's own rules judge the rest).
pub(crate) fn reply_size_ok(opcode: u32, size: usize) -> bool {
    match opcode {
        FUSE_INIT | FUSE_IOMAP_CONFIG | FUSE_IOMAP_BEGIN => size == 64,
        FUSE_LOOKUP | FUSE_MKDIR => size == size_of::<EntryOut>(),
        FUSE_GETATTR | FUSE_SETATTR => size == size_of::<AttrOut>(),
        FUSE_OPEN | FUSE_OPENDIR => size == size_of::<OpenOut>(),
        FUSE_CREATE => size == size_of::<EntryOut>() + size_of::<OpenOut>(),
        FUSE_STATFS => size == size_of::<Kstatfs>(),
        FUSE_READDIR => size <= MAX_REPLY,
        FUSE_READ => size <= MAX_IO,
        FUSE_WRITE => size == size_of::<WriteOut>(),
        FUSE_IOMAP_END | FUSE_UNLINK | FUSE_RMDIR | FUSE_RENAME | FUSE_RELEASE
        | FUSE_RELEASEDIR | FUSE_FSYNC | FUSE_FALLOCATE | FUSE_DESTROY => size == 0,
        FUSE_IOMAP_IOEND => size == 8,
        FUSE_GET_FMAP => (32..=MAX_REPLY).contains(&size),
        FUSE_GET_DAXDEV => size == 280,
        _ => false,
    }
}
