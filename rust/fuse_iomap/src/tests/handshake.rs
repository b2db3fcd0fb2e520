// SPDX-License-Identifier: GPL-2.0

//! The handshake: what `FUSE_INIT` offers, what a reply keeps, and which
//! `FUSE_IOMAP_CONFIG` replies configure the connection.

use crate::abi::{
    InitOut, IomapConfigOut, CONFIG_BLOCKSIZE, CONFIG_CACHE_MAXBYTES, CONFIG_MAXBYTES,
    FUSE_DAX_FMAP, FUSE_INIT_EXT, FUSE_IOMAP,
};
use crate::cache::CacheLimit;
use crate::handshake::{config_in, config_reply, init_in, init_reply, Features};
use crate::mapping::Geometry;
use kernel::error::code::EINVAL;

fn flags(f: u64) -> (u32, u32) {
    (f as u32, (f >> 32) as u32)
}

fn reply(f: u64) -> InitOut {
    let (flags, flags2) = flags(f);
    InitOut {
        major: 7,
        minor: 41,
        flags,
        flags2,
        ..InitOut::default()
    }
}

#[test]
fn famfs_is_offered_only_when_allowed() {
    let with = init_in(true);
    let without = init_in(false);
    assert_eq!((with.major, with.minor), (7, 41));
    assert_eq!(
        (with.flags, with.flags2),
        flags(FUSE_INIT_EXT | FUSE_IOMAP | FUSE_DAX_FMAP)
    );
    assert_eq!(
        (without.flags, without.flags2),
        flags(FUSE_INIT_EXT | FUSE_IOMAP)
    );
}

#[test]
fn the_reply_keeps_part_of_the_offer() {
    let all = FUSE_INIT_EXT | FUSE_IOMAP | FUSE_DAX_FMAP;
    let both = Features {
        iomap: true,
        famfs: true,
    };
    assert_eq!(init_reply(&init_in(true), &reply(all)), Ok(both));
    assert_eq!(
        init_reply(&init_in(false), &reply(all)),
        Ok(Features {
            iomap: true,
            famfs: false
        }),
        "famfs taken without being offered"
    );
    assert_eq!(
        init_reply(&init_in(true), &reply(FUSE_IOMAP | FUSE_DAX_FMAP)),
        Ok(Features::default()),
        "high flags without FUSE_INIT_EXT do not count"
    );
    let mut old = reply(all);
    old.major = 6;
    assert_eq!(
        init_reply(&init_in(true), &old).unwrap_err().to_errno(),
        -71
    );
}

#[test]
fn config_fields_are_taken_only_when_flagged() {
    let req = config_in();
    assert_eq!(
        req.flags,
        CONFIG_BLOCKSIZE | CONFIG_MAXBYTES | CONFIG_CACHE_MAXBYTES
    );
    assert_eq!(req.cache_maxbytes, CacheLimit::DEFAULT.bytes());
    let unset = IomapConfigOut {
        blocksize: 3,
        maxbytes: -1,
        ..IomapConfigOut::default()
    };
    assert_eq!(
        config_reply(&unset),
        Ok((Geometry::DEFAULT, CacheLimit::DEFAULT))
    );
    let set = IomapConfigOut {
        flags: req.flags,
        blocksize: 1024,
        maxbytes: 1 << 40,
        cache_maxbytes: 4096,
        ..IomapConfigOut::default()
    };
    assert_eq!(
        config_reply(&set),
        Ok((
            Geometry::new(1024, 1 << 40).unwrap(),
            CacheLimit::from_config(4096)
        ))
    );
}

#[test]
fn config_replies_that_cannot_be_used_are_einval() {
    let good = IomapConfigOut {
        flags: CONFIG_BLOCKSIZE,
        blocksize: 4096,
        ..IomapConfigOut::default()
    };
    let bad = [
        IomapConfigOut {
            flags: 1 << 0,
            ..good
        },
        IomapConfigOut {
            blocksize: 4000,
            ..good
        },
        IomapConfigOut {
            blocksize: 256,
            ..good
        },
        IomapConfigOut {
            flags: CONFIG_MAXBYTES,
            maxbytes: 0,
            ..good
        },
        IomapConfigOut {
            padding: [0, 0, 1, 0, 0],
            ..good
        },
    ];
    for out in bad {
        assert_eq!(config_reply(&out), Err(EINVAL), "{out:?}");
    }
}
