// SPDX-License-Identifier: GPL-2.0

//! fuse-iomap-bpf-test: the BPF selftests, in TAP, run in the VM by
//! `tools/testing/selftests/fuse_iomap/fuse_iomap_bpf.sh`.
//!
//! Each test sets up its connections itself: the test is the server (it
//! makes the handshake and answers upcalls from a thread) and the VFS (on
//! a client handle), and loads the sample programs of `samples/bpf/` for
//! the connection with their libbpf-rs skeletons, as a server would.

use fuse_iomap_server::bpf::{self, last_errno, DiskAnswer};
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::disk::{self, Disk, DEV};
use fuse_iomap_server::uapi::*;
use fuse_iomap_server::BLOCK_SIZE;
use libbpf_rs::PrintLevel;
use nix::errno::Errno;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The disk file's size, in blocks, and its extents.
const BLOCKS: u64 = 256;
const EXTENT_BLOCKS: u64 = 16;

/// What libbpf printed: the verifier's log among it.
static LIBBPF_LOG: Mutex<String> = Mutex::new(String::new());

type Outcome = Result<(), String>;

/// A test: its name and its body.
type Test = (&'static str, fn() -> Outcome);

macro_rules! check {
    ($cond:expr, $($why:tt)*) => {
        if !$cond {
            return Err(format!($($why)*));
        }
    };
}

/// A connection: the server's channel, answered from a thread, and a
/// client handle.
struct Conn {
    channel: Arc<Channel>,
    client: OwnedFd,
}

impl Conn {
    /// A connection whose handshake keeps `want` of the offer; with
    /// `serve`, a thread answers its upcalls as the disk file's server.
    fn new(want: u64, serve: bool) -> Result<Self, String> {
        let device = File::options()
            .read(true)
            .write(true)
            .open("/dev/fuse-iomap")
            .map_err(|e| format!("/dev/fuse-iomap: {e}"))?;
        let channel = Arc::new(Channel::new(OwnedFd::from(device)));
        let dev = fuse_iomap_ioc_device {
            dev: DEV,
            reserved: 0,
            size: disk::dev_size(BLOCKS),
        };
        // SAFETY: Valid ioctl arguments; the new descriptor is owned here.
        let client = unsafe {
            add_device(channel.fd().as_raw_fd(), &dev).map_err(|e| format!("ADD_DEVICE: {e}"))?;
            OwnedFd::from_raw_fd(
                new_client(channel.fd().as_raw_fd()).map_err(|e| format!("CLIENT: {e}"))?,
            )
        };
        channel
            .handshake(want, None)
            .map_err(|e| format!("handshake: {e}"))?;
        if serve {
            let server = channel.clone();
            thread::spawn(move || answer_upcalls(&server));
        }
        Ok(Self { channel, client })
    }

    fn fd(&self) -> RawFd {
        self.channel.fd().as_raw_fd()
    }

    /// `iomap_begin` of a read at `pos` of `nodeid`.
    fn begin(&self, nodeid: u64, pos: u64) -> Result<fuse_iomap_ioc_begin, Errno> {
        let mut b = fuse_iomap_ioc_begin {
            nodeid,
            in_: fuse_iomap_begin_in {
                pos,
                count: BLOCK_SIZE,
                ..Default::default()
            },
            ..Default::default()
        };
        // SAFETY: `b` is a valid argument for the ioctl.
        unsafe { iomap_begin(self.client.as_raw_fd(), &mut b) }?;
        Ok(b)
    }

    fn counters(&self) -> fuse_iomap_counters {
        let mut c = fuse_iomap_counters::default();
        // SAFETY: `c` is a valid argument for the ioctl.
        let _ = unsafe { counters(self.client.as_raw_fd(), &mut c) };
        c
    }
}

/// The disk file's server: answers every IOMAP_BEGIN with the extent,
/// without upserting it.
fn answer_upcalls(channel: &Channel) {
    let disk = Disk {
        nodeid: 0,
        blocks: BLOCKS,
        extent_blocks: EXTENT_BLOCKS,
    };
    while let Ok(req) = channel.read() {
        let Ok(args) = req.args::<fuse_iomap_begin_in>() else {
            let _ = channel.reply_error(req.header.unique, Errno::ENOSYS);
            continue;
        };
        let out = fuse_iomap_begin_out {
            read: disk.mapping(args.pos),
            write: fuse_iomap_io {
                type_: FUSE_IOMAP_TYPE_NOCACHE as u16,
                ..Default::default()
            },
        };
        let _ = channel.reply(req.header.unique, &out);
    }
}

/// The disk program, loaded for `conn` and given nodeid 1.
fn disk_program(conn: &Conn, answer: DiskAnswer) -> Result<bpf::Disk, String> {
    let program = bpf::Disk::load(conn.fd(), "disk").map_err(|e| format!("load: {e}"))?;
    program
        .set_layout(1, BLOCKS, EXTENT_BLOCKS, DEV, BLOCK_SIZE as u32, answer)
        .map_err(|e| format!("layout: {e}"))?;
    Ok(program)
}

/// Whether `b` holds the disk file's mapping of its position.
fn right_mapping(b: &fuse_iomap_ioc_begin) -> bool {
    let m = b.out.read;
    m.offset <= b.in_.pos
        && b.in_.pos < m.offset + m.length
        && m.addr == 2 * m.offset
        && m.dev == DEV
}

fn attach_and_detach() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, true)?;
    let mut program = disk_program(&conn, DiskAnswer::Handled)?;
    program.attach().map_err(|e| format!("attach: {e}"))?;
    let b = conn
        .begin(1, 5 * BLOCK_SIZE)
        .map_err(|e| format!("begin: {e}"))?;
    check!(
        b.source == FUSE_IOMAP_SOURCE_BPF && right_mapping(&b),
        "answer {:?}",
        b.out.read
    );
    program.detach();
    let b = conn
        .begin(1, 6 * BLOCK_SIZE)
        .map_err(|e| format!("begin: {e}"))?;
    check!(
        b.source == FUSE_IOMAP_SOURCE_UPCALL,
        "source {} after detach",
        b.source
    );
    program.attach().map_err(|e| format!("attach again: {e}"))?;
    let b = conn
        .begin(1, 7 * BLOCK_SIZE)
        .map_err(|e| format!("begin: {e}"))?;
    check!(
        b.source == FUSE_IOMAP_SOURCE_BPF,
        "source {} after attaching again",
        b.source
    );
    Ok(())
}

