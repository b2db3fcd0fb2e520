// SPDX-License-Identifier: GPL-2.0

//! The daxdevs of a famfs connection: the publication protocol around the
//! lock-free [`DaxdevTable`], in one place.
//!
//! - **Answers.** The server names a daxdev by index, with a device number
//!   resolved in its own task (`daxdev_name.rs`): given ahead
//!   (`FUSE_IOMAP_IOC_FAMFS_DAXDEV`) and kept in `answers`, or asked for
//!   with `GET_DAXDEV` when an fmap first names the index.
//! - **Discovery.** Without any lock the caller gets the number; then, with
//!   `live` held for reading and the writer lock held, it re-checks the
//!   slot, claims the device and publishes it (or publishes the failure).
//!   Only one writer runs at a time; readers never wait for it.
//! - **Readers.** A reader takes `live` for reading just long enough to
//!   take a reference on the published device, and copies without any lock
//!   of this file: a reader whose user buffer stalls (a fault served by
//!   userfaultfd, say) holds up nobody. The claim lasts as long as such a
//!   reference.
//! - **Teardown.** When the server closes its file, `live` is taken for
//!   writing, which waits only for the short reader sections, and the table
//!   is emptied: every later reader or discovery gets `ENOTCONN`, and each
//!   claim goes with its last reference.

use crate::dax::Dax;
use crate::daxdev::DaxdevTable;
use crate::daxdev_name;
use crate::errno::enotconn;
use crate::famfs_iomap;
use crate::fmap::MAX_DAXDEVS;
use crate::mapping::Devices;
use crate::ratelimit::pr_warn_ratelimited;
use crate::rwsem::RwSem;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// The daxdevs of one connection.
#[pin_data]
pub(crate) struct Daxdevs {
    table: DaxdevTable<Arc<Dax>>,
    /// The server's answers given ahead: device numbers, by index.
    #[pin]
    answers: Mutex<[Option<u32>; MAX_DAXDEVS as usize]>,
    #[pin]
    writer: Mutex<()>,
    /// Whether the table may be used: false once torn down.
    #[pin]
    live: RwSem<bool>,
}

impl Daxdevs {
    /// No daxdevs, no answers.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            table: DaxdevTable::new(),
            answers <- new_mutex!([None; MAX_DAXDEVS as usize]),
            writer <- new_mutex!(()),
            live <- crate::new_rwsem!(true, "fuse_iomap:daxdevs"),
        })
    }

    /// Records the server's answer for `index`, given ahead.
    pub(crate) fn answer(&self, index: u32, dev: u32) -> Result {
        let mut answers = self.answers.lock();
        *answers.get_mut(index as usize).ok_or(EINVAL)? = Some(dev);
        Ok(())
    }

    /// The answer given ahead for `index`, if any.
    pub(crate) fn answered(&self, index: u32) -> Option<u32> {
        self.answers.lock().get(index as usize).copied().flatten()
    }

    /// Whether slot `index` was published (filled or failed).
    pub(crate) fn is_published(&self, index: u32) -> bool {
        self.table.is_valid(index)
    }

    /// Claims device `dev` for slot `index` and publishes it; a device that
    /// cannot be claimed is published as failed, so that reads through it
    /// get `EIO`. `ENOTCONN` once torn down.
    pub(crate) fn publish(&self, index: u32, dev: u32) -> Result {
        let live = self.live.read();
        if !*live {
            return Err(enotconn());
        }
        let _writer = self.writer.lock();
        if self.table.is_valid(index) {
            return Ok(());
        }
        let (major, minor) = daxdev_name::major_minor(dev);
        let dax = Dax::open(dev)
            .and_then(|dax| Arc::new(dax, GFP_KERNEL_ACCOUNT).map_err(Error::from))
            .inspect_err(|e| {
                pr_warn_ratelimited!(
                    "famfs: daxdev {} (device {}:{}) cannot be claimed: {:?}\n",
                    index,
                    major,
                    minor,
                    e
                )
            })
            .ok();
        // SAFETY: The writer lock is held.
        unsafe { self.table.publish(index, dax) }
    }

    /// A reference on the device of slot `index`: `EINVAL` for an index of
    /// 24 or more, `EIO` for a slot not published or whose claim failed,
    /// `ENOTCONN` once torn down.
    pub(crate) fn get(&self, index: u32) -> Result<Arc<Dax>> {
        let live = self.live.read();
        if !*live {
            return Err(enotconn());
        }
        self.table.with_dev(index, Arc::clone)
    }

    /// Tears the table down: forgets the answers, empties every slot.
    pub(crate) fn teardown(&self) {
        *self.answers.lock() = [None; MAX_DAXDEVS as usize];
        let mut live = self.live.write();
        *live = false;
        let _writer = self.writer.lock();
        // SAFETY: Readers and publishers hold `live` for reading, and
        // publishers also the writer lock: both are held here.
        unsafe { self.table.clear() };
    }
}

/// The published daxdevs, by their cookies, as the devices that
/// `iomap_begin` answers for famfs files are checked against
/// (`famfs_iomap.rs`).
impl Devices for Daxdevs {
    fn size(&self, dev: u32) -> Option<u64> {
        let index = famfs_iomap::daxdev_index(dev)?;
        self.get(index).ok().map(|dax| dax.size())
    }
}
