// SPDX-License-Identifier: GPL-2.0

//! The wire structures that are plain data: copied whole from and to user
//! memory (`UserSliceReader::read`, `UserSliceWriter::write`) and sent as a
//! request's bytes (`channel::bytes_of`).

use crate::abi::{
    Counters, DaxdevOut, InHeader, InitIn, InitOut, IocBackingMap, IocBegin, IocConfig, IocDevice,
    IocDump, IocEnd, IocFamfsInfo, IocFmap, IocIoend, IocLookup, IocRead, IocResolve, IocSetsize,
    IocValid, IomapBeginIn, IomapBeginOut, IomapConfigIn, IomapConfigOut, IomapEndIn,
    IomapInvalMappingsOut, IomapIo, IomapIoendIn, IomapIoendOut, IomapUpsertMappingsOut, OutHeader,
    Range,
};
use crate::fuse_abi::{
    Attr, AttrOut, BatchForgetIn, CreateIn, EntryOut, FallocateIn, ForgetIn, ForgetOne, FsyncIn,
    GetattrIn, Kstatfs, MkdirIn, OpenIn, OpenOut, ReadIn, ReleaseIn, RenameIn, SetattrIn, WriteIn,
    WriteOut,
};
use kernel::types::{AsBytes, FromBytes};

// SAFETY (for each `FromBytes` and `AsBytes` below): the types are
// `#[repr(C)]` structures of integers, arrays of integers and other such
// structures, without padding (abi.rs checks their sizes); any bit pattern is
// a valid value, and every byte is initialised.
macro_rules! plain_data {
    ($($t:ty),*) => {
        $(
            // SAFETY: See above.
            unsafe impl FromBytes for $t {}
            // SAFETY: See above.
            unsafe impl AsBytes for $t {}
        )*
    };
}

plain_data!(
    IomapIo,
    IomapBeginIn,
    IomapBeginOut,
    Range,
    IomapUpsertMappingsOut,
    IomapInvalMappingsOut,
    IocConfig,
    IocDevice,
    IocLookup,
    IocDump,
    IocBegin,
    IocValid,
    IocFmap,
    IocResolve,
    IocFamfsInfo,
    DaxdevOut,
    IocRead,
    InHeader,
    OutHeader,
    InitIn,
    InitOut,
    IomapConfigIn,
    IomapConfigOut,
    IomapEndIn,
    IomapIoendIn,
    IomapIoendOut,
    IocEnd,
    IocIoend,
    IocSetsize,
    Counters,
    IocBackingMap,
    Attr,
    EntryOut,
    AttrOut,
    GetattrIn,
    SetattrIn,
    OpenIn,
    OpenOut,
    ReleaseIn,
    CreateIn,
    MkdirIn,
    RenameIn,
    Kstatfs,
    FsyncIn,
    FallocateIn,
    ForgetIn,
    BatchForgetIn,
    ForgetOne,
    ReadIn,
    WriteIn,
    WriteOut
);
