//! Reading event logs: the Taobao UserBehavior CSV and the generic JSONL format.
//!
//! Generic JSONL, one event per line:
//! `{"user": "u1", "ts": 1700000000000, "type": "view_item", "item": "sku-1", "category": "shoes", "price": 59.0, "quantity": 1}`
//! with `ts` in milliseconds since the epoch, `type` a GA4 ecommerce name or any mapped Shopify,
//! Segment or Taobao name, `user`, `item` and `category` strings or numbers; `item`, `category`,
//! `price` and `quantity` optional.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use shopper_intent::mapping::{kind_from, kind_from_any, Vocabulary};
use shopper_intent::{Error, Event};

/// The start of the Taobao log's stated window: 2017-11-25T00:00:00+08:00.
pub const TAOBAO_START_MS: i64 = 1_511_539_200_000;
/// The end (exclusive) of the Taobao log's stated window: 2017-12-04T00:00:00+08:00.
pub const TAOBAO_END_MS: i64 = 1_512_316_800_000;

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `user_id,item_id,category_id,behavior_type,timestamp_seconds` without a header.
    Taobao,
    /// The generic JSONL format.
    Jsonl,
}

impl Format {
    /// The format a path's extension suggests.
    pub fn guess(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "json" | "ndjson") => Format::Jsonl,
            _ => Format::Taobao,
        }
    }
}

/// What to do with a malformed line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnError {
    /// Report it (with its line number) and go on.
    Skip,
    /// Stop at the first one.
    Reject,
}

/// A malformed line.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub error: String,
}

/// One user's events in log order, each with its line number.
#[derive(Clone, Debug, Default)]
pub struct UserLog {
    /// The user id as in the log.
    pub user: String,
    /// Events and their line numbers.
    pub events: Vec<(usize, Event)>,
}

/// A parsed log.
#[derive(Debug, Default)]
pub struct Log {
    /// Users in order of first appearance.
    pub users: Vec<UserLog>,
    /// Lines read.
    pub lines: usize,
    /// Events kept.
    pub events: usize,
    /// Events dropped for being outside the stated time window.
    pub outside_window: usize,
    /// Malformed lines (with `OnError::Skip`).
    pub bad: Vec<BadLine>,
}

fn id_of(v: &Value, field: &str) -> Result<Option<String>, String> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("{field} must be a string or a number, found {other}")),
    }
}

fn number_of(v: &Value, field: &str) -> Result<Option<f64>, String> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| format!("{field} is not a number")),
        Some(other) => Err(format!("{field} must be a number, found {other}")),
    }
}

fn parse_jsonl(line: &str) -> Result<(String, Event), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let user = id_of(&v, "user")?.ok_or("missing user")?;
    let ts = v.get("ts").and_then(Value::as_i64).ok_or("ts must be an integer number of milliseconds")?;
    let name = v.get("type").and_then(Value::as_str).ok_or("missing type")?;
    let kind = kind_from_any(name).ok_or_else(|| Error::UnknownKind { name: name.into() }.to_string())?;
    let mut e = Event::new(kind, ts);
    e.item = id_of(&v, "item")?;
    e.category = id_of(&v, "category")?;
    e.price = number_of(&v, "price")?;
    e.quantity = match number_of(&v, "quantity")? {
        None => None,
        Some(q) if q >= 0.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX) => Some(q as u32),
        Some(q) => return Err(format!("quantity must be a whole number, found {q}")),
    };
    e.validate().map_err(|e| e.to_string())?;
    Ok((user, e))
}

fn parse_taobao(line: &str) -> Result<(String, Event), String> {
    let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if f.len() != 5 {
        return Err(format!("expected 5 comma-separated fields, found {}", f.len()));
    }
    let kind = kind_from(Vocabulary::Taobao, f[3]).ok_or_else(|| format!("unknown behavior_type {:?}", f[3]))?;
    let secs: i64 = f[4].parse().map_err(|_| format!("timestamp {:?} is not an integer", f[4]))?;
    if f[0].is_empty() {
        return Err("empty user_id".into());
    }
    let e = Event::new(kind, secs.saturating_mul(1000)).with_item(f[1], f[2]);
    e.validate().map_err(|e| e.to_string())?;
    Ok((f[0].to_string(), e))
}

/// Reads a log, keeping events with `start_ms <= ts < end_ms`. Each user's events are sorted by
/// time (stably, so equal times keep log order).
pub fn read(
    reader: impl BufRead,
    format: Format,
    window: (i64, i64),
    on_error: OnError,
) -> Result<Log> {
    let mut log = Log::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (n, line) in reader.lines().enumerate() {
        let line_no = n + 1;
        let line = line.with_context(|| format!("reading line {line_no}"))?;
        log.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match format {
            Format::Taobao => parse_taobao(&line),
            Format::Jsonl => parse_jsonl(&line),
        };
        let (user, event) = match parsed {
            Ok(x) => x,
            Err(error) => {
                if on_error == OnError::Reject {
                    bail!("line {line_no}: {error}");
                }
                log.bad.push(BadLine { line: line_no, error });
                continue;
            }
        };
        if event.ts_ms < window.0 || event.ts_ms >= window.1 {
            log.outside_window += 1;
            continue;
        }
        let at = *index.entry(user.clone()).or_insert_with(|| {
            log.users.push(UserLog { user, events: Vec::new() });
            log.users.len() - 1
        });
        log.users[at].events.push((line_no, event));
        log.events += 1;
    }
    for u in &mut log.users {
        u.events.sort_by_key(|(_, e)| e.ts_ms);
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taobao_lines() {
        let text = "1,10,100,pv,1511600000\n1,11,100,cart,1511600010\nbad line\n2,10,100,teleport,1511600000\n3,10,100,buy,1400000000\n\n";
        let log = read(text.as_bytes(), Format::Taobao, (TAOBAO_START_MS, TAOBAO_END_MS), OnError::Skip).unwrap();
        assert_eq!(log.events, 2);
        assert_eq!(log.outside_window, 1);
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4]);
        assert!(log.bad[1].error.contains("teleport"));
        let err = read(text.as_bytes(), Format::Taobao, (0, i64::MAX), OnError::Reject).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn jsonl_lines() {
        let text = r#"{"user": 7, "ts": 1700000000000, "type": "Product Viewed", "item": 12, "price": 9.5}
{"user": "7", "ts": 1700000001000, "type": "add_to_cart", "item": "12", "quantity": 2}
{"user": "8", "ts": 1700000001000, "type": "add_to_cart", "price": "cheap"}
{"user": "8", "ts": 1700000001000, "type": "add_to_cart", "price": -3}
{"user": "8", "ts": 1700000001, "type": "view_item"}
[1, 2]
"#;
        let log = read(text.as_bytes(), Format::Jsonl, (0, i64::MAX), OnError::Skip).unwrap();
        assert_eq!(log.users.len(), 1);
        assert_eq!(log.users[0].events.len(), 2);
        assert_eq!(log.users[0].events[0].1.item.as_deref(), Some("12"));
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4, 5, 6]);
        assert!(log.bad[2].error.contains("2000-01-01"), "{}", log.bad[2].error);
    }
}
