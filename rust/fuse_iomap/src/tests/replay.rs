// SPDX-License-Identifier: GPL-2.0

//! `cache replay`: the traces the in-VM selftest replays through the module
//! give here the outputs it compares against, and malformed lines stop the
//! replay with their number.

use crate::replay::{run, run_with, CachePolicy, Error, Stats};
use crate::workload::{self, Params};
use std::path::Path;

const TRACES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tools/testing/selftests/fuse_iomap/traces"
);

fn replay(trace: &str) -> Result<String, String> {
    let mut out = Vec::new();
    match run(trace, &mut out) {
        Ok(()) => Ok(String::from_utf8(out).unwrap()),
        Err(Error::Trace(e)) => Err(e.to_string()),
        Err(Error::Io(e)) => panic!("{e}"),
    }
}

#[test]
fn selftest_traces_replay_to_their_expected_output() {
    let mut n = 0;
    for entry in std::fs::read_dir(TRACES).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "trace") {
            let trace = std::fs::read_to_string(&path).unwrap();
            let expected = std::fs::read_to_string(path.with_extension("out")).unwrap();
            assert_eq!(replay(&trace).unwrap(), expected, "{}", path.display());
            n += 1;
        }
    }
    assert!(
        n >= 5,
        "traces missing from {}",
        Path::new(TRACES).display()
    );
}

#[test]
fn comments_blank_lines_and_hex_numbers() {
    let out =
        replay("# x\n\n  upsert read 0x1000 0X1000 hole - 0 0 # trailing\nlookup read 4096\n")
            .unwrap();
    assert_eq!(out, "HIT 4096 4096 hole - 0 0 cookie=2\n");
}

#[test]
fn malformed_lines_stop_the_replay_with_their_number() {
    for (trace, line, what) in [
        (
            "lookup read 0\nfrobnicate\n",
            2,
            "unknown command 'frobnicate'",
        ),
        (
            "lookup read x\n",
            1,
            "'x' is not a 64-bit decimal or 0x-hex number",
        ),
        ("lookup read 99999999999999999999\n", 1, "is not a 64-bit"),
        ("lookup read\n", 1, "usage: lookup <read|write> <offset>"),
        ("lookup both 0\n", 1, "fork 'both' is not read or write"),
        ("dump read extra\n", 1, "usage: dump"),
        (
            "lookup read 0\nconfig blocksize=4096\n",
            2,
            "config must be the first command",
        ),
        (
            "config blocksize=1000\n",
            1,
            "blocksize must be a power of two",
        ),
        ("config maxbytes=0\n", 1, "maxbytes positive"),
        (
            "config maxbytes=0x8000000000000000\n",
            1,
            "maxbytes is past 2^63-1",
        ),
        ("config color=blue\n", 1, "unknown config key 'color'"),
        (
            "config blocksize=4096 blocksize=4096\n",
            1,
            "blocksize given twice",
        ),
        (
            "config cache_maxbytes=0x100000000\n",
            1,
            "cache_maxbytes '0x100000000' is out of range",
        ),
        (
            "device 0 4096\n",
            1,
            "device 0 cannot be registered: EINVAL",
        ),
        (
            "device 1 4096\ndevice 1 8192\n",
            2,
            "device 1 cannot be registered: EEXIST",
        ),
        (
            "device 0x100000000 4096\n",
            1,
            "device cookie '0x100000000' is out of range",
        ),
        (
            "upsert read 0 4096 hole - 0 65536\n",
            1,
            "flags '65536' is out of range",
        ),
        (
            "upsert read 0 4096 sparse - 0 0\n",
            1,
            "unknown mapping type 'sparse'",
        ),
        ("upsert read 0 4096 hole -\n", 1, "usage: upsert"),
        (
            "inval all 0 4096\n",
            1,
            "fork 'all' is not read, write or both",
        ),
        ("inval read 0 -\n", 1, "'-' is not a 64-bit"),
        (
            "server read 0 8192 mapped 0 1 0\nserver read 4096 8192 mapped 0 1 0\n",
            2,
            "server record at 4096 overlaps part of the one at 0",
        ),
        ("server read 0 0 hole - 0 0\n", 1, "must be non-empty"),
        ("server read 0 4096 hole -\n", 1, "usage: server"),
        (
            "access read 4096\n",
            1,
            "the server maps nothing at 4096 in the read fork",
        ),
        ("access read\n", 1, "usage: access"),
        ("stats now\n", 1, "usage: stats"),
    ] {
        let err = replay(trace).unwrap_err();
        assert!(
            err.starts_with(&format!("line {line}: ")),
            "{trace:?}: {err}"
        );
        assert!(err.contains(what), "{trace:?}: {err}");
    }
}

