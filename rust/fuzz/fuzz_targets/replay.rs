// SPDX-License-Identifier: GPL-2.0

//! Fuzzes `cache replay` with arbitrary traces: whatever the text, the
//! replay ends with output or a malformed-line error, never a panic, nor an
//! arithmetic overflow (fuzz builds check them) in the module's validation,
//! cache and tree code it runs. `make fuzz` seeds it with the selftests'
//! traces.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(trace) = std::str::from_utf8(data) {
        let _ = fuse_iomap::replay::run(trace, &mut std::io::sink());
    }
});
