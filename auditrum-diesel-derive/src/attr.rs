//! Parses `#[audited(...)]` on the struct and on its fields. Every problem is recorded in
//! the [`Ctxt`] and parsing goes on, so one compile shows them all.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Attribute, Ident, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::diesel::skip_value;
use crate::symbol::*;

/// `track_only(...)`, `exclude(...)`, `meta(...)`, `mask(...)` or `hash(...)`: the keyword
/// and the field names.
pub struct List {
    /// The option's keyword, for spans.
    pub keyword: Ident,
    /// The names, as written.
    pub names: Vec<Ident>,
}

/// The storage mode.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// `storage = "diff"`.
    Diff,
    /// `storage = "full"`.
    Full,
}

/// The struct's `#[audited(...)]` options.
#[derive(Default)]
pub struct StructOptions {
    /// `track_only(...)`.
    pub track_only: Option<List>,
    /// `exclude(...)`.
    pub exclude: Option<List>,
    /// `meta(...)`.
    pub meta: Option<List>,
    /// `mask(...)`.
    pub mask: Option<List>,
    /// `hash(...)`.
    pub hash: Option<List>,
    /// `condition = "..."`.
    pub condition: Option<LitStr>,
    /// `storage = "..."`.
    pub storage: Option<Storage>,
    /// `schema = "..."`.
    pub schema: Option<LitStr>,
    /// `table = "..."`.
    pub table: Option<LitStr>,
}

/// A field's `#[audited(...)]` options.
#[derive(Default)]
pub struct FieldOptions {
    /// `skip`, with its span.
    pub skip: Option<Span>,
    /// `column = "..."`.
    pub column: Option<LitStr>,
}

/// Reads every `#[audited(...)]` of the struct.
pub fn struct_options(cx: &mut Ctxt, attrs: &[Attribute]) -> StructOptions {
    let mut out = StructOptions::default();
    each_option(cx, attrs, |cx, key, meta| {
        let name = key.to_string();
        match name.as_str() {
            TRACK_ONLY | EXCLUDE | META | MASK | HASH => {
                let slot = match name.as_str() {
                    TRACK_ONLY => &mut out.track_only,
                    EXCLUDE => &mut out.exclude,
                    MASK => &mut out.mask,
                    HASH => &mut out.hash,
                    _ => &mut out.meta,
                };
                let list = list(cx, key, meta)?;
                set_once(cx, key, slot, list);
            }
            CONDITION | SCHEMA | TABLE => {
                let slot = match name.as_str() {
                    CONDITION => &mut out.condition,
                    SCHEMA => &mut out.schema,
                    _ => &mut out.table,
                };
                let value = string(cx, key, meta)?;
                set_once(cx, key, slot, value);
            }
            STORAGE => {
                let storage = string(cx, key, meta)?.and_then(|lit| match lit.value().as_str() {
                    STORAGE_DIFF => Some(Storage::Diff),
                    STORAGE_FULL => Some(Storage::Full),
                    other => {
                        cx.error(
                            lit.span(),
                            format!(
                                "unknown storage mode {other:?}: expected `storage = \"diff\"` \
                                 (UPDATE stores the changed columns) or `storage = \"full\"` \
                                 (UPDATE also stores the whole old and new row)"
                            ),
                        );
                        None
                    }
                });
                set_once(cx, key, &mut out.storage, storage);
            }
            SKIP | COLUMN => {
                cx.error(
                    key.span(),
                    format!(
                        "`{}` is an option of a field: write `#[audited({})]` above the field",
                        name,
                        form_of(&name)
                    ),
                );
                skip_value(meta.input)?;
            }
            _ => {
                cx.error(
                    key.span(),
                    format!(
                        "unknown option `{name}` of `#[audited(...)]` on a struct; expected one \
                         of {}",
                        forms(STRUCT_OPTIONS)
                    ),
                );
                skip_value(meta.input)?;
            }
        }
        Ok(())
    });
    out
}

