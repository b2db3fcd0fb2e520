// SPDX-License-Identifier: GPL-2.0

//! The channel of a connection: callers that wait for the server, the
//! server's reads, and the handshake.
//!
//! The request table ([`Requests`]) and the handshake's rules live in their
//! own files and are tested on the host; this file adds the sleeping. One
//! mutex guards the table and the handshake's phase. Two condition
//! variables sit beside it: the server's readers wait on one for a request,
//! callers wait on the other for an answer or the end of the handshake.
//! Every wait is interruptible: a caller that gets a signal abandons its
//! request (`EINTR`), and a reader returns `ERESTARTSYS`, as on `/dev/fuse`.
//! Pollers sleep on a third queue, woken with the readers.
//!
//! The handshake starts when the first client handle is made, as a mount
//! sends `FUSE_INIT`: the server's reply says which features the connection
//! has, and a connection with iomap then gets `FUSE_IOMAP_CONFIG`. Client
//! requests wait for the end of it. Once the server's file is closed the
//! channel is aborted: every caller's answer is `ENOTCONN`, and so is
//! every later request.

use crate::abi::{
    InitOut, IomapBeginOut, IomapConfigOut, IomapIoendOut, FUSE_INIT, FUSE_IOMAP_CONFIG,
    FUSE_MIN_READ_BUFFER,
};
use crate::cache::CacheLimit;
use crate::counters::{Counters, Reject};
use crate::errno::enotconn;
use crate::handshake::{self, Features, Next, Phase, Reply};
use crate::mapping::Geometry;
use crate::msgbuf::MsgWriter;
use crate::namespaces::Namespaces;
use crate::ratelimit::pr_warn_ratelimited;
use crate::request::{Caller, Requests, Target};
use crate::waitqueue::PollQueue;
use kernel::{
    bindings, new_condvar, new_mutex,
    prelude::*,
    sync::{CondVar, Mutex},
    types::{AsBytes, FromBytes},
};

/// A reply, as read from the server and checked for its request.
pub(crate) enum Payload {
    /// `FUSE_IOMAP_END`: nothing.
    Empty,
    /// `FUSE_INIT`.
    Init(InitOut),
    /// `FUSE_IOMAP_CONFIG`.
    Config(IomapConfigOut),
    /// `FUSE_IOMAP_BEGIN`.
    Begin(IomapBeginOut),
    /// `FUSE_IOMAP_IOEND`.
    Ioend(IomapIoendOut),
    /// `FUSE_GET_FMAP`: the fmap, to be parsed by the caller.
    Fmap(KVec<u8>),
    /// `FUSE_GET_DAXDEV`: the device's number, a path already resolved with
    /// the server's credentials.
    Daxdev(u32),
    /// A namespace request's reply, of the size its opcode has, to be checked
    /// by the caller (`namespace.rs`).
    Data(KVec<u8>),
}

struct State {
    requests: Requests<Payload>,
    phase: Phase,
}

/// The channel of one connection.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    state: Mutex<State>,
    #[pin]
    readers: CondVar,
    #[pin]
    callers: CondVar,
    #[pin]
    poll: PollQueue,
    /// Whether the server may have famfs: it had `CAP_SYS_RAWIO` at open.
    famfs_allowed: bool,
    /// The server's namespaces, in which request headers name the caller.
    namespaces: Namespaces,
}

/// The bytes of `value`, to be sent as a request's arguments.
pub(crate) fn bytes_of<T: AsBytes>(value: &T) -> &[u8] {
    // SAFETY: `T: AsBytes` has no padding and initialises every byte, so its
    // memory is `size_of::<T>()` readable bytes for as long as it is borrowed.
    unsafe {
        core::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>())
    }
}

