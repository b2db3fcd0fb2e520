// SPDX-License-Identifier: GPL-2.0

//! The command-line contracts of `cache` and `fmap`, run as binaries: exit
//! statuses, standard output and standard error.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

const CACHE: &str = env!("CARGO_BIN_EXE_cache");
const FMAP: &str = env!("CARGO_BIN_EXE_fmap");

#[test]
fn cache_replay_reads_standard_input_or_a_file() {
    let trace = b"device 1 65536\nupsert read 0 4096 mapped 0 1 0\nlookup read 100\nupsert read 1 1 hole - 0 0\ndump read\n";
    let out = run(CACHE, &["replay"], trace);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "HIT 0 4096 mapped 0 1 0 cookie=2\nERR EINVAL\n0 4096 mapped 0 1 0\nend 1\n"
    );
    assert_eq!(text(&out.stderr), "");
    let dir = std::env::temp_dir().join(format!("fuse_iomap_tools_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.trace");
    std::fs::write(&path, trace).unwrap();
    let from_file = run(CACHE, &["replay", path.to_str().unwrap()], b"");
    assert_eq!(from_file.stdout, out.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cache_replay_stops_at_a_malformed_line_with_status_2() {
    let out = run(
        CACHE,
        &["replay"],
        b"lookup read 0\nlookup sideways 0\nlookup read 0\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "MISS\n");
    assert_eq!(
        text(&out.stderr),
        "line 2: fork 'sideways' is not read or write\n"
    );
    let out = run(CACHE, &["replay", "/no/such/trace"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(CACHE, &["frobnicate"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cache_workload_replays_under_either_policy_and_compare_tabulates() {
    let out = run(
        CACHE,
        &["workload", "zipf", "--extents", "100", "--accesses", "500"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let trace = out.stdout;
    assert!(text(&trace).starts_with("# workload zipf: 100 extents"));
    let mut results = Vec::new();
    for policy in ["clock", "drop"] {
        let out = run(CACHE, &["replay", "--policy", policy], &trace);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("stats accesses=500 "));
        results.push(out.stdout);
    }
    // (No input: the tool stops before it reads any.)
    let out = run(CACHE, &["replay", "--policy", "lru"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(CACHE, &["workload", "random"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown workload 'random'"));
    let out = run(
        CACHE,
        &[
            "compare",
            "--rst",
            "--extents",
            "200",
            "--accesses",
            "1000",
            "--cache-maxbytes",
            "1024",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    for name in ["sequential", "zipf", "hotset", "mixed"] {
        assert!(table.lines().any(|l| l.starts_with(name)), "{table}");
    }
    assert!(table.starts_with("=========="));
}

#[test]
fn fmap_build_check_and_resolve() {
    let dir = std::env::temp_dir().join(format!("fuse_iomap_fmap_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("striped");
    let f = f.to_str().unwrap();
    let out = run(
        FMAP,
        &[
            "build",
            "-o",
            f,
            "interleave",
            "2M:24M=0:0:6M,1:0:6M,2:0:6M,3:0:6M",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(FMAP, &["check", f], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "{\"file_type\":0,\"file_size\":25165824,\"ext_type\":\"interleave\",\"nextents\":1,\"devices\":[0,1,2,3]}\n"
    );
    let out = run(FMAP, &["resolve", f, "15728640", "4194304"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "{\"dev_index\":3,\"dev_offset\":3145728,\"length\":1048576}\n"
    );
    let out = run(FMAP, &["resolve", f, "25165824", "1"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: EIO: offset at or past the end of the file\n"
    );

    let bad = dir.join("bad");
    let bad = bad.to_str().unwrap();
    let out = run(
        FMAP,
        &["build", "-o", bad, "interleave", "0:2M=0:0:2M"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(FMAP, &["check", bad], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "error: EINVAL: chunk size 0 or not 2 MiB-aligned\n"
    );
    let out = run(FMAP, &["resolve", bad, "0", "1"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: EINVAL: "));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fmap_usage_errors_exit_2() {
    for args in [
        &[][..],
        &["check"],
        &["resolve", "x", "1"],
        &["build"],
        &["check", "/no/such/fmap"],
    ] {
        let out = run(FMAP, args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
