//! Reading event logs: the Taobao UserBehavior CSV, the generic JSONL format, and GA4's BigQuery
//! export as newline-delimited JSON.
//!
//! Generic JSONL, one event per line:
//! `{"user": "u1", "ts": 1700000000000, "type": "view_item", "item": "sku-1", "category": "shoes", "price": 59.0, "quantity": 1, "session": "s-9"}`
//! with `ts` in whole milliseconds since the epoch, `type` a GA4 ecommerce name, a mapped
//! Shopify, Segment or Taobao name, or the shop's own event type; `user`, `item`, `category` and
//! `session` strings or numbers; everything but `user`, `ts` and `type` optional; fractions of a
//! millisecond are dropped, as everywhere. The event's
//! values are checked by the engine's own validation ([`shopper_intent::event`]); this module only
//! reads shapes.
//!
//! GA4's BigQuery export (the `events_*` tables, one row per line, as BigQuery's JSON exports
//! write them) is read as the widget would have seen the same events on the page, so that a model
//! trained on it reads what the widget reads:
//! - the user is `user_pseudo_id`, the browser, as the widget's saved state is; a row without one
//!   (Consent Mode's cookieless pings) is skipped and counted;
//! - `ts` is `event_timestamp` (microseconds) in milliseconds; events of one millisecond keep
//!   their microsecond order, then their `batch_event_index`;
//! - `type` is `event_name`; events the widget never sees are skipped and counted: GA4's automatic
//!   events ([`GA4_AUTOMATIC`], which do not pass through the page's `dataLayer`), and the names
//!   the page's capture leaves out (GTM's `gtm.*`, the widget's own `shopper_intent_*` pushes);
//! - no session id: GA4's `ga_session_id` is kept alive by page views and engagement pings the
//!   widget never sees, so sessions come from the widget's own rule (30 minutes without an event
//!   it reads), as on the page;
//! - item, category, price and quantity come from `items` as the page reads a push's
//!   `ecommerce.items` (`web/package/capture.js`, `fromGa4Items`: the first item names the event,
//!   the quantities of all are summed, a value beyond the engine's limits is dropped and the event
//!   kept); GA4's placeholder `(not set)` is no value;
//! - a row repeated (the same browser, microsecond, name, parameters, items and batch ids, as when
//!   daily and intraday tables overlap) is read once, the repeats counted.
//!
//! A file that is none of these formats, or where most lines are malformed, is an error that says what
//! was found, never an empty result.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::BufRead;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use shopper_intent::event::{check_quantity, check_ts, MAX_ID_BYTES, MAX_PRICE, MAX_QUANTITY};
use shopper_intent::mapping::{kind_from, Vocabulary};
use shopper_intent::{Event, Kind};

/// The start of the Taobao log's stated window: 2017-11-25T00:00:00+08:00.
pub const TAOBAO_START_MS: i64 = 1_511_539_200_000;
/// The end (exclusive) of the Taobao log's stated window: 2017-12-04T00:00:00+08:00.
pub const TAOBAO_END_MS: i64 = 1_512_316_800_000;
/// Malformed lines shown on the terminal; the rest are counted.
pub const SHOWN_BAD_LINES: usize = 20;

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `user_id,item_id,category_id,behavior_type,timestamp_seconds` without a header.
    Taobao,
    /// The generic JSONL format.
    Jsonl,
    /// GA4's BigQuery export (`events_*` rows) as newline-delimited JSON.
    Ga4,
}

/// GA4's automatic events, and enhanced measurement's: Google's tag (or the Firebase SDK) sends
/// them by itself, so they are in GA4's export but never pass through the page's `dataLayer`, and
/// the widget never sees them. A model trained on them would wait on the page for events that do
/// not come; the GA4 reader leaves them out (`NOT_ON_PAGE` in `score`). The lists: GA4's help,
/// "Automatically collected events" (support.google.com/analytics/answer/9234069) and "Enhanced
/// measurement events" (answer/9216061).
pub const GA4_AUTOMATIC: [&str; 23] = [
    "first_visit",
    "session_start",
    "user_engagement",
    "page_view",
    "scroll",
    "click",
    "view_search_results",
    "video_start",
    "video_progress",
    "video_complete",
    "file_download",
    "form_start",
    "form_submit",
    "first_open",
    "screen_view",
    "app_remove",
    "app_update",
    "app_clear_data",
    "app_exception",
    "os_update",
    "in_app_purchase",
    "notification_receive",
    "notification_open",
];

/// Whether a JSON line is a row of GA4's BigQuery export (it has `event_name` and
/// `event_timestamp`) rather than a generic JSONL event.
fn is_ga4_row(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("event_name").is_some() && v.get("event_timestamp").is_some())
}

