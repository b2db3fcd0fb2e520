// SPDX-License-Identifier: GPL-2.0

//! libext2fs, generated from `<ext2fs/ext2fs.h>` by `build.rs`. Only
//! `src/ext4/` calls it, through the safe wrappers of its files.

// Generated code: its names are C's, and bindgen's helpers carry no safety
// docs.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]
#![allow(dead_code, clippy::missing_safety_doc, clippy::useless_transmute)]
#![allow(clippy::too_many_arguments, clippy::ptr_offset_with_cast)]
#![allow(clippy::upper_case_acronyms)]

include!(concat!(env!("OUT_DIR"), "/ext2fs.rs"));
