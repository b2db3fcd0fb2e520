// SPDX-License-Identifier: GPL-2.0

//! A connection for host tests, and the server's side of its channel:
//! reading requests and writing replies and notifications as bytes, as a
//! server does through its file.

use crate::abi::{
    Counters, DaxdevOut, InHeader, InitOut, IocDevice, IomapConfigOut, IomapIo,
    IomapUpsertMappingsOut, MappingType, OutHeader, CONFIG_BLOCKSIZE, FUSE_INIT, FUSE_INIT_EXT,
    FUSE_IOMAP, FUSE_IOMAP_CONFIG, FUSE_MIN_READ_BUFFER, NULL_ADDR,
};
use crate::bpf;
use crate::budget::Budget;
use crate::connection::Connection;
use crate::counters::upcall_index;
use crate::namespaces::Namespaces;
use core::mem::size_of;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::AsBytes;
use kernel::uaccess::{UserSliceReader, UserSliceWriter};

/// The cache budget of a test connection.
pub(super) const BUDGET: usize = 64 << 20;

/// A new connection, whose server had `CAP_SYS_RAWIO` if `rawio`.
pub(super) fn connection(rawio: bool) -> Arc<Connection> {
    let budget = Arc::new(Budget::new(BUDGET), GFP_KERNEL).unwrap();
    let slot = Arc::pin_init(bpf::Slot::new(), GFP_KERNEL).unwrap();
    Arc::pin_init(
        Connection::new(rawio, Namespaces::current(), budget, slot),
        GFP_KERNEL,
    )
    .unwrap()
}

/// A request as the server reads it.
pub(super) struct Request {
    pub(super) header: InHeader,
    pub(super) args: Vec<u8>,
}

impl Request {
    fn parse(bytes: &[u8]) -> Self {
        let hsize = size_of::<InHeader>();
        // SAFETY: `bytes` holds at least a header, read without alignment;
        // any bytes are a valid `InHeader`.
        let header = unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<InHeader>()) };
        assert_eq!(header.len as usize, bytes.len(), "a request's length");
        Self {
            header,
            args: bytes[hsize..].to_vec(),
        }
    }

    /// The arguments as a `T`.
    pub(super) fn arg<T: kernel::types::FromBytes>(&self) -> T {
        crate::channel::read_struct(&self.args[..size_of::<T>()]).unwrap()
    }
}

/// The server's `read(2)`, waiting for a request.
pub(super) fn read(conn: &Connection) -> Request {
    read_into(conn, FUSE_MIN_READ_BUFFER).expect("a request")
}

/// The server's `read(2)` into a buffer of `size` bytes, waiting.
pub(super) fn read_into(conn: &Connection, size: usize) -> Result<Request> {
    let mut out = UserSliceWriter::new(size);
    let n = conn.server_read(&mut out, false)?;
    Ok(Request::parse(&out.written()[..n]))
}

/// The server's non-blocking `read(2)`.
pub(super) fn try_read(conn: &Connection) -> Result<Request> {
    let mut out = UserSliceWriter::new(FUSE_MIN_READ_BUFFER);
    let n = conn.server_read(&mut out, true)?;
    Ok(Request::parse(&out.written()[..n]))
}

/// The bytes of `value`.
pub(super) fn bytes<T: AsBytes>(value: &T) -> &[u8] {
    crate::channel::bytes_of(value)
}

/// Writes a message: an out header with `error` and `unique`, then `payload`.
pub(super) fn write(conn: &Connection, unique: u64, error: i32, payload: &[u8]) -> Result<usize> {
    let header = OutHeader {
        len: (size_of::<OutHeader>() + payload.len()) as u32,
        error,
        unique,
    };
    let mut msg = bytes(&header).to_vec();
    msg.extend_from_slice(payload);
    conn.server_write(UserSliceReader::from_bytes(&msg))
}

/// Replies `payload` to request `unique`.
pub(super) fn reply(conn: &Connection, unique: u64, payload: &[u8]) -> Result<usize> {
    write(conn, unique, 0, payload)
}

/// Sends notification `code` with `payload`.
pub(super) fn notify(conn: &Connection, code: i32, payload: &[u8]) -> Result<usize> {
    write(conn, 0, code, payload)
}

