// SPDX-License-Identifier: GPL-2.0

//! Writes `FUSE_GET_FMAP` replies: for servers, for `fmap build`, and for
//! tests, which also need hostile ones (any version, extent type, reserved
//! field or trailing bytes).

/// An extent, or a strip of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ext {
    /// The daxdev index.
    pub dev: u32,
    /// Offset on the daxdev.
    pub offset: u64,
    /// Length.
    pub len: u64,
}

/// An interleaved group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Chunk size.
    pub chunk: u32,
    /// File bytes the group holds.
    pub nbytes: u64,
    /// The strips, in order.
    pub strips: Vec<Ext>,
}

/// The extents of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// Simple extents, in file order.
    Simple(Vec<Ext>),
    /// Interleaved groups, in file order.
    Interleave(Vec<Group>),
}

/// A reply to write. [`FmapSpec::new`] makes a valid one from a layout; the
/// other fields let a test make it hostile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmapSpec {
    /// `FUSE_FAMFS_FILE_*`.
    pub file_type: u8,
    /// `fmap_version`.
    pub version: u16,
    /// `ext_type`; `None` writes the layout's own.
    pub ext_type: Option<u32>,
    /// `nextents`; `None` writes the layout's count.
    pub nextents: Option<u32>,
    /// The file size.
    pub file_size: u64,
    /// Writes this value into every reserved field.
    pub reserved: u64,
    /// Zero bytes appended after the last extent.
    pub trailing: usize,
    /// The extents.
    pub layout: Layout,
}

impl FmapSpec {
    /// A regular file holding every byte its layout maps.
    pub fn new(layout: Layout) -> Self {
        let file_size = match &layout {
            Layout::Simple(v) => v.iter().map(|e| e.len).fold(0, u64::wrapping_add),
            Layout::Interleave(v) => v.iter().map(|g| g.nbytes).fold(0, u64::wrapping_add),
        };
        Self {
            file_type: 0,
            version: 1,
            ext_type: None,
            nextents: None,
            file_size,
            reserved: 0,
            trailing: 0,
            layout,
        }
    }

    /// The reply's bytes.
    pub fn build(&self) -> Vec<u8> {
        let (ext_type, count) = match &self.layout {
            Layout::Simple(v) => (0, v.len()),
            Layout::Interleave(v) => (1, v.len()),
        };
        let res = self.reserved;
        let mut b = vec![self.file_type, res as u8];
        b.extend(self.version.to_ne_bytes());
        b.extend(self.ext_type.unwrap_or(ext_type).to_ne_bytes());
        b.extend(self.nextents.unwrap_or(count as u32).to_ne_bytes());
        b.extend((res as u32).to_ne_bytes());
        b.extend(self.file_size.to_ne_bytes());
        b.extend(res.to_ne_bytes());
        let ext = |b: &mut Vec<u8>, e: &Ext| {
            b.extend(e.dev.to_ne_bytes());
            b.extend((res as u32).to_ne_bytes());
            b.extend(e.offset.to_ne_bytes());
            b.extend(e.len.to_ne_bytes());
        };
        match &self.layout {
            Layout::Simple(v) => v.iter().for_each(|e| ext(&mut b, e)),
            Layout::Interleave(v) => {
                for g in v {
                    b.extend((g.strips.len() as u32).to_ne_bytes());
                    b.extend(g.chunk.to_ne_bytes());
                    b.extend(g.nbytes.to_ne_bytes());
                    b.extend(res.to_ne_bytes());
                    g.strips.iter().for_each(|e| ext(&mut b, e));
                }
            }
        }
        b.resize(b.len() + self.trailing, 0);
        b
    }
}
