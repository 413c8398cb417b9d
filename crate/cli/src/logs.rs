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
use shopper_intent::event::{check_quantity, check_ts, MAX_ID_BYTES, MAX_PRICE, MAX_QUANTITY, MAX_TS_MS, MIN_TS_MS};
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

/// Binary formats named by their first bytes, with what to do about each.
const MAGIC: [(&[u8], &str); 6] = [
    (
        b"\x1f\x8b",
        "\nIt looks gzip-compressed: decompress it first (`gunzip FILE.gz`, or `zcat *.json.gz > events.jsonl` for an export \
         in several files).",
    ),
    (
        b"PK\x03\x04",
        "\nIt is a zip archive (or a file made of one, such as an .xlsx spreadsheet): unzip it (`unzip -p FILE.zip > events.jsonl`), \
         or export the events as newline-delimited JSON, one event per line.",
    ),
    (
        b"Obj\x01",
        "\nIt is an Avro file (BigQuery's Avro export?): export the events as newline-delimited JSON instead, one row per \
         line (`EXPORT DATA ... format = 'JSON'`, or `bq extract --destination_format NEWLINE_DELIMITED_JSON`; see the README).",
    ),
    (
        b"PAR1",
        "\nIt is a Parquet file: export the events as newline-delimited JSON instead, one row per line (BigQuery: \
         `EXPORT DATA ... format = 'JSON'`; pandas: `df.to_json('events.jsonl', orient='records', lines=True)`).",
    ),
    (b"\x7fELF", "\nIt is a program (an ELF executable), not a log: give the path of the exported events."),
    (
        b"SQLite format 3\x00",
        "\nIt is an SQLite database: export the events as newline-delimited JSON, one event per line (see the README).",
    ),
];

/// Whether `bytes` (the start of a line) look like UTF-16 text: a byte-order mark, or a NUL at
/// every other byte with ASCII text between (a NUL beside each character).
fn looks_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let pairs: Vec<&[u8]> = bytes.chunks_exact(2).take(64).collect();
    if pairs.len() < 2 {
        return false;
    }
    let text = |b: u8| b == b'\t' || (0x20..0x7f).contains(&b);
    let le = pairs.iter().filter(|p| text(p[0]) && p[1] == 0).count();
    let be = pairs.iter().filter(|p| p[0] == 0 && text(p[1])).count();
    // A line split at 0x0a may start on the other byte of a pair: the pattern, not its phase.
    le.max(be) * 10 >= pairs.len() * 9
}

/// Whether `bytes` (the start of a line) are not text: a NUL, or more than one in ten bytes a
/// control character or not UTF-8.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    if head.contains(&0) {
        return true;
    }
    // Control bytes, not the bytes of another text encoding: Latin-1's accents are text.
    let controls = head.iter().filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\x0c' | b'\x1b')) || b == 0x7f).count();
    controls * 10 > head.len()
}

/// Text in another 8-bit encoding than UTF-8 (Latin-1, Windows-1252): bytes that are not UTF-8,
/// without the control bytes of a binary file.
fn looks_8bit_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err() && !looks_binary(bytes)
}

impl Format {
    /// The format of a log, from its first non-empty line; an error that describes the line when
    /// it is neither format.
    pub fn sniff(first_line: &str) -> Result<Format> {
        Format::sniff_bytes(first_line.as_bytes())
    }

    /// [`Format::sniff`] of a line as bytes, so that a file that is not UTF-8 text (compressed,
    /// binary, UTF-16) is named by the bytes it starts with.
    pub fn sniff_bytes(first_line: &[u8]) -> Result<Format> {
        let raw = first_line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(first_line);
        let text = String::from_utf8_lossy(raw);
        let line = text.trim();
        if line.starts_with('{') && !line.contains('\0') && !line.contains('\r') {
            return Ok(if is_ga4_row(line) { Format::Ga4 } else { Format::Jsonl });
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() == 5 && kind_from(Vocabulary::Taobao, fields[3]).is_some() && fields[4].parse::<i64>().is_ok() {
            return Ok(Format::Taobao);
        }
        let magic = MAGIC.iter().find(|(m, _)| raw.starts_with(m)).map(|(_, hint)| *hint);
        let utf16 = magic.is_none() && looks_utf16(raw);
        let binary = magic.is_some() || utf16 || looks_binary(raw);
        // Bytes that are not text are not shown.
        let shown =
            if binary || line.chars().take(200).any(|c| c == char::REPLACEMENT_CHARACTER || (c.is_control() && c != '\t' && c != '\r')) {
                "not text".to_string()
            } else {
                format!("{:?}", line.chars().take(120).collect::<String>())
            };
        let lower = line.to_ascii_lowercase();
        let hint = if let Some(hint) = magic {
            hint
        } else if utf16 {
            "\nIt looks like UTF-16 text (a NUL byte beside each character): save it as UTF-8, e.g. \
             `iconv -f UTF-16 -t UTF-8 FILE > events.jsonl`."
        } else if binary {
            "\nIt looks like a binary file, not text (a database, an archive, a spreadsheet, a columnar export?): export the \
             events as newline-delimited JSON, one event per line (see the README's \"Train on your own shop's events\")."
        } else if looks_8bit_text(raw) {
            "\nIt is text, but not UTF-8 (Latin-1, Windows-1252, or another encoding such as GBK or Shift-JIS?): save it \
             as UTF-8, e.g. `iconv -f WINDOWS-1252 -t UTF-8 FILE > events.utf8` (with the file's own encoding after -f), \
             then convert it to JSONL if it is not (see the README)."
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

    /// What it is, for a count of lines.
    pub fn words(self) -> &'static str {
        match self {
            Skipped::Empty => "blank",
            Skipped::OutsideWindow => "outside the log's time window",
            Skipped::NotOnPage => "GA4 events a page never sends the widget",
            Skipped::Duplicate => "GA4 rows read before",
            Skipped::NoBrowserId => "GA4 rows without a user_pseudo_id",
        }
    }
}

/// A key of generic JSONL lines that the reader does not read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnreadKey {
    /// The key.
    pub key: String,
    /// Lines that have it.
    pub lines: usize,
    /// The first of them (1-based).
    pub first_line: usize,
    /// The kinds of value it held (`VALUE_NUMBER`, `VALUE_STRING`, `VALUE_OTHER`, or-ed).
    #[serde(skip)]
    pub values: u8,
}

/// A key's values seen: numbers.
pub const VALUE_NUMBER: u8 = 1;
/// A key's values seen: strings.
pub const VALUE_STRING: u8 = 2;
/// A key's values seen: anything else (objects, arrays, booleans, null).
pub const VALUE_OTHER: u8 = 4;

/// The kind of a value (`VALUE_*`); none for `null`, which says nothing of what a key holds.
fn value_kind(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Number(_) => VALUE_NUMBER,
        Value::String(_) => VALUE_STRING,
        _ => VALUE_OTHER,
    }
}

