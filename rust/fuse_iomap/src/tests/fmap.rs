// SPDX-License-Identifier: GPL-2.0

//! famfs fmaps: every validation rule with its error code, resolution
//! against a naive chunk-by-chunk model, robustness against any bytes, and
//! the `fmap` tool's output.

use crate::fmap::{Fmap, Resolved, ALIGNMENT};
use crate::fmap_build::{Ext, FmapSpec, Group, Layout};
use crate::fmap_tool::{self, Failure};
use kernel::error::code::{EINVAL, EIO, ERANGE};
use proptest::prelude::*;

const M: u64 = 1 << 20;

fn simple(exts: &[(u32, u64, u64)]) -> FmapSpec {
    FmapSpec::new(Layout::Simple(
        exts.iter()
            .map(|&(dev, offset, len)| Ext { dev, offset, len })
            .collect(),
    ))
}

fn interleave(chunk: u32, nbytes: u64, strips: &[(u32, u64, u64)]) -> FmapSpec {
    let strips = strips
        .iter()
        .map(|&(dev, offset, len)| Ext { dev, offset, len })
        .collect();
    FmapSpec::new(Layout::Interleave(vec![Group {
        chunk,
        nbytes,
        strips,
    }]))
}

fn refused(spec: &FmapSpec) -> (kernel::error::Error, &'static str) {
    match Fmap::parse(&spec.build()) {
        Ok(_) => panic!("accepted: {spec:?}"),
        Err(r) => (r.error, r.reason),
    }
}

#[test]
fn worked_example_of_the_spec() {
    // 4 strips, 2 MiB chunks, 24 MiB: offset 15 MiB is chunk 7, stripe 1,
    // strip 3, 3 MiB into it, with 1 MiB left in the chunk.
    let strips: Vec<_> = (0..4).map(|i| (i, 100 * M * u64::from(i), 6 * M)).collect();
    let f = Fmap::parse(&interleave(2 << 20, 24 * M, &strips).build()).unwrap();
    assert_eq!(
        f.resolve(15 * M, 4 * M),
        Ok(Resolved {
            dev_index: 3,
            dev_offset: 300 * M + 3 * M,
            length: M
        })
    );
    assert_eq!(f.devices(), 0b1111);
}

#[test]
fn every_index_below_24_is_supported() {
    let f = Fmap::parse(&simple(&[(0, 0, 2 * M), (23, 0, 2 * M), (7, 0, 2 * M)]).build()).unwrap();
    assert_eq!(f.devices(), 1 << 0 | 1 << 7 | 1 << 23);
    assert_eq!(f.resolve(4 * M + 5, 10).unwrap().dev_index, 7);
}

#[test]
fn header_rules() {
    let good = simple(&[(0, 0, 2 * M)]);
    assert!(Fmap::parse(&good.build()).is_ok());
    assert_eq!(
        Fmap::parse(&good.build()[..31]).err().map(|r| r.error),
        Some(EINVAL)
    );
    assert_eq!(Fmap::parse(&[]).err().map(|r| r.error), Some(EINVAL));
    assert_eq!(
        refused(&FmapSpec {
            version: 0,
            ..good.clone()
        }),
        (EINVAL, "unknown fmap version")
    );
    assert_eq!(
        refused(&FmapSpec {
            version: 2,
            ..good.clone()
        }),
        (EINVAL, "unknown fmap version")
    );
    assert_eq!(
        refused(&FmapSpec {
            file_type: 3,
            ..good.clone()
        }),
        (EINVAL, "unknown file type")
    );
    assert_eq!(
        refused(&FmapSpec {
            ext_type: Some(2),
            ..good.clone()
        }),
        (EINVAL, "unknown extent type")
    );
    assert_eq!(
        refused(&FmapSpec {
            reserved: 1,
            ..good.clone()
        })
        .0,
        EINVAL
    );
    assert_eq!(
        refused(&FmapSpec {
            trailing: 1,
            ..good.clone()
        }),
        (EINVAL, "bytes after the last extent")
    );
    assert_eq!(
        refused(&FmapSpec {
            nextents: Some(0),
            ..good.clone()
        })
        .0,
        ERANGE
    );
    assert_eq!(
        refused(&FmapSpec {
            nextents: Some(33),
            ..good.clone()
        })
        .0,
        ERANGE
    );
    assert_eq!(
        refused(&FmapSpec {
            nextents: Some(2),
            ..good.clone()
        }),
        (EINVAL, "extent past the end of the reply")
    );
    assert_eq!(
        refused(&FmapSpec {
            file_size: 2 * M + 1,
            ..good.clone()
        }),
        (EINVAL, "extents hold less than the file size")
    );
    for file_type in 0..3 {
        assert!(Fmap::parse(
            &FmapSpec {
                file_type,
                ..good.clone()
            }
            .build()
        )
        .is_ok());
    }
    let many: Vec<_> = (0..32).map(|i| (0, i * 2 * M, 2 * M)).collect();
    assert!(Fmap::parse(&simple(&many).build()).is_ok());
    let too_many: Vec<_> = (0..33).map(|i| (0, i * 2 * M, 2 * M)).collect();
    assert_eq!(refused(&simple(&too_many)).0, ERANGE);
}

