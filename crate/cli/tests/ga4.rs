//! GA4's BigQuery export as a log: read as the page reads the same events from the dataLayer
//! (the parity cases that tests/browser/capture.test.mjs holds the page's capture to), GA4's
//! automatic events left out and counted, and the errors of an export that has nothing to train on.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use shopper_intent_cli::logs::{self, Format, OnError, ReadOptions, Skipped};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn options() -> ReadOptions {
    ReadOptions { format: None, window: (i64::MIN, i64::MAX), on_error: OnError::Skip, max_malformed: 0.5 }
}

#[test]
fn an_export_row_reads_as_the_page_reads_the_same_data_layer_push() {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(fixture("ga4-parity.json")).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let mut row = case["row"].clone();
        row["user_pseudo_id"] = json!("1.2");
        row["event_timestamp"] = json!("1700000000123456");
        let (user, event) = logs::parse_line(Format::Ga4, &row.to_string()).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(user, "1.2");
        assert_eq!(event.ts_ms, 1_700_000_000_123, "microseconds to whole milliseconds");
        let want = &case["event"];
        let got = json!({
            "type": event.kind.name(),
            "item": event.item,
            "category": event.category,
            "price": event.price,
            "quantity": event.quantity,
        });
        for field in ["type", "item", "category", "price", "quantity"] {
            match (got[field].as_f64(), want[field].as_f64()) {
                (Some(g), Some(w)) => assert_eq!(g, w, "{}: {field}", case["name"]),
                _ => assert_eq!(got[field], want[field], "{}: {field}", case["name"]),
            }
        }
    }
}

#[test]
fn an_export_is_read_as_the_widget_would_have_seen_it() {
    let text = std::fs::read_to_string(fixture("ga4-export.jsonl")).unwrap();
    let log = logs::read(text.as_bytes(), options()).unwrap();
    assert_eq!(log.format, Format::Ga4);
    assert_eq!(log.lines, 22);
    // The browser is the user (user_pseudo_id), also where a row has a signed-in user_id.
    let users: Vec<&str> = log.users.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(users, ["1234567890.1700000000", "987654321.1700000100"]);
    // Left out and counted: GA4's automatic events, GTM's and the widget's own pushes (the page
    // never reads them), a repeated row, a cookieless ping.
    let unseen: Vec<(&str, usize)> = log.not_on_page.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        unseen,
        [
            ("first_visit", 1),
            ("gtm.click", 1),
            ("page_view", 1),
            ("scroll", 1),
            ("session_start", 3),
            ("shopper_intent_segment", 1),
            ("user_engagement", 1)
        ]
    );
    let lines_of = |what: Skipped| log.skipped.iter().filter(|(_, s)| *s == what).map(|(l, _)| *l).collect::<Vec<_>>();
    assert_eq!(lines_of(Skipped::NotOnPage), [1, 2, 3, 5, 10, 12, 14, 17, 18]);
    assert_eq!((lines_of(Skipped::Duplicate), log.duplicates), (vec![19], 1));
    assert_eq!((lines_of(Skipped::NoBrowserId), log.no_browser_id), (vec![20], 1));
    assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [15]);
    assert!(log.bad[0].error.contains("event_timestamp"), "{}", log.bad[0].error);
    assert_eq!(log.events, 10);
    // No session ids: GA4's are kept alive by events the widget never sees; the widget's own
    // 30-minute rule decides, as on the page.
    assert_eq!(log.with_session, 0);
    let a = &log.users[0].events;
    let types: Vec<&str> = a.iter().map(|(_, e)| e.kind.name()).collect();
    assert_eq!(types, ["view_item", "size_guide_open", "add_to_cart", "begin_checkout", "purchase", "view_item"]);
    assert_eq!(a[0].1.ts_ms, 1_700_000_005_000);
    assert_eq!((a[2].1.item.as_deref(), a[2].1.quantity), (Some("SKU_1"), Some(3)));
    // Two events of one millisecond keep their microsecond order, whatever the file's; GA4's
    // "(not set)" is no value.
    let b = &log.users[1].events;
    let (cart, buy) = (&b[b.len() - 2], &b[b.len() - 1]);
    assert_eq!((cart.0, cart.1.kind.name(), buy.0, buy.1.kind.name()), (22, "add_to_cart", 21, "purchase"));
    assert_eq!(cart.1.ts_ms, buy.1.ts_ms);
    assert_eq!((cart.1.item.as_deref(), cart.1.category.as_deref()), (Some("Hat"), None));
}