/// Different keys not read that a log's reading counts (a log whose keys are ids would otherwise
/// fill memory with them).
pub const MAX_UNREAD_KEYS: usize = 1000;

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
    /// Events that carried an item id.
    pub with_item: usize,
    /// Events that carried a category id.
    pub with_category: usize,
    /// Events that carried a price.
    pub with_price: usize,
    /// Events that carried a quantity.
    pub with_quantity: usize,
    /// The top-level keys of generic JSONL lines that the reader does not read (any but
    /// [`JSONL_KEYS`]), most frequent first; at most [`MAX_UNREAD_KEYS`] different keys are counted.
    pub unread_keys: Vec<UnreadKey>,
    /// Generic JSONL lines that have each of [`JSONL_KEYS`], in its order (malformed lines too).
    pub lines_with_key: [usize; JSONL_KEYS.len()],
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
    /// Events timed before the previous line of the same user (the first such line, and how
    /// many): the reader puts each user's events in time order, so positions follow time.
    pub out_of_order: (Option<usize>, usize),
    /// The sha256 of the log's bytes, in hex as `sha256sum` prints it, where the reader's caller
    /// hashed them as they were read (the CLI does); empty otherwise.
    pub sha256: String,
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

/// The keys of a generic JSONL event the reader takes; any other key is not read.
pub const JSONL_KEYS: [&str; 8] = ["user", "ts", "type", "item", "category", "price", "quantity", "session"];

/// Whether `ms` milliseconds since the epoch are within the engine's range (2000-01-01..2200-01-01).
fn in_range_ms(ms: f64) -> bool {
    (MIN_TS_MS as f64..MAX_TS_MS as f64).contains(&ms)
}

/// Units of time since the epoch, with how many of each make a second.
const TIME_UNITS: [(&str, f64); 4] = [("seconds", 1.0), ("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)];

/// For a timestamp out of range in the unit expected (`per_second` of it make a second): the unit
/// it would be in range in, and how to make it the one expected; empty when there is none.
fn other_unit_hint(value: f64, per_second: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    for (unit, other) in TIME_UNITS {
        if other != per_second && in_range_ms(value * 1e3 / other) {
            let fix = if per_second > other {
                format!("multiply by {}", per_second / other)
            } else {
                format!("divide by {}", other / per_second)
            };
            return format!("; it looks like {unit}: {fix}");
        }
    }
    String::new()
}

/// A share as a percentage, whole where it is one, else with the decimals that show it is not 0
/// (2 malformed lines of 3440 are 0.058%, not 0%).
fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if p == p.round() || p >= 10.0 {
        format!("{p:.0}%")
    } else {
        // Two significant digits.
        let decimals = (1.0 - p.log10().floor()).clamp(1.0, 6.0) as usize;
        format!("{p:.decimals$}%")
    }
}

/// A `ts` out of range, with the unit it looks like in when it would be in range in another
/// (seconds, microseconds, nanoseconds).
fn ts_error(ts: f64, e: shopper_intent::Error) -> String {
    // A ts past what 64 bits hold reaches the core clamped: shown as written, not as the clamp.
    let text = e.to_string();
    let text = if ts.abs() >= 9.2e18 { text.replace(&(ts as i64).to_string(), &format!("{ts:e}")) } else { text };
    format!("{text}{}", other_unit_hint(ts, 1e3))
}

/// Reads a generic JSONL line; `keys` is told each top-level key with the kind of its value
/// (`VALUE_NUMBER`...), read or not.
fn parse_jsonl(line: &str, keys: &mut dyn FnMut(&str, u8)) -> Result<(String, Event), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Some(object) = v.as_object() else { return Err("not a JSON object".into()) };
    for (key, value) in object {
        keys(key, value_kind(value));
    }
    let user = id_of(&v, "user")?.ok_or("missing user")?;
    if user.trim().is_empty() {
        // As GA4's rows without a user_pseudo_id and Taobao's lines without a user_id: no user to follow.
        return Err("user must not be empty (nor spaces only): every event needs the id of the user (or browser) it belongs to".into());
    }
    if let Some(Value::String(text)) = v.get("ts") {
        let digits = text.trim();
        if !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "ts must be a number, found the text {:?}: a number in quotes; write it without them (`\"ts\": {digits}`)",
                text.chars().take(40).collect::<String>()
            ));
        }
        return Err(format!(
            "ts must be a number, found {:?}: a time as text; write it as milliseconds since the epoch (the README converts \
             ISO 8601 times with jq)",
            text.chars().take(40).collect::<String>()
        ));
    }
    let ts = number_of(&v, "ts")?.ok_or("missing ts (milliseconds since the epoch)")?;
    let ts = check_ts(ts).map_err(|e| ts_error(ts, e))?;
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
    let kind = kind_from(Vocabulary::Taobao, f[3]).ok_or_else(|| {
        let header = f[0].trim().parse::<u64>().is_err() && f[4].trim().parse::<i64>().is_err();
        format!("unknown behavior_type {:?}{}", f[3], if header { ": a header row? The Taobao CSV has none" } else { "" })
    })?;
    let secs: i64 = f[4].parse().map_err(|_| format!("timestamp {:?} is not an integer", f[4]))?;
    if f[0].is_empty() {
        return Err("empty user_id".into());
    }
    if !in_range_ms(secs as f64 * 1e3) {
        // The column is in seconds: a time in another unit is named, with the factor that fixes it.
        return Err(format!(
            "timestamp {secs} is outside 2000-01-01..2200-01-01 as seconds since the Unix epoch (the unit of the Taobao CSV){}",
            other_unit_hint(secs as f64, 1.0)
        ));
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
    let ts = check_ts(micros.div_euclid(1000) as f64).map_err(|_| {
        format!(
            "event_timestamp {micros} is outside 2000-01-01..2200-01-01 as microseconds since the Unix epoch (the unit of GA4's \
             export){}",
            other_unit_hint(micros as f64, 1e6)
        )
    })?;
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
    match parse_row(format, line, &mut |_, _| {})? {
        Row::Event(user, event, _, _) => Ok((user, event)),
        Row::NotOnPage(name) => Err(format!("{name} is a GA4 event the widget never sees on the page")),
        Row::NoBrowserId => Err("a GA4 row without user_pseudo_id".into()),
    }
}

