//! Versioned, compact binary serialization of a [`Window`].
//!
//! Layout (little-endian): the magic `SIST`, a format byte, the feature version, the window's
//! configuration (W, UTC offset, kinds, salt), the history, the session (if any), the feature
//! rows, and an FNV-1a 64 checksum of everything before it. Only hashes, counts and feature rows
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

use std::collections::{HashMap, HashSet, VecDeque};

use crate::features::{FEATURE_VERSION, SEQ_LEN};
use crate::window::{History, ItemStat, Pending, Session, MAX_PENDING, MAX_SESSION_ITEMS, MA_SPAN};
use crate::{Error, EventKind, KindSet, Window, WindowConfig};

const MAGIC: &[u8; 4] = b"SIST";
/// The state format this engine writes and reads.
pub const STATE_FORMAT: u8 = 1;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadState(msg.into())
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let end = self.at.checked_add(N).filter(|&e| e <= self.bytes.len()).ok_or_else(|| bad("truncated"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take::<1>()?[0])
    }
    fn bool(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(bad(format!("expected a flag, found byte {b}"))),
        }
    }
    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn i32(&mut self) -> Result<i32, Error> {
        Ok(i32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32, Error> {
        let v = f32::from_le_bytes(self.take()?);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad("non-finite number"))
        }
    }
    fn count(&mut self, max: usize, what: &str) -> Result<usize, Error> {
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
        let mut w = Writer(Vec::with_capacity(256 + self.rows.len() * SEQ_LEN * 4));
        w.0.extend_from_slice(MAGIC);
        w.u8(STATE_FORMAT);
        w.u32(FEATURE_VERSION);
        let c = &self.config;
        w.u16(c.window as u16);
        w.i32(c.utc_offset_min);
        w.u16(kinds_mask(c.kinds));
        w.0.extend_from_slice(&c.salt);

        let h = &self.history;
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
            w.i64(s.start_ms);
            w.i64(s.last_ms);
            w.u32(s.events);
            w.u32(s.prefix);
            for c in s.counts {
                w.u32(c);
            }
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
        for row in &self.rows {
            for v in row {
                w.f32(*v);
            }
        }
        let sum = fnv1a(&w.0);
        w.u64(sum);
        w.0
    }

    /// Restores a window from [`Window::to_bytes`] output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Window, Error> {
        if bytes.len() < MAGIC.len() || &bytes[..4] != MAGIC {
            return Err(bad("not a shopper-intent state"));
        }
        if bytes.len() < 4 + 1 + 8 {
            return Err(bad("truncated"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader { bytes: body, at: 4 };
        let format = r.u8()?;
        if format != STATE_FORMAT {
            return Err(bad(format!("state format {format}, this engine reads {STATE_FORMAT}")));
        }
        if u64::from_le_bytes(sum.try_into().map_err(|_| bad("truncated"))?) != fnv1a(body) {
            return Err(bad("checksum mismatch (corrupt or truncated)"));
        }
        let fv = r.u32()?;
        if fv != FEATURE_VERSION {
            return Err(bad(format!("feature version {fv}, this engine computes {FEATURE_VERSION}")));
        }
        let window = usize::from(r.u16()?);
        let utc_offset_min = r.i32()?;
        let mask = r.u16()?;
        if mask & !kinds_mask(KindSet::ALL) != 0 {
            return Err(bad("unknown event kinds"));
        }
        let kinds = KindSet::from_kinds(&EventKind::ALL.into_iter().filter(|k| mask & (1 << k.index()) != 0).collect::<Vec<_>>());
        let salt = r.take::<16>()?;
        let config = WindowConfig { window, utc_offset_min, kinds, salt };
        config.validate().map_err(|e| bad(e.to_string()))?;

        let sessions = r.u32()?;
        let purchase_sessions = r.u32()?;
        let has_end = r.bool()?;
        let end = r.i64()?;
        let n = r.count(MAX_PENDING, "pending items")?;
        let mut pending = Vec::with_capacity(n);
        for _ in 0..n {
            let item = r.u64()?;
            let flags = r.u8()?;
            let last_ms = r.i64()?;
            pending.push(Pending { item, flags, last_ms });
        }
        let history = History { sessions, purchase_sessions, last_end_ms: has_end.then_some(end), pending };

        let session = if r.bool()? {
            let mut s = Session { start_ms: r.i64()?, last_ms: r.i64()?, events: r.u32()?, prefix: r.u32()?, ..Session::default() };
            for c in s.counts.iter_mut() {
                *c = r.u32()?;
            }
            let n = r.count(MAX_SESSION_ITEMS, "items")?;
            let mut items = HashMap::with_capacity(n);
            for _ in 0..n {
                let k = r.u64()?;
                items.insert(k, ItemStat { views: r.u32()?, flags: r.u8()? });
            }
            s.items = items;
            let n = r.count(MAX_SESSION_ITEMS, "categories")?;
            let mut cats = HashSet::with_capacity(n);
            for _ in 0..n {
                cats.insert(r.u64()?);
            }
            s.categories = cats;
            s.max_item_views = r.u32()?;
            let n = r.count(MA_SPAN, "recent weights")?;
            let mut recent = VecDeque::with_capacity(MA_SPAN);
            for _ in 0..n {
                recent.push_back(r.f32()?);
            }
            s.recent = recent;
            s.smoothed = r.f32()?;
            s.pending_touches = r.u32()?;
            s.purchased = r.bool()?;
            s.hour = (r.f32()?, r.f32()?);
            s.pending_at_start = r.u32()?;
            if s.last_ms < s.start_ms || s.prefix > s.events {
                return Err(bad("inconsistent session"));
            }
            Some(s)
        } else {
            None
        };

        let n = r.count(window, "rows")?;
        let mut rows = VecDeque::with_capacity(window);
        for _ in 0..n {
            let mut row = [0f32; SEQ_LEN];
            for v in row.iter_mut() {
                *v = r.f32()?;
            }
            rows.push_back(row);
        }
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Window { config, history, session, rows })
    }
}

fn kinds_mask(kinds: KindSet) -> u16 {
    kinds.kinds().fold(0, |m, k| m | 1 << k.index())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    fn sample() -> Window {
        let mut w = Window::new(WindowConfig { salt: [7; 16], utc_offset_min: 480, ..WindowConfig::default() }).unwrap();
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

    #[test]
    fn foreign_bytes_are_refused_with_a_reason() {
        let e = Window::from_bytes(b"{\"hello\": 1}").unwrap_err();
        assert_eq!(e, Error::BadState("not a shopper-intent state".into()));
        let mut bytes = sample().to_bytes();
        bytes[4] = 9;
        assert!(Window::from_bytes(&bytes).unwrap_err().to_string().contains("format 9"));
    }
}