fn a_second_table_is_ebusy() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, false)?;
    let mut first = disk_program(&conn, DiskAnswer::Handled)?;
    first.attach().map_err(|e| format!("attach: {e}"))?;
    let mut second = bpf::Famfs::load(conn.fd()).map_err(|e| format!("load: {e}"))?;
    check!(second.attach().is_err(), "a second table attached");
    check!(
        last_errno() == Errno::EBUSY as i32,
        "errno {}",
        last_errno()
    );
    Ok(())
}

fn a_descriptor_that_is_no_server_is_ebadf() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, false)?;
    let null = File::open("/dev/null").map_err(|e| e.to_string())?;
    for (what, fd) in [
        ("/dev/null", null.as_raw_fd()),
        ("a client handle", conn.client.as_raw_fd()),
        ("no descriptor", 9999),
    ] {
        let mut program = bpf::Famfs::load(fd).map_err(|e| format!("load: {e}"))?;
        check!(program.attach().is_err(), "attached by {what}");
        check!(
            last_errno() == Errno::EBADF as i32,
            "{what}: errno {}",
            last_errno()
        );
    }
    Ok(())
}

fn a_connection_without_iomap_is_eopnotsupp() -> Outcome {
    let conn = Conn::new(0, false)?;
    let mut program = bpf::Famfs::load(conn.fd()).map_err(|e| format!("load: {e}"))?;
    check!(program.attach().is_err(), "attached without iomap");
    check!(
        last_errno() == Errno::EOPNOTSUPP as i32,
        "errno {}",
        last_errno()
    );
    Ok(())
}