#[test]
fn extent_rules() {
    assert_eq!(
        refused(&simple(&[(24, 0, 2 * M)])),
        (EINVAL, "device index 24 or more")
    );
    assert_eq!(
        refused(&simple(&[(u32::MAX, 0, 2 * M)])),
        (EINVAL, "device index 24 or more")
    );
    let unaligned = (EINVAL, "extent offset or length not 2 MiB-aligned");
    assert_eq!(refused(&simple(&[(0, M, 2 * M)])), unaligned);
    assert_eq!(refused(&simple(&[(0, 0, 3 * M)])), unaligned);
    assert_eq!(
        refused(&simple(&[(
            0,
            u64::MAX - 2 * M + 1 - (u64::MAX % (2 * M) + 1) + 2 * M,
            4 * M
        )]))
        .1,
        "extent end overflows"
    );
    let huge = u64::MAX / (2 * M) * (2 * M);
    assert_eq!(
        refused(&FmapSpec {
            file_size: 0,
            ..simple(&[(0, 0, huge), (0, 0, huge)])
        })
        .1,
        "extent lengths overflow"
    );
}

#[test]
fn group_rules() {
    let strips = [(0, 0, 4 * M), (1, 0, 4 * M)];
    assert!(Fmap::parse(&interleave(2 << 20, 8 * M, &strips).build()).is_ok());
    assert_eq!(
        refused(&interleave(0, 8 * M, &strips)),
        (EINVAL, "chunk size 0 or not 2 MiB-aligned")
    );
    assert_eq!(
        refused(&interleave(1 << 20, 8 * M, &strips)),
        (EINVAL, "chunk size 0 or not 2 MiB-aligned")
    );
    assert_eq!(
        refused(&FmapSpec {
            file_size: 0,
            ..interleave(2 << 20, 0, &strips)
        }),
        (EINVAL, "group of 0 bytes")
    );
    assert_eq!(
        refused(&interleave(2 << 20, 8 * M, &[])),
        (EINVAL, "no strips, or more than 32")
    );
    let many: Vec<_> = (0..33).map(|i| (i % 24, 0, 2 * M)).collect();
    assert_eq!(
        refused(&interleave(2 << 20, 8 * M, &many)),
        (EINVAL, "no strips, or more than 32")
    );
    assert_eq!(
        refused(&interleave(2 << 20, 8 * M, &[(0, M, 4 * M)])).1,
        "extent offset or length not 2 MiB-aligned"
    );
    assert_eq!(
        refused(&interleave(2 << 20, 8 * M, &[(30, 0, 4 * M)])).1,
        "device index 24 or more"
    );
    assert_eq!(
        refused(&FmapSpec {
            file_size: 9 * M,
            ..interleave(2 << 20, 8 * M, &strips)
        })
        .1,
        "extents hold less than the file size"
    );
}

