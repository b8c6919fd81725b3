//! TRUNCATE: one event for the statement; the rows it removed are not listed.

use super::{Capture, ContextStorage};
use crate::Operation;

pub(super) fn statement(capture: &Capture, context: ContextStorage) -> String {
    format!(
        "{insert}\n    VALUES ({fixed}, NULL)",
        insert = capture.insert_into(&["record_id"]),
        fixed = capture.fixed_values(Operation::Truncate, context),
    )
}
