//! The pages over HTTP: what they show, escaping, filters as bound values, links under the
//! app's mount path.

use auditrum_diesel::Operation;

use super::*;

/// The ids of the events a list page shows, in order.
fn listed_ids(html: &str) -> Vec<i64> {
    html.split("<tr class=\"event\" data-id=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async the_list_filters_by_each_field_with_bound_values);
async fn the_list_filters_by_each_field_with_bound_values(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;

    let all = server.get("").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let ids = listed_ids(&all.body);
    assert_eq!(
        ids.len(),
        6,
        "2 inserts, 2 updates of user 1, the order, user 2's update"
    );
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let checkout = server.get("?request=req-checkout").await;
    let order = fixture.event_id("orders", "10", Operation::Insert);
    let bob = fixture.event_id("users", "2", Operation::Update);
    assert_eq!(listed_ids(&checkout.body), vec![bob, order]);

    let by_user = listed_ids(&server.get("?user=support-7").await.body);
    assert_eq!(by_user.len(), 1);
    let updates = listed_ids(&server.get("?table=users&operation=UPDATE").await.body);
    assert_eq!(updates.len(), 3);
    let user1 = listed_ids(&server.get("?table=public.users&key=1").await.body);
    assert_eq!(user1.len(), 3, "insert, email, name of user 1");
    let key_only = listed_ids(&server.get("?key=10").await.body);
    assert_eq!(key_only, vec![order]);
    let future = listed_ids(&server.get("?from=2100-01-01T00%3A00").await.body);
    assert!(future.is_empty());
    let past = listed_ids(
        &server
            .get("?to=2100-01-01&from=2000-01-01T00%3A00%3A00Z")
            .await
            .body,
    );
    assert_eq!(past.len(), 6);

    // A value that would change the query if it were spliced into SQL finds nothing.
    for hostile in ["%27%20OR%20%271%27%3D%271", "req-checkout%27%20--"] {
        let reply = server.get(&format!("?request={hostile}")).await;
        assert_eq!(reply.status, 200);
        assert!(listed_ids(&reply.body).is_empty(), "{hostile}");
        assert!(reply.body.contains("No events."));
    }
    let reply = server.get("?operation=DROP").await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("unknown operation"), "{}", reply.body);
    let reply = server.get("?from=yesterday").await;
    assert_eq!(reply.status, 400);
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async links_stay_under_the_apps_mount_path);
async fn links_stay_under_the_apps_mount_path(config: AuditConfig) {
    let fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;
    let list = server.get("").await.body;
    assert!(
        list.contains(&format!("href=\"{MOUNT}/record?table=users&amp;key=1\"")),
        "{list}"
    );
    assert!(list.contains(&format!("href=\"{MOUNT}/request?id=req-checkout\"")));
    assert!(list.contains(&format!("href=\"{MOUNT}/status\"")));
    assert!(list.contains(&format!("action=\"{MOUNT}\"")));
    // The record page links back to the list: the mount path itself.
    let record = server.get("/record?table=users&key=1").await.body;
    assert!(
        record.contains(&format!("href=\"{MOUNT}?table=users&amp;key=1\"")),
        "{record}"
    );
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_script_in_a_value_is_escaped_on_every_page);
async fn a_script_in_a_value_is_escaped_on_every_page(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;
    let rename = fixture.event_id("users", "1", Operation::Update);
    let txid: i64 = fixture.event(rename).txid;
    for path in [
        "/record?table=users&key=1".to_owned(),
        format!("/transaction?txid={txid}"),
        "/request?id=req-rename".to_owned(),
    ] {
        let reply = server.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("<script>"),
            "{path} holds a raw <script>"
        );
        assert!(!reply.body.contains("<b>bold"), "{path} holds raw markup");
        assert!(
            reply.body.contains("&lt;script&gt;document.title="),
            "{path} shows the value escaped"
        );
    }
    // In a filter value and an error message too.
    let reply = server.get("?user=%3Cscript%3Ex%3C%2Fscript%3E").await;
    assert!(!reply.body.contains("<script>x"));
    assert!(reply
        .body
        .contains("value=\"&lt;script&gt;x&lt;/script&gt;\""));
    let reply = server.get("?operation=%3Cscript%3Ex").await;
    assert_eq!(reply.status, 400);
    assert!(!reply.body.contains("<script>x"), "{}", reply.body);
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async the_record_page_shows_diffs_blame_and_the_row_as_of_an_instant);
async fn the_record_page_shows_diffs_blame_and_the_row_as_of_an_instant(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;
    // The email change, just before the rename (the newest UPDATE of user 1).
    let support = fixture.event_id("users", "1", Operation::Update) - 1;
    let page = server.get("/record?table=users&key=1").await.body;

    // The timeline: the email change, old struck through, new highlighted.
    let card = page
        .split(&format!("id=\"event-{support}\""))
        .nth(1)
        .expect("the support event's card")
        .split("class=\"card event\"")
        .next()
        .unwrap();
    assert!(card.contains("support-7"));
    assert!(card.contains("ticket #42: typo in email"));
    assert!(
        card.contains("<span class=\"old\">&quot;alice@example.com&quot;</span>"),
        "{card}"
    );
    assert!(card.contains("<span class=\"new\">&quot;alice@example.org&quot;</span>"));

    // Blame: email was last set by the support event, id by the insert.
    let blame = page
        .split("id=\"blame\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let row = |field: &str| {
        blame
            .split(&format!("data-field=\"{field}\""))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
            .to_owned()
    };
    assert!(
        row("email").contains(&format!("#{support} UPDATE")),
        "{}",
        row("email")
    );
    assert!(row("email").contains("support-7"));
    assert!(row("id").contains("INSERT"));
    assert!(row("id").contains("alice"));

    // As of an instant before the support change: the old email.
    let at: chrono::DateTime<chrono::Utc> = fixture.event(support).changed_at;
    let before = (at - chrono::Duration::microseconds(1)).to_rfc3339();
    let page = server
        .get(&format!(
            "/record?table=users&key=1&at={}",
            before.replace('+', "%2B")
        ))
        .await
        .body;
    let as_of = page
        .split("id=\"as-of\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert!(as_of.contains("&quot;alice@example.com&quot;"), "{as_of}");
    let page = server
        .get("/record?table=users&key=1&at=2000-01-01")
        .await
        .body;
    assert!(page.contains("did not exist at 2000-01-01 00:00:00.000 UTC"));

    assert_eq!(server.get("/record?table=users&key=404").await.status, 404);
    assert_eq!(server.get("/record?table=users").await.status, 400);
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async transaction_request_and_status_pages);
async fn transaction_request_and_status_pages(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;
    let order = fixture.event_id("orders", "10", Operation::Insert);
    let bob = fixture.event_id("users", "2", Operation::Update);

    let request = server.get("/request?id=req-checkout").await;
    assert_eq!(request.status, 200);
    assert!(
        request.body.contains("2 event(s) in 1 transaction(s)"),
        "{}",
        request.body
    );
    assert!(request.body.contains(&format!("id=\"event-{order}\"")));
    assert!(request.body.contains(&format!("id=\"event-{bob}\"")));
    assert!(request.body.contains("&quot;Robert&quot;"));

    let txid: i64 = fixture.event(order).txid;
    let tx = server.get(&format!("/transaction?txid={txid}")).await;
    assert_eq!(tx.status, 200);
    assert!(
        tx.body.contains("<dt>user_id</dt><dd>bob</dd>"),
        "{}",
        tx.body
    );
    assert!(tx
        .body
        .contains(&format!("{MOUNT}/record?table=orders&amp;key=10")));
    assert_eq!(server.get("/transaction?txid=1").await.status, 404);
    assert_eq!(server.get("/transaction?txid=x").await.status, 400);

    let status = server.get("/status").await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert!(status
        .body
        .contains(&format!("{}_default", fixture.config.table())));
    assert!(status
        .body
        .contains("Rows in DEFAULT: <strong id=\"default-rows\">0</strong>"));
    assert!(status.body.contains("No problems."), "{}", status.body);
    assert!(status.body.contains("Not enabled"), "no hash chain");
}

// The DDL guard's events (issue 15) are listed and filtered like any event, with their
// command.
on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async ddl_events_are_listed_with_their_command);
async fn ddl_events_are_listed_with_their_command(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    exec(
        &mut fixture.reader,
        &format!(
            r#"INSERT INTO {} (operation, table_schema, table_name, new_data, txid)
           VALUES ('DDL', 'public', 'users', '{{"command_tag": "ALTER TABLE", "object_identity": "public.users", "statement": "ALTER TABLE users ADD COLUMN nickname text"}}', txid_current())"#,
            config.qualified_table()
        ),
    );
    let server = fixture.serve(|v| v).await;
    let ddl = server.get("?operation=DDL").await;
    assert_eq!(ddl.status, 200, "{}", ddl.body);
    assert_eq!(listed_ids(&ddl.body).len(), 1, "{}", ddl.body);
    assert!(ddl.body.contains("op-DDL"), "{}", ddl.body);
    assert!(ddl.body.contains("ALTER TABLE"), "{}", ddl.body);
}