#[test]
fn resolution_stops_at_the_end_of_a_group() {
    // Group 1 holds 1 MiB of a 4 MiB chunk; the file goes on in group 2.
    let groups = vec![
        Group {
            chunk: 4 << 20,
            nbytes: M,
            strips: vec![Ext {
                dev: 1,
                offset: 0,
                len: 4 * M,
            }],
        },
        Group {
            chunk: 2 << 20,
            nbytes: 2 * M,
            strips: vec![Ext {
                dev: 2,
                offset: 0,
                len: 2 * M,
            }],
        },
    ];
    let f = Fmap::parse(&FmapSpec::new(Layout::Interleave(groups)).build()).unwrap();
    assert_eq!(
        f.resolve(0, 8 * M),
        Ok(Resolved {
            dev_index: 1,
            dev_offset: 0,
            length: M
        })
    );
    assert_eq!(
        f.resolve(M, 8 * M),
        Ok(Resolved {
            dev_index: 2,
            dev_offset: 0,
            length: 2 * M
        })
    );
}

#[test]
fn resolution_stops_at_eof_and_at_strip_ends() {
    let f = Fmap::parse(
        &FmapSpec {
            file_size: 3 * M,
            ..simple(&[(0, 0, 4 * M)])
        }
        .build(),
    )
    .unwrap();
    assert_eq!(f.resolve(3 * M, 1).unwrap_err().error, EIO);
    assert_eq!(f.resolve(u64::MAX, 1).unwrap_err().error, EIO);
    assert_eq!(f.resolve(2 * M, 10 * M).unwrap().length, M);
    // A strip too short for its share: 3 chunks over 2 strips of 2 MiB.
    let f =
        Fmap::parse(&interleave(2 << 20, 6 * M, &[(0, 0, 2 * M), (1, 0, 2 * M)]).build()).unwrap();
    assert_eq!(f.resolve(2 * M, 1).unwrap().dev_index, 1);
    assert_eq!(
        f.resolve(4 * M, 1).unwrap_err(),
        crate::fmap::Rejected {
            error: EIO,
            reason: "offset past the end of its strip"
        }
    );
}

/// The naive model: walk the file chunk by chunk (or extent by extent) from
/// offset 0, tracking where each piece lives, until `offset` is reached.
fn model(spec: &FmapSpec, offset: u64, len: u64) -> Option<Resolved> {
    if offset >= spec.file_size {
        return None;
    }
    let len = len.min(spec.file_size - offset);
    let mut file = 0u64;
    match &spec.layout {
        Layout::Simple(exts) => {
            for e in exts {
                if offset < file + e.len {
                    let into = offset - file;
                    return Some(Resolved {
                        dev_index: e.dev,
                        dev_offset: e.offset + into,
                        length: len.min(e.len - into),
                    });
                }
                file += e.len;
            }
            None
        }
        Layout::Interleave(groups) => {
            for g in groups {
                let chunk = u64::from(g.chunk);
                let size = g.nbytes.min(spec.file_size);
                let mut used = vec![0u64; g.strips.len()];
                let mut start = 0;
                let mut c = 0;
                while start < size {
                    let s = c % g.strips.len();
                    // The last chunk of a group may be cut short.
                    let this = chunk.min(size - start);
                    if offset < file + start + this && offset >= file + start {
                        let into = offset - file - start;
                        let strip_off = used[s] + into;
                        let strip = &g.strips[s];
                        if strip_off >= strip.len {
                            return None;
                        }
                        return Some(Resolved {
                            dev_index: strip.dev,
                            dev_offset: strip.offset + strip_off,
                            length: len.min(this - into).min(strip.len - strip_off),
                        });
                    }
                    used[s] += chunk;
                    start += chunk;
                    c += 1;
                }
                file += size;
            }
            None
        }
    }
}

fn ext_strategy() -> impl Strategy<Value = Ext> {
    (0..24u32, 0..64u64, 1..6u64).prop_map(|(dev, o, l)| Ext {
        dev,
        offset: o * ALIGNMENT,
        len: l * ALIGNMENT,
    })
}

