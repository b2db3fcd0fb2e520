// SPDX-License-Identifier: GPL-2.0

//! Compiles `src/tests/uapi.c` against `include/uapi/linux/fuse_iomap.h`, so
//! that the tests compare the Rust mirror (`fs/fuse_iomap/abi.rs`) with what
//! a C compiler makes of the header.

fn main() {
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");
    println!("cargo:rerun-if-changed=src/tests/uapi.c");
    println!("cargo:rerun-if-changed={include}/linux/fuse_iomap.h");
    cc::Build::new()
        .file("src/tests/uapi.c")
        .include(include)
        .warnings_into_errors(true)
        .compile("uapi");
}