impl Format {
    /// The format of a log, from its first non-empty line; an error that describes the line when
    /// it is neither format.
    pub fn sniff(first_line: &str) -> Result<Format> {
        let line = first_line.trim_start_matches('\u{feff}').trim();
        if line.starts_with('{') && !line.contains('\0') && !line.contains('\r') {
            return Ok(if is_ga4_row(line) { Format::Ga4 } else { Format::Jsonl });
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() == 5 && kind_from(Vocabulary::Taobao, fields[3]).is_some() && fields[4].parse::<i64>().is_ok() {
            return Ok(Format::Taobao);
        }
        // Bytes that are not text (a compressed file's, or UTF-16's NULs) are not shown.
        let binary = line.chars().take(200).any(|c| c == char::REPLACEMENT_CHARACTER || (c.is_control() && c != '\t' && c != '\r'));
        let shown = if binary { "not text".to_string() } else { format!("{:?}", line.chars().take(120).collect::<String>()) };
        let lower = line.to_ascii_lowercase();
        let hint = if line.starts_with('\u{1f}') {
            "\nIt looks gzip-compressed: decompress it first (`gunzip FILE.gz`, or `zcat *.json.gz > events.jsonl` for an export \
             in several files)."
        } else if line.contains('\0') {
            "\nIt looks like UTF-16 text (a NUL byte beside each character): save it as UTF-8, e.g. \
             `iconv -f UTF-16 -t UTF-8 FILE > events.jsonl`."
        } else if line.contains('\r') {
            "\nIts lines end in a carriage return alone (old Mac line endings), so it reads as one line: end them with a \
             line feed, e.g. `tr '\\r' '\\n' < FILE > events.jsonl`."
        } else if line.starts_with('[') {
            "\nIt looks like one JSON array: write one object per line (e.g. `jq -c '.[]' FILE`)."
        } else if lower.contains("event_type") && lower.contains("user_session") {
            "\nIt looks like a REES46-style CSV (event_time, event_type, product_id, ..., user_id, user_session). \
             Convert it to JSONL, one event per line: user = user_id, ts = event_time in milliseconds, \
             type = view_item for `view`, add_to_cart for `cart`, remove_from_cart, purchase; item = product_id, \
             category = category_id, price, session = user_session."
        } else if line.contains(',') || line.contains('\t') {
            "\nIt looks like a CSV or TSV file. Convert it to JSONL (see the README: user, ts in milliseconds, type, and optional item, category, price, quantity, session)."
        } else {
            ""
        };
        bail!(
            "unknown log format: the first line is {shown}; expected JSONL (one {{\"user\", \"ts\", \"type\", ...}} object per line), \
             GA4's BigQuery export as JSONL (one {{\"event_name\", \"event_timestamp\", ...}} row per line) \
             or the Taobao UserBehavior CSV (user_id,item_id,category_id,pv|fav|cart|buy,unix_seconds){hint}"
        )
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

/// Why a well-formed line holds no event of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// A blank line.
    Empty,
    /// An event outside the time window read (`--start-ms`, `--end-ms`, Taobao's stated window).
    OutsideWindow,
    /// A GA4 event the widget never sees on the page ([`GA4_AUTOMATIC`], `gtm.*`, `shopper_intent_*`).
    NotOnPage,
    /// A GA4 row read before (the same browser, microsecond, name and batch ids).
    Duplicate,
    /// A GA4 row without `user_pseudo_id` (a cookieless ping): no browser to follow.
    NoBrowserId,
}

impl Skipped {
    /// The code `score` writes for the line.
    pub fn code(self) -> &'static str {
        match self {
            Skipped::Empty => "EMPTY_LINE",
            Skipped::OutsideWindow => "OUTSIDE_WINDOW",
            Skipped::NotOnPage => "NOT_ON_PAGE",
            Skipped::Duplicate => "DUPLICATE_EVENT",
            Skipped::NoBrowserId => "NO_BROWSER_ID",
        }
    }
}

/// A malformed line.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub error: String,
}

/// One user's events in time order (ties in log order), each with its line number.
#[derive(Clone, Debug, Default)]
pub struct UserLog {
    /// The user id as in the log.
    pub user: String,
    /// Events and their line numbers.
    pub events: Vec<(usize, Event)>,
}

impl UserLog {
    /// The events alone.
    pub fn event_refs(&self) -> Vec<&Event> {
        self.events.iter().map(|(_, e)| e).collect()
    }
}

