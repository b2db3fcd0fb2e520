// SPDX-License-Identifier: GPL-2.0

//! The kernel crate's prelude: what `use kernel::prelude::*` brings in.

pub use crate::alloc::{flags::*, KBox, KVVec, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::{pr_err, pr_info, pr_warn};
