// SPDX-License-Identifier: GPL-2.0

//! `cache replay`: the traces the in-VM selftest replays through the module
//! give here the outputs it compares against, and malformed lines stop the
//! replay with their number.

use crate::replay::{run, Error};
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
