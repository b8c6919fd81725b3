//! An archive killed at each failpoint leaves the partition in place; a rerun finishes the
//! job with nothing lost or duplicated.

use crate::common::{count, stderr};
use crate::{archivable, archive_dir, month, run_archive, verify};

#[test]
fn an_archive_killed_at_any_point_is_finished_by_a_rerun() {
    let (db, mut conn) = archivable(5_000);
    let partition = format!("auditlog_p{}", month(&mut conn).replace('-', ""));
    let dir = archive_dir();
    let to = dir.path().to_str().unwrap().to_owned();
    for point in [
        "archive-after-files",
        "archive-after-manifest",
        "archive-before-commit",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
            .args(["archive", "--older-than", "13 months", "--to", &to])
            .env("DATABASE_URL", db.url())
            .env("AUDITRUM_FAILPOINT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the process must die there");
        assert!(
            stderr(&out).contains(&format!("failpoint {point}")),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            count(&mut conn, &format!("SELECT count(*) FROM {partition}")),
            5_000,
            "{point}: the partition is intact"
        );
        assert_eq!(
            count(&mut conn, "SELECT anchor_seq FROM auditlog_chain_state"),
            1,
            "{point}: chain not cut"
        );
    }
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("5000 event(s)"), "{text}");
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM pg_class WHERE relname = '{partition}'")
        ),
        0
    );
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "no duplicate, nothing missing: {text}");
    assert!(text.contains("5000 event(s), 10 link(s)"), "{text}");
}

#[test]
fn keep_partition_only_exports_and_the_kept_copy_verifies() {
    let (db, mut conn) = archivable(1_000);
    let partition = format!("auditlog_p{}", month(&mut conn).replace('-', ""));
    let dir = archive_dir();
    for _ in 0..2 {
        let (code, text) = run_archive(&db, dir.path(), &["--keep-partition"]);
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains(&format!("exported (kept) {partition}")),
            "{text}"
        );
    }
    assert_eq!(
        count(&mut conn, &format!("SELECT count(*) FROM {partition}")),
        1_000
    );
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "{text}");
    // Then archived for real: the same files, the partition dropped.
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "{text}");
}
