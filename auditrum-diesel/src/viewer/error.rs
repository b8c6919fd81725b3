//! What a page can fail with, and the response each failure gets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::read::ReadError;

/// A page that could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ViewError {
    /// A parameter the page cannot use (400).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// No connection from the pool (503).
    #[error("no database connection: {0}")]
    Pool(String),
    /// The database refused a query (500).
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// Reading the log failed (500).
    #[error("{0}")]
    Read(#[from] ReadError),
    /// An operation of [`crate::ops`] failed (500).
    #[error("{0}")]
    Ops(#[from] crate::Error),
    /// A bug or a panic (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ViewError {
    fn status(&self) -> StatusCode {
        match self {
            ViewError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ViewError::NotFound(_) => StatusCode::NOT_FOUND,
            ViewError::Pool(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::SpecError> for ViewError {
    fn from(error: crate::SpecError) -> Self {
        ViewError::BadRequest(error.to_string())
    }
}

impl IntoResponse for ViewError {
    fn into_response(self) -> Response {
        let status = self.status();
        let page = html! {
            (maud::DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "auditrum: " (status) } }
                body {
                    h1 { (status) }
                    p #error { (self.to_string()) }
                }
            }
        };
        (status, axum::response::Html(page.into_string())).into_response()
    }
}
