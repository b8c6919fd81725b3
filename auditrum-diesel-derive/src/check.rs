//! Validate: turns a parsed [`Model`] into the [`Spec`] to generate, recording every
//! problem, each at the token that causes it.

use syn::{GenericParam, LitStr};

use crate::attr::{List, Storage};
use crate::ctxt::Ctxt;
use crate::diesel::Name;
use crate::parse::{Field, Model};
use crate::symbol::*;

/// The checked spec, ready to expand into a `TrackSpec` builder chain.
pub struct Spec {
    /// The SQL table name.
    pub table: String,
    /// The schema, when given.
    pub schema: Option<String>,
    /// Primary-key columns.
    pub key: Vec<String>,
    /// Every column of the model.
    pub columns: Vec<String>,
    /// `track_only` columns.
    pub track_only: Vec<String>,
    /// `exclude` columns, including `#[audited(skip)]` fields.
    pub exclude: Vec<String>,
    /// `meta` columns.
    pub meta: Vec<String>,
    /// `mask` columns.
    pub mask: Vec<String>,
    /// `hash` columns.
    pub hash: Vec<String>,
    /// The condition.
    pub condition: Option<String>,
    /// `storage = "full"`.
    pub full_storage: bool,
}

/// Checks the model; `None` when something is wrong (the reason is in `cx`).
pub fn check(cx: &mut Ctxt, model: &Model) -> Option<Spec> {
    check_generics(cx, model);
    let fields = model.fields.as_ref()?;
    let struct_name = model.input.ident.to_string();
    let options = &model.options;

    let table = table_name(cx, model);
    let schema = options.schema.as_ref().map(|lit| {
        check_sql_name(cx, lit, SCHEMA);
        lit.value()
    });
    let columns = columns(cx, fields);
    let key = key(cx, model, fields);

    let lists = Lists {
        struct_name: &struct_name,
        fields,
    };
    let track_only = options
        .track_only
        .as_ref()
        .map(|list| lists.resolve(cx, list));
    let mut exclude = options
        .exclude
        .as_ref()
        .map(|list| lists.resolve(cx, list))
        .unwrap_or_default();
    let meta = options
        .meta
        .as_ref()
        .map(|list| lists.resolve(cx, list))
        .unwrap_or_default();

    if let (Some(_), Some(list)) = (&options.track_only, &options.exclude) {
        cx.error(
            list.keyword.span(),
            "`track_only` and `exclude` cannot be combined: `track_only(...)` lists the audited \
             fields, `exclude(...)` the fields left out; keep one of them",
        );
    }

    for field in fields {
        let (Some(skip), Some(column)) = (field.options.skip, field.column()) else {
            continue;
        };
        match &track_only {
            Some(track_only) if track_only.contains(&column.value) => cx.error(
                skip,
                format!(
                    "field `{}` is `#[audited(skip)]` but listed in `track_only(...)`: remove \
                     one of the two",
                    field.name.as_ref().map_or("?", |n| n.value.as_str())
                ),
            ),
            // Under `track_only`, a field not listed is not audited anyway.
            Some(_) => {}
            None if exclude.contains(&column.value) => {}
            None => exclude.push(column.value),
        }
    }

    let tracked = match &track_only {
        Some(track_only) => track_only.len(),
        None => columns.iter().filter(|c| !exclude.contains(c)).count(),
    };
    if tracked == 0 && !columns.is_empty() {
        cx.error(
            model.input.ident.span(),
            format!(
                "no column of `{struct_name}` is left to audit: `exclude(...)` and \
                 `#[audited(skip)]` leave none"
            ),
        );
    }

    let condition = options.condition.as_ref().map(|lit| {
        check_condition(cx, lit);
        lit.value()
    });

    let tracked_columns: Vec<&String> = match &track_only {
        Some(track_only) => track_only.iter().collect(),
        None => columns.iter().filter(|c| !exclude.contains(c)).collect(),
    };
    let protection = Protection {
        key: &key,
        tracked: &tracked_columns,
        meta: &meta,
    };
    let mask_spanned = options.mask.as_ref().map(|l| lists.resolve_spanned(cx, l));
    let hash_spanned = options.hash.as_ref().map(|l| lists.resolve_spanned(cx, l));
    let names = |list: &Option<Vec<Name>>| -> Vec<String> {
        list.iter().flatten().map(|n| n.value.clone()).collect()
    };
    let (mask, hash) = (names(&mask_spanned), names(&hash_spanned));
    protection.check(cx, MASK, mask_spanned.as_deref().unwrap_or_default(), &hash);
    protection.check(cx, HASH, hash_spanned.as_deref().unwrap_or_default(), &mask);

    Some(Spec {
        table,
        schema,
        key,
        columns,
        track_only: track_only.unwrap_or_default(),
        exclude,
        meta,
        mask,
        hash,
        condition,
        full_storage: options.storage == Some(Storage::Full),
    })
}

