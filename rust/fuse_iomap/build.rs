// SPDX-License-Identifier: GPL-2.0

//! Compiles `src/tests/uapi.c` against `include/uapi/linux/fuse_iomap.h`, so
//! that the tests compare the Rust mirror (`fs/fuse_iomap/abi.rs`) with what
//! a C compiler makes of the header; and `src/tests/famfs_bpf.c`, the famfs
//! BPF program's resolution, so that they compare it with `fmap.rs`.

fn main() {
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");
    println!("cargo:rerun-if-changed=src/tests/uapi.c");
    println!("cargo:rerun-if-changed={include}/linux/fuse_iomap.h");
    cc::Build::new()
        .file("src/tests/uapi.c")
        .include(include)
        .warnings_into_errors(true)
        .compile("uapi");
    let bpf = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/bpf");
    println!("cargo:rerun-if-changed=src/tests/famfs_bpf.c");
    println!("cargo:rerun-if-changed={bpf}/fuse_iomap_famfs_resolve.h");
    cc::Build::new()
        .file("src/tests/famfs_bpf.c")
        .include(bpf)
        .warnings_into_errors(true)
        .compile("famfs_bpf");
}