/// The `FUSE_INIT` reply that takes the features of `flags`.
pub(super) fn init_out(flags: u64) -> InitOut {
    InitOut {
        major: 7,
        minor: 41,
        flags: flags as u32,
        flags2: (flags >> 32) as u32,
        ..InitOut::default()
    }
}

/// Starts the handshake and answers it, as a server with `flags` (and a
/// block size of 4096 with iomap).
pub(super) fn handshake(conn: &Connection, flags: u64) {
    conn.start_client().unwrap();
    let init = read(conn);
    assert_eq!(init.header.opcode, FUSE_INIT);
    reply(
        conn,
        init.header.unique,
        bytes(&init_out(FUSE_INIT_EXT | flags)),
    )
    .unwrap();
    if flags & FUSE_IOMAP != 0 {
        let config = read(conn);
        assert_eq!(config.header.opcode, FUSE_IOMAP_CONFIG);
        let out = IomapConfigOut {
            flags: CONFIG_BLOCKSIZE,
            blocksize: 4096,
            ..IomapConfigOut::default()
        };
        reply(conn, config.header.unique, bytes(&out)).unwrap();
    }
    conn.wait_ready().unwrap();
}

/// The block size of the test connections.
pub(super) const BS: u64 = 4096;

/// A mapping of type `ty` of `blocks` blocks from block `block`, on device
/// 1 at the same address when it has storage.
pub(super) fn io(ty: MappingType, block: u64, blocks: u64) -> IomapIo {
    let storage = ty.has_storage();
    IomapIo {
        offset: block * BS,
        length: blocks * BS,
        addr: if storage { block * BS } else { NULL_ADDR },
        r#type: ty as u16,
        flags: 0,
        dev: u32::from(storage),
    }
}

/// "Do not cache": the fork a notification leaves alone.
pub(super) fn nocache() -> IomapIo {
    IomapIo {
        r#type: MappingType::NoCache as u16,
        ..IomapIo::default()
    }
}

/// `iomap_begin` of the block at `pos`, for a read.
pub(super) fn begin(pos: u64) -> crate::abi::IomapBeginIn {
    crate::abi::IomapBeginIn {
        pos,
        count: BS,
        ..Default::default()
    }
}

/// An upsert notification of `read` for inode `nodeid`.
pub(super) fn upsert(nodeid: u64, read: IomapIo) -> IomapUpsertMappingsOut {
    IomapUpsertMappingsOut {
        nodeid,
        attr_ino: nodeid,
        read,
        write: nocache(),
    }
}

/// Device 1, of 1 GiB.
pub(super) fn device() -> IocDevice {
    IocDevice {
        dev: 1,
        reserved: 0,
        size: 1 << 30,
    }
}

/// A connection past a handshake with `flags`, with device 1.
pub(super) fn with_device(flags: u64) -> Arc<Connection> {
    let conn = ready(flags);
    conn.add_device(&device()).unwrap();
    conn
}

/// A connection past a handshake with `flags`.
pub(super) fn ready(flags: u64) -> Arc<Connection> {
    let conn = connection(true);
    handshake(&conn, flags);
    conn
}

/// Runs `client` on a thread while `server` answers on this one, and
/// returns what the client got.
pub(super) fn serve<R: Send>(client: impl FnOnce() -> R + Send, server: impl FnOnce()) -> R {
    std::thread::scope(|s| {
        let c = s.spawn(client);
        server();
        c.join().expect("the client thread")
    })
}

/// How many requests of `opcode` the connection sent.
pub(super) fn upcalls(counters: &Counters, opcode: u32) -> u64 {
    counters.upcalls[upcall_index(opcode).expect("a counted opcode")]
}

/// A `GET_DAXDEV` answer for `index`: device number `dev`, or `path` when
/// it is not empty.
pub(super) fn daxdev_out(index: u16, dev: u64, path: &str) -> DaxdevOut {
    let mut out = DaxdevOut {
        index,
        reserved: 0,
        reserved2: 0,
        dev,
        reserved4: 0,
        name: [0; 256],
    };
    for (d, s) in out.name.iter_mut().zip(path.bytes()) {
        *d = s;
    }
    out
}

/// The user-space encoding (glibc's `makedev`) of kernel device `kdev`.
pub(super) fn user_dev(kdev: u32) -> u64 {
    let (major, minor) = crate::daxdev_name::major_minor(kdev);
    let (major, minor) = (u64::from(major), u64::from(minor));
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}