/// Type and const parameters leave no one type to register.
fn check_generics(cx: &mut Ctxt, model: &Model) {
    for param in &model.input.generics.params {
        let span = match param {
            GenericParam::Type(t) => t.ident.span(),
            GenericParam::Const(c) => c.ident.span(),
            GenericParam::Lifetime(_) => continue,
        };
        cx.error(
            span,
            "`#[derive(Audited)]` needs a model without type or const parameters (lifetimes \
             are fine): the registry holds one spec per table",
        );
    }
}

/// `#[audited(table)]`, else the last segment of Diesel's `table_name`, else Diesel's
/// default: the struct name in snake case plus `s`.
fn table_name(cx: &mut Ctxt, model: &Model) -> String {
    if let Some(lit) = &model.options.table {
        check_sql_name(cx, lit, TABLE);
        if lit.value().contains('.') {
            cx.error(
                lit.span(),
                "`table` names the table alone; give its schema with `schema = \"...\"`",
            );
        }
        return lit.value();
    }
    if let Some(name) = &model.diesel.table_name {
        return name.value.clone();
    }
    infer_table_name(&model.input.ident.to_string())
}

/// Diesel's rule (`diesel_derives::model::infer_table_name`).
fn infer_table_name(name: &str) -> String {
    let mut result = String::with_capacity(name.len() + 1);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            result.push('_');
        }
        result.extend(c.to_lowercase());
    }
    result.push('s');
    result
}

/// The rule `TrackSpec` applies to names (`auditrum_diesel_rules::name_problem`).
fn check_sql_name(cx: &mut Ctxt, lit: &LitStr, option: &str) {
    if let Some(reason) = auditrum_diesel_rules::name_problem(&lit.value()) {
        cx.error(
            lit.span(),
            format!(
                "malformed `{option}`: {reason}; a name is non-empty, without control \
                 characters or `$auditrum$`, as in `{}`",
                form_of(option)
            ),
        );
    }
}

/// The columns of the fields, in field order; embedded and computed fields have none.
fn columns(cx: &mut Ctxt, fields: &[Field]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for field in fields {
        if let Some(lit) = &field.options.column {
            check_sql_name(cx, lit, COLUMN);
        }
        if let Some(embed) = field.diesel.embed {
            if field.options.skip.is_none() {
                cx.error(
                    embed,
                    "`#[derive(Audited)]` cannot see the columns of an embedded struct: mark the \
                     field `#[audited(skip)]` (its columns are then not audited) or list them \
                     with `register!` instead",
                );
            }
            continue;
        }
        if field.diesel.select_expression {
            continue;
        }
        let Some(column) = field.column() else {
            cx.error(
                field.span,
                "a field of a tuple struct needs its column: `#[diesel(column_name = name)]`",
            );
            continue;
        };
        if columns.contains(&column.value) {
            cx.error(
                column.span,
                format!(
                    "column `{}` is named by two fields: give each field its own column",
                    column.value
                ),
            );
            continue;
        }
        columns.push(column.value);
    }
    columns
}

/// Diesel's `primary_key(...)` (Diesel column names), else `id`, as SQL column names.
fn key(cx: &mut Ctxt, model: &Model, fields: &[Field]) -> Vec<String> {
    let ident = &model.input.ident;
    let (names, explicit) = match &model.diesel.primary_key {
        Some((names, _)) => (names.clone(), true),
        None => (
            vec![Name {
                value: "id".into(),
                span: ident.span(),
            }],
            false,
        ),
    };
    let mut key = Vec::new();
    for name in names {
        // Diesel names key columns by their Rust column name; the SQL name can differ
        // through `#[audited(column = "...")]`.
        let field = fields.iter().find(|f| {
            f.diesel.embed.is_none()
                && !f.diesel.select_expression
                && f.diesel
                    .column_name
                    .as_ref()
                    .or(f.name.as_ref())
                    .map(|n| &n.value)
                    == Some(&name.value)
        });
        match (field.and_then(Field::column), explicit) {
            (Some(column), _) => key.push(column.value),
            (None, true) => cx.error(
                name.span,
                format!(
                    "primary-key column `{}` is not a column of `{ident}`: the audit log keys \
                     each event by it, so the model needs a field for it",
                    name.value
                ),
            ),
            (None, false) => cx.error(
                name.span,
                format!(
                    "`{ident}` has no field `id`, Diesel's default primary key: add the field, \
                     or name the key with `#[diesel(primary_key(...))]`"
                ),
            ),
        }
    }
    key
}

