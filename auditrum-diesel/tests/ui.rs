//! The compile errors of `#[derive(Audited)]`, pinned with trybuild: one concept per file in
//! `tests/ui/`, the expected compiler output beside it. Refresh with `TRYBUILD=overwrite`.

#[test]
fn derive_audited() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
