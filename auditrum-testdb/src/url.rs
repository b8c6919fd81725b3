//! Rewriting libpq connection strings: pointing one at another database,
//! and hiding its password in messages.

/// Returns `conninfo` with its database replaced by `database`.
///
/// Handles both libpq forms:
/// - URIs (`postgres://user:pw@host:5432/db?sslmode=disable`,
///   `postgresql:///db?host=/var/run/postgresql`): the path is replaced, any
///   `dbname=` query parameter is removed, everything else is kept as is;
/// - keyword/value strings (`host=/tmp user=me dbname=x`): a `dbname='…'`
///   pair is appended, which libpq lets override any earlier `dbname`.
pub(crate) fn with_database(conninfo: &str, database: &str) -> String {
    let conninfo = conninfo.trim();
    let Some(scheme_len) = uri_scheme_len(conninfo) else {
        let escaped = database.replace('\\', "\\\\").replace('\'', "\\'");
        return if conninfo.is_empty() {
            format!("dbname='{escaped}'")
        } else {
            format!("{conninfo} dbname='{escaped}'")
        };
    };
    let (scheme, rest) = conninfo.split_at(scheme_len);
    // A fragment means nothing to libpq; drop it.
    let rest = rest.split('#').next().unwrap_or_default();
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let mut out = format!("{scheme}{authority}/{}", encode(database, false));
    let params: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|param| !param.is_empty())
        .filter(|param| param.split('=').next() != Some("dbname"))
        .collect();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Returns `conninfo` with any password replaced by `***`, for messages.
pub(crate) fn redact(conninfo: &str) -> String {
    let conninfo = conninfo.trim();
    if let Some(scheme_len) = uri_scheme_len(conninfo) {
        let (scheme, rest) = conninfo.split_at(scheme_len);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => authority.to_owned(),
            },
            None => authority.to_owned(),
        };
        let tail = tail
            .split('&')
            .map(|part| match part.split_once("password=") {
                Some((before, _)) if before.is_empty() || before.ends_with('?') => {
                    format!("{before}password=***")
                }
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        return format!("{scheme}{authority}{tail}");
    }
    // Keyword/value form: blank out the value after `password=` (quoted or not).
    let mut out = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while let Some(pos) = rest.find("password") {
        let (before, after) = rest.split_at(pos + "password".len());
        out.push_str(before);
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=') else {
            rest = after;
            continue;
        };
        out.push_str("=***");
        let value = value.trim_start();
        let consumed = if let Some(quoted) = value.strip_prefix('\'') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            1 + end
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        rest = &value[consumed..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/`
/// when `keep_slash`), as libpq decodes both the path and query values.
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Length of `postgres://` or `postgresql://` at the start of `conninfo`.
fn uri_scheme_len(conninfo: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .into_iter()
        .find(|scheme| {
            conninfo.len() >= scheme.len() && conninfo[..scheme.len()].eq_ignore_ascii_case(scheme)
        })
        .map(str::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_path_of_a_uri() {
        assert_eq!(
            with_database("postgres://u:p@db.example:5433/app?sslmode=disable", "t1"),
            "postgres://u:p@db.example:5433/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://localhost", "t1"),
            "postgresql://localhost/t1"
        );
        assert_eq!(
            with_database("postgres://localhost/", "t1"),
            "postgres://localhost/t1"
        );
    }

    #[test]
    fn keeps_a_unix_socket_host_parameter() {
        assert_eq!(
            with_database("postgres:///app?host=/var/run/postgresql", "t1"),
            "postgres:///t1?host=/var/run/postgresql"
        );
        assert_eq!(
            with_database(
                "postgres://postgres@localhost:5432/postgres?host=%2Ftmp%2Fx&port=5432",
                "t1"
            ),
            "postgres://postgres@localhost:5432/t1?host=%2Ftmp%2Fx&port=5432"
        );
    }

    #[test]
    fn drops_a_dbname_parameter() {
        assert_eq!(
            with_database("postgres://h/?dbname=app&user=me", "t1"),
            "postgres://h/t1?user=me"
        );
        assert_eq!(
            with_database("postgres://h/app?dbname=app", "t1"),
            "postgres://h/t1"
        );
    }

    #[test]
    fn appends_dbname_to_keyword_value_strings() {
        assert_eq!(
            with_database("host=/tmp user=me dbname=app", "t1"),
            "host=/tmp user=me dbname=app dbname='t1'"
        );
        assert_eq!(with_database("", "it's"), "dbname='it\\'s'");
    }

    #[test]
    fn encodes_database_names() {
        assert_eq!(
            with_database("postgres://h/app", "a b/c"),
            "postgres://h/a%20b%2Fc"
        );
        assert_eq!(encode("/tmp/a b", true), "/tmp/a%20b");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://me:secret@h:5432/app?sslmode=require"),
            "postgres://me:***@h:5432/app?sslmode=require"
        );
        assert_eq!(redact("postgres://me@h/app"), "postgres://me@h/app");
        assert_eq!(
            redact("postgres://h/app?user=me&password=secret"),
            "postgres://h/app?user=me&password=***"
        );
        assert_eq!(
            redact("host=h password=secret user=me"),
            "host=h password=*** user=me"
        );
        assert_eq!(
            redact("host=h password = 'se cr\\'et' user=me"),
            "host=h password=*** user=me"
        );
    }
}
