// SPDX-License-Identifier: GPL-2.0

//! The famfs BPF program's resolution (`samples/bpf/
//! fuse_iomap_famfs_resolve.h`, compiled by `build.rs`) against the
//! module's (`fmap.rs`): the same device address and the same bytes for
//! every byte both resolve, and no mapping from the program where the
//! module has none, on every chunk boundary of the sample server's striped
//! files and of hostile layouts (strips shorter than their chunks, of
//! different lengths, a size that ends inside a chunk).

use crate::fmap::{Fmap, ALIGNMENT};
use crate::fmap_build::{Ext, FmapSpec, Group, Layout};
use proptest::prelude::*;

const MAX_STRIPS: usize = 32;

/// `struct famfs_layout`.
#[repr(C)]
struct FamfsLayout {
    size: u64,
    chunk: u64,
    nstrips: u32,
    dev: u32,
    strip_off: [u64; MAX_STRIPS],
    strip_len: [u64; MAX_STRIPS],
}

/// `struct famfs_chunk_map`.
#[repr(C)]
#[derive(Default)]
struct ChunkMap {
    offset: u64,
    addr: u64,
    length: u64,
}

extern "C" {
    fn famfs_bpf_resolve(l: *const FamfsLayout, pos: u64, out: *mut ChunkMap) -> i32;
}

/// A file of `size` bytes in chunks of `chunk` over `strips` (device
/// offset and length, all on daxdev 0): the program's layout, and the
/// module's fmap if it accepts the reply.
fn file(size: u64, chunk: u64, strips: &[(u64, u64)]) -> (FamfsLayout, Option<Fmap>) {
    let mut layout = FamfsLayout {
        size,
        chunk,
        nstrips: strips.len() as u32,
        dev: 0,
        strip_off: [0; MAX_STRIPS],
        strip_len: [0; MAX_STRIPS],
    };
    for (i, &(off, len)) in strips.iter().enumerate() {
        layout.strip_off[i] = off;
        layout.strip_len[i] = len;
    }
    let mut spec = FmapSpec::new(Layout::Interleave(vec![Group {
        chunk: chunk as u32,
        nbytes: strips.iter().map(|s| s.1).sum(),
        strips: strips
            .iter()
            .map(|&(offset, len)| Ext {
                dev: 0,
                offset,
                len,
            })
            .collect(),
    }]));
    spec.file_size = size;
    (layout, Fmap::parse(&spec.build()).ok())
}

/// The program and the module agree at `pos`; a description of the first
/// difference otherwise.
fn agree(layout: &FamfsLayout, fmap: &Fmap, pos: u64) -> Result<(), String> {
    let mut m = ChunkMap::default();
    // SAFETY: Both point to live values of the C layouts.
    let rc = unsafe { famfs_bpf_resolve(layout, pos, &mut m) };
    match (fmap.resolve(pos, u64::MAX), rc) {
        (Err(_), -1) => Ok(()),
        (Err(r), _) => Err(format!(
            "at {pos}: the module has no mapping ({}), the program maps {:?}",
            r.reason,
            (m.offset, m.addr, m.length)
        )),
        (Ok(r), 0) => {
            let aligned = (m.offset | m.length) % 4096 == 0;
            let inside = m.offset <= pos && pos < m.offset + m.length;
            let addr = m.addr + (pos - m.offset);
            let length = (m.offset + m.length - pos).min(layout.size - pos);
            if aligned && inside && r.dev_index == 0 && (addr, length) == (r.dev_offset, r.length) {
                Ok(())
            } else {
                Err(format!(
                    "at {pos}: the module maps {} bytes at {}, the program {:?}",
                    r.length,
                    r.dev_offset,
                    (m.offset, m.addr, m.length)
                ))
            }
        }
        (Ok(r), rc) => Err(format!(
            "at {pos}: the module maps {} bytes at {}, the program returned {rc}",
            r.length, r.dev_offset
        )),
    }
}

/// Every chunk boundary, a byte on either side of it and one inside, up to
/// two chunks past the end of the file.
fn boundaries(size: u64, chunk: u64) -> impl Iterator<Item = u64> {
    (0..size / chunk + 3).flat_map(move |k| {
        let b = k * chunk;
        [b.saturating_sub(1), b, b + 1, b + chunk / 2]
    })
}

fn check_all(size: u64, chunk: u64, strips: &[(u64, u64)]) -> Result<usize, String> {
    let (layout, fmap) = file(size, chunk, strips);
    let fmap = fmap.ok_or("the module refuses the fmap")?;
    let mut n = 0;
    for pos in boundaries(size, chunk) {
        agree(&layout, &fmap, pos)?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn the_program_agrees_on_the_servers_striped_files() {
    const M: u64 = ALIGNMENT;
    // The sample server's layouts: equal strips of whole chunks, one after
    // the other, the file's size a multiple of the chunk or not.
    for (strips, chunk, size) in [
        (4, 2 * M, 32 * M),
        (3, 4 * M, 10 * M + 4096),
        (1, 2 * M, 6 * M),
    ] {
        let strip_len = size.div_ceil(chunk).div_ceil(strips) * chunk;
        let layout: Vec<_> = (0..strips)
            .map(|s| (64 * M + s * strip_len, strip_len))
            .collect();
        let checked = check_all(size, chunk, &layout).unwrap();
        assert!(checked >= 4 * (size / chunk) as usize);
    }
}

#[test]
fn the_program_does_not_read_past_a_short_strip() {
    const M: u64 = ALIGNMENT;
    // Chunks of 4 MiB over strips of 2 MiB: the second half of every chunk
    // is past its strip's end, where the next strip starts on the device.
    let strips = [(0, 2 * M), (2 * M, 2 * M)];
    check_all(4 * M, 4 * M, &strips).unwrap();
    let (layout, _) = file(4 * M, 4 * M, &strips);
    let mut m = ChunkMap::default();
    // SAFETY: Both point to live values of the C layouts.
    let rc = unsafe { famfs_bpf_resolve(&layout, 3 * M, &mut m) };
    assert_eq!(
        rc,
        -1,
        "no mapping past the strip: {:?}",
        (m.offset, m.addr, m.length)
    );
}

proptest! {
    #[test]
    fn the_program_agrees_on_hostile_layouts(
        chunks in 1u64..4,
        lens in prop::collection::vec(1u64..6, 1..6),
        cut in 0u64..1 << 21,
        spread in 0u64..3,
    ) {
        let chunk = chunks * ALIGNMENT;
        let mut next = 0;
        let strips: Vec<_> = lens
            .iter()
            .map(|&l| {
                let s = (next, l * ALIGNMENT);
                next += (l + spread) * ALIGNMENT;
                s
            })
            .collect();
        let total: u64 = strips.iter().map(|s| s.1).sum();
        let size = total.saturating_sub(cut).max(1);
        prop_assert_eq!(check_all(size, chunk, &strips).map(|_| ()), Ok(()));
    }
}