fn an_empty_name_is_einval() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, false)?;
    // The value of a `.struct_ops.link` map is written when it is attached.
    let mut program = bpf::Disk::load(conn.fd(), "").map_err(|e| format!("load: {e}"))?;
    check!(program.attach().is_err(), "a table without a name attached");
    check!(
        last_errno() == Errno::EINVAL as i32,
        "errno {}",
        last_errno()
    );
    Ok(())
}

fn a_program_that_writes_elsewhere_is_refused() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, false)?;
    LIBBPF_LOG.lock().unwrap().clear();
    check!(
        bpf::load_forbidden(conn.fd()).is_err(),
        "the verifier took it"
    );
    check!(
        last_errno() == Errno::EACCES as i32,
        "errno {}",
        last_errno()
    );
    let log = LIBBPF_LOG.lock().unwrap();
    check!(
        log.contains("Cannot write to memory from a fuse-iomap program"),
        "no such line in the verifier's log"
    );
    Ok(())
}

fn handled_fallback_and_retry_cache() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, true)?;
    let mut handled = disk_program(&conn, DiskAnswer::Handled)?;
    handled.attach().map_err(|e| format!("attach: {e}"))?;
    for pos in [0, 17 * BLOCK_SIZE, (BLOCKS - 1) * BLOCK_SIZE] {
        let b = conn.begin(1, pos).map_err(|e| format!("begin: {e}"))?;
        check!(
            b.source == FUSE_IOMAP_SOURCE_BPF && right_mapping(&b),
            "HANDLED at {pos}"
        );
    }
    let c = conn.counters();
    check!(c.bpf_answers == 3, "{} BPF answers", c.bpf_answers);
    check!(
        c.upcalls[FUSE_IOMAP_UPCALL_BEGIN as usize] == 0,
        "upcalls while HANDLED"
    );
    // Another file, and a position past the file: FALLBACK, to the server.
    for (nodeid, pos) in [(2, 0), (1, BLOCKS * BLOCK_SIZE)] {
        let b = conn.begin(nodeid, pos).map_err(|e| format!("begin: {e}"))?;
        check!(
            b.source == FUSE_IOMAP_SOURCE_UPCALL,
            "FALLBACK of {nodeid} at {pos}"
        );
    }
    handled.detach();

    let mut upsert = disk_program(&conn, DiskAnswer::Upsert)?;
    upsert.attach().map_err(|e| format!("attach: {e}"))?;
    let b = conn
        .begin(1, 33 * BLOCK_SIZE)
        .map_err(|e| format!("begin: {e}"))?;
    check!(
        b.source == FUSE_IOMAP_SOURCE_CACHE && b.retries == 1 && right_mapping(&b),
        "RETRY_CACHE: source {}, {} retries",
        b.source,
        b.retries
    );
    let b = conn
        .begin(1, 34 * BLOCK_SIZE)
        .map_err(|e| format!("begin: {e}"))?;
    check!(
        b.source == FUSE_IOMAP_SOURCE_CACHE && b.retries == 0,
        "the upsert is cached"
    );
    Ok(())
}

