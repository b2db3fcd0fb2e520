// SPDX-License-Identifier: GPL-2.0

//! The error codes the 6.12 kernel crate lacks carry the right numbers.

use crate::errno::{efscorrupted, ehwpoison, enotconn, eopnotsupp, eoverflow, eproto};

#[test]
fn missing_codes_have_their_c_values() {
    assert_eq!(efscorrupted().to_errno(), -117);
    assert_eq!(efscorrupted().name(), Some("EUCLEAN"));
    assert_eq!(enotconn().to_errno(), -107);
    assert_eq!(enotconn().name(), Some("ENOTCONN"));
    assert_eq!(eopnotsupp().to_errno(), -95);
    assert_eq!(eproto().name(), Some("EPROTO"));
    assert_eq!(ehwpoison().to_errno(), -133);
    assert_eq!(ehwpoison().name(), Some("EHWPOISON"));
    assert_eq!(eoverflow().name(), Some("EOVERFLOW"));
}
