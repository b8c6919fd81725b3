//! Reads the parts of Diesel's own `#[diesel(...)]` attributes that decide the audited table
//! and columns, so a model says them once.
//!
//! Reading is lenient: a malformed or unknown `#[diesel(...)]` item is Diesel's to report,
//! so it is skipped here without an error.

use proc_macro2::{Span, TokenTree};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Attribute, Ident, LitStr, Path, Token};

use crate::symbol::*;

/// A name with the span it was written at.
#[derive(Clone)]
pub struct Name {
    /// The name, without `r#`.
    pub value: String,
    /// Where it was written.
    pub span: Span,
}

/// What Diesel's struct attributes say.
#[derive(Default)]
pub struct DieselStruct {
    /// `table_name = path`: the path's last segment.
    pub table_name: Option<Name>,
    /// `primary_key(a, b)`, with the span of `primary_key`.
    pub primary_key: Option<(Vec<Name>, Span)>,
}

/// What Diesel's field attributes say.
#[derive(Default)]
pub struct DieselField {
    /// `column_name = name` or `column_name = "name"`.
    pub column_name: Option<Name>,
    /// `embed`: the field is a struct of further columns.
    pub embed: Option<Span>,
    /// `select_expression = ...`: the field is computed, not a column.
    pub select_expression: bool,
}

/// Reads the struct-level `#[diesel(...)]` attributes.
pub fn read_struct(attrs: &[Attribute]) -> DieselStruct {
    let mut out = DieselStruct::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(DIESEL)) {
        let _ = attr.parse_args_with(|input: ParseStream| {
            each_item(input, |key, input| {
                if key == DIESEL_TABLE_NAME && out.table_name.is_none() {
                    input.parse::<Token![=]>()?;
                    let path: Path = input.parse()?;
                    if let Some(last) = path.segments.last() {
                        out.table_name = Some(name_of(&last.ident));
                    }
                } else if key == DIESEL_PRIMARY_KEY && out.primary_key.is_none() {
                    let content;
                    syn::parenthesized!(content in input);
                    let mut names = Vec::new();
                    while !content.is_empty() {
                        names.push(sql_identifier(&content)?);
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                    out.primary_key = Some((names, key.span()));
                } else {
                    skip_value(input)?;
                }
                Ok(())
            })
        });
    }
    out
}

/// Reads a field's `#[diesel(...)]` attributes.
pub fn read_field(attrs: &[Attribute]) -> DieselField {
    let mut out = DieselField::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(DIESEL)) {
        let _ = attr.parse_args_with(|input: ParseStream| {
            each_item(input, |key, input| {
                if key == DIESEL_COLUMN_NAME {
                    input.parse::<Token![=]>()?;
                    out.column_name = Some(sql_identifier(input)?);
                } else if key == DIESEL_EMBED {
                    out.embed = Some(key.span());
                } else {
                    if key == DIESEL_SELECT_EXPRESSION {
                        out.select_expression = true;
                    }
                    skip_value(input)?;
                }
                Ok(())
            })
        });
    }
    out
}

/// Calls `f` with the key of each comma-separated `key ...` item.
fn each_item(
    input: ParseStream,
    mut f: impl FnMut(&Ident, ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key = Ident::parse_any(input)?;
        f(&key, input)?;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// An identifier or a string, as Diesel's `column_name` and `primary_key` take them.
fn sql_identifier(input: ParseStream) -> syn::Result<Name> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Ok(Name {
            value: lit.value(),
            span: lit.span(),
        });
    }
    Ok(name_of(&Ident::parse_any(input)?))
}

/// The name of an identifier, without `r#`.
pub fn name_of(ident: &Ident) -> Name {
    Name {
        value: ident.unraw().to_string(),
        span: ident.span(),
    }
}

/// Skips an item's value: everything up to the next comma outside `<...>`.
pub fn skip_value(input: ParseStream) -> syn::Result<()> {
    let mut angle_depth = 0usize;
    while !input.is_empty() {
        if angle_depth == 0 && input.peek(Token![,]) {
            break;
        }
        match input.parse::<TokenTree>()? {
            TokenTree::Punct(p) if p.as_char() == '<' => angle_depth += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => {
                angle_depth = angle_depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    Ok(())
}
