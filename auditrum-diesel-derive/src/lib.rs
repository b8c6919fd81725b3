//! Derive macros for `auditrum-diesel`; use them through `auditrum_diesel::Audited`.
//!
//! The derive is built in three steps, each in its own module: `parse` reads the input
//! with Diesel's attributes and ours, `check` validates it (collecting every error, each
//! at the offending token), `expand` writes the `Audited` impl and the registration.
#![warn(missing_docs)]

mod attr;
mod check;
mod ctxt;
mod diesel;
mod expand;
mod fallback;
mod parse;
mod symbol;

use proc_macro::TokenStream;

/// Implements `auditrum_diesel::Audited` for a Diesel model and registers the model for
/// the migration generator. The options are documented on `auditrum_diesel::Audited` and
/// in `docs/derive-and-migrations.md`.
#[proc_macro_derive(Audited, attributes(audited, diesel))]
pub fn derive_audited(input: TokenStream) -> TokenStream {
    syn::parse2(input.into())
        .and_then(expand::derive)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

mod with_change_reason;

/// Runs a function with a change reason in the audit context:
/// `#[with_change_reason("user requested password reset")]`. Documented on
/// `auditrum_diesel::context::with_change_reason`.
#[proc_macro_attribute]
pub fn with_change_reason(attr: TokenStream, item: TokenStream) -> TokenStream {
    with_change_reason::expand(attr.into(), item.into()).into()
}
