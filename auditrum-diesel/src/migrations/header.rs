//! The header lines a generated `up.sql` starts with: what the migration does to the audit
//! setup, in a form the generator reads back. This is how it knows what the migrations on
//! disk already install, without asking a database.
//!
//! ```text
//! -- auditrum: core public.auditlog v2 <sha256 of the core and capture SQL>
//! -- auditrum: spec <sha256 of the JSON> {"schema":"public","table":"users",...}
//! -- auditrum: remove <sha256 of the JSON> {"schema":"public","table":"legacy",...}
//! ```
//!
//! `core` says which version of the core schema the audit log has once the migration has run
//! (0.1 wrote `core public.auditlog` without version and hash: version 1). `spec` installs
//! (or replaces) a table's triggers, `remove` uninstalls the spec it carries. A spec's hash
//! is of the JSON text as written, so a hand-edited header is detected.

use sha2::{Digest, Sha256};

use crate::sql::CoreStamp;
use crate::TrackSpec;

const PREFIX: &str = "-- auditrum: ";
const CORE: &str = "core";
const SPEC: &str = "spec";
const REMOVE: &str = "remove";

/// One header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Header {
    /// The core schema of the audit table `schema.table`, at a version.
    Core(String, CoreStamp),
    /// Installs or replaces this spec.
    Spec(TrackSpec),
    /// Removes this spec's triggers.
    Remove(TrackSpec),
}

impl Header {
    /// The line, without a newline.
    pub(crate) fn render(&self) -> String {
        match self {
            Header::Core(table, stamp) => format!(
                "{PREFIX}{CORE} {table} v{} {}",
                stamp.version,
                stamp.hash.as_deref().unwrap_or("-")
            ),
            Header::Spec(spec) => spec_line(SPEC, spec),
            Header::Remove(spec) => spec_line(REMOVE, spec),
        }
    }

    /// Reads one line: `None` when it is not a header line; an error when it is one but
    /// cannot be read.
    pub(crate) fn parse(line: &str) -> Option<Result<Header, String>> {
        let rest = line.strip_prefix(PREFIX)?;
        let (kind, rest) = rest.split_once(' ')?;
        match kind {
            CORE => Some(parse_core(rest.trim_end())),
            SPEC => Some(parse_spec(rest).map(Header::Spec)),
            REMOVE => Some(parse_spec(rest).map(Header::Remove)),
            // `-- auditrum: capture …` and other comments of the generated SQL itself.
            _ => None,
        }
    }
}

/// `public.auditlog` (0.1: version 1) or `public.auditlog v2 <hash>`.
fn parse_core(rest: &str) -> Result<Header, String> {
    let mut words = rest.split(' ');
    let table = words.next().unwrap_or_default().to_owned();
    let stamp = match (words.next(), words.next(), words.next()) {
        (None, _, _) => CoreStamp::v0_1(),
        (Some(version), Some(hash), None) => {
            let version = version
                .strip_prefix('v')
                .and_then(|v| v.parse().ok())
                .ok_or("expected `core <schema.table> v<version> <hash>`")?;
            CoreStamp {
                version,
                hash: (hash != "-").then(|| hash.to_owned()),
            }
        }
        _ => return Err("expected `core <schema.table> v<version> <hash>`".into()),
    };
    Ok(Header::Core(table, stamp))
}

fn spec_line(kind: &str, spec: &TrackSpec) -> String {
    let json = spec.to_json();
    format!("{PREFIX}{kind} {} {json}", hash(&json))
}

fn parse_spec(rest: &str) -> Result<TrackSpec, String> {
    let (fingerprint, json) = rest
        .split_once(' ')
        .ok_or("expected `<fingerprint> <spec JSON>`")?;
    let json = json.trim_end();
    if hash(json) != fingerprint {
        return Err(
            "the fingerprint does not match the spec JSON: the header was edited; restore it \
             from version control (the generator relies on it to know what is installed)"
                .into(),
        );
    }
    serde_json::from_str(json).map_err(|e| format!("the spec JSON cannot be read: {e}"))
}

fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_back_as_written() {
        let spec = TrackSpec::builder("app.users")
            .columns(["id", "email"])
            .condition("NEW.email <> ''")
            .build()
            .unwrap();
        for header in [
            Header::Core("public.auditlog".into(), CoreStamp::v0_1()),
            Header::Core(
                "public.auditlog".into(),
                CoreStamp {
                    version: 2,
                    hash: Some("ab12".into()),
                },
            ),
            Header::Spec(spec.clone()),
            Header::Remove(spec),
        ] {
            let line = header.render();
            assert_eq!(Header::parse(&line), Some(Ok(header)), "{line}");
        }
    }

    #[test]
    fn a_core_line_of_0_1_is_version_1() {
        assert_eq!(
            Header::parse("-- auditrum: core public.auditlog"),
            Some(Ok(Header::Core(
                "public.auditlog".into(),
                CoreStamp::v0_1()
            )))
        );
        assert!(Header::parse("-- auditrum: core public.auditlog two")
            .unwrap()
            .is_err());
    }

    #[test]
    fn other_lines_are_not_headers_and_edits_are_detected() {
        assert_eq!(
            Header::parse("-- auditrum: capture public.users (spec 1)"),
            None
        );
        assert_eq!(Header::parse("CREATE TABLE t ();"), None);
        let spec = TrackSpec::builder("users")
            .track_only(["a"])
            .build()
            .unwrap();
        let edited = Header::Spec(spec).render().replace("\"a\"", "\"b\"");
        assert!(Header::parse(&edited).unwrap().is_err());
    }
}