/// A parsed log.
#[derive(Debug)]
pub struct Log {
    /// The format read.
    pub format: Format,
    /// Users in order of first appearance.
    pub users: Vec<UserLog>,
    /// Lines read.
    pub lines: usize,
    /// Events kept.
    pub events: usize,
    /// Events dropped for being outside the stated time window.
    pub outside_window: usize,
    /// Lines that are not events and not malformed, with why: [`Skipped::Empty`] and
    /// [`Skipped::OutsideWindow`], in line order.
    pub skipped: Vec<(usize, Skipped)>,
    /// Malformed lines (with `OnError::Skip`), all of them.
    pub bad: Vec<BadLine>,
    /// Events per kind.
    pub kinds: HashMap<Kind, usize>,
    /// Events that carried a session id.
    pub with_session: usize,
    /// GA4 events left out because the widget never sees them on the page, by name.
    pub not_on_page: std::collections::BTreeMap<String, usize>,
    /// GA4 rows read before, skipped.
    pub duplicates: usize,
    /// GA4 rows without a browser id (`user_pseudo_id`), skipped.
    pub no_browser_id: usize,
    /// The malformed lines that name a purchase (their `type`, `event_name` or behavior is one),
    /// by line number: their sessions are read without that purchase.
    pub bad_purchases: Vec<usize>,
    /// Generic JSONL lines that repeat an earlier line exactly, read as events all the same (the
    /// first such line, and how many).
    pub repeated_lines: (Option<usize>, usize),
}

impl Log {
    /// The malformed line `line`, if it is one.
    pub fn bad_line(&self, line: usize) -> Option<&BadLine> {
        self.bad.binary_search_by_key(&line, |b| b.line).ok().map(|i| &self.bad[i])
    }
}

/// How to read a log.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// The format, or `None` to sniff it from the first non-empty lines.
    pub format: Option<Format>,
    /// Keep events with `start <= ts < end`.
    pub window: (i64, i64),
    /// Skip or reject malformed lines.
    pub on_error: OnError,
    /// The largest share of malformed lines accepted (of the non-empty lines).
    pub max_malformed: f64,
}

/// The largest integer a JSON number holds exactly once read as a double (2^53).
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// An id (user, session, item, category) as text. A number is written as an integer when it is
/// one, so `123` and `123.0` (as exports from a dataframe write it) are the same id; a number too
/// large to be read exactly is refused rather than merged with its neighbours.
fn id_of(v: &Value, field: &str) -> Result<Option<String>, String> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i.to_string()));
            }
            if let Some(u) = n.as_u64() {
                return Ok(Some(u.to_string()));
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if !f.is_finite() || f.abs() >= EXACT_INTEGER {
                return Err(format!("{field} is a number too large to read exactly ({n}); write it as a string"));
            }
            Ok(Some(if f.fract() == 0.0 { format!("{}", f as i64) } else { n.to_string() }))
        }
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
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let user = id_of(&v, "user")?.ok_or("missing user")?;
    let ts = number_of(&v, "ts")?.ok_or("missing ts (milliseconds since the epoch)")?;
    let ts = check_ts(ts).map_err(|e| e.to_string())?;
    let name = match v.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(format!("type must be a string, found {other}")),
        None => return Err("missing type".into()),
    };
    let kind = Kind::parse(name).map_err(|e| e.to_string())?;
    let mut e = Event::new(kind, ts);
    e.item = id_of(&v, "item")?;
    e.category = id_of(&v, "category")?;
    e.session = id_of(&v, "session")?;
    e.price = number_of(&v, "price")?;
    e.quantity = number_of(&v, "quantity")?.map(check_quantity).transpose().map_err(|e| e.to_string())?;
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

/// A well-formed line: a user's event, or a GA4 row that holds none the widget would see.
enum Row {
    /// The user, the event, its order within its millisecond (GA4: the microseconds, then the
    /// batch index; 0 otherwise), and for GA4 a fingerprint of what makes the row one event (for
    /// repeats).
    Event(String, Event, u64, Option<u64>),
    NotOnPage(String),
    NoBrowserId,
}

/// A number, or a string that holds one (BigQuery writes its INT64 values as strings in JSON),
/// as the page reads one: `None` for anything else.
fn loose_number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !s.trim().is_empty() => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

/// An id as the page's capture reads one (`capture.js`, `id`): a non-empty string or a finite
/// number, at most `MAX_ID_BYTES` long; anything else is no id (the field is dropped, the event
/// kept). GA4's placeholder for a value never sent, `(not set)`, is no id either.
fn page_id(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.is_finite() => f.to_string(),
            _ => return None,
        },
        _ => return None,
    };
    (!s.is_empty() && s.len() <= MAX_ID_BYTES && s != "(not set)").then_some(s)
}