/// The `T` that `bytes` hold, exactly; `EIO` for any other size (a reply
/// whose size was not checked against its opcode).
pub(crate) fn read_struct<T: FromBytes>(bytes: &[u8]) -> Result<T> {
    if bytes.len() != core::mem::size_of::<T>() {
        return Err(EIO);
    }
    // SAFETY: `bytes` holds `size_of::<T>()` readable bytes, read without
    // alignment; `T: FromBytes` makes any bytes a valid `T`.
    Ok(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

impl Channel {
    /// An idle channel; `famfs_allowed` if the server had `CAP_SYS_RAWIO`;
    /// requests name their callers in `namespaces`, the server's.
    pub(crate) fn new(famfs_allowed: bool, namespaces: Namespaces) -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(State {
                requests: Requests::new(),
                phase: Phase::Idle,
            }),
            readers <- new_condvar!(),
            callers <- new_condvar!(),
            poll <- PollQueue::new(),
            famfs_allowed,
            namespaces,
        })
    }

    /// Wakes the server: a request is queued, or the channel is dead.
    fn wake_server(&self) {
        self.readers.notify_all();
        self.poll.wake();
    }

    /// Starts the handshake, once: sends `FUSE_INIT`. `ENOTCONN` once the
    /// channel is aborted.
    pub(crate) fn start(&self, counters: &Counters) -> Result {
        let mut state = self.state.lock();
        if !matches!(state.phase, Phase::Idle) {
            return Ok(());
        }
        let offer = handshake::init_in(self.famfs_allowed);
        state.requests.submit(
            FUSE_INIT,
            0,
            bytes_of(&offer),
            KVec::new(),
            self.namespaces.creds()?,
            Caller::Handshake,
        )?;
        state.phase = Phase::Init { offer };
        counters.upcall(FUSE_INIT);
        self.wake_server();
        Ok(())
    }

    /// The features of a connection whose handshake is done.
    pub(crate) fn features(&self) -> Option<Features> {
        match self.state.lock().phase {
            Phase::Ready(features) => Some(features),
            _ => None,
        }
    }

    /// Whether the connection may have famfs: before the handshake, if its
    /// server had `CAP_SYS_RAWIO` at open; after it, if `FUSE_DAX_FMAP` was
    /// negotiated. `EPERM` otherwise, `ENOTCONN` once the channel failed.
    pub(crate) fn famfs_permitted(&self) -> Result {
        let permitted = match self.state.lock().phase {
            Phase::Idle | Phase::Init { .. } | Phase::Config { .. } => self.famfs_allowed,
            Phase::Ready(features) => features.famfs,
            Phase::Failed => return Err(enotconn()),
        };
        if permitted {
            Ok(())
        } else {
            Err(EPERM)
        }
    }

    /// Waits for the end of the handshake and returns the features:
    /// `ENOTCONN` if it failed or never started, `EINTR` on a signal.
    pub(crate) fn wait_ready(&self) -> Result<Features> {
        let mut state = self.state.lock();
        loop {
            match state.phase {
                Phase::Ready(features) => return Ok(features),
                Phase::Idle | Phase::Failed => return Err(enotconn()),
                Phase::Init { .. } | Phase::Config { .. } => {
                    if self.callers.wait_interruptible(&mut state) {
                        return Err(EINTR);
                    }
                }
            }
        }
    }

    /// Sends a request, with `data` after its arguments (`WRITE`'s file
    /// data, or nothing), and waits for its answer: the server's reply, its
    /// error, `ENOTCONN` when the channel is aborted, or `EINTR` when a
    /// signal comes first (the request is then forgotten).
    pub(crate) fn call(
        &self,
        opcode: u32,
        nodeid: u64,
        args: &[u8],
        data: KVec<u8>,
        counters: &Counters,
    ) -> Result<Payload> {
        let creds = self.namespaces.creds()?;
        let mut state = self.state.lock();
        let ticket = state
            .requests
            .submit(opcode, nodeid, args, data, creds, Caller::Waiting)?;
        counters.upcall(opcode);
        self.wake_server();
        loop {
            if let Some(answer) = state.requests.take(ticket) {
                return answer;
            }
            if self.callers.wait_interruptible(&mut state) {
                break;
            }
        }
        if let Some(answer) = state.requests.take(ticket) {
            return answer;
        }
        state.requests.cancel(ticket);
        counters.interrupted();
        Err(EINTR)
    }

    /// Queues a request that has no reply (`FORGET`) and returns at once:
    /// `ENOTCONN` once the channel is aborted.
    pub(crate) fn send(
        &self,
        opcode: u32,
        nodeid: u64,
        args: &[u8],
        counters: &Counters,
    ) -> Result {
        let creds = self.namespaces.creds()?;
        let mut state = self.state.lock();
        state
            .requests
            .submit(opcode, nodeid, args, KVec::new(), creds, Caller::NoReply)?;
        counters.upcall(opcode);
        self.wake_server();
        Ok(())
    }

    /// The server's `read(2)`: copies the oldest queued request to `out`
    /// and returns its size. `EINVAL` for a buffer smaller than
    /// `FUSE_MIN_READ_BUFFER`, or than the request (whose caller then gets
    /// `E2BIG`, as on `/dev/fuse`), `EAGAIN` when `nonblock` and nothing is
    /// queued, `ENODEV` once aborted.
    ///
    /// The request is marked sent under the lock and copied after it is
    /// dropped, as `/dev/fuse` does: a server whose buffer faults slowly
    /// (through userfaultfd, say) holds up nobody else. A failed copy puts
    /// the request back in the queue, unless it was answered meanwhile.
    pub(crate) fn read(&self, out: &mut impl MsgWriter, nonblock: bool) -> Result<usize> {
        if out.len() < FUSE_MIN_READ_BUFFER {
            return Err(EINVAL);
        }
        let sent = {
            let mut state = self.state.lock();
            loop {
                if state.requests.is_aborted() {
                    return Err(ENODEV);
                }
                let batch_forget = matches!(
                    state.phase,
                    Phase::Ready(Features {
                        batch_forget: true,
                        ..
                    })
                );
                if let Some(next) = state.requests.send_next(batch_forget) {
                    break next;
                }
                if nonblock {
                    return Err(EAGAIN);
                }
                if self.readers.wait_interruptible(&mut state) {
                    return Err(ERESTARTSYS);
                }
            }
        };
        let header = sent.header;
        if header.len as usize > out.len() {
            // The caller learns why; the server reads on.
            let _ = self.answer(header.unique, Err(E2BIG));
            return Err(EINVAL);
        }
        let copied = out
            .write(&header)
            .and_then(|()| out.write_slice(sent.args.as_bytes()))
            .and_then(|()| out.write_slice(&sent.data));
        if let Err(e) = copied {
            self.state.lock().requests.unsend(header.unique, sent.data);
            self.wake_server();
            return Err(e);
        }
        Ok(header.len as usize)
    }

    /// What `poll(2)` sees: whether a request is queued, and whether the
    /// channel is dead.
    pub(crate) fn poll_state(&self) -> (bool, bool) {
        let state = self.state.lock();
        (state.requests.has_queued(), state.requests.is_aborted())
    }

    /// The wait queue pollers sleep on.
    pub(crate) fn poll_queue(&self) -> *mut bindings::wait_queue_head {
        self.poll.as_ptr()
    }

    /// The sent request that a reply with `unique` answers; `ENOENT` if
    /// there is none.
    pub(crate) fn target(&self, unique: u64) -> Result<Target> {
        self.state.lock().requests.target(unique)
    }

    /// Hands `answer` to the caller of request `unique`; `ENOENT` if it gave
    /// up meanwhile.
    pub(crate) fn answer(&self, unique: u64, answer: Result<Payload>) -> Result {
        self.state.lock().requests.answer(unique, answer)?;
        self.callers.notify_all();
        Ok(())
    }

    /// Handles the reply to a handshake request (see
    /// [`handshake::advance`]): `FUSE_INIT`'s sets the features and, with
    /// iomap, sends `FUSE_IOMAP_CONFIG`, whose geometry and cache limit
    /// `configure` applies. A refused reply fails the handshake, and every
    /// client request with it (`ENOTCONN`); its error is returned.
    pub(crate) fn handshake_reply(
        &self,
        unique: u64,
        answer: Result<Payload>,
        configure: impl FnOnce(Geometry, CacheLimit) -> Result,
        counters: &Counters,
    ) -> Result {
        let mut state = self.state.lock();
        state.requests.answer(unique, Ok(Payload::Empty))?;
        let reply = match &answer {
            Ok(Payload::Init(out)) => Ok(Reply::Init(out)),
            Ok(Payload::Config(out)) => Ok(Reply::Config(out)),
            Ok(_) => Ok(Reply::Other),
            Err(e) => Err(*e),
        };
        let result = match handshake::advance(&mut state.phase, reply) {
            Ok(Next::SendConfig) => self.send_config(&mut state, counters),
            Ok(Next::Configure(geo, limit, features)) => {
                configure(geo, limit).map(|()| state.phase = Phase::Ready(features))
            }
            Ok(Next::Done) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            pr_warn_ratelimited!("handshake refused: {:?}\n", e);
            counters.reject(Reject::Init);
            state.phase = Phase::Failed;
        }
        drop(state);
        self.callers.notify_all();
        result
    }

    /// Sends `FUSE_IOMAP_CONFIG`, the handshake's second request.
    fn send_config(&self, state: &mut State, counters: &Counters) -> Result {
        let config = handshake::config_in();
        state.requests.submit(
            FUSE_IOMAP_CONFIG,
            0,
            bytes_of(&config),
            KVec::new(),
            self.namespaces.creds()?,
            Caller::Handshake,
        )?;
        counters.upcall(FUSE_IOMAP_CONFIG);
        self.wake_server();
        Ok(())
    }

    /// Aborts the channel: the server closed its file.
    pub(crate) fn abort(&self) {
        let mut state = self.state.lock();
        state.requests.abort();
        state.phase = Phase::Failed;
        drop(state);
        self.callers.notify_all();
        self.wake_server();
    }
}
