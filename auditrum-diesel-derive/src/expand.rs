//! Expand: the `Audited` impl and the model's registration.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, GenericParam};

use crate::check::{self, Spec};
use crate::ctxt::Ctxt;
use crate::{fallback, parse};

/// The whole derive: parse, check, then expand; on errors, the errors and a stub impl.
pub fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::default();
    let model = parse::model(&mut cx, &input);
    let spec = check::check(&mut cx, &model);
    match (cx.finish(), spec) {
        (Ok(()), Some(spec)) => Ok(expand(&input, &spec)),
        (Err(errors), _) => Ok(fallback::expand(&input, errors)),
        (Ok(()), None) => unreachable!("a spec is missing only after an error"),
    }
}

fn expand(input: &DeriveInput, spec: &Spec) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // The registered type: lifetimes (the only parameters allowed) become 'static.
    let statics = input.generics.params.iter().map(|param| match param {
        GenericParam::Lifetime(_) => quote!('static),
        _ => unreachable!("check refuses type and const parameters"),
    });
    let registered = if input.generics.params.is_empty() {
        quote!(#ident)
    } else {
        quote!(#ident<#(#statics),*>)
    };
    let build = builder(spec);
    let origin = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::auditrum_diesel::Audited for #ident #ty_generics #where_clause {
            fn track_spec() -> ::auditrum_diesel::TrackSpec {
                #build
                    .build()
                    .expect("#[derive(Audited)] checked the spec's rules at compile time")
            }
        }

        ::auditrum_diesel::__private::inventory::submit! {
            ::auditrum_diesel::registry::Registration::__new(
                ::core::concat!(::core::module_path!(), "::", #origin),
                || ::core::result::Result::Ok(
                    <#registered as ::auditrum_diesel::Audited>::track_spec()
                ),
            )
        }
    }
}

/// `TrackSpec::builder(table)...`: only the options that are set.
fn builder(spec: &Spec) -> TokenStream {
    let table = &spec.table;
    let mut chain = quote! {
        ::auditrum_diesel::TrackSpec::builder(#table)
    };
    if let Some(schema) = &spec.schema {
        chain.extend(quote!(.schema(#schema)));
    }
    let key = &spec.key;
    let columns = &spec.columns;
    chain.extend(quote!(.key([#(#key),*]).columns([#(#columns),*])));
    for (method, names) in [
        (quote!(track_only), &spec.track_only),
        (quote!(exclude), &spec.exclude),
        (quote!(meta), &spec.meta),
        (quote!(mask), &spec.mask),
        (quote!(hash), &spec.hash),
    ] {
        if !names.is_empty() {
            chain.extend(quote!(.#method([#(#names),*])));
        }
    }
    if let Some(condition) = &spec.condition {
        chain.extend(quote!(.condition(#condition)));
    }
    if spec.full_storage {
        chain.extend(quote!(.storage(::auditrum_diesel::StorageMode::Full)));
    }
    chain
}
