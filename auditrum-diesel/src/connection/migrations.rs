//! Migrations through an [`AuditedConnection`], attributed to `source = "migration"`.

use diesel::migration::{Migration, MigrationVersion, Result};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::AuditedConnection;
use crate::context::{self, AuditContext};

diesel::table! {
    /// Diesel's table of applied migrations.
    __diesel_schema_migrations (version) {
        version -> VarChar,
        run_on -> Timestamp,
    }
}

/// The context of a migration's transaction: `source = "migration"` and the migration's
/// name (`2024-01-01-000000_add_users`) under `migration`, over the context in force.
fn migration_context(migration: &dyn Migration<Pg>, direction: &str) -> AuditContext {
    AuditContext::new()
        .source("migration")
        .insert("migration", migration.name().to_string())
        .insert("migration_direction", direction)
}

/// Runs Diesel migrations (`run_pending_migrations(MIGRATIONS)`, …) so that every row
/// they write is audited with `source = "migration"`, the migration's name under
/// `migration` and `migration_direction` (`up` or `down`), merged over the context in
/// force (so an `audit_tracked("deploy")` scope or a `user_id` around it is kept; the
/// source becomes `migration`).
///
/// This is Diesel's own harness, step for step (each migration in a transaction unless it
/// opts out, then its version recorded in `__diesel_schema_migrations`), run inside that
/// context. `AuditedConnection` implements this harness itself rather than Diesel's
/// `MigrationConnection`, whose blanket harness has no place to add the context.
///
/// ```no_run
/// use auditrum_diesel::connection::AuditedConnection;
/// use diesel::Connection;
/// use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
///
/// const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations-template");
///
/// let mut conn = AuditedConnection::establish("postgres://localhost/app").unwrap();
/// conn.run_pending_migrations(MIGRATIONS).unwrap();
/// ```
impl MigrationHarness<Pg> for AuditedConnection {
    #[tracing::instrument(name = "auditrum.migration.run", skip_all, fields(migration = %migration.name()))]
    fn run_migration(
        &mut self,
        migration: &dyn Migration<Pg>,
    ) -> Result<MigrationVersion<'static>> {
        context::with_context(migration_context(migration, "up"), || {
            let apply = |conn: &mut AuditedConnection| -> Result<()> {
                migration.run(conn)?;
                diesel::insert_into(__diesel_schema_migrations::table)
                    .values(
                        __diesel_schema_migrations::version
                            .eq(migration.name().version().as_owned()),
                    )
                    .execute(conn)?;
                Ok(())
            };
            if migration.metadata().run_in_transaction() {
                self.transaction(apply)?;
            } else {
                apply(self)?;
            }
            Ok(migration.name().version().as_owned())
        })
    }

    #[tracing::instrument(name = "auditrum.migration.revert", skip_all, fields(migration = %migration.name()))]
    fn revert_migration(
        &mut self,
        migration: &dyn Migration<Pg>,
    ) -> Result<MigrationVersion<'static>> {
        context::with_context(migration_context(migration, "down"), || {
            let revert = |conn: &mut AuditedConnection| -> Result<()> {
                migration.revert(conn)?;
                diesel::delete(
                    __diesel_schema_migrations::table.find(migration.name().version().as_owned()),
                )
                .execute(conn)?;
                Ok(())
            };
            if migration.metadata().run_in_transaction() {
                self.transaction(revert)?;
            } else {
                revert(self)?;
            }
            Ok(migration.name().version().as_owned())
        })
    }

    fn applied_migrations(&mut self) -> Result<Vec<MigrationVersion<'static>>> {
        // Reads only (and creates Diesel's table on first use): the plain connection's
        // harness does it.
        self.inner.applied_migrations()
    }
}
