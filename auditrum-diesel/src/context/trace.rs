//! The current OpenTelemetry span, for the context (feature `opentelemetry`): every scope
//! entered while a span is current records its `trace_id` and `span_id` (beneath the
//! scope's own keys), so each event links to the trace that wrote it.

use super::AuditContext;

/// `trace_id` and `span_id` of OpenTelemetry's current span (`opentelemetry::Context::current()`),
/// as 32 and 16 lowercase hex digits; `None` without a valid span or without the feature.
#[cfg(feature = "opentelemetry")]
pub(crate) fn current_span() -> Option<AuditContext> {
    use opentelemetry::trace::TraceContextExt;
    let context = opentelemetry::Context::current();
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| {
        AuditContext::new()
            .trace_id(ids.trace_id().to_string())
            .span_id(ids.span_id().to_string())
    })
}

#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn current_span() -> Option<AuditContext> {
    None
}
