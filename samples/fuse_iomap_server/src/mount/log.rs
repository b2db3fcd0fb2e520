// SPDX-License-Identifier: GPL-2.0

//! The server's log: one line per event worth knowing, appended.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Log {
    file: File,
    /// Until the server is in the background, lines go to stderr too.
    echo: bool,
}

impl Log {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(Self { file, echo: true })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// The server is in the background: stderr is the log now.
    pub fn quiet(&mut self) {
        self.echo = false;
    }

    pub fn line(&self, what: &str) {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let line = format!(
            "{}.{:03} fuse-iomap-server[{}]: {what}\n",
            t.as_secs(),
            t.subsec_millis(),
            std::process::id()
        );
        // One write, so that lines of several servers never mix.
        let _ = (&self.file).write_all(line.as_bytes());
        if self.echo {
            eprintln!("fuse-iomap-server: {what}");
        }
    }
}