/// The value of the event parameter `key` of a GA4 row (`event_params: [{key, value: {string_value
/// | int_value | double_value | float_value}}]`).
fn ga4_param<'a>(row: &'a Value, key: &str) -> Option<&'a Value> {
    let value = row.get("event_params")?.as_array()?.iter().find(|p| p.get("key").and_then(Value::as_str) == Some(key))?.get("value")?;
    ["string_value", "int_value", "double_value", "float_value"].iter().find_map(|k| value.get(*k).filter(|v| !v.is_null()))
}

/// Whether the page's capture reads an event of this name (`capture.js`, `isEventName`: not
/// GTM's own `gtm.*` events, not the widget's own `shopper_intent_*` pushes), and it is not one
/// of GA4's automatic events.
fn seen_on_page(name: &str) -> bool {
    !GA4_AUTOMATIC.contains(&name) && !name.starts_with("gtm.") && !name.starts_with("shopper_intent_")
}

/// Most items read from one row, as on the page.
const MAX_ITEMS: usize = 200;

fn parse_ga4(line: &str) -> Result<Row, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let name = match v.get("event_name") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(format!("event_name must be a string, found {other}")),
        None => return Err("missing event_name".into()),
    };
    let micros: i64 = match v.get("event_timestamp") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        None | Some(Value::Null) => return Err("missing event_timestamp (microseconds since the epoch)".into()),
        _ => None,
    }
    .ok_or_else(|| format!("event_timestamp must be whole microseconds since the epoch, found {}", v["event_timestamp"]))?;
    let ts = check_ts(micros.div_euclid(1000) as f64).map_err(|e| e.to_string())?;
    if !seen_on_page(name) {
        return Ok(Row::NotOnPage(name.to_string()));
    }
    let Some(user) = id_of(&v, "user_pseudo_id")?.filter(|u| !u.is_empty()) else { return Ok(Row::NoBrowserId) };
    let kind = Kind::parse(name).map_err(|e| e.to_string())?;
    let mut e = Event::new(kind, ts);
    let items: &[Value] = v.get("items").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let first = items.first().filter(|x| x.is_object());
    let of_item = |field: &str| first.and_then(|x| page_id(x.get(field)));
    e.item = of_item("item_id").or_else(|| of_item("item_name"));
    e.category = of_item("item_category")
        .or_else(|| of_item("item_list_name"))
        .or_else(|| page_id(ga4_param(&v, "item_list_name")))
        .or_else(|| of_item("item_list_id"))
        .or_else(|| page_id(ga4_param(&v, "item_list_id")));
    e.price = first.and_then(|x| loose_number(x.get("price"))).filter(|p| (0.0..=MAX_PRICE).contains(p));
    let quantities: Vec<f64> = items.iter().take(MAX_ITEMS).filter_map(|x| loose_number(x.get("quantity"))).filter(|q| *q >= 0.0).collect();
    if !quantities.is_empty() {
        let total = quantities.iter().sum::<f64>().round();
        e.quantity = (total <= f64::from(MAX_QUANTITY)).then_some(total as u32);
    }
    e.validate().map_err(|e| e.to_string())?;
    // One event: the browser, the microsecond, the name, what it carries, and the batch ids
    // (written as numbers or as text); a row of the daily and of the intraday table alike.
    let batch = |field: &str| loose_number(v.get(field)).map(|n| n as i64);
    let mut key = std::collections::hash_map::DefaultHasher::new();
    (&user, micros, name, batch("batch_page_id"), batch("batch_ordering_id"), batch("batch_event_index")).hash(&mut key);
    for field in ["event_params", "items"] {
        v.get(field).filter(|x| !x.is_null()).map(Value::to_string).hash(&mut key);
    }
    let index = batch("batch_event_index").map_or(0, |i| i.clamp(0, i64::from(u32::MAX)) as u64);
    Ok(Row::Event(user, e, ((micros.rem_euclid(1000) as u64) << 32) | index, Some(key.finish())))
}

/// Whether a line that could not be read names a purchase: its `type` (JSONL), `event_name`
/// (GA4) or behavior (Taobao) is `purchase` or a name that maps to it.
fn names_purchase(format: Format, line: &str) -> bool {
    let purchase = Kind::from(shopper_intent::EventKind::Purchase);
    let name = match format {
        Format::Taobao => {
            return line.split(',').nth(3).and_then(|b| kind_from(Vocabulary::Taobao, b)).is_some_and(|k| Kind::from(k) == purchase)
        }
        Format::Jsonl => "type",
        Format::Ga4 => "event_name",
    };
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get(name).and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|n| Kind::parse(&n).is_ok_and(|k| k == purchase))
}