/// Reads every `#[audited(...)]` of a field.
pub fn field_options(cx: &mut Ctxt, attrs: &[Attribute]) -> FieldOptions {
    let mut out = FieldOptions::default();
    each_option(cx, attrs, |cx, key, meta| {
        let name = key.to_string();
        match name.as_str() {
            SKIP => {
                if meta.input.is_empty() || meta.input.peek(Token![,]) {
                    set_once(cx, key, &mut out.skip, Some(key.span()));
                } else {
                    cx.error(
                        key.span(),
                        "`skip` takes no value: write `#[audited(skip)]`",
                    );
                    skip_value(meta.input)?;
                }
            }
            COLUMN => {
                let value = string(cx, key, meta)?;
                set_once(cx, key, &mut out.column, value);
            }
            _ if STRUCT_OPTIONS.iter().any(|(option, _)| *option == name) => {
                cx.error(
                    key.span(),
                    format!(
                        "`{name}` is an option of the struct: write `#[audited({})]` above the \
                         struct",
                        form_of(&name)
                    ),
                );
                skip_value(meta.input)?;
            }
            _ => {
                cx.error(
                    key.span(),
                    format!(
                        "unknown option `{name}` of `#[audited(...)]` on a field; expected one \
                         of {}",
                        forms(FIELD_OPTIONS)
                    ),
                );
                skip_value(meta.input)?;
            }
        }
        Ok(())
    });
    out
}

/// Calls `f` with each option of each `#[audited(...)]` in `attrs`.
fn each_option(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    mut f: impl FnMut(&mut Ctxt, &Ident, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(AUDITED)) {
        if let syn::Meta::Path(path) = &attr.meta {
            cx.error(
                span_of(path),
                "`#[audited]` needs options, e.g. `#[audited(exclude(password_hash))]`; a model \
                 with none needs no `#[audited]` at all",
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = meta.path.get_ident().cloned() else {
                cx.error(
                    span_of(&meta.path),
                    "expected an option name such as `exclude(...)`, not a path",
                );
                return skip_value(meta.input);
            };
            f(cx, &key, &meta)
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
}

/// `name(field, ...)`: `None` (with an error recorded) when malformed.
fn list(cx: &mut Ctxt, key: &Ident, meta: &ParseNestedMeta) -> syn::Result<Option<List>> {
    let form = form_of(&key.to_string());
    if !meta.input.peek(syn::token::Paren) {
        cx.error(
            key.span(),
            format!("malformed `{key}`: expected `{form}`, a list of field names in parentheses"),
        );
        skip_value(meta.input)?;
        return Ok(None);
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let mut names = Vec::new();
    let mut ok = true;
    while !content.is_empty() {
        if content.peek(Ident::peek_any) {
            names.push(Ident::parse_any(&content)?);
        } else {
            let bad: proc_macro2::TokenTree = content.parse()?;
            cx.error(
                bad.span(),
                format!("malformed `{key}`: expected a field name, e.g. `{key}(email, name)`"),
            );
            ok = false;
            skip_item(&content)?;
        }
        if !content.is_empty() && !content.peek(Token![,]) {
            let bad: proc_macro2::TokenTree = content.parse()?;
            cx.error(
                bad.span(),
                format!("malformed `{key}`: expected `,` between field names, as in `{form}`"),
            );
            ok = false;
            skip_item(&content)?;
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if names.is_empty() && ok {
        cx.error(
            key.span(),
            format!("`{key}()` names no field: expected `{form}`"),
        );
        return Ok(None);
    }
    Ok(ok.then(|| List {
        keyword: key.clone(),
        names,
    }))
}

/// `name = "..."`: `None` (with an error recorded) when malformed.
fn string(cx: &mut Ctxt, key: &Ident, meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    let form = form_of(&key.to_string());
    if !meta.input.peek(Token![=]) {
        cx.error(key.span(), format!("malformed `{key}`: expected `{form}`"));
        skip_value(meta.input)?;
        return Ok(None);
    }
    meta.input.parse::<Token![=]>()?;
    if meta.input.peek(LitStr) {
        return Ok(Some(meta.input.parse()?));
    }
    let span = meta.input.span();
    cx.error(
        span,
        format!("malformed `{key}`: the value must be a string literal, as in `{form}`"),
    );
    skip_value(meta.input)?;
    Ok(None)
}

/// Stores `value` in `slot`, or records a duplicate-option error.
fn set_once<T>(cx: &mut Ctxt, key: &Ident, slot: &mut Option<T>, value: Option<T>) {
    let Some(value) = value else { return };
    if slot.is_some() {
        cx.error(
            key.span(),
            format!("duplicate option `{key}`: give it once"),
        );
    } else {
        *slot = Some(value);
    }
}

/// Skips to the next comma of a list.
fn skip_item(content: ParseStream) -> syn::Result<()> {
    while !content.is_empty() && !content.peek(Token![,]) {
        content.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

fn span_of(path: &syn::Path) -> Span {
    use syn::spanned::Spanned;
    path.span()
}