/// What a `mask` / `hash` column is checked against.
struct Protection<'a> {
    key: &'a [String],
    tracked: &'a [&'a String],
    meta: &'a [String],
}

impl Protection<'_> {
    /// The rule `TrackSpec` applies too (`auditrum_diesel_rules::protection_problem`),
    /// spanned at each column's field name.
    fn check(&self, cx: &mut Ctxt, option: &str, columns: &[Name], other: &[String]) {
        for column in columns {
            let name = &column.value;
            let audited = self.tracked.contains(&name) || self.meta.contains(name);
            if let Some(reason) = auditrum_diesel_rules::protection_problem(
                self.key.contains(name),
                other.contains(name),
                audited,
            ) {
                cx.error(
                    column.span,
                    format!("`{option}` cannot name column `{name}`: {reason}"),
                );
            }
        }
    }
}

/// Resolves the field names of `track_only` / `exclude` / `meta` to columns.
struct Lists<'a> {
    struct_name: &'a str,
    fields: &'a [Field],
}

impl Lists<'_> {
    /// As [`resolve`](Self::resolve), each column with the span of the name that named it.
    fn resolve_spanned(&self, cx: &mut Ctxt, list: &List) -> Vec<Name> {
        let columns = self.resolve(cx, list);
        // `resolve` keeps the order of the names it could resolve; pair them back up.
        let mut spans = list.names.iter().filter_map(|ident| {
            let name = crate::diesel::name_of(ident);
            let field = self
                .fields
                .iter()
                .find(|f| f.name.as_ref().map(|n| &n.value) == Some(&name.value))?;
            field.column().map(|_| name.span)
        });
        columns
            .into_iter()
            .map(|value| Name {
                value,
                span: spans.next().unwrap_or_else(proc_macro2::Span::call_site),
            })
            .collect()
    }

    fn resolve(&self, cx: &mut Ctxt, list: &List) -> Vec<String> {
        let mut columns = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for ident in &list.names {
            let name = crate::diesel::name_of(ident);
            if seen.contains(&name.value) {
                cx.error(
                    name.span,
                    format!("`{}` names field `{}` twice", list.keyword, name.value),
                );
                continue;
            }
            seen.push(name.value.clone());
            let field = self
                .fields
                .iter()
                .find(|f| f.name.as_ref().map(|n| &n.value) == Some(&name.value));
            match field {
                None => cx.error(name.span, self.unknown(list, &name.value)),
                Some(field) if field.diesel.embed.is_some() || field.diesel.select_expression => cx
                    .error(
                        name.span,
                        format!(
                            "field `{}` is not a column (it is `#[diesel(embed)]` or \
                             `#[diesel(select_expression)]`), so `{}` cannot name it",
                            name.value, list.keyword
                        ),
                    ),
                Some(field) => {
                    if let Some(column) = field.column() {
                        columns.push(column.value);
                    }
                }
            }
        }
        columns
    }

    /// "`x` is not a field of `User`", with the fields, and a hint when `x` is a column.
    fn unknown(&self, list: &List, name: &str) -> String {
        let fields: Vec<&str> = self
            .fields
            .iter()
            .filter_map(|f| f.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        let mut message = format!(
            "`{}` names `{name}`, which is not a field of `{}`",
            list.keyword, self.struct_name
        );
        if let Some(field) = self
            .fields
            .iter()
            .find(|f| f.column().map(|c| c.value).as_deref() == Some(name) && f.name.is_some())
        {
            let field_name = &field.name.as_ref().expect("filtered above").value;
            message.push_str(&format!(
                "; `{name}` is the column of field `{field_name}`: name the field"
            ));
        }
        message.push_str(&format!("; its fields are: {}", fields.join(", ")));
        message
    }
}

/// The condition is embedded in the trigger body; refuse what `TrackSpec` refuses at run
/// time: the rule is `auditrum_diesel_rules::condition_problem`, shared by both.
fn check_condition(cx: &mut Ctxt, lit: &LitStr) {
    let Some(reason) = auditrum_diesel_rules::condition_problem(&lit.value()) else {
        return;
    };
    cx.error(
        lit.span(),
        format!(
            "malformed `condition`: {reason}; a condition is one SQL expression over the row \
             `NEW`, e.g. `condition = \"NEW.is_active\"`"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::infer_table_name;

    #[test]
    fn table_names_follow_diesel() {
        assert_eq!(infer_table_name("User"), "users");
        assert_eq!(infer_table_name("FooBarBaz"), "foo_bar_bazs");
    }
}
