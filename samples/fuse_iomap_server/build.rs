// SPDX-License-Identifier: GPL-2.0

//! Generates the server's view of the ABI from the uapi header itself, as a
//! C server would include it: `include/uapi/linux/fuse_iomap.h` and the
//! `<linux/fuse.h>` it builds on. The structures the server sends or
//! receives derive `bytemuck::Pod`, which checks at compile time that they
//! have no padding, so that they convert to and from bytes safely.
//!
//! Then builds the BPF programs of `samples/bpf/` with clang and makes their
//! libbpf-rs skeletons. The programs include a `vmlinux.h` dumped from the
//! BTF of the kernel tree `FUSE_IOMAP_KDIR` and of the module built against
//! it, `fs/fuse_iomap/fuse_iomap.ko` (`make samples` sets both up).
//!
//! And binds libext2fs (`<ext2fs/ext2fs.h>`, Debian's `libext2fs-dev`),
//! the library of e2fsprogs, fuse2fs and fuse4fs, for `mount ext4`.

use bindgen::callbacks::{DeriveInfo, ParseCallbacks};
use libbpf_cargo::SkeletonBuilder;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The BPF programs, by the name of their source in `samples/bpf/`.
const PROGRAMS: &[&str] = &[
    "fuse_iomap_famfs",
    "fuse_iomap_disk",
    "fuse_iomap_diskfs",
    "fuse_iomap_forbidden",
];

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
    "fuse_iomap_inval_mappings_out",
    "fuse_range",
    "fuse_iomap_backing_map",
    // The namespace requests of the mount.
    "fuse_attr",
    "fuse_entry_out",
    "fuse_forget_in",
    "fuse_forget_one",
    "fuse_batch_forget_in",
    "fuse_getattr_in",
    "fuse_attr_out",
    "fuse_setattr_in",
    "fuse_open_in",
    "fuse_open_out",
    "fuse_create_in",
    "fuse_mkdir_in",
    "fuse_rename_in",
    "fuse_rename2_in",
    "fuse_read_in",
    "fuse_write_in",
    "fuse_write_out",
    "fuse_release_in",
    "fuse_kstatfs",
    "fuse_statfs_out",
    "fuse_fsync_in",
    "fuse_fallocate_in",
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

/// `vmlinux.h`: every type of the kernel tree and of the module.
fn vmlinux_h(out: &Path) {
    println!("cargo:rerun-if-env-changed=FUSE_IOMAP_KDIR");
    let kdir = std::env::var("FUSE_IOMAP_KDIR")
        .expect("FUSE_IOMAP_KDIR must name the built kernel tree (make samples sets it)");
    let module = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fs/fuse_iomap/fuse_iomap.ko"
    );
    println!("cargo:rerun-if-changed={module}");
    let dump = Command::new("bpftool")
        .args(["btf", "dump", "file", module, "--base-btf"])
        .arg(Path::new(&kdir).join("vmlinux"))
        .args(["format", "c"])
        .output()
        .expect("running bpftool");
    assert!(
        dump.status.success(),
        "bpftool btf dump: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    std::fs::write(out.join("vmlinux.h"), dump.stdout).expect("writing vmlinux.h");
}

/// The programs' skeletons.
fn skeletons(out: &Path) {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../bpf");
    println!("cargo:rerun-if-changed={src}");
    for name in PROGRAMS {
        SkeletonBuilder::new()
            .source(format!("{src}/{name}.bpf.c"))
            .clang_args([format!("-I{}", out.display()), format!("-I{src}")])
            .build_and_generate(out.join(format!("{name}.skel.rs")))
            .unwrap_or_else(|e| panic!("building {name}.bpf.c: {e}"));
    }
}

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    vmlinux_h(&out);
    skeletons(&out);
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/uapi");
    let header = format!("{include}/linux/fuse_iomap.h");
    println!("cargo:rerun-if-changed={header}");
    let bindings = bindgen::Builder::default()
        .header(header)
        .clang_arg(format!("-I{include}"))
        .allowlist_type("fuse_.*")
        .allowlist_var("FUSE_.*|FAMFS_.*|FATTR_.*")
        .derive_default(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(Pod))
        .generate()
        .expect("bindgen of the uapi header");
    bindings
        .write_to_file(out.join("uapi.rs"))
        .expect("writing uapi.rs");
    loop_h(&out);
    ext2fs_h(&out);
}

/// `ext2fs.rs`: the part of libext2fs that `src/ext4/` calls, and the
/// libraries to link (`error_message` is com_err's).
fn ext2fs_h(out: &Path) {
    println!("cargo:rustc-link-lib=ext2fs");
    println!("cargo:rustc-link-lib=com_err");
    bindgen::Builder::default()
        .header_contents(
            "ext2fs_all.h",
            "#include <ext2fs/ext2fs.h>\n#include <et/com_err.h>\n",
        )
        .allowlist_function("ext2fs_.*|error_message|initialize_ext2_error_table")
        .allowlist_var("unix_io_manager|EXT2_.*|EXT3_.*|EXT4_.*|BLOCK_.*|DIRENT_.*|BMAP_.*")
        .derive_default(true)
        .layout_tests(false)
        .generate()
        .expect("bindgen of <ext2fs/ext2fs.h> (apt-get install libext2fs-dev)")
        .write_to_file(out.join("ext2fs.rs"))
        .expect("writing ext2fs.rs");
}

/// `loop.rs`: the loop device's ioctl structures, for `mount --image`.
fn loop_h(out: &Path) {
    bindgen::Builder::default()
        .header_contents("loop.h", "#include <linux/loop.h>")
        .allowlist_item("loop_config|LO_FLAGS_AUTOCLEAR")
        .derive_default(true)
        .layout_tests(false)
        .generate()
        .expect("bindgen of <linux/loop.h>")
        .write_to_file(out.join("loop.rs"))
        .expect("writing loop.rs");
}