fn spec_strategy() -> impl Strategy<Value = FmapSpec> {
    let simple = prop::collection::vec(ext_strategy(), 1..8).prop_map(Layout::Simple);
    let group = (
        1..3u32,
        1..40u64,
        prop::collection::vec(ext_strategy(), 1..6),
    )
        .prop_map(|(c, n, strips)| Group {
            chunk: c * (2 << 20),
            nbytes: n * M,
            strips,
        });
    let interleave = prop::collection::vec(group, 1..4).prop_map(Layout::Interleave);
    (prop_oneof![simple, interleave], 0..100u64).prop_map(|(layout, cut)| {
        let mut spec = FmapSpec::new(layout);
        spec.file_size -= spec.file_size.min(cut * 65536);
        spec
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn resolution_agrees_with_the_naive_model(spec in spec_strategy(), probes in prop::collection::vec((0..200 * M, 1..8 * M), 20)) {
        let f = Fmap::parse(&spec.build()).unwrap();
        for (offset, len) in probes {
            let offset = offset % (spec.file_size + M);
            let got = f.resolve(offset, len);
            prop_assert_eq!(got.ok(), model(&spec, offset, len), "offset {} len {}", offset, len);
            if let Ok(r) = got {
                prop_assert!(r.length >= 1 && r.length <= len);
            }
        }
    }

    #[test]
    fn any_bytes_parse_or_are_refused_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Fmap::parse(&bytes);
    }

    #[test]
    fn mutated_replies_parse_or_are_refused_without_panic(
        spec in spec_strategy(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = spec.build();
        for (i, v) in flips {
            let at = i.index(bytes.len());
            bytes[at] = v;
        }
        if let Ok(f) = Fmap::parse(&bytes) {
            for offset in [0, 1 << 20, f.file_size().saturating_sub(1), f.file_size()] {
                let _ = f.resolve(offset, u64::MAX);
            }
        }
    }
}

#[test]
fn tool_prints_json_and_errors() {
    let bytes = simple(&[(5, 0, 2 * M), (2, 2 * M, 2 * M)]).build();
    assert_eq!(
        fmap_tool::check(&bytes).unwrap(),
        r#"{"file_type":0,"file_size":4194304,"ext_type":"simple","nextents":2,"devices":[2,5]}"#
    );
    assert_eq!(
        fmap_tool::resolve(&bytes, 3 * M, 8 * M).unwrap(),
        r#"{"dev_index":2,"dev_offset":3145728,"length":1048576}"#
    );
    assert_eq!(
        fmap_tool::resolve(&bytes, 4 * M, 1),
        Err(Failure::Rejected(
            "EIO: offset at or past the end of the file".into()
        ))
    );
    assert_eq!(
        fmap_tool::check(&bytes[..20]),
        Err(Failure::Rejected(
            "EINVAL: reply shorter than its header".into()
        ))
    );
}

#[test]
fn tool_builds_what_it_is_told() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let (bytes, out) = fmap_tool::build(&args("-o x --size 3M simple 1:2M:4M")).unwrap();
    assert_eq!(out.as_deref(), Some("x"));
    assert_eq!(
        bytes,
        FmapSpec {
            file_size: 3 * M,
            ..simple(&[(1, 2 * M, 4 * M)])
        }
        .build()
    );
    let (bytes, _) = fmap_tool::build(&args("interleave 2M:8M=0:0:4M,1:0x400000:4M")).unwrap();
    assert_eq!(
        bytes,
        interleave(2 << 20, 8 * M, &[(0, 0, 4 * M), (1, 4 * M, 4 * M)]).build()
    );
    let (bytes, _) = fmap_tool::build(&args("--version 9 --trailing 3 simple 0:0:2M")).unwrap();
    assert_eq!(bytes.len(), 32 + 24 + 3);
    for bad in [
        "",
        "simple 0:0",
        "sideways 0:0:2M",
        "--size",
        "--bogus 1 simple",
        "interleave 2M=0:0:2M",
        "simple 0:0:2Q",
    ] {
        assert!(
            matches!(fmap_tool::build(&args(bad)), Err(Failure::Usage(_))),
            "{bad:?}"
        );
    }
}