#[test]
fn rejected_commands_answer_err_and_change_nothing() {
    let out = replay("upsert read 0 4096 hole - 0 0\nupsert read 0 4096 retry_cache - 0 0\ninval read 0x7fffffffffffffff 1\ndump read\n").unwrap();
    assert_eq!(out, "ERR EINVAL\nERR EINVAL\n0 4096 hole - 0 0\nend 1\n");
}

/// The `access` commands of `trace`, counted under `policy`.
fn stats(trace: &str, policy: CachePolicy) -> Stats {
    run_with(trace, policy, &mut std::io::sink()).unwrap()
}

#[test]
fn accesses_count_hits_first_touches_and_capacity_misses() {
    // Nine one-block holes two blocks apart, in a fork of eight.
    let mut trace = String::from("config blocksize=4096 cache_maxbytes=256\n");
    for b in 0..9 {
        trace += &format!("server read {} 4096 hole - 0 0\n", b * 8192);
    }
    // 0 to 7 miss once each; 0 hits; 8 evicts 1 under CLOCK (0 was used
    // again), or everything under the drop; 0 and 1 come back.
    for b in [0, 1, 2, 3, 4, 5, 6, 7, 0, 8, 0, 1] {
        trace += &format!("access read {}\n", b * 8192 + 5);
    }
    trace += "stats\n";
    let clock = stats(&trace, CachePolicy::Clock);
    assert_eq!(
        clock,
        Stats {
            accesses: 12,
            hits: 2,
            upcalls: 10,
            first: 9,
            capacity: 1,
        }
    );
    let drop = stats(&trace, CachePolicy::DropFork);
    assert_eq!((drop.hits, drop.first, drop.capacity), (1, 9, 2));
    let mut out = Vec::new();
    run(&trace, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "stats accesses=12 hits=2 upcalls=10 first=9 capacity=1\n"
    );
}

#[test]
fn a_miss_after_an_invalidation_is_a_first_touch() {
    let trace = "device 1 1048576
server read 0 4096 mapped 0 1 0
access read 0
inval read 0 4096
access read 0
server read 0 4096 mapped 8192 1 0
inval read 0 4096
access read 0
access read 0
lookup read 0
stats
";
    let mut out = Vec::new();
    run(trace, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("HIT 0 4096 mapped 8192 1 0"), "{out}");
    assert!(out.ends_with("stats accesses=4 hits=1 upcalls=3 first=3 capacity=0\n"));
}

#[test]
fn writes_to_a_never_used_write_fork_go_through_the_read_fork() {
    let trace = "server read 0 4096 hole - 0 0
access write 0
access read 0
stats
";
    let s = stats(trace, CachePolicy::Clock);
    assert_eq!((s.upcalls, s.hits), (1, 1));
}

#[test]
fn workloads_are_deterministic_and_replay_without_errors() {
    let p = Params {
        extents: 300,
        accesses: 2000,
        seed: 7,
        cache_maxbytes: 256,
    };
    for name in workload::NAMES {
        let trace = |p: &Params| {
            let mut t = Vec::new();
            workload::write(name, p, &mut t).unwrap().unwrap();
            String::from_utf8(t).unwrap()
        };
        let t = trace(&p);
        assert_eq!(t, trace(&p), "{name}");
        assert_ne!(t, trace(&Params { seed: 8, ..p }), "{name}");
        for policy in [CachePolicy::Clock, CachePolicy::DropFork] {
            let s = stats(&t, policy);
            assert_eq!(s.accesses, 2000, "{name}");
            assert_eq!(s.hits + s.upcalls, s.accesses);
            assert_eq!(s.first + s.capacity, s.upcalls);
            // A fork of 8 records over 300 extents misses beyond first touch.
            assert!(s.capacity > 0, "{name} {policy:?}");
        }
    }
    assert!(workload::write("random", &p, &mut Vec::new()).is_none());
}

#[test]
fn clock_keeps_the_hot_window_the_whole_fork_drop_throws_away() {
    let p = Params {
        extents: 4000,
        accesses: 40_000,
        seed: 1,
        cache_maxbytes: 8 << 10,
    };
    let mut t = Vec::new();
    workload::write("hotset", &p, &mut t).unwrap().unwrap();
    let t = String::from_utf8(t).unwrap();
    let (clock, drop) = (
        stats(&t, CachePolicy::Clock),
        stats(&t, CachePolicy::DropFork),
    );
    assert_eq!(clock.first, drop.first);
    assert!(
        clock.capacity * 2 < drop.capacity,
        "{clock:?} against {drop:?}"
    );
}
