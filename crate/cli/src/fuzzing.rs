//! Harnesses shared by the fuzz targets (`crate/fuzz`) and the regression tests that replay
//! their corpora: the log readers and one JSONL line through to the engine.

use shopper_intent::testing::fuzz as core;

use crate::logs::{self, Format, OnError, ReadOptions};

fn read(data: &[u8], format: Option<Format>) {
    let options = ReadOptions { format, window: (i64::MIN, i64::MAX), on_error: OnError::Skip, max_malformed: 1.0 };
    if let Ok(log) = logs::read(data, options) {
        let events: usize = log.users.iter().map(|u| u.events.len()).sum();
        assert_eq!(events, log.events);
        for u in &log.users {
            assert!(u.events.windows(2).all(|w| w[0].1.ts_ms <= w[1].1.ts_ms), "a user's events are in time order");
            assert!(u.events.iter().all(|(_, e)| e.validate().is_ok()));
        }
        assert!(log.bad.iter().all(|b| b.line >= 1 && b.line <= log.lines));
        // Every line is an event, a malformed line or a skipped one, exactly once (`score`
        // writes a line for each).
        let mut seen = vec![0u8; log.lines];
        let lines = log.users.iter().flat_map(|u| u.events.iter().map(|(l, _)| *l));
        for l in lines.chain(log.bad.iter().map(|b| b.line)).chain(log.skipped.iter().map(|(l, _)| *l)) {
            seen[l - 1] += 1;
        }
        assert!(seen.iter().all(|&n| n == 1), "every line accounted for once");
    }
}

/// Arbitrary bytes as a JSONL log.
pub fn jsonl(data: &[u8]) {
    read(data, Some(Format::Jsonl));
}

/// Arbitrary bytes as GA4's BigQuery export (JSONL rows).
pub fn ga4(data: &[u8]) {
    read(data, Some(Format::Ga4));
}

/// Arbitrary bytes as a Taobao CSV.
pub fn taobao(data: &[u8]) {
    read(data, Some(Format::Taobao));
}

/// Arbitrary bytes as a log of unknown format (sniffed from its first lines).
pub fn sniffed(data: &[u8]) {
    read(data, None);
}

thread_local! {
    static ENGINE: std::cell::RefCell<shopper_intent::Engine> = std::cell::RefCell::new(core::engine());
}

/// Arbitrary bytes as JSONL events (one per line), through the line reader and then into an
/// engine.
pub fn event_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    ENGINE.with(|cell| {
        let mut engine = cell.borrow_mut();
        engine.forget([0; 16]);
        for line in text.lines() {
            if let Ok((_, event)) = logs::parse_line(Format::Jsonl, line) {
                match engine.track(&event) {
                    Ok(u) => assert!((0.0..=1.0).contains(&u.score)),
                    Err(e) => assert_ne!(e.code(), "ENGINE_FAILED", "{e}"),
                }
            }
        }
    });
}
