//! The page shell: title, navigation and the style sheet (no JavaScript).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::base::Base;

const STYLE: &str = r#"
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg2: #f6f8fa; --accent: #0969da;
        --ins: #dafbe1; --ins-fg: #116329; --del: #ffebe9; --del-fg: #82071e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; }
header { background: #24292f; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: baseline; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 600; font-size: 16px; }
main { padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 8px 0 16px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; }
code, .mono, td.value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
td.value { white-space: pre-wrap; word-break: break-word; max-width: 520px; }
.muted { color: var(--muted); }
.op { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 11px; font-weight: 600; }
.op-INSERT { background: var(--ins); color: var(--ins-fg); }
.op-UPDATE { background: #ddf4ff; color: #0550ae; }
.op-DELETE { background: var(--del); color: var(--del-fg); }
.op-TRUNCATE { background: #fff8c5; color: #7d4e00; }
.old { background: var(--del); color: var(--del-fg); text-decoration: line-through; }
.new { background: var(--ins); color: var(--ins-fg); }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; background: var(--bg2);
               border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
form.filters input, form.filters select { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
.pager { display: flex; gap: 16px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; }
.card > .head { background: var(--bg2); padding: 6px 10px; border-bottom: 1px solid var(--line);
                display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; }
.card > table td, .card > table th { border-bottom-color: #eaeef2; }
.card > p { margin: 6px 10px; }
.problem { color: var(--del-fg); }
.ok { color: var(--ins-fg); }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 10px; }
dl.context dt { color: var(--muted); }
dl.context dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12.5px; word-break: break-word; }
"#;

/// A whole page around `content`.
pub(crate) fn page(base: &Base, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · auditrum" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.brand href=(base.link("/", &[])) { "auditrum" }
                    nav {
                        a href=(base.link("/", &[])) { "Events" }
                        " · "
                        a href=(base.link("/status", &[])) { "Status" }
                        " · "
                        a href=(base.link("/metrics", &[])) { "Metrics" }
                    }
                }
                main { (content) }
            }
        }
    }
}
