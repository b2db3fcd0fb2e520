// SPDX-License-Identifier: GPL-2.0

//! `loom` model checks of the daxdev table's publication protocol: every
//! interleaving of a writer and lock-free readers, and of two writers under
//! the writer lock. Run by `make check` with `--cfg loom`.

use crate::daxdev::DaxdevTable;
use kernel::error::code::EIO;
use loom::sync::{Arc, Mutex};
use loom::thread;

/// A handle of several fields, each written before publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Handle {
    devno: u64,
    size: u64,
}

const HANDLE: Handle = Handle {
    devno: 0xfe01,
    size: 1 << 30,
};

#[test]
fn a_reader_that_sees_valid_sees_the_whole_handle() {
    loom::model(|| {
        let t = Arc::new(DaxdevTable::new());
        let writer = {
            let t = t.clone();
            thread::spawn(move || {
                // SAFETY: The only writer.
                unsafe { t.publish(5, Some(HANDLE)) }.unwrap();
            })
        };
        let reader = {
            let t = t.clone();
            thread::spawn(move || match t.with_dev(5, |h| *h) {
                Ok(h) => assert_eq!(h, HANDLE),
                Err(e) => assert_eq!(e, EIO),
            })
        };
        // The discovering thread checks the slot before asking the server.
        let seen = t.is_valid(5).then(|| t.with_dev(5, |h| *h));
        if let Some(read) = seen {
            assert_eq!(read, Ok(HANDLE));
        }
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(t.with_dev(5, |h| *h), Ok(HANDLE));
    });
}

#[test]
fn racing_discoveries_publish_once() {
    loom::model(|| {
        let t = Arc::new(DaxdevTable::new());
        let lock = Arc::new(Mutex::new(()));
        let discover = |devno: u64| {
            let (t, lock) = (t.clone(), lock.clone());
            thread::spawn(move || {
                // The upcall happens without the lock; then lock and publish.
                let _guard = lock.lock().unwrap();
                // SAFETY: The writer lock is held.
                unsafe { t.publish(0, Some(Handle { devno, size: 1 })) }.unwrap();
            })
        };
        let (a, b) = (discover(1), discover(2));
        let read = t.with_dev(0, |h| h.devno);
        a.join().unwrap();
        b.join().unwrap();
        let winner = t.with_dev(0, |h| h.devno).unwrap();
        assert!(winner == 1 || winner == 2);
        // An early reader saw nothing or the winner, never a mix.
        assert!(read == Err(EIO) || read == Ok(winner));
    });
}
