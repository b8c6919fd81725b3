//! Why a context cannot be sent.

/// A context that cannot be sent to the database. Raised before anything is sent: the
/// transaction does not start and nothing is written.
///
/// Through Diesel's API it arrives as
/// [`diesel::result::Error::QueryBuilderError`] wrapping this type; recover it with
/// [`ContextError::from_diesel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A key or a string value contains a NUL character, which PostgreSQL can store neither
    /// in a setting nor in `jsonb`.
    #[error(
        "audit context key {key:?} contains a NUL character (\\0), which PostgreSQL cannot \
         store: remove it from the value (nothing was written)"
    )]
    Nul {
        /// The offending key (`change_reason` for a reason).
        key: String,
    },
    /// A write outside a transaction through a row-by-row load
    /// ([`PgRowByRowLoadingMode`](diesel::pg::PgRowByRowLoadingMode)) cannot be wrapped in a
    /// transaction, since the rows stream after the call returns.
    #[error(
        "a write loaded row by row outside a transaction cannot carry the audit context: \
         run it inside `transaction(...)` or load it with the default loading mode"
    )]
    RowByRowOutsideTransaction,
}

impl ContextError {
    /// The `ContextError` inside a Diesel error, if that is what it is.
    ///
    /// ```
    /// use auditrum_diesel::context::ContextError;
    ///
    /// let error: diesel::result::Error = ContextError::Nul { key: "user_id".into() }.into();
    /// assert!(matches!(ContextError::from_diesel(&error), Some(ContextError::Nul { .. })));
    /// ```
    pub fn from_diesel(error: &diesel::result::Error) -> Option<&ContextError> {
        match error {
            diesel::result::Error::QueryBuilderError(inner) => inner.downcast_ref(),
            _ => None,
        }
    }
}

impl From<ContextError> for diesel::result::Error {
    fn from(error: ContextError) -> Self {
        diesel::result::Error::QueryBuilderError(Box::new(error))
    }
}
