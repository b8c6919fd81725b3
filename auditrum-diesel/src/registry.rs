//! The registry: every table the application audits, with its [`TrackSpec`].
//!
//! Two kinds of entries feed it:
//!
//! - **Link-time registrations**, collected with [`inventory`](https://docs.rs/inventory):
//!   each `#[derive(Audited)]` model, and each [`register!`](crate::register) of a table that
//!   has no model of its own. [`Registry::linked`] reads them all. A binary only sees the
//!   registrations of the crates it links: a binary that generates migrations for models
//!   defined in another crate of yours must name that crate (`use my_models as _;`).
//! - **Runtime entries**, added to a [`Registry`] value with [`Registry::add`] /
//!   [`Registry::with`], for specs computed at run time (from configuration, say).
//!
//! ```
//! use auditrum_diesel::registry::Registry;
//! use auditrum_diesel::TrackSpec;
//!
//! // A table without a Diesel model, registered at link time.
//! auditrum_diesel::register!(TrackSpec::builder("legacy.events").track_only(["kind", "payload"]));
//!
//! // Everything linked, plus one spec decided at run time.
//! let registry = Registry::linked().with(TrackSpec::builder("audit_me").track_only(["v"]));
//! let tables: Vec<String> = registry.specs()?.iter().map(|s| s.display_name()).collect();
//! assert_eq!(tables, ["legacy.events", "public.audit_me"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::{IntoTrackSpec, SpecError, TrackSpec};

/// One link-time registration: a `#[derive(Audited)]` model or a [`register!`](crate::register).
///
/// Built only by those two macros; listed by [`Registry::linked`].
pub struct Registration {
    origin: &'static str,
    spec: fn() -> Result<TrackSpec, SpecError>,
}

inventory::collect!(Registration);

impl Registration {
    /// Used by `#[derive(Audited)]` and [`register!`](crate::register); not public API.
    #[doc(hidden)]
    pub const fn __new(origin: &'static str, spec: fn() -> Result<TrackSpec, SpecError>) -> Self {
        Registration { origin, spec }
    }

    /// Where the registration was made: the model's path (`my_app::models::User`) or the
    /// `file:line` of a [`register!`](crate::register).
    pub fn origin(&self) -> &'static str {
        self.origin
    }

    /// The registered spec.
    pub fn spec(&self) -> Result<TrackSpec, SpecError> {
        (self.spec)()
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Registers a table that has no `#[derive(Audited)]` model, at link time, in the same
/// registry as the models (the original's `register(User, track_only=[...])`).
///
/// Write it at module level (not inside a function). The argument is a
/// [`TrackSpecBuilder`](crate::TrackSpecBuilder) (or a [`TrackSpec`]); it is built when the
/// registry is read, and [`Registry::specs`] reports a spec that does not build, with where
/// it was registered.
///
/// ```
/// use auditrum_diesel::TrackSpec;
///
/// auditrum_diesel::register!(
///     TrackSpec::builder("billing.invoices")
///         .key(["invoice_no"])
///         .track_only(["status", "total"])
///         .condition("NEW.status <> 'draft'")
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! register {
    ($spec:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::registry::Registration::__new(
                ::core::concat!(::core::file!(), ":", ::core::line!()),
                || -> ::core::result::Result<$crate::TrackSpec, $crate::SpecError> {
                    $crate::IntoTrackSpec::into_track_spec($spec)
                },
            )
        }
    };
}

