//! Versioned, compact binary serialization of a [`Window`].
//!
//! Layout (little-endian): the magic `SIST`, a format byte, the feature version, the window's
//! configuration (W, UTC offset, the kinds by name, salt), the history, the session (if any),
//! the feature rows, and an FNV-1a 64 checksum of everything before it. Only hashes, counts and feature rows
//! are stored, never a raw id. Restoring checks the magic, the versions, the checksum, every count
//! against its bound and every float for finiteness: a corrupt, truncated or foreign state is an
//! [`Error::BadState`], never a panic.
//!
//! ```
//! use shopper_intent::{Event, EventKind, Window, WindowConfig};
//! let mut w = Window::new(WindowConfig::default()).unwrap();
//! w.push(&Event::new(EventKind::ViewItem, 1_700_000_000_000).with_item("sku-1", "shoes")).unwrap();
//! let bytes = w.to_bytes();
//! assert_eq!(Window::from_bytes(&bytes).unwrap(), w);
//! assert!(Window::from_bytes(&bytes[..bytes.len() - 1]).is_err());
//! ```

use std::collections::VecDeque;

use crate::error::Error;
use crate::event::{MAX_TS_MS, MIN_TS_MS};
use crate::features::{row_len, FEATURE_VERSION};
use crate::hash::{KeyMap, KeySet};
use crate::kinds::{Kinds, MAX_KINDS};
use crate::window::{EarlierSessions, ItemStat, Pending, Rows, Session, Window, WindowConfig, MAX_PENDING, MAX_SESSION_ITEMS, MA_SPAN};

const MAGIC: &[u8; 4] = b"SIST";
/// The window state format this engine writes and reads.
pub const STATE_FORMAT: u8 = 2;

/// FNV-1a, 64 bits: the checksum of saved state and of model weights (integrity against
/// accidents, not against an adversary).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
}

pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

/// The bound of a saved counter (see [`Reader::counter`]).
const MAX_COUNTER: u32 = 1 << 31;

pub(crate) fn bad(msg: impl Into<String>) -> Error {
    Error::BadState(msg.into())
}

