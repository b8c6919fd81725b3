//! The compile errors of `#[with_change_reason("…")]`, pinned with trybuild. Refresh with
//! `TRYBUILD=overwrite`.

#[test]
fn with_change_reason_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_with_change_reason/*.rs");
}
