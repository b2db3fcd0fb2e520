// SPDX-License-Identifier: GPL-2.0

//! Generates the server's view of the ABI from the uapi header itself, as a
//! C server would include it: `include/uapi/linux/fuse_iomap.h` and the
//! `<linux/fuse.h>` it builds on. The structures the server sends or
//! receives derive `bytemuck::Pod`, which checks at compile time that they
//! have no padding, so that they convert to and from bytes safely.

use bindgen::callbacks::{DeriveInfo, ParseCallbacks};
use std::path::PathBuf;

/// The structures that travel as bytes.
const WIRE: &[&str] = &[
    "fuse_in_header",
    "fuse_out_header",
    "fuse_init_in",
    "fuse_init_out",
    "fuse_iomap_config_in",
    "fuse_iomap_config_out",
    "fuse_iomap_io",
    "fuse_iomap_begin_in",
    "fuse_iomap_begin_out",
    "fuse_iomap_end_in",
    "fuse_iomap_ioend_in",
    "fuse_iomap_ioend_out",
    "fuse_iomap_upsert_mappings_out",
    "fuse_daxdev_out",
];

#[derive(Debug)]
struct Pod;

impl ParseCallbacks for Pod {
    fn add_derives(&self, info: &DeriveInfo<'_>) -> Vec<String> {
        if WIRE.contains(&info.name) {
            vec!["bytemuck::Pod".into(), "bytemuck::Zeroable".into()]
        } else {
            vec![]
        }
    }
}

fn main() {
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");
    let header = format!("{include}/linux/fuse_iomap.h");
    println!("cargo:rerun-if-changed={header}");
    let bindings = bindgen::Builder::default()
        .header(header)
        .clang_arg(format!("-I{include}"))
        .allowlist_type("fuse_.*")
        .allowlist_var("FUSE_.*|FAMFS_.*")
        .derive_default(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(Pod))
        .generate()
        .expect("bindgen of the uapi header");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("uapi.rs");
    bindings.write_to_file(out).expect("writing uapi.rs");
}
