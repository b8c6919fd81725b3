//! Feature `opentelemetry`: a context scope entered in an OpenTelemetry span records the
//! span's trace and span ids, and the event's stored context holds them.

use auditrum_diesel::context::{with_context, AuditContext};
use auditrum_diesel::read::EventContext;
use auditrum_diesel::schema::{auditlog, auditlog_context};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::*;

fn context_of_item(reader: &mut PgConnection, id: i32) -> EventContext {
    auditlog::table
        .inner_join(auditlog_context::table)
        .filter(auditlog::table_name.eq("items"))
        .filter(auditlog::record_id.eq(id.to_string()))
        .select(auditlog_context::context)
        .first(reader)
        .unwrap()
}

#[test]
fn an_opentelemetry_span_s_trace_id_arrives_in_the_event_s_context() {
    let mut fixture = Fixture::new(&AuditConfig::default());
    let mut conn = AuditedConnection::establish(fixture.db.url()).unwrap();
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("auditrum-test");
    let insert = |conn: &mut AuditedConnection, id: i32| {
        conn.transaction(|conn| {
            diesel::sql_query(format!("INSERT INTO items VALUES ({id}, 'x')")).execute(conn)
        })
        .unwrap();
    };

    let (trace_id, span_id, child_span_id) = tracer.in_span("checkout", |cx| {
        let ids = cx.span().span_context().clone();
        with_context(AuditContext::new().user_id("alice"), || {
            insert(&mut conn, 1)
        });
        // A scope entered in a child span records the child; its trace stays the same.
        let child = tracer.in_span("charge", |cx| {
            with_context(AuditContext::new().user_id("alice"), || {
                insert(&mut conn, 2)
            });
            cx.span().span_context().span_id().to_string()
        });
        // An explicit trace id wins over the span's.
        with_context(AuditContext::new().trace_id("from-upstream"), || {
            insert(&mut conn, 3)
        });
        (ids.trace_id().to_string(), ids.span_id().to_string(), child)
    });
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32), "a real, sampled span");

    let first = context_of_item(&mut fixture.reader, 1);
    assert_eq!(first.trace_id.as_deref(), Some(trace_id.as_str()));
    assert_eq!(first.span_id.as_deref(), Some(span_id.as_str()));
    assert_eq!(first.user_id.as_deref(), Some("alice"));
    let second = context_of_item(&mut fixture.reader, 2);
    assert_eq!(second.trace_id.as_deref(), Some(trace_id.as_str()));
    assert_eq!(second.span_id.as_deref(), Some(child_span_id.as_str()));
    assert_ne!(child_span_id, span_id);
    let third = context_of_item(&mut fixture.reader, 3);
    assert_eq!(third.trace_id.as_deref(), Some("from-upstream"));

    // Outside any span: no trace id.
    with_context(AuditContext::new().user_id("bob"), || insert(&mut conn, 4));
    let fourth = context_of_item(&mut fixture.reader, 4);
    assert_eq!(fourth.trace_id, None);
    assert_eq!(fourth.span_id, None);
    provider.shutdown().unwrap();
}
