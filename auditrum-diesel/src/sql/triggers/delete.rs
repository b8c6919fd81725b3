//! DELETE: one event per deleted row, with the row's tracked columns as `old_data`.
//!
//! The deleted rows are named `new` in the query so that one `condition` (written with
//! `NEW.`) serves every operation: for DELETE it is evaluated on the row being deleted.

use super::{Capture, ContextStorage};
use crate::Operation;

pub(super) fn statement(capture: &Capture, context: ContextStorage) -> String {
    format!(
        "{insert}\n    SELECT {fixed}, {key}, {data}, {meta}\n    FROM old_rows AS new\n    WHERE {condition}",
        insert = capture.insert_into(&["record_id", "old_data", "meta"]),
        fixed = capture.fixed_values(Operation::Delete, context),
        key = capture.key("new"),
        data = capture.data("new"),
        meta = capture.meta("new"),
        condition = capture.condition(),
    )
}
