//! A month with redacted values (payload version 2 with stored salts and digests) archives
//! and verifies from the Parquet files.

use crate::common::{cli, count, stderr, stdout};
use crate::{archivable, archive_dir, run_archive, verify};

#[test]
fn a_month_with_redacted_values_archives_and_verifies() {
    let (db, mut conn) = archivable(1_000);
    for args in [
        &["redact", "notes", "7", "--reason", "request 1"][..],
        &["redact", "--user", "u0", "--reason", "request 2"],
    ] {
        let out = cli(args, Some(db.url()));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog_chain_redaction WHERE digest IS NOT NULL"
        ),
        2 + 500,
        "record 7's id and body (one INSERT); user_id of the 500 events of u0's transaction"
    );
    let dir = archive_dir();
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_chain_redaction"),
        0,
        "the archived events' salts and digests left with them"
    );
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "{text}");
}
