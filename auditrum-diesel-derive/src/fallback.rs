//! On errors: the errors, and a stub impl so that code using `User::track_spec()` reports
//! nothing more than the attribute problems themselves.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// The compile errors followed by an `Audited` impl that is never run (the crate does not
/// compile) and registers nothing.
pub fn expand(input: &DeriveInput, errors: syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = errors.into_compile_error();
    quote! {
        #errors

        #[automatically_derived]
        impl #impl_generics ::auditrum_diesel::Audited for #ident #ty_generics #where_clause {
            fn track_spec() -> ::auditrum_diesel::TrackSpec {
                ::core::unreachable!("#[derive(Audited)] reported errors")
            }
        }
    }
}
