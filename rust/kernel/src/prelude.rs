// SPDX-License-Identifier: GPL-2.0

//! The kernel crate's prelude: what `use kernel::prelude::*` brings in.

pub use core::pin::Pin;

pub use crate::alloc::{flags::*, KBox, KVVec, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::init::{Init, PinInit};
pub use crate::str::CStr;
pub use crate::{current, pin_init, pr_err, pr_info, pr_warn};
pub use macros::pin_data;