#[test]
fn score_writes_a_line_for_each_row_and_names_what_it_left_out() {
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["score", "--input"])
        .arg(fixture("ga4-export.jsonl"))
        .arg("--model")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/intent.json"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("9 GA4 events the widget never sees left out (session_start 3, first_visit 1, gtm.click 1"), "{stderr}");
    assert!(stderr.contains("1 GA4 row(s) repeat an earlier one"), "{stderr}");
    assert!(stderr.contains("1 GA4 row(s) have no user_pseudo_id"), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&run.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 22);
    let code = |line: usize| lines[line - 1]["code"].as_str().unwrap_or("").to_string();
    assert_eq!(
        (code(1), code(15), code(19), code(20)),
        ("NOT_ON_PAGE".into(), "INVALID_EVENT".into(), "DUPLICATE_EVENT".into(), "NO_BROWSER_ID".into())
    );
    assert_eq!(lines[3]["type"], "view_item");
    assert!(lines[3]["score"].is_number());
}

#[test]
fn an_export_of_automatic_events_alone_says_what_it_lacks() {
    let rows: String = ["session_start", "page_view", "user_engagement"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{}\n",
                json!({"event_name": name, "event_timestamp": (1_700_000_000_000_000i64 + i as i64).to_string(), "user_pseudo_id": "1.2"})
            )
        })
        .collect();
    let e = logs::read(rows.as_bytes(), options()).unwrap_err().to_string();
    assert!(e.contains("GA4 events the widget never sees (page_view 1, session_start 1, user_engagement 1)"), "{e}");
    assert!(e.contains("dataLayer"), "{e}");
    // A row with a time that is not whole microseconds, or a name that is not text, is malformed.
    for row in [
        json!({"event_name": "view_item", "event_timestamp": 1.7e15, "user_pseudo_id": "1.2"}),
        json!({"event_name": "view_item", "event_timestamp": "1700000000000000", "user_pseudo_id": ["1.2"]}),
        json!({"event_name": 5, "event_timestamp": "1700000000000000", "user_pseudo_id": "1.2"}),
    ] {
        assert!(logs::parse_line(Format::Ga4, &row.to_string()).is_err(), "{row}");
    }
    // A generic JSONL event is not taken for a GA4 row.
    let jsonl = r#"{"user": "u", "ts": 1700000000000, "type": "view_item"}"#;
    assert_eq!(logs::sniff(jsonl.as_bytes()).unwrap(), Format::Jsonl);
    // Exports in the wrong shape say what to do.
    for (text, hint) in [
        (&b"\x1f\x8b\x08\x00rest of a gzip file"[..], "gunzip"),
        (&br#"[{"event_name": "view_item", "event_timestamp": "1700000000000000"}]"#[..], "jq -c '.[]'"),
        (&b"{\n  \"event_name\": \"view_item\",\n  \"user_pseudo_id\": \"1.2\"\n}\n"[..], "pretty-printed"),
    ] {
        let e = logs::read(text, options()).unwrap_err().to_string();
        assert!(e.contains(hint), "{e}");
    }
}

