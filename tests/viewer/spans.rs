//! `tracing` spans of the library's operations: migrations, partition work, purge, hash
//! chain sealing and verification, and sync.

use std::sync::{Arc, Mutex};

use auditrum_diesel::ops::{chain, partitions, purge};
use auditrum_diesel::registry::Registry;
use auditrum_diesel::AuditConfig;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use super::*;

/// Records each new span: its name and its fields as `name=value` text.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<String>>>);

impl<S: Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut fields = Fields(attrs.metadata().name().to_owned());
        attrs.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
}

impl Spans {
    fn named(&self, name: &str) -> Vec<String> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|s| s.split(' ').next() == Some(name))
            .cloned()
            .collect()
    }
}

#[test]
fn migrations_partitions_purge_sealing_verification_and_sync_are_spans() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let db = TestDatabase::new();
    let config = AuditConfig::default();
    tracing::subscriber::with_default(subscriber, || {
        let mut conn = AuditedConnection::establish(db.url()).unwrap();
        let template = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations-template");
        conn.run_pending_migrations(FileBasedMigrations::from_path(template).unwrap())
            .unwrap();
        let pg = conn.inner_mut();
        partitions::add(pg, &config, 2).unwrap();
        chain::enable(pg, &config).unwrap();
        chain::verify(pg, &config, None).unwrap();
        let options = purge::PurgeOptions {
            older_than: "10 years",
            drop_partitions: false,
            dry_run: true,
        };
        purge::purge(pg, &config, &options).unwrap();
        auditrum_diesel::sync::sync(pg, &Registry::new(), &config).unwrap();
    });

    let migrations = spans.named("auditrum.migration.run");
    assert_eq!(migrations.len(), 1, "{migrations:?}");
    assert!(migrations[0].contains("migration="), "{migrations:?}");
    assert_eq!(
        spans.named("auditrum.partitions.add"),
        vec!["auditrum.partitions.add months=2 audit_table=\"public\".\"auditlog\""]
    );
    assert_eq!(spans.named("auditrum.chain.verify").len(), 1);
    assert!(
        !spans.named("auditrum.chain.seal").is_empty(),
        "verify seals first"
    );
    let purge = spans.named("auditrum.purge");
    assert_eq!(purge.len(), 1);
    assert!(purge[0].contains("older_than=\"10 years\""), "{purge:?}");
    assert!(purge[0].contains("dry_run=true"));
    assert_eq!(spans.named("auditrum.sync").len(), 1);
}