impl<'a> Reader<'a> {
    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let end = self.at.checked_add(N).filter(|&e| e <= self.bytes.len()).ok_or_else(|| bad("truncated"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take::<1>()?[0])
    }
    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(bad(format!("expected a flag, found byte {b}"))),
        }
    }
    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    pub(crate) fn i32(&mut self) -> Result<i32, Error> {
        Ok(i32::from_le_bytes(self.take()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    pub(crate) fn i64(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.take()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32, Error> {
        let v = f32::from_le_bytes(self.take()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad("non-finite number"))
        }
    }
    pub(crate) fn f64(&mut self) -> Result<f64, Error> {
        let v = f64::from_le_bytes(self.take()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad("non-finite number"))
        }
    }
    /// `n` bytes.
    pub(crate) fn slice(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| bad("truncated"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    /// A time of an event the engine took (ms since the epoch, in the range events may have).
    pub(crate) fn ts(&mut self, what: &str) -> Result<i64, Error> {
        let v = self.i64()?;
        if !(MIN_TS_MS..MAX_TS_MS).contains(&v) {
            return Err(bad(format!("{what} {v} is outside the times events may have")));
        }
        Ok(v)
    }
    /// A counter the engine adds one to: below 2^31, where no session or shopper comes (an
    /// event a millisecond for 24 days), so that adding to it never overflows.
    pub(crate) fn counter(&mut self, what: &str) -> Result<u32, Error> {
        let v = self.u32()?;
        if v >= MAX_COUNTER {
            return Err(bad(format!("{what} {v}, at most {} allowed", MAX_COUNTER - 1)));
        }
        Ok(v)
    }
    pub(crate) fn count8(&mut self, max: usize, what: &str) -> Result<usize, Error> {
        let n = usize::from(self.u8()?);
        if n > max {
            return Err(bad(format!("{n} {what}, at most {max} allowed")));
        }
        Ok(n)
    }
    pub(crate) fn count(&mut self, max: usize, what: &str) -> Result<usize, Error> {
        let n = usize::from(self.u16()?);
        if n > max {
            return Err(bad(format!("{n} {what}, at most {max} allowed")));
        }
        Ok(n)
    }
}

impl Window {
    /// Serializes the whole window: configuration (with the salt), history, session and rows.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(256 + self.rows.len() * self.rows.width() * 4));
        self.write(&mut w);
        let sum = fnv1a(&w.0);
        w.u64(sum);
        w.0
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.bytes(MAGIC);
        w.u8(STATE_FORMAT);
        w.u32(FEATURE_VERSION);
        let c = &self.config;
        w.u16(c.window as u16);
        w.i32(c.utc_offset_min);
        w.u8(c.kinds.len() as u8);
        for k in c.kinds.iter() {
            w.u8(k.name().len() as u8);
            w.bytes(k.name().as_bytes());
        }
        w.bytes(&c.salt);

        let h = &self.earlier;
        w.u32(h.sessions);
        w.u32(h.purchase_sessions);
        w.u8(u8::from(h.last_end_ms.is_some()));
        w.i64(h.last_end_ms.unwrap_or(0));
        w.u16(h.pending.len() as u16);
        for p in &h.pending {
            w.u64(p.item);
            w.u8(p.flags);
            w.i64(p.last_ms);
        }

        w.u8(u8::from(self.session.is_some()));
        if let Some(s) = &self.session {
            w.u8(u8::from(s.key.is_some()));
            w.u64(s.key.unwrap_or(0));
            w.i64(s.start_ms);
            w.i64(s.last_ms);
            w.u32(s.events);
            w.u32(s.prefix);
            for c in &s.counts {
                w.u32(*c);
            }
            w.u32(s.views);
            w.u32(s.carts);
            w.f64(s.cart_value);
            let mut items: Vec<_> = s.items.iter().collect();
            items.sort_unstable_by_key(|(k, _)| **k);
            w.u16(items.len() as u16);
            for (k, v) in items {
                w.u64(*k);
                w.u32(v.views);
                w.u8(v.flags);
            }
            let mut cats: Vec<_> = s.categories.iter().copied().collect();
            cats.sort_unstable();
            w.u16(cats.len() as u16);
            for k in cats {
                w.u64(k);
            }
            w.u32(s.max_item_views);
            w.u16(s.recent.len() as u16);
            for v in &s.recent {
                w.f32(*v);
            }
            w.f32(s.smoothed);
            w.u32(s.pending_touches);
            w.u8(u8::from(s.purchased));
            w.f32(s.hour.0);
            w.f32(s.hour.1);
            w.u32(s.pending_at_start);
        }

        w.u16(self.rows.len() as u16);
        for row in self.rows.iter() {
            for v in row {
                w.f32(*v);
            }
        }
    }

    /// Restores a window from [`Window::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Window, Error> {
        if bytes.len() < MAGIC.len() || &bytes[..4] != MAGIC {
            return Err(bad("not a shopper-intent state"));
        }
        if bytes.len() < 4 + 1 + 8 {
            return Err(bad("truncated"));
        }
        let format = bytes[4];
        if format != STATE_FORMAT {
            return Err(bad(format!("state format {format}, this engine reads {STATE_FORMAT}")));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if u64::from_le_bytes(sum.try_into().map_err(|_| bad("truncated"))?) != fnv1a(body) {
            return Err(bad("checksum mismatch (corrupt or truncated)"));
        }
        let mut r = Reader { bytes: body, at: 0 };
        let window = Window::read(&mut r)?;
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(window)
    }

    /// Reads what [`Window::write`] wrote (the caller checks the checksum).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Window, Error> {
        if r.take::<4>()? != *MAGIC {
            return Err(bad("not a shopper-intent state"));
        }
        let format = r.u8()?;
        if format != STATE_FORMAT {
            return Err(bad(format!("state format {format}, this engine reads {STATE_FORMAT}")));
        }
        let fv = r.u32()?;
        if fv != FEATURE_VERSION {
            return Err(bad(format!("feature version {fv}, this engine computes {FEATURE_VERSION}")));
        }
        let window = usize::from(r.u16()?);
        let utc_offset_min = r.i32()?;
        let n = r.count8(MAX_KINDS, "event kinds")?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            let len = usize::from(r.u8()?);
            let name = std::str::from_utf8(r.slice(len)?).map_err(|_| bad("an event kind is not UTF-8"))?;
            names.push(name);
        }
        let kinds = Kinds::parse(&names).map_err(|e| bad(format!("bad event kinds: {e}")))?;
        let salt = r.take::<16>()?;
        let config = WindowConfig { window, utc_offset_min, kinds, salt };
        config.validate().map_err(|e| bad(e.to_string()))?;

        // Times and counters are checked as the events they come from were: a state edited by
        // hand (its checksum is no secret) cannot bring a time or a count the window's
        // arithmetic was not written for.
        let sessions = r.counter("sessions")?;
        let purchase_sessions = r.counter("purchasing sessions")?;
        let has_end = r.bool()?;
        let end = if has_end { r.ts("the last session's end")? } else { r.i64()? };
        let n = r.count(MAX_PENDING, "pending items")?;
        let mut pending = Vec::with_capacity(n);
        for _ in 0..n {
            let item = r.u64()?;
            let flags = r.u8()?;
            let last_ms = r.ts("a pending item's time")?;
            pending.push(Pending { item, flags, last_ms });
        }
        let history = EarlierSessions { sessions, purchase_sessions, last_end_ms: has_end.then_some(end), pending };

        let session = if r.bool()? {
            let has_key = r.bool()?;
            let key = r.u64()?;
            let mut s = Session {
                key: has_key.then_some(key),
                start_ms: r.ts("the session's start")?,
                last_ms: r.ts("the session's last event")?,
                events: r.counter("events")?,
                prefix: r.counter("scored events")?,
                ..Session::default()
            };
            s.counts = (0..config.kinds.columns()).map(|_| r.counter("events of a kind")).collect::<Result<_, _>>()?;
            s.views = r.counter("views")?;
            s.carts = r.counter("cart adds")?;
            s.cart_value = r.f64()?;
            if s.cart_value < 0.0 {
                return Err(bad("negative cart value"));
            }
            let n = r.count(MAX_SESSION_ITEMS, "items")?;
            let mut items = KeyMap::with_capacity_and_hasher(n, Default::default());
            for _ in 0..n {
                let k = r.u64()?;
                items.insert(k, ItemStat { views: r.counter("an item's views")?, flags: r.u8()? });
            }
            s.items = items;
            let n = r.count(MAX_SESSION_ITEMS, "categories")?;
            let mut cats = KeySet::with_capacity_and_hasher(n, Default::default());
            for _ in 0..n {
                cats.insert(r.u64()?);
            }
            s.categories = cats;
            s.max_item_views = r.counter("the most views of an item")?;
            let n = r.count(MA_SPAN, "recent weights")?;
            let mut recent = VecDeque::with_capacity(MA_SPAN);
            for _ in 0..n {
                recent.push_back(r.f32()?);
            }
            s.recent = recent;
            s.smoothed = r.f32()?;
            s.pending_touches = r.counter("touches of pending items")?;
            s.purchased = r.bool()?;
            s.hour = (r.f32()?, r.f32()?);
            s.pending_at_start = r.counter("pending items at the start")?;
            if s.last_ms < s.start_ms || s.prefix > s.events {
                return Err(bad("inconsistent session"));
            }
            Some(s)
        } else {
            None
        };

        let width = row_len(&config.kinds);
        let n = r.count(window, "rows")?;
        if session.as_ref().map_or(0, |s| s.prefix as usize).min(window) != n {
            return Err(bad("the rows do not match the session"));
        }
        let mut rows = Rows::new(width, window);
        for _ in 0..n {
            let row = rows.push();
            for v in row.iter_mut() {
                *v = r.f32()?;
            }
        }
        Ok(Window { config, earlier: history, session, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind};

    fn sample() -> Window {
        let kinds = Kinds::parse(&["view_item", "add_to_wishlist", "add_to_cart", "purchase", "coupon_applied"]).unwrap();
        let mut w = Window::new(WindowConfig { salt: [7; 16], utc_offset_min: 480, kinds, ..WindowConfig::default() }).unwrap();
        let t = 1_511_600_000_000;
        w.push(&Event::new(EventKind::AddToCart, t).with_item("a", "x")).unwrap();
        w.push(&Event::new(EventKind::ViewItem, t + 3_600_000).with_item("a", "x")).unwrap();
        w.push(&Event::new(EventKind::AddToWishlist, t + 3_601_000).with_item("b", "y")).unwrap();
        w
    }

    #[test]
    fn round_trip_keeps_everything_and_holds_no_raw_id() {
        let w = sample();
        let bytes = w.to_bytes();
        assert_eq!(Window::from_bytes(&bytes).unwrap(), w);
        assert!(!bytes.windows(3).any(|s| s == b"sku"));
        let mut restored = Window::from_bytes(&bytes).unwrap();
        let mut original = w.clone();
        let e = Event::new(EventKind::ViewItem, 1_511_600_000_000 + 3_700_000).with_item("a", "x");
        assert_eq!(restored.push(&e).unwrap(), original.push(&e).unwrap());
        assert_eq!(restored, original);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let bytes = sample().to_bytes();
        for n in 0..bytes.len() {
            assert!(matches!(Window::from_bytes(&bytes[..n]), Err(Error::BadState(_))), "truncated at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(Window::from_bytes(&b).is_err(), "flipped byte {i}");
        }
    }

    /// A state edited by hand keeps a valid checksum (the checksum is no secret): a time or a
    /// count no engine makes, which the window's arithmetic would overflow on, is refused.
    #[test]
    fn times_and_counts_no_engine_makes_are_refused() {
        type Edit = Box<dyn Fn(&mut Window)>;
        let edits: Vec<(&str, Edit)> = vec![
            ("the session's start", Box::new(|w| w.session.as_mut().unwrap().start_ms = i64::MIN)),
            ("the session's last event", Box::new(|w| w.session.as_mut().unwrap().last_ms = i64::MAX)),
            ("the last session's end", Box::new(|w| w.earlier.last_end_ms = Some(-5))),
            ("a pending item's time", Box::new(|w| w.earlier.pending[0].last_ms = i64::MIN)),
            ("events", Box::new(|w| w.session.as_mut().unwrap().events = u32::MAX)),
            ("events of a kind", Box::new(|w| w.session.as_mut().unwrap().counts[0] = u32::MAX)),
            ("sessions", Box::new(|w| w.earlier.sessions = 1 << 31)),
        ];
        for (what, edit) in edits {
            let mut w = sample();
            // A session before this one, for its end and its pending item.
            w.push(&Event::new(EventKind::ViewItem, 1_511_600_000_000 + 3 * 3_600_000).with_item("c", "x")).unwrap();
            assert!(!w.earlier.pending.is_empty() && w.earlier.last_end_ms.is_some());
            Window::from_bytes(&w.to_bytes()).expect("the state as saved");
            edit(&mut w);
            let err = Window::from_bytes(&w.to_bytes()).expect_err(what).to_string();
            assert!(err.contains(what), "{what}: {err}");
        }
    }

    #[test]
    fn foreign_bytes_are_refused_with_a_reason() {
        let e = Window::from_bytes(b"{\"hello\": 1}").unwrap_err();
        assert_eq!(e, Error::BadState("not a shopper-intent state".into()));
        let mut bytes = sample().to_bytes();
        bytes[4] = 9;
        let n = bytes.len();
        let sum = fnv1a(&bytes[..n - 8]);
        bytes[n - 8..].copy_from_slice(&sum.to_le_bytes());
        assert!(Window::from_bytes(&bytes).unwrap_err().to_string().contains("format 9"));
    }
}
