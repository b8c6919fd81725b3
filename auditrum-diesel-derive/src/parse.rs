//! Parse: the derive input, Diesel's attributes and ours, as one [`Model`].

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident};

use crate::attr::{self, FieldOptions, StructOptions};
use crate::ctxt::Ctxt;
use crate::diesel::{self, DieselStruct, Name};

/// Everything the derive reads from the input.
pub struct Model<'a> {
    /// The input as given.
    pub input: &'a DeriveInput,
    /// Diesel's struct attributes.
    pub diesel: DieselStruct,
    /// Our struct options.
    pub options: StructOptions,
    /// The fields, `None` when the input is not a struct.
    pub fields: Option<Vec<Field>>,
}

/// One field of the model.
pub struct Field {
    /// The name `track_only` / `exclude` / `meta` use: the field's Rust name, or for a tuple
    /// struct's field its Diesel column name.
    pub name: Option<Name>,
    /// Span of the whole field.
    pub span: Span,
    /// Diesel's field attributes.
    pub diesel: diesel::DieselField,
    /// Our field options.
    pub options: FieldOptions,
}

impl Field {
    /// The SQL column: `#[audited(column)]`, else Diesel's `column_name`, else the field name.
    pub fn column(&self) -> Option<Name> {
        if let Some(column) = &self.options.column {
            return Some(Name {
                value: column.value(),
                span: column.span(),
            });
        }
        self.diesel
            .column_name
            .clone()
            .or_else(|| self.name.clone())
    }
}

/// Reads the input; problems of our own attributes are recorded in `cx`.
pub fn model<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Model<'a> {
    let diesel = diesel::read_struct(&input.attrs);
    let options = attr::struct_options(cx, &input.attrs);
    let fields = match &input.data {
        Data::Struct(data) => Some(fields(cx, &data.fields)),
        Data::Enum(data) => {
            not_a_struct(cx, data.enum_token.span, &input.ident, "an enum");
            None
        }
        Data::Union(data) => {
            not_a_struct(cx, data.union_token.span, &input.ident, "a union");
            None
        }
    };
    Model {
        input,
        diesel,
        options,
        fields,
    }
}

fn fields(cx: &mut Ctxt, fields: &Fields) -> Vec<Field> {
    fields
        .iter()
        .map(|field| {
            let diesel = diesel::read_field(&field.attrs);
            let options = attr::field_options(cx, &field.attrs);
            let name = match &field.ident {
                Some(ident) => Some(diesel::name_of(ident)),
                None => diesel.column_name.clone(),
            };
            Field {
                name,
                span: field.span(),
                diesel,
                options,
            }
        })
        .collect()
}

fn not_a_struct(cx: &mut Ctxt, span: Span, ident: &Ident, what: &str) {
    cx.error(
        span,
        format!(
            "`#[derive(Audited)]` goes on a struct that is a Diesel model; `{ident}` is {what}"
        ),
    );
}
