//! A table's name: `table` or `schema.table`.

use crate::SpecError;

/// A table named by schema and name, both checked.
///
/// ```
/// use auditrum_diesel::TableName;
/// let name = TableName::parse("app.users")?;
/// assert_eq!((name.schema(), name.table()), ("app", "users"));
/// assert_eq!(TableName::parse("users")?.schema(), "public");
/// # Ok::<(), auditrum_diesel::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    schema: String,
    table: String,
}

impl TableName {
    /// `table` (in schema `public`) or `schema.table`.
    pub fn parse(name: &str) -> Result<Self, SpecError> {
        let (schema, table) = split_qualified(name)?;
        Ok(TableName {
            schema: schema.unwrap_or_else(|| "public".into()),
            table,
        })
    }

    /// A name already checked (a spec's).
    pub(crate) fn from_checked(schema: &str, table: &str) -> Self {
        TableName {
            schema: schema.to_owned(),
            table: table.to_owned(),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The table's own name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// `schema.table`, unquoted, for messages.
    pub fn display_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// Splits `schema.table` (or `table`) into its parts.
pub(crate) fn split_qualified(name: &str) -> Result<(Option<String>, String), SpecError> {
    let parts: Vec<&str> = name.split('.').collect();
    let (schema, table) = match parts.as_slice() {
        [table] => (None, *table),
        [schema, table] => (Some(*schema), *table),
        _ => return Err(SpecError::InvalidQualifiedName(name.to_owned())),
    };
    if let Some(schema) = schema {
        check_name("schema", schema)?;
    }
    check_name("table", table)?;
    Ok((schema.map(str::to_owned), table.to_owned()))
}

/// Refuses a name `auditrum_diesel_rules::name_problem` refuses.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), SpecError> {
    match auditrum_diesel_rules::name_problem(name) {
        None => Ok(()),
        Some(_) => Err(SpecError::InvalidName {
            what,
            name: name.to_owned(),
        }),
    }
}
