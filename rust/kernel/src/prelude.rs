// SPDX-License-Identifier: GPL-2.0

//! The kernel crate's prelude: what `use kernel::prelude::*` brings in.

pub use crate::error::{code::*, Error, Result};