#[test]
fn the_same_events_as_a_ga4_export_and_as_generic_jsonl_featurize_alike() {
    // The fixture's events that the JSONL reader takes (its malformed lines would be read another
    // way from a GA4 row: a negative price, say, is dropped there, as the page drops it).
    let text = std::fs::read_to_string(fixture("small.jsonl")).unwrap();
    let good: Vec<&str> = text.lines().filter(|l| logs::parse_line(Format::Jsonl, l).is_ok()).collect();
    assert!(good.len() >= 10);
    let mut rows = String::new();
    for line in &good {
        let e: Value = serde_json::from_str(line).unwrap();
        let mut item = serde_json::Map::new();
        for (from, to) in [("item", "item_id"), ("category", "item_category"), ("price", "price"), ("quantity", "quantity")] {
            if let Some(v) = e.get(from) {
                item.insert(to.into(), v.clone());
            }
        }
        let row = json!({
            "event_name": e["type"],
            "event_timestamp": (e["ts"].as_i64().unwrap() * 1000).to_string(),
            "user_pseudo_id": e["user"],
            "items": if item.is_empty() { json!([]) } else { json!([item]) },
        });
        rows.push_str(&format!("{row}\n"));
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ga4-featurize");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.jsonl");
    std::fs::write(&export, rows).unwrap();
    let jsonl = dir.join("events.jsonl");
    std::fs::write(&jsonl, good.join("\n")).unwrap();
    let featurize = |input: &Path, out: &str| {
        let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
            .args(["featurize", "--seed", "3", "--window", "4", "--utc-offset-min", "60", "--allow-small", "--input"])
            .arg(input)
            .arg("--out")
            .arg(dir.join(out))
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        dir.join(out)
    };
    let (a, b) = (featurize(&jsonl, "jsonl"), featurize(&export, "ga4"));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(b.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["format"], "ga4");
    // The same sessions, but not for the same reason: GA4's rows have session ids the reader leaves out.
    let sessions_from = summary["sessions_from"].as_str().unwrap();
    assert!(sessions_from.starts_with("30-minute gaps (GA4's ga_session_id is not used: the widget on the page"), "{sessions_from}");
    let jsonl_summary: Value = serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(jsonl_summary["sessions_from"], "30-minute gaps (the log has no session ids)");
    let mut compared = 0;
    for split in ["train", "val", "test"] {
        for file in ["seq.npy", "prefix.npy", "agg.npy", "label.npy", "session.npy", "user.npy"] {
            let (x, y) = (a.join(split).join(file), b.join(split).join(file));
            if x.exists() {
                assert_eq!(std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap(), "{split}/{file}");
                compared += 1;
            }
        }
    }
    assert!(compared >= 6, "{compared} files compared");
}

#[test]
fn repeats_are_the_same_event_twice_and_nothing_else() {
    let row = |name: &str, micros: i64, item: &str, batch: Value| {
        let mut r = json!({"event_name": name, "event_timestamp": micros.to_string(), "user_pseudo_id": "1.2",
            "items": [{"item_id": item}], "event_params": [{"key": "page_location", "value": {"string_value": "/p"}}]});
        if let Value::Object(b) = batch {
            r.as_object_mut().unwrap().extend(b);
        }
        format!("{r}\n")
    };
    let t = 1_700_000_000_000_500i64;
    let text = [
        row("add_to_cart", t, "A", json!({})),
        // Another item at the same microsecond: another event.
        row("add_to_cart", t, "B", json!({})),
        // The first again: a repeat.
        row("add_to_cart", t, "A", json!({})),
        // Batch ids as numbers, then as text (the daily and the intraday table): one event.
        row("view_item", t + 7, "C", json!({"batch_page_id": 3, "batch_ordering_id": 1, "batch_event_index": 2})),
        row("view_item", t + 7, "C", json!({"batch_page_id": "3", "batch_ordering_id": "1", "batch_event_index": "2"})),
        // Same microsecond, other batch index: two events, in batch order whatever the file's.
        row("view_item", t + 9, "E", json!({"batch_event_index": 5})),
        row("view_item", t + 9, "D", json!({"batch_event_index": 4})),
        // An empty browser id is none.
        format!("{}\n", json!({"event_name": "view_item", "event_timestamp": t.to_string(), "user_pseudo_id": ""})),
    ]
    .concat();
    let log = logs::read(text.as_bytes(), options()).unwrap();
    let skipped = |what: Skipped| log.skipped.iter().filter(|(_, s)| *s == what).map(|(l, _)| *l).collect::<Vec<_>>();
    assert_eq!(skipped(Skipped::Duplicate), [3, 5]);
    assert_eq!(skipped(Skipped::NoBrowserId), [8]);
    let items: Vec<&str> = log.users[0].events.iter().map(|(_, e)| e.item.as_deref().unwrap()).collect();
    assert_eq!(items, ["A", "B", "C", "D", "E"]);
    // A pretty-printed array is told apart too.
    let e = logs::read(&b"[\n  {\n    \"event_name\": \"view_item\"\n  }\n]\n"[..], options()).unwrap_err().to_string();
    assert!(e.contains("jq -c '.[]'"), "{e}");
}
