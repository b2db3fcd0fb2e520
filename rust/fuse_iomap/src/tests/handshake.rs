// SPDX-License-Identifier: GPL-2.0

//! The handshake: what `FUSE_INIT` offers, what a reply keeps, and which
//! `FUSE_IOMAP_CONFIG` replies configure the connection.

use crate::abi::{
    InitOut, IomapConfigOut, CONFIG_BLOCKSIZE, CONFIG_CACHE_MAXBYTES, CONFIG_MAXBYTES,
    FUSE_DAX_FMAP, FUSE_DONT_MASK, FUSE_INIT_EXT, FUSE_IOMAP,
};
use crate::cache::CacheLimit;
use crate::handshake::{
    advance, config_in, config_reply, init_in, init_reply, Features, Next, Phase, Reply,
};
use crate::mapping::Geometry;
use kernel::error::code::{EINVAL, EIO};

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
fn max_write_is_at_least_a_page_and_at_most_max_io() {
    for (asked, kept) in [
        (0, 4096),
        (4095, 4096),
        (65536, 65536),
        (1 << 20, 128 * 1024),
    ] {
        let out = InitOut {
            max_write: asked,
            ..reply(0)
        };
        assert_eq!(
            init_reply(&init_in(false), &out).map(|f| f.max_write),
            Ok(kept),
            "max_write {asked}"
        );
    }
}

#[test]
fn famfs_is_offered_only_when_allowed() {
    let with = init_in(true);
    let without = init_in(false);
    assert_eq!((with.major, with.minor), (7, 41));
    assert_eq!(
        (with.flags, with.flags2),
        flags(FUSE_INIT_EXT | FUSE_DONT_MASK | FUSE_IOMAP | FUSE_DAX_FMAP)
    );
    assert_eq!(
        (without.flags, without.flags2),
        flags(FUSE_INIT_EXT | FUSE_DONT_MASK | FUSE_IOMAP)
    );
}

#[test]
fn the_reply_keeps_part_of_the_offer() {
    let all = FUSE_INIT_EXT | FUSE_IOMAP | FUSE_DAX_FMAP;
    let both = Features {
        iomap: true,
        famfs: true,
        dont_mask: false,
        batch_forget: true,
        max_write: 4096,
    };
    assert_eq!(init_reply(&init_in(true), &reply(all)), Ok(both));
    assert_eq!(
        init_reply(&init_in(false), &reply(all)),
        Ok(Features {
            iomap: true,
            famfs: false,
            dont_mask: false,
            batch_forget: true,
            max_write: 4096,
        }),
        "famfs taken without being offered"
    );
    assert_eq!(
        init_reply(&init_in(true), &reply(FUSE_IOMAP | FUSE_DAX_FMAP)),
        Ok(Features {
            batch_forget: true,
            max_write: 4096,
            ..Features::default()
        }),
        "high flags without FUSE_INIT_EXT do not count"
    );
    let mut before_7_16 = reply(all);
    before_7_16.minor = 15;
    assert_eq!(
        init_reply(&init_in(true), &before_7_16),
        Ok(Features {
            batch_forget: false,
            ..both
        }),
        "BATCH_FORGET came with 7.16"
    );
    let mut old = reply(all);
    old.major = 6;
    assert_eq!(
        init_reply(&init_in(true), &old).unwrap_err().to_errno(),
        -71
    );
}

#[test]
fn the_umask_is_applied_unless_the_server_took_dont_mask() {
    let taken = init_reply(&init_in(false), &reply(FUSE_INIT_EXT | FUSE_DONT_MASK));
    assert_eq!(taken.map(|f| f.dont_mask), Ok(true));
    let not_taken = init_reply(&init_in(false), &reply(FUSE_INIT_EXT));
    assert_eq!(not_taken.map(|f| f.dont_mask), Ok(false));
    assert_eq!(Features::create_mode(taken.ok(), 0o100666, 0o022), 0o100666);
    assert_eq!(
        Features::create_mode(not_taken.ok(), 0o100666, 0o022),
        0o100644
    );
    // Before the handshake ends nothing is created; if it were, masked.
    assert_eq!(Features::create_mode(None, 0o40777, 0o027), 0o40750);
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

fn config(blocksize: u32) -> IomapConfigOut {
    IomapConfigOut {
        flags: CONFIG_BLOCKSIZE,
        blocksize,
        ..IomapConfigOut::default()
    }
}

#[test]
fn init_then_config_makes_the_connection_ready() {
    let all = FUSE_INIT_EXT | FUSE_IOMAP | FUSE_DAX_FMAP;
    let both = Features {
        iomap: true,
        famfs: true,
        dont_mask: false,
        batch_forget: true,
        max_write: 4096,
    };
    let mut phase = Phase::Init {
        offer: init_in(true),
    };
    let init = reply(all);
    assert_eq!(
        advance(&mut phase, Ok(Reply::Init(&init))),
        Ok(Next::SendConfig)
    );
    assert_eq!(phase, Phase::Config { features: both });
    let cfg = config(8192);
    let geo = Geometry::new(8192, Geometry::DEFAULT.maxbytes as i64).unwrap();
    assert_eq!(
        advance(&mut phase, Ok(Reply::Config(&cfg))),
        Ok(Next::Configure(geo, CacheLimit::DEFAULT, both))
    );
    // The channel sets Ready once the configuration is applied.
    assert_eq!(phase, Phase::Config { features: both });
}

#[test]
fn a_connection_without_iomap_is_ready_without_config() {
    let mut phase = Phase::Init {
        offer: init_in(false),
    };
    let init = reply(FUSE_INIT_EXT);
    assert_eq!(advance(&mut phase, Ok(Reply::Init(&init))), Ok(Next::Done));
    assert_eq!(
        phase,
        Phase::Ready(Features {
            batch_forget: true,
            max_write: 4096,
            ..Features::default()
        })
    );
}

/// Every reply out of turn, every refused reply and every server error
/// fails the handshake, from whichever phase.
#[test]
fn replies_out_of_turn_or_refused_fail_the_handshake() {
    let init = reply(FUSE_INIT_EXT | FUSE_IOMAP);
    let wrong_major = InitOut {
        major: 8,
        ..reply(FUSE_INIT_EXT | FUSE_IOMAP)
    };
    let cfg = config(4096);
    let bad_cfg = config(1000);
    let features = Features {
        iomap: true,
        famfs: false,
        dont_mask: false,
        batch_forget: true,
        max_write: 4096,
    };
    let offer = init_in(false);
    let cases: [(Phase, Result<Reply<'_>, _>); 9] = [
        (Phase::Init { offer }, Ok(Reply::Config(&cfg))),
        (Phase::Init { offer }, Ok(Reply::Other)),
        (Phase::Init { offer }, Ok(Reply::Init(&wrong_major))),
        (Phase::Init { offer }, Err(EIO)),
        (Phase::Config { features }, Ok(Reply::Init(&init))),
        (Phase::Config { features }, Ok(Reply::Config(&bad_cfg))),
        (Phase::Config { features }, Err(EIO)),
        (Phase::Ready(features), Ok(Reply::Init(&init))),
        (Phase::Idle, Ok(Reply::Config(&cfg))),
    ];
    for (start, answer) in cases {
        let mut phase = start;
        assert!(
            advance(&mut phase, answer).is_err(),
            "{start:?} took {answer:?}"
        );
        assert_eq!(phase, Phase::Failed, "from {start:?}");
    }
}