/// One line of a log in `format`: the user and the event, or why the line holds none (malformed,
/// or one of GA4's automatic events).
pub fn parse_line(format: Format, line: &str) -> Result<(String, Event), String> {
    match parse_row(format, line)? {
        Row::Event(user, event, _, _) => Ok((user, event)),
        Row::NotOnPage(name) => Err(format!("{name} is a GA4 event the widget never sees on the page")),
        Row::NoBrowserId => Err("a GA4 row without user_pseudo_id".into()),
    }
}

fn parse_row(format: Format, line: &str) -> Result<Row, String> {
    match format {
        Format::Taobao => parse_taobao(line).map(|(u, e)| Row::Event(u, e, 0, None)),
        Format::Jsonl => parse_jsonl(line).map(|(u, e)| Row::Event(u, e, 0, None)),
        Format::Ga4 => parse_ga4(line),
    }
}

/// Non-empty lines that decide a log's format.
const SNIFF_LINES: usize = 20;

/// The format most of `lines` (a log's first non-empty lines) are in, so that one broken first
/// line does not hide a readable log; when none is in either format, the error describes the
/// first line.
fn sniff_lines(lines: &[&str]) -> Result<Format> {
    let (mut jsonl, mut taobao, mut ga4) = (0, 0, 0);
    for line in lines {
        match Format::sniff(line) {
            Ok(Format::Jsonl) => jsonl += 1,
            Ok(Format::Taobao) => taobao += 1,
            Ok(Format::Ga4) => ga4 += 1,
            Err(_) => {}
        }
    }
    match lines.first() {
        None => bail!("the log is empty"),
        Some(first) if jsonl == 0 && taobao == 0 && ga4 == 0 => Format::sniff(first),
        Some(_) if taobao > jsonl && taobao > ga4 => Ok(Format::Taobao),
        Some(_) => Ok(if ga4 > jsonl { Format::Ga4 } else { Format::Jsonl }),
    }
}

/// The next line of `reader` without its line ending, as text, or why it is not text; `None` at
/// the end. A line that is not UTF-8 is that line's error alone.
fn next_line<'a>(reader: &mut impl BufRead, buf: &'a mut Vec<u8>) -> std::io::Result<Option<Result<&'a str, String>>> {
    buf.clear();
    if reader.read_until(b'\n', buf)? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(std::str::from_utf8(buf).map_err(|e| format!("not UTF-8 text (byte {} of the line)", e.valid_up_to() + 1))))
}

/// A log's first lines, up to its [`SNIFF_LINES`]th non-empty one: kept until the format is known.
struct Head {
    /// Each line as text (a byte-order mark before the first one removed), or why it is not text.
    lines: Vec<Result<String, String>>,
    /// The non-empty lines, as text (lossily for a line that is not UTF-8): what decides the format.
    sample: Vec<String>,
    /// The log ended within them.
    at_end: bool,
}