/// One line of a log in `format`; `keys` is told the keys of a generic JSONL line (`parse_jsonl`).
fn parse_row(format: Format, line: &str, keys: &mut dyn FnMut(&str, u8)) -> Result<Row, String> {
    match format {
        Format::Taobao => parse_taobao(line).map(|(u, e)| Row::Event(u, e, 0, None)),
        Format::Jsonl => parse_jsonl(line, keys).map(|(u, e)| Row::Event(u, e, 0, None)),
        Format::Ga4 => parse_ga4(line),
    }
}

/// Non-empty lines that decide a log's format.
const SNIFF_LINES: usize = 20;

/// The format most of `lines` (a log's first non-empty lines) are in, so that one broken first
/// line does not hide a readable log; when none is in either format, the error describes the
/// first line (`first_raw`: its bytes as read when it is not UTF-8, else empty).
fn sniff_lines(lines: &[&str], first_raw: &[u8]) -> Result<Format> {
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
        Some(first) if jsonl == 0 && taobao == 0 && ga4 == 0 => {
            Format::sniff_bytes(if first_raw.is_empty() { first.as_bytes() } else { first_raw })
        }
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
    /// The bytes of the first non-empty line when it is not UTF-8 (empty otherwise): a binary
    /// file's magic bytes, UTF-16's byte-order mark, for the error that names a file of no known
    /// format (its text in `sample` has them replaced).
    first_raw: Vec<u8>,
    /// The log ended within them.
    at_end: bool,
}

impl Head {
    fn read(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> Result<Head> {
        let mut head = Head { lines: Vec::new(), sample: Vec::new(), first_raw: Vec::new(), at_end: false };
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
                Err(_) => {
                    if head.sample.is_empty() {
                        head.first_raw = buf.clone();
                    }
                    head.sample.push(String::from_utf8_lossy(buf).into_owned());
                }
            }
            head.lines.push(line);
        }
        Ok(head)
    }

    fn format(&self) -> Result<Format> {
        sniff_lines(&self.sample.iter().map(String::as_str).collect::<Vec<_>>(), &self.first_raw)
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

/// A hint for a log whose malformed lines are mostly not UTF-8: compressed (read with a --format
/// given, so the format's sniffing did not name it), or text in another encoding.
fn encoding_hint(head: &Head, bad: &[BadLine]) -> String {
    if let Some((_, hint)) = MAGIC.iter().find(|(m, _)| head.first_raw.starts_with(m)) {
        return (*hint).to_string();
    }
    let not_utf8 = bad.iter().filter(|b| b.error.starts_with("not UTF-8 text")).count();
    if not_utf8 == 0 || 2 * not_utf8 < bad.len() {
        return String::new();
    }
    "\nIts lines are not UTF-8 text (Latin-1, Windows-1252, or another encoding?): save the file as UTF-8, e.g. \
     `iconv -f WINDOWS-1252 -t UTF-8 FILE > events.utf8` (with the file's own encoding after -f)."
        .into()
}

/// The words of a key: split at `_`, `-`, `.`, spaces and lower-to-upper case changes, lowercased
/// (`productId` and `product_id` are `["product", "id"]`).
fn key_words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut lower_before = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            lower_before = false;
            continue;
        }
        if c.is_uppercase() && lower_before && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        lower_before = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    // Joined lowercase names (`visitorid`, `unitprice`, `skucode`): a known last word split off.
    const LAST: [&str; 12] =
        ["id", "price", "category", "categoryid", "timestamp", "time", "type", "name", "qty", "quantity", "code", "number"];
    words
        .into_iter()
        .flat_map(|w| match LAST.iter().find(|l| w.len() > l.len() + 1 && w.ends_with(*l)) {
            Some(l) if *l == "categoryid" => vec![w[..w.len() - l.len()].to_string(), "category".to_string(), "id".to_string()],
            Some(l) => vec![w[..w.len() - l.len()].to_string(), l.to_string()],
            None => vec![w],
        })
        .collect()
}

