//! Derive macros for `auditrum-diesel`.
//!
//! The `#[derive(Audited)]` macro arrives with the derive issue; this crate exists now so the
//! workspace has its final shape and the runtime crate can re-export from it.
#![warn(missing_docs)]