impl Head {
    fn read(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> Result<Head> {
        let mut head = Head { lines: Vec::new(), sample: Vec::new(), at_end: false };
        while head.sample.len() < SNIFF_LINES {
            let line_no = head.lines.len() + 1;
            let Some(line) = next_line(reader, buf).with_context(|| format!("reading line {line_no}"))? else {
                head.at_end = true;
                break;
            };
            let line = line.map(|l| if line_no == 1 { l.trim_start_matches('\u{feff}') } else { l }.to_string());
            match &line {
                Ok(l) if l.trim().is_empty() => {}
                Ok(l) => head.sample.push(l.clone()),
                Err(_) => head.sample.push(String::from_utf8_lossy(buf).into_owned()),
            }
            head.lines.push(line);
        }
        Ok(head)
    }

    fn format(&self) -> Result<Format> {
        sniff_lines(&self.sample.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// The format of a log, from its first non-empty lines (see [`read`]).
pub fn sniff(mut reader: impl BufRead) -> Result<Format> {
    Head::read(&mut reader, &mut Vec::new())?.format()
}

/// A hint for a file that is JSON but not one object per line: pretty-printed.
fn pretty_json_hint(head: &Head) -> String {
    match head.sample.first().map(|l| l.trim()) {
        Some("{") => "\nThe file looks like pretty-printed JSON: write one object per line (e.g. `jq -c . FILE`).".into(),
        Some("[") => "\nThe file looks like one JSON array: write one object per line (e.g. `jq -c '.[]' FILE`).".into(),
        _ => String::new(),
    }
}

/// GA4 events left out by name, most frequent first: `page_view 800, session_start 120`.
pub fn counts_text(counts: &std::collections::BTreeMap<String, usize>) -> String {
    let mut v: Vec<(&String, &usize)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter().map(|(name, n)| format!("{name} {n}")).collect::<Vec<_>>().join(", ")
}

/// Reads a log. Each user's events are sorted by time (stably, so equal times keep log order).
/// The format, unless given, is the one most of the first 20 non-empty lines are in. A byte-order
/// mark before the first line is ignored; a line that is not UTF-8 is a malformed line.
///
/// Errors: an unreadable file, an unknown format, no event at all, more malformed lines than
/// `max_malformed` allows, or (with [`OnError::Reject`]) the first malformed line.
pub fn read(mut reader: impl BufRead, options: ReadOptions) -> Result<Log> {
    let mut buf = Vec::new();
    let head = Head::read(&mut reader, &mut buf)?;
    if head.sample.is_empty() {
        bail!("the log is empty");
    }
    let format = match options.format {
        Some(f) => f,
        None => head.format()?,
    };
    let mut log = Log {
        format,
        users: Vec::new(),
        lines: 0,
        events: 0,
        outside_window: 0,
        skipped: Vec::new(),
        bad: Vec::new(),
        kinds: HashMap::new(),
        with_session: 0,
        not_on_page: std::collections::BTreeMap::new(),
        duplicates: 0,
        no_browser_id: 0,
        bad_purchases: Vec::new(),
        repeated_lines: (None, 0),
    };
    let mut seen_rows: HashSet<u64> = HashSet::new();
    let mut seen_lines: HashSet<u64> = HashSet::new();
    // The order of GA4 events within their millisecond, by line (0 for every other format).
    let mut order: Vec<u64> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut non_empty = 0usize;
    let mut handle = |line_no: usize, line: Result<&str, String>, log: &mut Log| -> Result<()> {
        log.lines += 1;
        if line.as_ref().is_ok_and(|l| l.trim().is_empty()) {
            log.skipped.push((line_no, Skipped::Empty));
            return Ok(());
        }
        non_empty += 1;
        let parsed = match &line {
            Ok(text) => parse_row(format, text),
            Err(e) => Err(e.clone()),
        };
        let (user, event) = match parsed {
            Ok(Row::Event(user, event, sub, key)) => {
                if key.is_some_and(|k| !seen_rows.insert(k)) {
                    log.duplicates += 1;
                    log.skipped.push((line_no, Skipped::Duplicate));
                    return Ok(());
                }
                if sub > 0 {
                    if order.len() < line_no {
                        order.resize(line_no, 0);
                    }
                    order[line_no - 1] = sub;
                }
                (user, event)
            }
            Ok(Row::NotOnPage(name)) => {
                *log.not_on_page.entry(name).or_insert(0) += 1;
                log.skipped.push((line_no, Skipped::NotOnPage));
                return Ok(());
            }
            Ok(Row::NoBrowserId) => {
                log.no_browser_id += 1;
                log.skipped.push((line_no, Skipped::NoBrowserId));
                return Ok(());
            }
            Err(error) => {
                if options.on_error == OnError::Reject {
                    bail!("line {line_no}: {error}");
                }
                if line.as_ref().is_ok_and(|text| names_purchase(format, text)) {
                    log.bad_purchases.push(line_no);
                }
                log.bad.push(BadLine { line: line_no, error });
                return Ok(());
            }
        };
        if event.ts_ms < options.window.0 || event.ts_ms >= options.window.1 {
            log.outside_window += 1;
            log.skipped.push((line_no, Skipped::OutsideWindow));
            return Ok(());
        }
        if format == Format::Jsonl {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            line.as_ref().map(|text| text.trim()).unwrap_or_default().hash(&mut h);
            if !seen_lines.insert(h.finish()) {
                log.repeated_lines.0.get_or_insert(line_no);
                log.repeated_lines.1 += 1;
            }
        }
        *log.kinds.entry(event.kind.clone()).or_insert(0) += 1;
        log.with_session += usize::from(event.session.is_some());
        let at = *index.entry(user.clone()).or_insert_with(|| {
            log.users.push(UserLog { user, events: Vec::new() });
            log.users.len() - 1
        });
        log.users[at].events.push((line_no, event));
        log.events += 1;
        Ok(())
    };
    let mut line_no = 0;
    for line in &head.lines {
        line_no += 1;
        handle(line_no, line.as_deref().map_err(Clone::clone), &mut log)?;
    }
    let mut at_end = head.at_end;
    while !at_end {
        line_no += 1;
        match next_line(&mut reader, &mut buf).with_context(|| format!("reading line {line_no}"))? {
            None => at_end = true,
            Some(line) => handle(line_no, line, &mut log)?,
        }
    }
    let malformed = log.bad.len() as f64 / non_empty.max(1) as f64;
    if log.events == 0 || malformed > options.max_malformed {
        const SHOWN: usize = 5;
        let mut examples: Vec<String> = log.bad.iter().take(SHOWN).map(|b| format!("  line {}: {}", b.line, b.error)).collect();
        if log.bad.len() > SHOWN {
            examples.push(format!("  ... and {} more malformed lines", log.bad.len() - SHOWN));
        }
        let message = format!(
            "{} of {} lines are malformed ({:.0}%), {} events usable{}{}{}",
            log.bad.len(),
            non_empty,
            100.0 * malformed,
            log.events,
            if log.bad.is_empty() {
                String::new()
            } else {
                format!(" (the most accepted: {:.0}%, --max-malformed)", 100.0 * options.max_malformed)
            },
            if examples.is_empty() { String::new() } else { format!(":\n{}", examples.join("\n")) },
            if log.events == 0 && log.outside_window > 0 {
                format!(
                    "\n{} events fall outside the time window read (--start-ms/--end-ms; for a Taobao CSV, the log's stated \
                     2017-11-25 to 2017-12-03 unless they say otherwise)",
                    log.outside_window
                )
            } else {
                String::new()
            },
        ) + &if log.events == 0 && (!log.not_on_page.is_empty() || log.no_browser_id > 0) {
            format!(
                "\nthe other rows are GA4 events the widget never sees ({}) or rows without a browser id ({}, cookieless pings): \
                 the export needs the events the shop's pages push into the dataLayer (add_to_cart, purchase, its own), \
                 from browsers that consented",
                if log.not_on_page.is_empty() { "none".to_string() } else { counts_text(&log.not_on_page) },
                log.no_browser_id
            )
        } else {
            String::new()
        } + &pretty_json_hint(&head);
        bail!("{message}");
    }
    for u in &mut log.users {
        u.events.sort_by_key(|(line, e)| (e.ts_ms, order.get(line - 1).copied().unwrap_or(0)));
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopper_intent::EventKind;

    fn opts(format: Option<Format>, window: (i64, i64)) -> ReadOptions {
        ReadOptions { format, window, on_error: OnError::Skip, max_malformed: 0.5 }
    }

    #[test]
    fn taobao_lines() {
        let text = "1,10,100,pv,1511600000\n1,11,100,cart,1511600010\nbad line\n2,10,100,teleport,1511600000\n3,10,100,buy,1400000000\n\n1,12,100,fav,1511600020\n";
        let log = read(text.as_bytes(), opts(None, (TAOBAO_START_MS, TAOBAO_END_MS))).unwrap();
        assert_eq!(log.format, Format::Taobao);
        assert_eq!(log.events, 3);
        assert_eq!(log.outside_window, 1);
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![3, 4]);
        assert!(log.bad[1].error.contains("teleport"));
        let err = read(text.as_bytes(), ReadOptions { on_error: OnError::Reject, ..opts(None, (0, i64::MAX)) }).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn jsonl_lines_with_own_types_and_sessions() {
        let text = r#"{"user": 7, "ts": 1700000000000, "type": "Product Viewed", "item": 12, "price": 9.5, "session": 99}
{"user": "7", "ts": 1700000001000, "type": "add_to_cart", "item": "12", "quantity": 2}
{"user": "7", "ts": 1700000002000, "type": "size_guide_open"}
{"user": "8", "ts": 1700000001000, "type": "add_to_cart", "price": "cheap"}
{"user": "8", "ts": 1700000001000, "type": "add_to_cart", "price": -3}
{"user": "8", "ts": 1700000001, "type": "view_item"}
{"user": "8", "ts": "1700000001000", "type": "view_item"}
{"user": "8", "ts": 1700000001000, "type": ""}
[1, 2]
"#;
        let log = read(text.as_bytes(), ReadOptions { max_malformed: 0.9, ..opts(None, (0, i64::MAX)) }).unwrap();
        assert_eq!(log.format, Format::Jsonl);
        assert_eq!(log.users.len(), 1);
        let events = &log.users[0].events;
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].1.kind, Kind::from(EventKind::ViewItem));
        assert_eq!(events[0].1.session.as_deref(), Some("99"));
        assert_eq!(events[2].1.kind.name(), "size_guide_open");
        assert_eq!(log.with_session, 1);
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![4, 5, 6, 7, 8, 9]);
        assert!(log.bad[2].error.contains("2000-01-01"), "{}", log.bad[2].error);
        assert!(log.bad[3].error.contains("ts must be a number"), "{}", log.bad[3].error);
    }

    #[test]
    fn a_byte_order_mark_and_a_line_that_is_not_utf8_lose_only_what_they_must() {
        let mut jsonl = "\u{feff}{\"user\": 1, \"ts\": 1700000000000, \"type\": \"view_item\"}\n".as_bytes().to_vec();
        jsonl.extend_from_slice(b"{\"user\": 1, \"ts\": 1700000001000, \"type\": \"caf\xe9\"}\n");
        jsonl.extend_from_slice(b"{\"user\": 1, \"ts\": 1700000002000, \"type\": \"add_to_cart\"}\n");
        let log = read(&jsonl[..], opts(None, (0, i64::MAX))).unwrap();
        assert_eq!(log.format, Format::Jsonl);
        assert_eq!(log.events, 2, "the first line is read despite its byte-order mark");
        assert_eq!(log.bad.len(), 1);
        assert_eq!(log.bad[0].line, 2);
        assert!(log.bad[0].error.contains("not UTF-8"), "{}", log.bad[0].error);
        let taobao = "\u{feff}1,10,100,pv,1511600000\n1,11,100,cart,1511600010\n";
        let log = read(taobao.as_bytes(), opts(None, (TAOBAO_START_MS, TAOBAO_END_MS))).unwrap();
        assert_eq!(log.users.len(), 1, "the mark is not part of the first user's id");
        assert_eq!(log.users[0].user, "1");
        assert_eq!(sniff(&jsonl[..]).unwrap(), Format::Jsonl);
    }

    #[test]
    fn the_format_is_what_most_of_the_first_lines_are() {
        let text = "garbage first line\n{\"user\": 1, \"ts\": 1700000000000, \"type\": \"view_item\"}\n{\"user\": 1, \"ts\": 1700000001000, \"type\": \"purchase\"}\n";
        let log = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap();
        assert_eq!(log.format, Format::Jsonl);
        assert_eq!((log.events, log.bad.len(), log.bad[0].line), (2, 1, 1));
        assert_eq!(sniff(text.as_bytes()).unwrap(), Format::Jsonl);
    }

    #[test]
    fn blank_lines_and_events_outside_the_window_are_accounted_for() {
        let text = "1,10,100,pv,1511600000\n\n1,11,100,cart,1400000000\n1,12,100,buy,1511600020\n";
        let log = read(text.as_bytes(), opts(None, (TAOBAO_START_MS, TAOBAO_END_MS))).unwrap();
        assert_eq!(log.skipped, vec![(2, Skipped::Empty), (3, Skipped::OutsideWindow)]);
        assert_eq!((log.lines, log.events, log.outside_window), (4, 2, 1));
    }

    #[test]
    fn numeric_ids_are_the_same_however_written_and_never_rounded_together() {
        let text = r#"{"user": 123, "ts": 1700000000000, "type": "view_item", "session": 5.0}
{"user": 123.0, "ts": 1700000001000, "type": "view_item", "session": 5}
{"user": 18446744073709551615, "ts": 1700000002000, "type": "view_item"}
{"user": 123456789012345678901, "ts": 1700000003000, "type": "view_item"}
{"user": 123456789012345678902, "ts": 1700000004000, "type": "view_item"}
"#;
        let log = read(text.as_bytes(), ReadOptions { max_malformed: 0.9, ..opts(None, (0, i64::MAX)) }).unwrap();
        assert_eq!(log.users.iter().map(|u| u.user.as_str()).collect::<Vec<_>>(), ["123", "18446744073709551615"]);
        assert_eq!(log.users[0].events.iter().map(|(_, e)| e.session.as_deref()).collect::<Vec<_>>(), [Some("5"), Some("5")]);
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [4, 5]);
        assert!(log.bad[0].error.contains("write it as a string"), "{}", log.bad[0].error);
    }

    #[test]
    fn unknown_formats_and_mostly_broken_logs_are_errors() {
        let rees = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n\
                    2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde\n";
        let e = read(rees.as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("unknown log format") && e.contains("REES46"), "{e}");
        let e = read("hello\nworld\n".as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("unknown log format"), "{e}");
        let broken = "{\"user\": 1}\n{\"user\": 2}\n{\"user\": 3, \"ts\": 1700000000000, \"type\": \"view_item\"}\n";
        let e = read(broken.as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("2 of 3 lines are malformed") && e.contains("line 1: missing ts"), "{e}");
        let many: String = (0..9).map(|i| format!("{{\"user\": {i}}}\n")).collect();
        let e = read(many.as_bytes(), opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("line 5: missing ts") && !e.contains("line 6:") && e.contains("and 4 more"), "{e}");
        assert!(read("".as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string().contains("empty"));
        // Forcing a format does not make a CSV readable.
        let e = read(rees.as_bytes(), opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("2 of 2 lines are malformed"), "{e}");
    }
}
