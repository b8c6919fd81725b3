// A reason that is missing, not a string literal, or empty; and the attribute on a non-function.
use auditrum_diesel::context::with_change_reason;

#[with_change_reason]
fn missing() {}

#[with_change_reason(42)]
fn not_a_string() {}

#[with_change_reason("a", "b")]
fn two_reasons() {}

#[with_change_reason("  ")]
fn empty() {}

#[with_change_reason("on a struct")]
struct NotAFunction;

fn main() {
    // The functions are still emitted: calling them gives no follow-on error.
    missing();
    not_a_string();
    two_reasons();
    empty();
}
