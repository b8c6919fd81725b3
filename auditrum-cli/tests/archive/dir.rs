//! A month of 100k chained events archived to a directory: files + manifest, partition
//! dropped, the chain verifying across archive and database; then every kind of damage to
//! the archive found and named.

use std::fs;

use crate::common::count;
use crate::{archivable, archive_dir, events_file, month, run_archive, verify};

#[test]
fn a_month_of_100k_events_is_archived_dropped_and_verifies_then_damage_is_named() {
    let (db, mut conn) = archivable(100_000);
    let partition = format!("auditlog_p{}", month(&mut conn).replace('-', ""));
    let contexts_before = count(&mut conn, "SELECT count(*) FROM auditlog_context");
    let links_before = count(&mut conn, "SELECT count(*) FROM auditlog_chain");
    let dir = archive_dir();

    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("archived and dropped {partition}")),
        "{text}"
    );
    assert!(
        text.contains("100000 event(s), 200 context row(s), 200 link(s)"),
        "{text}"
    );

    // The database: the partition, its contexts and links are gone; the rest stays.
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM pg_class WHERE relname = '{partition}'")
        ),
        0
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        3,
        "the live events stay (two events, and the PURGE entry recording the cut)"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_context"),
        contexts_before - 200
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_chain"),
        links_before - 200 + 1,
        "the archived links go; the PURGE entry's transaction gets its own"
    );
    assert_eq!(
        count(&mut conn, "SELECT anchor_seq FROM auditlog_chain_state"),
        201
    );

    // The manifest describes every file.
    let manifest_path = dir.path().join(format!(
        "_manifests/table=auditlog/month={}.json",
        month(&mut conn)
    ));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["events"]["rows"], 100_000);
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
    assert_eq!(manifest["chain"]["first_seq"], 1);
    assert_eq!(manifest["chain"]["last_seq"], 200);
    assert_eq!(manifest["chain"]["anchor_before"], "0".repeat(64));

    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("archive intact"), "{text}");
    assert!(text.contains("100000 event(s), 200 link(s)"), "{text}");
    assert!(text.contains("chain intact"), "{text}");

    // In JSON: one document holding both checks.
    let out = crate::common::cli(
        &[
            "verify-chain",
            "--archive",
            dir.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON document: {e}\n{}", crate::common::stdout(&out)));
    assert_eq!(document["archive"]["events"], 100_000);
    assert_eq!(document["archive"]["breaks"], serde_json::json!([]));
    assert_eq!(document["chain"]["breaks"], serde_json::json!([]));

    // A rerun has nothing left to do and changes nothing.
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing to archive"), "{text}");

    // One byte flipped in the events file: named, exit 1.
    let file = events_file(dir.path(), &mut conn);
    let original = fs::read(&file).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    fs::write(&file, &flipped).unwrap();
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(1), "{text}");
    let rel = format!("table=auditlog/month={}/part-0.parquet", month(&mut conn));
    assert!(
        text.contains(&format!("BROKEN {rel}: changed file")),
        "{text}"
    );
    fs::write(&file, &original).unwrap();

    // A missing file and an extra file.
    let contexts = dir.path().join(format!(
        "table=auditlog_context/month={}/part-0.parquet",
        month(&mut conn)
    ));
    let saved = fs::read(&contexts).unwrap();
    fs::remove_file(&contexts).unwrap();
    let extra = dir
        .path()
        .join("table=auditlog/month=1999-01/part-0.parquet");
    fs::create_dir_all(extra.parent().unwrap()).unwrap();
    fs::write(&extra, &original).unwrap();
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("part-0.parquet: missing file"), "{text}");
    assert!(
        text.contains("BROKEN table=auditlog/month=1999-01/part-0.parquet: extra file"),
        "{text}"
    );
    fs::remove_file(&extra).unwrap();
    fs::write(&contexts, &saved).unwrap();
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "restored: {text}");
}
