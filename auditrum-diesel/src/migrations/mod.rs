//! Diesel migrations generated from the [registry](crate::registry).
//!
//! The generator compares the registry with the migrations already in a directory and
//! writes what is missing as Diesel migration folders `YYYY-MM-DD-HHMMSS_name/{up,down}.sql`:
//!
//! - the core schema of the audit log, once (`…_auditrum_core`);
//! - when the core schema (or the capture SQL) of this version differs from the one the
//!   migrations install (their `core` header carries a version and a hash), its upgrade:
//!   version-specific steps, the core SQL again and every tracked table's capture
//!   reinstalled (`…_auditrum_upgrade_core`; see `docs/upgrading.md`);
//! - for each table newly registered, its triggers (`…_auditrum_track_<table>`);
//! - for each table whose spec changed, the new triggers; `down.sql` restores the previous
//!   ones (`…_auditrum_retrack_<table>`);
//! - for each table no longer registered, the removal of its triggers; `down.sql` puts them
//!   back (`…_auditrum_untrack_<table>`). Recorded events always stay.
//!
//! It knows what the existing migrations install from the header lines it writes at the top
//! of each `up.sql` (`-- auditrum: spec <fingerprint> <spec JSON>`), never from a database,
//! so its output depends only on the registry and the directory: running it again with
//! nothing changed writes nothing. The migrations run with `diesel migration run` or
//! `embed_migrations!`, in a transaction each, and `diesel migration revert` undoes them.
//!
//! ```
//! use auditrum_diesel::migrations::Generator;
//! use auditrum_diesel::registry::Registry;
//! use auditrum_diesel::TrackSpec;
//!
//! let dir = tempfile::tempdir()?;
//! let registry = Registry::new().with(TrackSpec::builder("users").track_only(["email"]));
//! let generator = Generator::new(dir.path(), registry);
//!
//! let now = "2024-05-01T12:00:00Z".parse()?;
//! let written = generator.generate(now)?;
//! let names: Vec<_> = written.iter().map(|p| p.file_name().unwrap().to_owned()).collect();
//! assert_eq!(names, ["2024-05-01-120000_auditrum_core", "2024-05-01-120001_auditrum_track_users"]);
//!
//! // Nothing changed: nothing to write, and the check passes.
//! assert!(generator.generate(now)?.is_empty());
//! generator.check()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In an application, run it from a binary of your own crate (the `cli` module, feature `cli`,
//! `makemigrations`), and keep a test that fails when someone changes a model but forgets
//! to regenerate:
//!
//! ```no_run
//! #[test]
//! fn audit_migrations_are_up_to_date() {
//!     auditrum_diesel::migrations::assert_up_to_date(
//!         concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
//!     );
//! }
//! ```

mod error;
mod header;
mod plan;
mod scan;
mod version;
mod write;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// The steps a [`Plan`] lists (owned by [`crate::plan`], re-exported here).
pub use crate::plan::Change;
pub use error::MigrationError;
pub use plan::Plan;

use crate::registry::Registry;
use crate::AuditConfig;

/// Plans, writes and checks the audit migrations of one directory.
#[derive(Debug, Clone)]
pub struct Generator {
    dir: PathBuf,
    registry: Registry,
    config: AuditConfig,
    name: Option<String>,
}

impl Generator {
    /// A generator for the migrations in `dir` (created when first written) and the specs
    /// of `registry`, for the default audit log ([`AuditConfig::default`]).
    pub fn new(dir: impl Into<PathBuf>, registry: Registry) -> Self {
        Generator {
            dir: dir.into(),
            registry,
            config: AuditConfig::default(),
            name: None,
        }
    }

    /// Uses another audit log's names.
    pub fn config(mut self, config: AuditConfig) -> Self {
        self.config = config;
        self
    }

    /// Writes all changes of a run into one folder `<version>_<name>` instead of one
    /// folder per change.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The migrations directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the directory lacks compared with the registry.
    pub fn plan(&self) -> Result<Plan, MigrationError> {
        let wanted = self.registry.specs()?;
        let existing = scan::scan(&self.dir)?;
        let core = existing.cores.get(&self.config.display_name());
        let changes = crate::plan::changes(&self.config, core, &existing.specs, &wanted);
        Ok(Plan {
            dir: self.dir.display().to_string(),
            changes,
            latest: existing.latest,
        })
    }

    /// Writes the migrations the directory lacks, versioned from `now` on (and after every
    /// existing version); returns the folders written, none when up to date.
    pub fn generate(&self, now: DateTime<Utc>) -> Result<Vec<PathBuf>, MigrationError> {
        let plan = self.plan()?;
        let folders = write::render(&plan, &self.config, now.naive_utc(), self.name.as_deref())?;
        write::write(&self.dir, &folders)
    }

    /// `Ok` when the migrations are up to date, else [`MigrationError::Stale`] with the
    /// list of what is missing.
    pub fn check(&self) -> Result<(), MigrationError> {
        let plan = self.plan()?;
        if plan.is_empty() {
            Ok(())
        } else {
            Err(MigrationError::Stale(Box::new(plan)))
        }
    }
}

/// Panics, listing what is missing, unless the migrations in `dir` are up to date with every
/// `#[derive(Audited)]` model and [`register!`](crate::register) linked into this binary.
///
/// For a `#[test]` of your crate. A test binary links only the crates it uses: name the
/// crate that defines your models (`use my_models as _;`) when it is not this one.
#[track_caller]
pub fn assert_up_to_date(dir: impl AsRef<Path>) {
    let generator = Generator::new(dir.as_ref(), Registry::linked());
    if let Err(error) = generator.check() {
        panic!("{error}");
    }
}
