//! End to end in headless Chromium: what a person sees and clicks.

use std::path::PathBuf;

use auditrum_diesel::Operation;
use fantoccini::{Client, Locator};

use super::browser::Browser;
use super::*;

/// Saves a screenshot of the page under `target/viewer-screenshots/`, and under
/// `docs/images/` when `AUDITRUM_UPDATE_SCREENSHOTS=1` (to refresh the docs' pictures).
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("target/viewer-screenshots")];
    if std::env::var("AUDITRUM_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        dirs.push(root.join("docs/images"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), &png).unwrap();
    }
}

async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

/// Waits (up to 10 s) until the browser's URL contains `part`: a form submitted by script
/// navigates after `submit` returns.
async fn wait_for_url(client: &Client, part: &str) {
    for _ in 0..100 {
        let url = client.current_url().await.unwrap();
        if url.as_str().contains(part) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the browser never reached a URL with {part:?}");
}

async fn listed_ids(client: &Client) -> Vec<i64> {
    let mut ids = Vec::new();
    for row in client.find_all(Locator::Css("tr.event")).await.unwrap() {
        ids.push(row.attr("data-id").await.unwrap().unwrap().parse().unwrap());
    }
    ids
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async open_the_list_filter_by_request_open_a_record_see_its_diff_and_blame);
async fn open_the_list_filter_by_request_open_a_record_see_its_diff_and_blame(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    // The email change, just before the rename (the newest UPDATE of user 1).
    let support = fixture.event_id("users", "1", Operation::Update) - 1;
    let server = fixture.serve(|v| v).await;
    let (browser, _one) = Browser::start().await;
    let c = &browser.client;

    c.goto(&server.url("")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Events · auditrum");
    assert_eq!(listed_ids(c).await.len(), 6);
    screenshot(c, "viewer-events.png").await;

    // Filter by request id through the form.
    let form = c.form(Locator::Css("form.filters")).await.unwrap();
    form.set_by_name("request", "req-support-1").await.unwrap();
    form.submit().await.unwrap();
    wait_for_url(c, "request=req-support-1").await;
    assert_eq!(listed_ids(c).await, vec![support]);
    assert_eq!(
        texts(c, "tr.event td:nth-child(7)").await,
        vec!["support-7 (ticket #42: typo in email)"]
    );

    // Open the record.
    c.find(Locator::Css("tr.event a.record"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(c.title().await.unwrap(), "users 1 · auditrum");
    let card = format!("#event-{support}");
    let old = texts(c, &format!("{card} tr[data-field=email] .old")).await;
    let new = texts(c, &format!("{card} tr[data-field=email] .new")).await;
    assert_eq!(old, vec!["\"alice@example.com\""]);
    assert_eq!(new, vec!["\"alice@example.org\""]);
    let email_blame = texts(c, "#blame tr[data-field=email] td").await;
    assert_eq!(email_blame[1], "\"alice@example.org\"");
    assert_eq!(email_blame[2], format!("#{support} UPDATE"));
    assert_eq!(email_blame[4], "support-7 (ticket #42: typo in email)");
    let id_blame = texts(c, "#blame tr[data-field=id] td").await;
    let insert = fixture.event_id("users", "1", Operation::Insert);
    assert_eq!(id_blame[2], format!("#{insert} INSERT"));
    screenshot(c, "viewer-record.png").await;

    // The blame links to the event's card; the card links to its request.
    c.find(Locator::Css("#blame tr[data-field=email] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().as_str().ends_with(&card));
    c.find(Locator::Css(&format!("{card} .head a[href*=request]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(c.title().await.unwrap(), "Request req-support-1 · auditrum");

    c.goto(&server.url("/status")).await.unwrap();
    assert_eq!(texts(c, "#problems").await, vec!["No problems."]);
    screenshot(c, "viewer-status.png").await;
    browser.close().await;
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async page_through_500_events);
async fn page_through_500_events(config: AuditConfig) {
    let fixture = Fixture::new(&config).with_items();
    let server = fixture.serve(|v| v.page_size(50)).await;
    let (browser, _one) = Browser::start().await;
    let c = &browser.client;

    c.goto(&server.url("?table=items")).await.unwrap();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let ids = listed_ids(c).await;
        pages += 1;
        assert!(ids.len() <= 50);
        seen.extend(ids);
        match c.find(Locator::Id("older")).await {
            Ok(older) => older.click().await.unwrap(),
            Err(_) => break,
        }
        assert!(pages < 20, "the pages never end");
    }
    assert_eq!(pages, 10, "500 events, 50 a page");
    assert_eq!(seen.len(), 500);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no event twice"
    );
    // Every page kept the filter: only items.
    assert!(texts(c, "tr.event td:nth-child(4)")
        .await
        .iter()
        .all(|t| t == "items"));
    // And back to the newest.
    c.find(Locator::Id("newest"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(listed_ids(c).await[0], seen[0]);
    browser.close().await;
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async a_script_in_a_value_is_shown_as_text_and_not_run);
async fn a_script_in_a_value_is_shown_as_text_and_not_run(config: AuditConfig) {
    let fixture = Fixture::new(&config);
    let server = fixture.serve(|v| v).await;
    let (browser, _one) = Browser::start().await;
    let c = &browser.client;

    c.goto(&server.url("/record?table=users&key=1"))
        .await
        .unwrap();
    // The script would have set the title.
    assert_eq!(c.title().await.unwrap(), "users 1 · auditrum");
    let name = texts(c, "#blame tr[data-field=name] td.value").await;
    assert_eq!(name, vec![serde_json::Value::from(SCRIPT_NAME).to_string()]);
    assert!(c
        .find_all(Locator::Css("main script"))
        .await
        .unwrap()
        .is_empty());
    assert!(c.find_all(Locator::Css("main b")).await.unwrap().is_empty());
    let pwned: serde_json::Value = c.execute("return document.title", vec![]).await.unwrap();
    assert_eq!(pwned, "users 1 · auditrum");
    browser.close().await;
}
