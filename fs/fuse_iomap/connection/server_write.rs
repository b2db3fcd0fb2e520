// SPDX-License-Identifier: GPL-2.0

//! The server's writes: replies and notifications, framed as on
//! `/dev/fuse` and dispatched to the channel's callers or to the caches. A
//! write the framing refuses changes nothing: the request it meant to
//! answer keeps waiting.

use super::famfs::daxdev_dev;
use super::Connection;
use crate::abi::{
    DaxdevOut, IomapInvalMappingsOut, IomapUpsertMappingsOut, OutHeader, FUSE_GET_DAXDEV,
    FUSE_GET_FMAP, FUSE_INIT, FUSE_IOMAP_BEGIN, FUSE_IOMAP_CONFIG, FUSE_IOMAP_END,
    FUSE_IOMAP_IOEND, NOTIFY_INVAL_MAPPINGS, NOTIFY_UPSERT_MAPPINGS,
};
use crate::channel::Payload;
use crate::counters::Reject;
use crate::errno::eopnotsupp;
use crate::msgbuf::MsgReader;
use crate::ratelimit::pr_warn_ratelimited;
use crate::request::{parse_header, reply_size_ok, Caller, Message, Target};
use core::mem::size_of;
use kernel::prelude::*;

impl Connection {
    /// The server's `write(2)` of a reply or a notification, framed as on
    /// `/dev/fuse`. A write the framing refuses changes nothing: the
    /// request it meant to answer keeps waiting.
    pub(crate) fn server_write(&self, mut reader: impl MsgReader) -> Result<usize> {
        let len = reader.len();
        if len < size_of::<OutHeader>() {
            self.counters.reject(Reject::Header);
            return Err(EINVAL);
        }
        let header: OutHeader = reader.read()?;
        let message =
            parse_header(&header, len).inspect_err(|_| self.counters.reject(Reject::Header))?;
        match message {
            Message::Notify { code, size } => self
                .notify(code, size, &mut reader)
                .inspect_err(|_| self.counters.reject(Reject::Notify))?,
            Message::Reply {
                unique,
                error,
                size,
            } => self.reply(unique, error, size, &mut reader)?,
        }
        Ok(len)
    }

    /// A notification: `EINVAL` for an unknown code or a size that is not
    /// its structure's, `EOPNOTSUPP` on a connection without iomap.
    fn notify(&self, code: i32, size: usize, reader: &mut impl MsgReader) -> Result {
        if self.channel.features().is_some_and(|f| !f.iomap) {
            return Err(eopnotsupp());
        }
        match code {
            NOTIFY_UPSERT_MAPPINGS if size == size_of::<IomapUpsertMappingsOut>() => {
                self.upsert(&reader.read()?)
            }
            NOTIFY_INVAL_MAPPINGS if size == size_of::<IomapInvalMappingsOut>() => {
                self.inval(&reader.read()?)
            }
            _ => {
                pr_warn_ratelimited!("notification {} of {} bytes refused\n", code, size);
                Err(EINVAL)
            }
        }
    }

    /// A reply to request `unique`: `ENOENT` if no such request was sent,
    /// `EINVAL` for a size that is not its reply's.
    fn reply(
        &self,
        unique: u64,
        error: Option<i32>,
        size: usize,
        reader: &mut impl MsgReader,
    ) -> Result {
        let target = self
            .channel
            .target(unique)
            .inspect_err(|_| self.counters.reject(Reject::Unique))?;
        let answer = match error {
            Some(errno) => Err(Error::from_errno(errno)),
            None if !reply_size_ok(target.opcode, size) => {
                self.counters.reject(Reject::Size);
                pr_warn_ratelimited!(
                    "reply of {} bytes to opcode {} refused\n",
                    size,
                    target.opcode
                );
                return Err(EINVAL);
            }
            None => self.read_reply(&target, size, reader)?,
        };
        match target.caller {
            Caller::Waiting => self.channel.answer(unique, answer),
            // Freed when sent: no reply finds it.
            Caller::NoReply => Err(ENOENT),
            Caller::Handshake => self.channel.handshake_reply(
                unique,
                answer,
                |geo, limit| self.configure(geo, limit),
                &self.counters,
            ),
        }
    }

    /// Reads the reply to `target`, of a size already checked. The outer
    /// error is the writer's (the reply could not be read); the inner one
    /// is the caller's answer: a `GET_DAXDEV` path the server may not use.
    fn read_reply(
        &self,
        target: &Target,
        size: usize,
        reader: &mut impl MsgReader,
    ) -> Result<Result<Payload>> {
        Ok(Ok(match target.opcode {
            FUSE_INIT => Payload::Init(reader.read()?),
            FUSE_IOMAP_CONFIG => Payload::Config(reader.read()?),
            FUSE_IOMAP_BEGIN => Payload::Begin(reader.read()?),
            FUSE_IOMAP_IOEND => Payload::Ioend(reader.read()?),
            FUSE_GET_FMAP => {
                let mut fmap = KVec::from_elem(0u8, size, GFP_KERNEL_ACCOUNT)?;
                reader.read_slice(&mut fmap)?;
                Payload::Fmap(fmap)
            }
            FUSE_GET_DAXDEV => {
                let out: DaxdevOut = reader.read()?;
                let dev = if u64::from(out.index) == target.nodeid {
                    daxdev_dev(&out)
                } else {
                    Err(EINVAL)
                };
                return Ok(dev.map(Payload::Daxdev).inspect_err(|e| {
                    self.counters.reject(Reject::Daxdev);
                    pr_warn_ratelimited!(
                        "famfs: GET_DAXDEV reply for index {} refused: {:?}\n",
                        target.nodeid,
                        e
                    );
                }));
            }
            FUSE_IOMAP_END => Payload::Empty,
            _ => {
                let mut data = KVec::from_elem(0u8, size, GFP_KERNEL_ACCOUNT)?;
                reader.read_slice(&mut data)?;
                Payload::Data(data)
            }
        }))
    }
}
