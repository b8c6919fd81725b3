//! `#[with_change_reason("…")]`: runs a function with a change reason in the audit context.
//!
//! A plain function gets a scope guard as its first statement, so `return`, `?` and
//! borrows behave exactly as written. An `async fn` runs its body inside
//! `with_change_reason_async`, because the guard is thread-local and must not live across
//! an `.await`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

const USAGE: &str =
    "expected one string literal: #[with_change_reason(\"why the change is made\")]";

/// Parses the attribute and the function, then expands; on a bad attribute the function is
/// emitted unchanged beside the error, so its callers see no follow-on errors.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item) {
        Ok(function) => function,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "#[with_change_reason] goes on a function or a method",
            )
            .into_compile_error();
        }
    };
    match parse_reason(attr) {
        Ok(reason) => wrap(function, &reason),
        Err(error) => {
            let error = error.into_compile_error();
            quote! { #error #function }
        }
    }
}

fn parse_reason(attr: TokenStream) -> syn::Result<LitStr> {
    if attr.is_empty() {
        return Err(syn::Error::new(proc_macro2::Span::call_site(), USAGE));
    }
    let span = attr.span();
    let reason: LitStr = syn::parse2(attr).map_err(|_| syn::Error::new(span, USAGE))?;
    if reason.value().trim().is_empty() {
        return Err(syn::Error::new(
            reason.span(),
            "the change reason is empty: say why the change is made",
        ));
    }
    Ok(reason)
}

fn wrap(mut function: ItemFn, reason: &LitStr) -> TokenStream {
    let block = &function.block;
    let body: syn::Block = if function.sig.asyncness.is_some() {
        syn::parse_quote! {{
            ::auditrum_diesel::context::with_change_reason_async(#reason, async move #block).await
        }}
    } else {
        syn::parse_quote! {{
            let __auditrum_change_reason = ::auditrum_diesel::context::enter_change_reason(#reason);
            #block
        }}
    };
    *function.block = body;
    quote! { #function }
}