/// The field of a generic JSONL event a key not read probably holds, from the words of its name
/// and the kinds of its values (`values`, or-ed `VALUE_*`): `product_id` holding strings is an
/// item, `unit_price` holding numbers a price; `price_currency`, `items` (an array),
/// `product_name`, `user_agent` or `session_start` are none. With the field, a rank: a key
/// named as an id (`user_id`) before one that is not (`customer`).
fn field_for(key: &str, values: u8) -> Option<(&'static str, u8)> {
    let words = key_words(key);
    let has = |w: &str| words.iter().any(|x| x == w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    // Words that say the key holds something else than the field its other words name.
    if any(&["agent", "currency", "url", "zone", "tz", "duration", "length", "start", "end", "count"]) {
        return None;
    }
    let numbers = values == VALUE_NUMBER;
    let ids = values != 0 && values & VALUE_OTHER == 0;
    let field =
        if any(&["category", "categ", "cat"]) && !any(&["event", "device", "traffic", "source", "medium", "campaign", "type"]) && ids {
            "category"
        } else if has("price") && numbers {
            "price"
        } else if any(&["qty", "quantity", "quantities"]) && numbers {
            "quantity"
        } else if has("session") && !any(&["name", "number", "num"]) && ids {
            "session"
        } else if (any(&["timestamp", "ts", "time", "epoch", "datetime"]) && !any(&["on", "load", "spent", "elapsed", "since", "to"]))
            || (words.len() == 2 && has("at") && any(&["created", "occurred", "sent", "received", "logged", "happened"]))
        {
            // A time as text is not `ts` (milliseconds): the note says how to convert it.
            "ts"
        } else if any(&["user", "visitor", "customer", "client", "anonymous", "browser", "device", "shopper"])
            && !any(&["name", "type", "segment", "group", "email", "category", "os", "model", "brand"])
            && ids
        {
            "user"
        } else if any(&["event", "action", "behavior", "behaviour", "activity"])
            && !any(&["id", "time", "date", "category", "label", "value", "source"])
            && values == VALUE_STRING
        {
            "type"
        } else if any(&["item", "product", "sku", "variant", "article"]) && !any(&["name", "type", "title", "brand", "price"]) && ids {
            "item"
        } else {
            return None;
        };
    // First the keys named as ids, or exactly as the field's usual name (`timestamp` before `originalTimestamp`).
    let exact = words.len() == 1
        && ["timestamp", "event", "user", "item", "product", "sku", "category", "price", "quantity", "qty"].contains(&words[0].as_str());
    Some((field, u8::from(!(exact || any(&["id", "key", "uuid", "code", "number"])))))
}

/// A note on the keys of a generic JSONL log that the reader does not read (the most frequent,
/// with their lines and the first), with the renames they seem to need when fewer lines have the
/// field they look like than have them; `None` when every key is read.
pub fn unread_keys_note(log: &Log) -> Option<String> {
    const SHOWN: usize = 5;
    if log.unread_keys.is_empty() {
        return None;
    }
    let shown: Vec<String> = log
        .unread_keys
        .iter()
        .take(SHOWN)
        .map(|k| format!("{} ({} line{}, first at line {})", k.key, k.lines, if k.lines == 1 { "" } else { "s" }, k.first_line))
        .collect();
    let more = log.unread_keys.len().saturating_sub(SHOWN);
    // For each field, the likeliest key among those on more lines than the field itself (so that
    // an `item` on one line of thirty does not hide the `product_id` on all of them): named as an
    // id first, then the most frequent.
    let renames: Vec<String> = JSONL_KEYS
        .iter()
        .zip(log.lines_with_key)
        .filter_map(|(field, lines)| {
            let (key, _) = log
                .unread_keys
                .iter()
                .filter(|k| k.lines > lines)
                .filter_map(|k| field_for(&k.key, k.values).filter(|(f, _)| f == field).map(|(_, rank)| (k, rank)))
                .min_by_key(|(k, rank)| (*rank, std::cmp::Reverse(k.lines)))?;
            // Some lines have the field already: the rename is for the others (a `list_price` on
            // every line is not the `price` of the lines that have one).
            let others = if lines > 0 { format!(" on the lines with no {field}") } else { String::new() };
            Some(match *field {
                "ts" if key.values & VALUE_STRING != 0 => {
                    format!("{} to ts{others}, as milliseconds since the epoch (it holds text: convert it, see the README)", key.key)
                }
                "session" => format!("{} to session{others}, if the widget would start sessions there too (see the README)", key.key),
                _ => format!("{} to {field}{others}", key.key),
            })
        })
        .collect();
    Some(format!(
        "keys not read: {}{}; the reader takes {} and no other key: {}",
        shown.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
        JSONL_KEYS.join(", "),
        if renames.is_empty() {
            "rename any that holds one of these (the others are not needed)".to_string()
        } else {
            format!("rename them ({}), or any other that holds one of these", renames.join(", "))
        }
    ))
}

/// The shop's own types (custom kinds) that differ from a GA4 name, or a Shopify or Segment name
/// mapped to one, only by case or separators (`VIEW_ITEM`, `view item`, `Product-Viewed`): each
/// with its events and the name it resembles, most frequent first. Taobao's short names (`pv`,
/// `cart`) are left out: a shop's own `Cart` is likely its own.
pub fn lookalike_kinds(kinds: &HashMap<Kind, usize>) -> Vec<(String, usize, &'static str)> {
    let squeeze = |name: &str| name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let known: Vec<(String, &'static str)> =
        shopper_intent::mapping::table().filter(|(v, _, _)| *v != Vocabulary::Taobao).map(|(_, name, _)| (squeeze(name), name)).collect();
    let mut found: Vec<(String, usize, &'static str)> = kinds
        .iter()
        .filter(|(k, _)| k.standard().is_none())
        .filter_map(|(k, n)| {
            let s = squeeze(k.name());
            known.iter().find(|(q, _)| *q == s).map(|(_, name)| (k.name().to_string(), *n, *name))
        })
        .collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    found
}

/// A note on [`lookalike_kinds`]; `None` when there are none.
pub fn lookalike_kinds_note(kinds: &HashMap<Kind, usize>) -> Option<String> {
    const SHOWN: usize = 8;
    let found = lookalike_kinds(kinds);
    if found.is_empty() {
        return None;
    }
    let shown: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|(name, n, like)| {
            let read_as = Kind::parse(like).map(|k| k.name().to_string()).unwrap_or_default();
            format!(
                "{name} ({n} event{}), did you mean {like}{}?",
                if *n == 1 { "" } else { "s" },
                if read_as != *like { format!(" (read as {read_as})") } else { String::new() }
            )
        })
        .collect();
    Some(format!(
        "types that look like GA4 names (or the Shopify and Segment names read as them) but are not spelled as them: {}{} \
         They are read as the shop's own kinds, each with its own column; names are matched exactly, so if they are these \
         events, write them as the known names",
        shown.join("; "),
        if found.len() > SHOWN { format!("; and {} more.", found.len() - SHOWN) } else { String::new() }
    ))
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
        with_item: 0,
        with_category: 0,
        with_price: 0,
        with_quantity: 0,
        unread_keys: Vec::new(),
        lines_with_key: [0; JSONL_KEYS.len()],
        not_on_page: std::collections::BTreeMap::new(),
        duplicates: 0,
        no_browser_id: 0,
        bad_purchases: Vec::new(),
        repeated_lines: (None, 0),
        out_of_order: (None, 0),
        sha256: String::new(),
    };
    let mut seen_rows: HashSet<u64> = HashSet::new();
    let mut seen_lines: HashSet<u64> = HashSet::new();
    // The order of GA4 events within their millisecond, by line (0 for every other format).
    let mut order: Vec<u64> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut non_empty = 0usize;
    // Keys not read: lines with each, the first, the kinds of their values.
    let mut unread: HashMap<String, (usize, usize, u8)> = HashMap::new();
    let mut documented = [0usize; JSONL_KEYS.len()];
    let mut handle = |line_no: usize, line: Result<&str, String>, log: &mut Log| -> Result<()> {
        log.lines += 1;
        if line.as_ref().is_ok_and(|l| l.trim().is_empty()) {
            log.skipped.push((line_no, Skipped::Empty));
            return Ok(());
        }
        non_empty += 1;
        let parsed = match &line {
            Ok(text) => parse_row(format, text, &mut |key, kind| {
                if let Some(i) = JSONL_KEYS.iter().position(|k| *k == key) {
                    documented[i] += usize::from(kind != 0);
                } else if let Some((n, _, kinds)) = unread.get_mut(key) {
                    *n += 1;
                    *kinds |= kind;
                } else if unread.len() < MAX_UNREAD_KEYS {
                    unread.insert(key.to_string(), (1, line_no, kind));
                }
            }),
            Err(e) => Err(e.clone()),
        };
        // A user id is kept with every event and written on every line `score` writes: as long as
        // the other ids at most.
        let parsed = match parsed {
            Ok(Row::Event(user, ..)) if user.len() > MAX_ID_BYTES => {
                Err(format!("user is {} bytes long: at most {MAX_ID_BYTES} are read (an id, as item and session are)", user.len()))
            }
            other => other,
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
        log.with_item += usize::from(event.item.is_some());
        log.with_category += usize::from(event.category.is_some());
        log.with_price += usize::from(event.price.is_some());
        log.with_quantity += usize::from(event.quantity.is_some());
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
    log.unread_keys = unread.into_iter().map(|(key, (lines, first_line, values))| UnreadKey { key, lines, first_line, values }).collect();
    log.lines_with_key = documented;
    log.unread_keys.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.first_line.cmp(&b.first_line)).then(a.key.cmp(&b.key)));
    let malformed = log.bad.len() as f64 / non_empty.max(1) as f64;
    if log.events == 0 || malformed > options.max_malformed {
        const SHOWN: usize = 5;
        let mut examples: Vec<String> = log.bad.iter().take(SHOWN).map(|b| format!("  line {}: {}", b.line, b.error)).collect();
        if log.bad.len() > SHOWN {
            examples.push(format!("  ... and {} more malformed lines", log.bad.len() - SHOWN));
        }
        let message = if log.events == 0 && log.outside_window > 0 && malformed <= options.max_malformed {
            // Few lines malformed (a header row, say): the time window is the story, told first.
            format!(
                "no event of the log is in the time window read: all {} fall outside it (--start-ms/--end-ms; for a Taobao \
                 CSV, the log's stated 2017-11-25 to 2017-12-03 unless they say otherwise){}",
                log.outside_window,
                if examples.is_empty() {
                    String::new()
                } else {
                    format!(
                        "\n{} of {} lines are malformed besides ({}):\n{}",
                        log.bad.len(),
                        non_empty,
                        percent(malformed),
                        examples.join("\n")
                    )
                }
            )
        } else {
            format!(
                "{} of {} lines are malformed ({}), {} events usable{}{}{}",
                log.bad.len(),
                non_empty,
                percent(malformed),
                log.events,
                if log.bad.is_empty() {
                    String::new()
                } else {
                    format!(" (the most accepted: {}, --max-malformed)", percent(options.max_malformed))
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
            )
        } + &if log.events == 0 && (!log.not_on_page.is_empty() || log.no_browser_id > 0) {
            format!(
                "\nthe other rows are GA4 events the widget never sees ({}) or rows without a browser id ({}, cookieless pings): \
                 the export needs the events the shop's pages push into the dataLayer (add_to_cart, purchase, its own), \
                 from browsers that consented",
                if log.not_on_page.is_empty() { "none".to_string() } else { counts_text(&log.not_on_page) },
                log.no_browser_id
            )
        } else {
            String::new()
        } + &unread_keys_note(&log).map_or(String::new(), |note| format!("\n{note}"))
            + &pretty_json_hint(&head)
            + &encoding_hint(&head, &log.bad);
        bail!("{message}");
    }
    for u in &mut log.users {
        for w in u.events.windows(2) {
            if w[1].1.ts_ms < w[0].1.ts_ms {
                log.out_of_order.1 += 1;
                log.out_of_order.0 = Some(log.out_of_order.0.map_or(w[1].0, |first| first.min(w[1].0)));
            }
        }
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
    fn a_time_as_text_is_named_as_quoted_digits_or_as_a_date() {
        let quoted = r#"{"user":"u","ts":"1700000000000","type":"view_item"}"#;
        let log = read(quoted.as_bytes(), opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(log.contains("a number in quotes; write it without them"), "{log}");
        let iso = r#"{"user":"u","ts":"2023-11-14T22:13:20Z","type":"view_item"}"#;
        let log = read(iso.as_bytes(), opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(log.contains("ISO 8601 times with jq"), "{log}");
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
    fn errors_name_the_cause_a_user_can_fix() {
        // A Taobao CSV with a header row: the row is named as one.
        let csv = "user_id,item_id,category_id,behavior_type,timestamp\n1,2,3,pv,1511544070\n1,2,3,buy,1511544080\n";
        let log = read(csv.as_bytes(), opts(Some(Format::Taobao), (0, i64::MAX))).unwrap();
        assert!(log.bad.len() == 1 && log.bad[0].error.ends_with("a header row? The Taobao CSV has none"), "{:?}", log.bad);
        // A log whose events all fall outside the window says so first, not "0 of N malformed".
        let e = read(csv.as_bytes(), opts(Some(Format::Taobao), (0, 1))).unwrap_err().to_string();
        assert!(e.starts_with("no event of the log is in the time window read: all 2 fall outside it"), "{e}");
        assert!(e.contains("\n1 of 3 lines are malformed besides (33%):\n  line 1: unknown behavior_type"), "{e}");
        let e = read("1,2,3,pv,1511544070\n1,2,3,buy,1511544080\n".as_bytes(), opts(Some(Format::Taobao), (0, 1))).unwrap_err().to_string();
        assert!(e.starts_with("no event of the log is in the time window read: all 2 fall outside it"), "{e}");
        // A gzip file read with its format given: the gzip hint all the same.
        let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\n\x8b\x9c\xff\x01\n";
        let e = read(&gz[..], opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("It looks gzip-compressed"), "{e}");
        // Text in Latin-1: the encoding is named.
        let latin1 = b"{\"user\": \"u\", \"ts\": 1700000000000, \"type\": \"view_item\", \"item\": \"caf\xe9\"}\n".repeat(3);
        let e = read(&latin1[..], opts(Some(Format::Jsonl), (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("Its lines are not UTF-8 text") && e.contains("iconv"), "{e}");
        // A user id longer than the other ids may be is refused, in every format.
        let long = "x".repeat(MAX_ID_BYTES + 1);
        for (format, text) in [
            (Format::Jsonl, format!("{{\"user\": \"{long}\", \"ts\": 1700000000000, \"type\": \"view_item\"}}\n{{\"user\": \"{}\", \"ts\": 1700000000000, \"type\": \"view_item\"}}\n", &long[1..])),
            (Format::Taobao, format!("{long},2,3,pv,1511544070\n{},2,3,pv,1511544070\n", &long[1..])),
        ] {
            let log = read(text.as_bytes(), ReadOptions { max_malformed: 0.9, ..opts(Some(format), (0, i64::MAX)) }).unwrap();
            assert_eq!(log.users.len(), 1, "{format:?}: the 256-byte id is read");
            assert!(log.bad.len() == 1 && log.bad[0].error.starts_with("user is 257 bytes long: at most 256 are read"), "{format:?}: {:?}", log.bad);
        }
        // A ts past 64 bits is shown as written, not as the clamp.
        let huge = "{\"user\": \"u\", \"ts\": 99999999999999999999999, \"type\": \"view_item\"}\n{\"user\": \"u\", \"ts\": 1700000000000, \"type\": \"view_item\"}\n";
        let log = read(huge.as_bytes(), ReadOptions { max_malformed: 0.9, ..opts(None, (0, i64::MAX)) }).unwrap();
        assert!(log.bad[0].error.starts_with("timestamp 1e23 ms is outside"), "{}", log.bad[0].error);
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

    #[test]
    fn keys_not_read_are_counted_and_named_with_the_renames_they_need() {
        let text = r#"{"user": "u1", "ts": 1700000000000, "type": "view_item", "product_id": "p1", "product_category": "c", "unit_price": 9.5, "qty": 1}
{"user": "u1", "ts": 1700000001000, "type": "add_to_cart", "product_id": "p1", "unit_price": 9.5, "qty": 2}
{"user": "u1", "ts": "soon", "type": "purchase", "product_id": "p1", "currency": "EUR"}
"#;
        let log = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap();
        let keys: Vec<(&str, usize, usize)> = log.unread_keys.iter().map(|k| (k.key.as_str(), k.lines, k.first_line)).collect();
        // Malformed lines count too: their keys are what the user wrote.
        assert_eq!(keys, [("product_id", 3, 1), ("qty", 2, 1), ("unit_price", 2, 1), ("product_category", 1, 1), ("currency", 1, 3)]);
        assert_eq!((log.with_item, log.with_category, log.with_price, log.with_quantity, log.with_session), (0, 0, 0, 0, 0));
        let note = unread_keys_note(&log).unwrap();
        assert!(note.starts_with("keys not read: product_id (3 lines, first at line 1), qty (2 lines, first at line 1)"), "{note}");
        assert!(note.contains("product_id to item, product_category to category, unit_price to price, qty to quantity"), "{note}");
        assert!(!note.contains("currency to"), "{note}");

        // The documented keys: nothing to say, and the fields counted.
        let text = r#"{"user": "u1", "ts": 1700000000000, "type": "view_item", "item": "p1", "category": "c", "price": 9.5, "session": "s"}
{"user": "u1", "ts": 1700000001000, "type": "add_to_cart", "item": "p1", "quantity": 2}
"#;
        let log = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap();
        assert!(log.unread_keys.is_empty() && unread_keys_note(&log).is_none());
        assert_eq!((log.with_item, log.with_category, log.with_price, log.with_quantity, log.with_session), (2, 1, 1, 1, 1));
        // A field some events have is not renamed to, and a GA4 row's many other keys are not counted.
        let text = "{\"user\": 1, \"ts\": 1700000000000, \"type\": \"view_item\", \"item\": \"a\", \"item_name\": \"Shoe\"}\n";
        let note = unread_keys_note(&read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap()).unwrap();
        assert!(note.contains("item_name (1 line, first at line 1)") && !note.contains("item_name to"), "{note}");
        // But a key on more lines than the field is: an `item` on one line does not hide the
        // `product_id` on all three.
        let text = "{\"user\": 1, \"ts\": 1700000000000, \"type\": \"view_item\", \"product_id\": \"a\", \"item\": \"a\"}\n\
                    {\"user\": 1, \"ts\": 1700000001000, \"type\": \"view_item\", \"product_id\": \"b\"}\n\
                    {\"user\": 1, \"ts\": 1700000002000, \"type\": \"view_item\", \"product_id\": \"c\"}\n";
        let note = unread_keys_note(&read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap()).unwrap();
        assert!(note.contains("rename them (product_id to item on the lines with no item)"), "{note}");
        let row = r#"{"event_name": "add_to_cart", "event_timestamp": "1700000000000000", "user_pseudo_id": "1.2", "platform": "WEB"}"#;
        assert!(read(row.as_bytes(), opts(None, (0, i64::MAX))).unwrap().unread_keys.is_empty());

        // A log that cannot be read at all names its keys in the error: `timestamp` for `ts`.
        let text = "{\"user\": 1, \"timestamp\": 1700000000000, \"type\": \"view_item\"}\n";
        let e = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("missing ts") && e.contains("keys not read: timestamp") && e.contains("timestamp to ts"), "{e}");
    }

    #[test]
    fn a_timestamp_in_another_unit_says_which() {
        let jsonl = |ts: &str| parse_line(Format::Jsonl, &format!(r#"{{"user": "u", "ts": {ts}, "type": "view_item"}}"#)).unwrap_err();
        assert!(jsonl("1700000000").ends_with("; it looks like seconds: multiply by 1000"), "{}", jsonl("1700000000"));
        assert!(jsonl("1700000000000000").ends_with("; it looks like microseconds: divide by 1000"), "{}", jsonl("1700000000000000"));
        assert!(jsonl("5").ends_with("(milliseconds since the Unix epoch expected)"), "no unit fits: {}", jsonl("5"));
        // GA4's export is in microseconds: the value as written, the unit expected, and the one it looks like.
        let ga4 = |ts: &str| {
            parse_line(Format::Ga4, &format!(r#"{{"event_name": "add_to_cart", "event_timestamp": "{ts}", "user_pseudo_id": "1.2"}}"#))
                .unwrap_err()
        };
        let e = ga4("1511649748997");
        assert!(e.starts_with("event_timestamp 1511649748997 is outside 2000-01-01..2200-01-01 as microseconds"), "{e}");
        assert!(e.ends_with("; it looks like milliseconds: multiply by 1000") && !e.contains("1511649748 ms"), "{e}");
        assert!(ga4("1511649748").ends_with("; it looks like seconds: multiply by 1000000"), "{}", ga4("1511649748"));
        assert_eq!(
            [percent(0.0), percent(2.0 / 3440.0), percent(0.5), percent(0.0123), percent(0.2345)],
            ["0%", "0.058%", "50%", "1.2%", "23%"]
        );
        // Taobao's column is in seconds.
        let taobao = parse_taobao("1,2,3,pv,1511544070000").unwrap_err();
        assert_eq!(
            taobao,
            "timestamp 1511544070000 is outside 2000-01-01..2200-01-01 as seconds since the Unix epoch (the unit of the Taobao \
             CSV); it looks like milliseconds: divide by 1000"
        );
        assert!(ga4("12").contains("as microseconds since the Unix epoch") && !ga4("12").contains("looks like"), "{}", ga4("12"));
    }

    #[test]
    fn binary_files_are_named_by_their_first_bytes_and_utf16_only_when_it_is() {
        let unknown = |bytes: &[u8]| sniff(bytes).unwrap_err().to_string();
        let avro = b"Obj\x01\x04\x14avro.codec\x0cdeflate\x00\x00\x00\x00\x00\x00";
        for (bytes, named) in [
            (&avro[..], "It is an Avro file"),
            (&b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00\x08\x1c\x00\x00\x00\n"[..], "It is a Parquet file"),
            (&b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x9a\x5b\n"[..], "It is a zip archive"),
            (&b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\n"[..], "ELF executable"),
            (&b"\x00\x01\x02\x03\x04\x05\x06\x07\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\n"[..], "a binary file, not text"),
        ] {
            let e = unknown(bytes);
            assert!(e.contains(named) && e.contains("the first line is not text") && !e.contains("UTF-16"), "{named}: {e}");
        }
        assert!(unknown(&avro[..]).contains("newline-delimited JSON"));
        // UTF-16, with either byte-order mark, or without one (a NUL beside each character).
        let utf16 = |big: bool| -> Vec<u8> {
            "{\"user\": \"u1\", \"ts\": 1700000000000}\n"
                .encode_utf16()
                .flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        };
        for bytes in [[&[0xff, 0xfe][..], &utf16(false)].concat(), [&[0xfe, 0xff][..], &utf16(true)].concat(), utf16(false), utf16(true)] {
            assert!(unknown(&bytes).contains("It looks like UTF-16 text"), "{}", unknown(&bytes));
        }
        // A Latin-1 CSV is text in another encoding, not a binary file.
        let latin1: Vec<u8> = "été,àéèù,ñó\n".chars().map(|c| c as u32 as u8).collect();
        let e = unknown(&latin1);
        assert!(e.contains("It is text, but not UTF-8 (Latin-1, Windows-1252") && !e.contains("binary"), "{e}");
    }

    #[test]
    fn keys_are_matched_to_fields_by_their_words_and_values() {
        let s = VALUE_STRING;
        let n = VALUE_NUMBER;
        for (key, values, field) in [
            ("product_id", s, Some("item")),
            ("productId", n, Some("item")),
            ("product_category", s, Some("category")),
            ("unit_price", n, Some("price")),
            ("qty", n, Some("quantity")),
            ("user_id", s, Some("user")),
            ("anonymousId", s, Some("user")),
            ("event_time", n, Some("ts")),
            ("timestamp", s, Some("ts")),
            ("created_at", n, Some("ts")),
            ("event", s, Some("type")),
            ("session_id", s, Some("session")),
            // Other things under the same words.
            ("price_currency", s, None),
            ("unit_price", s, None),
            ("items", VALUE_OTHER, None),
            ("product_name", s, None),
            ("user_agent", s, None),
            ("userAgent", s, None),
            ("session_start", n, None),
            ("session_number", n, None),
            ("event_category", s, None),
            ("event_id", s, None),
            ("updated_at", n, None),
            ("time_zone", s, None),
            ("date", s, None),
            // Joined lowercase names, and the exclusions that depend on the field.
            ("visitorid", s, Some("user")),
            ("itemid", n, Some("item")),
            ("categoryid", n, Some("category")),
            ("unitprice", n, Some("price")),
            ("SKUCode", s, Some("item")),
            ("event_name", s, Some("type")),
            ("item_number", s, Some("item")),
            ("category_name", s, Some("category")),
            ("device_category", s, None),
            ("customer_type", s, None),
            ("product_type", s, None),
            ("time_on_page", n, None),
            ("load_time", n, None),
        ] {
            assert_eq!(field_for(key, values).map(|(f, _)| f), field, "{key}");
        }
        // An id, or the field's usual name, before a key that is neither, whatever their counts.
        assert!(field_for("customer", s).unwrap().1 > field_for("customer_id", s).unwrap().1);
        assert!(field_for("originalTimestamp", s).unwrap().1 > field_for("timestamp", s).unwrap().1);
        // A key that is sometimes null is judged by its other values.
        let text = "{\"anonymousId\": \"a1\", \"timestamp\": 1700000000000, \"event\": \"view_item\"}\n\
                    {\"anonymousId\": null, \"timestamp\": 1700000001000, \"event\": \"purchase\"}\n";
        let e = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap_err().to_string();
        assert!(e.contains("anonymousId to user") && e.contains("timestamp to ts") && !e.contains("holds text"), "{e}");
    }

    #[test]
    fn an_empty_user_is_a_malformed_line() {
        let text = r#"{"user": "", "ts": 1700000000000, "type": "view_item"}
{"user": "u1", "ts": 1700000001000, "type": "view_item"}
{"user": "u1", "ts": 1700000002000, "type": "purchase"}
{"user": "  ", "ts": 1700000003000, "type": "view_item"}
"#;
        let log = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap();
        assert_eq!(log.users.iter().map(|u| u.user.as_str()).collect::<Vec<_>>(), ["u1"]);
        assert_eq!(log.bad.iter().map(|b| b.line).collect::<Vec<_>>(), [1, 4]);
        assert!(log.bad[0].error.starts_with("user must not be empty"), "{}", log.bad[0].error);
        let e = read(text.as_bytes(), ReadOptions { on_error: OnError::Reject, ..opts(None, (0, i64::MAX)) }).unwrap_err();
        assert!(e.to_string().starts_with("line 1: user must not be empty"), "{e}");
    }

    #[test]
    fn types_spelled_like_known_names_are_named_and_still_read_as_they_are() {
        let text = r#"{"user": "u1", "ts": 1700000000000, "type": "VIEW_ITEM"}
{"user": "u1", "ts": 1700000001000, "type": "VIEW_ITEM"}
{"user": "u1", "ts": 1700000002000, "type": "view item"}
{"user": "u1", "ts": 1700000003000, "type": "View-Item"}
{"user": "u1", "ts": 1700000004000, "type": "product viewed"}
{"user": "u1", "ts": 1700000005000, "type": "Cart"}
{"user": "u1", "ts": 1700000006000, "type": "size_guide_open"}
{"user": "u1", "ts": 1700000007000, "type": "Product Viewed"}
"#;
        let log = read(text.as_bytes(), opts(None, (0, i64::MAX))).unwrap();
        assert_eq!(log.kinds[&Kind::parse("VIEW_ITEM").unwrap()], 2, "still the shop's own kind");
        assert_eq!(
            lookalike_kinds(&log.kinds),
            [
                ("VIEW_ITEM".to_string(), 2, "view_item"),
                ("View-Item".to_string(), 1, "view_item"),
                ("product viewed".to_string(), 1, "product_viewed"),
                ("view item".to_string(), 1, "view_item"),
            ]
        );
        let note = lookalike_kinds_note(&log.kinds).unwrap();
        assert!(note.contains("VIEW_ITEM (2 events), did you mean view_item?"), "{note}");
        assert!(note.contains("product viewed (1 event), did you mean product_viewed (read as view_item)?"), "{note}");
        assert!(!note.contains("Cart") && !note.contains("size_guide_open"), "{note}");
        let plain = "{\"user\": 1, \"ts\": 1700000000000, \"type\": \"view_item\"}\n{\"user\": 1, \"ts\": 1700000000001, \"type\": \"size_guide_open\"}\n";
        assert!(lookalike_kinds_note(&read(plain.as_bytes(), opts(None, (0, i64::MAX))).unwrap().kinds).is_none());
    }
}