/// The `href` of the element with `id`, unescaped and without the mount path.
fn link_of(page: &str, id: &str) -> String {
    let href = page
        .split(&format!("id=\"{id}\" href=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id} link"))
        .split('"')
        .next()
        .unwrap();
    href.replace("&amp;", "&")
        .strip_prefix(MOUNT)
        .unwrap()
        .to_owned()
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_long_record_history_is_shown_a_page_at_a_time);
async fn a_long_record_history_is_shown_a_page_at_a_time(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    let mut conn = AuditedConnection::establish(fixture.db.url()).unwrap();
    // 450 events of item 7: its INSERT and 449 UPDATEs, each its own statement.
    write(
        &mut conn,
        AuditContext::new().user_id("bulk"),
        &[
            "INSERT INTO items VALUES (7, 'v0')",
            "DO $$ BEGIN FOR i IN 1..449 LOOP UPDATE items SET label = 'v' || i WHERE id = 7; END LOOP; END $$",
        ],
    );
    let server = fixture.serve(|v| v).await;
    let cards = |page: &str| page.matches("class=\"card event\"").count();
    let insert = fixture.event_id("items", "7", Operation::Insert);

    let newest = server.get("/record?table=items&key=7").await.body;
    assert_eq!(cards(&newest), 200, "one page of the history");
    assert!(newest.contains("Events 251–450 of 450."), "{newest}");
    assert!(
        newest.contains("&quot;v449&quot;"),
        "the newest event is shown"
    );
    assert!(!newest.contains(&format!("id=\"event-{insert}\"")));
    // Blame still folds the whole history: `id` was set by the INSERT, on the first page.
    assert!(newest.contains(&format!("#event-{insert}\">#{insert} INSERT")));

    let middle = server.get(&link_of(&newest, "older")).await.body;
    assert_eq!(cards(&middle), 200);
    assert!(middle.contains("Events 51–250 of 450."), "{middle}");
    let oldest = server.get(&link_of(&middle, "older")).await.body;
    assert_eq!(cards(&oldest), 50);
    assert!(oldest.contains(&format!("id=\"event-{insert}\"")));
    assert!(!oldest.contains("id=\"older\""), "no page before the first");
    assert_eq!(link_of(&oldest, "newest"), "/record?table=items&key=7");

    assert_eq!(
        server
            .get("/record?table=items&key=7&before=x")
            .await
            .status,
        400
    );
}