/// A set of specs to audit: what the migration generator and [`sync`](crate::sync) work from.
///
/// [`Registry::linked`] holds every link-time registration; [`Registry::new`] starts empty
/// (for tests, and for apps that decide everything at run time).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    origin: String,
    spec: Result<TrackSpec, SpecError>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every `#[derive(Audited)]` model and [`register!`](crate::register) linked into this
    /// binary.
    pub fn linked() -> Self {
        let mut entries: Vec<Entry> = inventory::iter::<Registration>
            .into_iter()
            .map(|registration| Entry {
                origin: registration.origin().to_owned(),
                spec: registration.spec(),
            })
            .collect();
        // Link order is not stable; make every later step independent of it.
        entries.sort_by(|a, b| a.origin.cmp(&b.origin));
        Registry { entries }
    }

    /// Adds a spec (or a builder) decided at run time; its origin is the caller's
    /// `file:line`, and a builder that does not build is reported by [`specs`](Self::specs).
    #[track_caller]
    pub fn add(&mut self, spec: impl IntoTrackSpec) -> &mut Self {
        let caller = std::panic::Location::caller();
        self.entries.push(Entry {
            origin: format!("{}:{}", caller.file(), caller.line()),
            spec: spec.into_track_spec(),
        });
        self
    }

    /// [`add`](Self::add), by value.
    #[track_caller]
    pub fn with(mut self, spec: impl IntoTrackSpec) -> Self {
        self.add(spec);
        self
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The specs, sorted by schema and table, at most one per table.
    ///
    /// Fails with every problem at once: specs that did not build, and tables registered
    /// more than once (two models of one table may not both derive `Audited`).
    pub fn specs(&self) -> Result<Vec<TrackSpec>, RegistryError> {
        let mut problems = Vec::new();
        let mut specs: Vec<(&str, &TrackSpec)> = Vec::new();
        for entry in &self.entries {
            match &entry.spec {
                Err(error) => problems.push(RegistryProblem::Invalid {
                    origin: entry.origin.clone(),
                    error: error.clone(),
                }),
                Ok(spec) => specs.push((&entry.origin, spec)),
            }
        }
        specs.sort_by(|(_, a), (_, b)| (a.schema(), a.table()).cmp(&(b.schema(), b.table())));
        for pair in specs.windows(2) {
            let ((first, a), (second, b)) = (pair[0], pair[1]);
            if a.schema() == b.schema() && a.table() == b.table() {
                problems.push(RegistryProblem::Duplicate {
                    table: a.display_name(),
                    first: first.to_owned(),
                    second: second.to_owned(),
                });
            }
        }
        if problems.is_empty() {
            Ok(specs.into_iter().map(|(_, spec)| spec.clone()).collect())
        } else {
            Err(RegistryError { problems })
        }
    }
}

/// The registry holds specs that cannot be used; every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    problems: Vec<RegistryProblem>,
}

impl RegistryError {
    /// The problems, in registry order.
    pub fn problems(&self) -> &[RegistryProblem] {
        &self.problems
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the audit registry has {} problem(s):",
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegistryError {}

/// One problem of a [`RegistryError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryProblem {
    /// A registered spec does not build.
    #[error("{origin}: {error}")]
    Invalid {
        /// The model path or `file:line` that registered it.
        origin: String,
        /// Why it is invalid.
        error: SpecError,
    },
    /// Two registrations name the same table.
    #[error(
        "table {table} is registered twice, by {first} and by {second}: keep \
         `#[derive(Audited)]` / `register!` on one of them"
    )]
    Duplicate {
        /// `schema.table`.
        table: String,
        /// The first registration's origin.
        first: String,
        /// The second registration's origin.
        second: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(table: &str) -> crate::TrackSpecBuilder {
        TrackSpec::builder(table).track_only(["v"])
    }

    #[test]
    fn specs_are_sorted_by_schema_and_table() {
        let registry = Registry::new()
            .with(spec("b"))
            .with(spec("app.z"))
            .with(spec("a"));
        let names: Vec<_> = registry
            .specs()
            .unwrap()
            .iter()
            .map(TrackSpec::display_name)
            .collect();
        assert_eq!(names, ["app.z", "public.a", "public.b"]);
    }

    #[test]
    fn every_problem_is_reported_with_its_origin() {
        let registry = Registry::new()
            .with(spec("users"))
            .with(spec("public.users"))
            .with(spec("posts").exclude(["v"]));
        let error = registry.specs().unwrap_err();
        assert_eq!(error.problems().len(), 2, "{error}");
        let text = error.to_string();
        assert!(text.contains("cannot be combined"), "{text}");
        assert!(text.contains("public.users is registered twice"), "{text}");
        assert!(text.contains("registry.rs:"), "origin is file:line: {text}");
    }
}