fn end_and_ioend_are_answered_without_upcalls() -> Outcome {
    let conn = Conn::new(FUSE_IOMAP, true)?;
    let mut program = disk_program(&conn, DiskAnswer::Handled)?;
    program.attach().map_err(|e| format!("attach: {e}"))?;
    let fd = conn.client.as_raw_fd();
    let end = fuse_iomap_ioc_end {
        nodeid: 1,
        in_: fuse_iomap_end_in {
            count: BLOCK_SIZE,
            map: fuse_iomap_io {
                flags: FUSE_IOMAP_F_WANT_IOMAP_END as u16,
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let mut ioend = fuse_iomap_ioc_ioend {
        nodeid: 1,
        in_: fuse_iomap_ioend_in {
            written: BLOCK_SIZE,
            ..Default::default()
        },
        ..Default::default()
    };
    // SAFETY: Valid ioctl arguments.
    unsafe {
        iomap_end(fd, &end).map_err(|e| format!("END: {e}"))?;
        iomap_ioend(fd, &mut ioend).map_err(|e| format!("IOEND: {e}"))?;
    }
    check!(
        ioend.newsize == BLOCKS * BLOCK_SIZE,
        "newsize {}",
        ioend.newsize
    );
    let c = conn.counters();
    let sent = |i: u32| c.upcalls[i as usize];
    check!(
        sent(FUSE_IOMAP_UPCALL_END) == 0 && sent(FUSE_IOMAP_UPCALL_IOEND) == 0,
        "END and IOEND were sent"
    );
    Ok(())
}

/// The extent sizes, in blocks, of the tables that
/// [`switching_tables_drains_the_old_one`] attaches in turn (the server's
/// upcall answers have `EXTENT_BLOCKS`), and of a detached table's layout.
const TABLE_EXTENTS: [u64; 2] = [4, 8];
const DETACHED_EXTENT: u64 = 2;

/// The disk program answering with extents of `extent_blocks`, loaded for
/// `conn`.
fn disk_table(conn: &Conn, extent_blocks: u64) -> Result<bpf::Disk, String> {
    let program = bpf::Disk::load(conn.fd(), "disk").map_err(|e| format!("load: {e}"))?;
    program
        .set_layout(
            1,
            BLOCKS,
            extent_blocks,
            DEV,
            BLOCK_SIZE as u32,
            DiskAnswer::Handled,
        )
        .map_err(|e| format!("layout: {e}"))?;
    Ok(program)
}

/// The extent size of an answer, in blocks.
fn extent_of(b: &fuse_iomap_ioc_begin) -> u64 {
    b.out.read.length / BLOCK_SIZE
}

/// Four threads resolve while the tables switch: each switch detaches the
/// table in place and rewrites its layout (so that an answer from it would
/// show), attaches a newly loaded one with other extents, then unloads the
/// old one. A detach must wait for the calls in flight: no answer may come
/// from a rewritten table, and a call that began and ended while one table
/// was attached must have that table's answer, as the first call after
/// each switch must.
fn switching_tables_drains_the_old_one() -> Outcome {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

    const SWITCHES: u64 = 20;
    // Even: table generation / 2 is attached; odd: a switch is under way.
    let generation = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let table_extent = |generation: u64| TABLE_EXTENTS[(generation / 2 % 2) as usize];
    let conn = Arc::new(Conn::new(FUSE_IOMAP, true)?);
    let mut table = disk_table(&conn, table_extent(0))?;
    table.attach().map_err(|e| format!("attach: {e}"))?;
    let readers: Vec<_> = (0..4u64)
        .map(|t| {
            let (conn, generation, stop) = (conn.clone(), generation.clone(), stop.clone());
            thread::spawn(move || {
                // Wrong answers, answers from a detached table, answers not
                // from the table attached all along, all, during a switch.
                let mut counts = [0u64; 5];
                let mut i = 0u64;
                while !stop.load(SeqCst) {
                    let pos = (i * 7 + t) % BLOCKS * BLOCK_SIZE;
                    i += 1;
                    let before = generation.load(SeqCst);
                    let answer = conn.begin(1, pos);
                    let after = generation.load(SeqCst);
                    counts[3] += 1;
                    let b = match answer {
                        Ok(b) if right_mapping(&b) => b,
                        _ => {
                            counts[0] += 1;
                            continue;
                        }
                    };
                    if before != after || before % 2 == 1 {
                        counts[4] += 1;
                    }
                    if b.source == FUSE_IOMAP_SOURCE_BPF && extent_of(&b) == DETACHED_EXTENT {
                        counts[1] += 1;
                    } else if before == after
                        && before % 2 == 0
                        && (b.source != FUSE_IOMAP_SOURCE_BPF
                            || extent_of(&b) != table_extent(before))
                    {
                        counts[2] += 1;
                    }
                }
                counts
            })
        })
        .collect();
    let mut switched = || -> Outcome {
        for _ in 0..SWITCHES {
            thread::sleep(Duration::from_millis(5));
            let next = generation.fetch_add(1, SeqCst) + 2;
            table.detach();
            // Detached, the table gets calls no more: what it would answer
            // now must reach no caller.
            table
                .set_layout(
                    1,
                    BLOCKS,
                    DETACHED_EXTENT,
                    DEV,
                    BLOCK_SIZE as u32,
                    DiskAnswer::Handled,
                )
                .map_err(|e| format!("layout: {e}"))?;
            let old = std::mem::replace(&mut table, disk_table(&conn, table_extent(next))?);
            table.attach().map_err(|e| format!("attach: {e}"))?;
            generation.fetch_add(1, SeqCst);
            // Unloaded, its program and table are freed: a call still in it
            // would be a use after free.
            drop(old);
            let b = conn
                .begin(1, 5 * BLOCK_SIZE)
                .map_err(|e| format!("begin: {e}"))?;
            check!(
                b.source == FUSE_IOMAP_SOURCE_BPF
                    && right_mapping(&b)
                    && extent_of(&b) == table_extent(next),
                "after switch {}: source {}, extent of {} blocks, not the new table's {}",
                next / 2,
                b.source,
                extent_of(&b),
                table_extent(next)
            );
        }
        Ok(())
    };
    let outcome = switched();
    stop.store(true, SeqCst);
    let mut counts = [0u64; 5];
    for reader in readers {
        let c = reader.join().map_err(|_| "a reader panicked".to_string())?;
        counts.iter_mut().zip(c).for_each(|(sum, n)| *sum += n);
    }
    outcome?;
    let [wrong, detached, elsewhere, all, during] = counts;
    println!("# {SWITCHES} switches: {all} answers, {during} of them during a switch");
    check!(wrong == 0, "{wrong} wrong answers");
    check!(detached == 0, "{detached} answers from a detached table");
    check!(
        elsewhere == 0,
        "{elsewhere} answers not from the table attached all along"
    );
    check!(all > SWITCHES, "only {all} answers");
    Ok(())
}

fn main() {
    libbpf_rs::set_print(Some((PrintLevel::Debug, |_, line| {
        LIBBPF_LOG.lock().unwrap().push_str(&line);
    })));
    let tests: &[Test] = &[
        ("attach_and_detach", attach_and_detach),
        ("a_second_table_is_ebusy", a_second_table_is_ebusy),
        (
            "a_descriptor_that_is_no_server_is_ebadf",
            a_descriptor_that_is_no_server_is_ebadf,
        ),
        (
            "a_connection_without_iomap_is_eopnotsupp",
            a_connection_without_iomap_is_eopnotsupp,
        ),
        ("an_empty_name_is_einval", an_empty_name_is_einval),
        (
            "a_program_that_writes_elsewhere_is_refused",
            a_program_that_writes_elsewhere_is_refused,
        ),
        (
            "handled_fallback_and_retry_cache",
            handled_fallback_and_retry_cache,
        ),
        (
            "end_and_ioend_are_answered_without_upcalls",
            end_and_ioend_are_answered_without_upcalls,
        ),
        (
            "switching_tables_drains_the_old_one",
            switching_tables_drains_the_old_one,
        ),
    ];
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let mut failed = 0;
    for (n, (name, test)) in tests.iter().enumerate() {
        match test() {
            Ok(()) => println!("ok {} {name}", n + 1),
            Err(why) => {
                failed += 1;
                println!("not ok {} {name} # {why}", n + 1);
            }
        }
    }
    std::process::exit(i32::from(failed != 0));
}
