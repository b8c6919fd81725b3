//! INSERT: one event per inserted row, with the row's tracked columns as `new_data`.

use super::{Capture, ContextStorage};
use crate::Operation;

pub(super) fn statement(capture: &Capture, context: ContextStorage) -> String {
    format!(
        "{insert}\n    SELECT {fixed}, {key}, {data}, {meta}\n    FROM new_rows AS new\n    WHERE {condition}",
        insert = capture.insert_into(&["record_id", "new_data", "meta"]),
        fixed = capture.fixed_values(Operation::Insert, context),
        key = capture.key("new"),
        data = capture.data("new"),
        meta = capture.meta("new"),
        condition = capture.condition(),
    )
}
