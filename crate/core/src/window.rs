//! The rolling window: the current session's last W feature rows, the session's running state,
//! and a bounded summary of earlier sessions.
//!
//! ```
//! use shopper_intent::{Event, EventKind, Outcome, Window, WindowConfig};
//! let mut w = Window::new(WindowConfig::default()).unwrap();
//! let t = 1_700_000_000_000;
//! let first = w.push(&Event::new(EventKind::ViewItem, t).with_item("sku-1", "shoes")).unwrap();
//! assert!(first.new_session && first.outcome == Outcome::Row);
//! w.push(&Event::new(EventKind::AddToCart, t + 20_000).with_item("sku-1", "shoes")).unwrap();
//! assert_eq!(w.prefix(), 2);
//! assert_eq!(w.rows().len(), 2);
//! // Thirty-one minutes later a new session starts; the cart is remembered as pending.
//! let next = w.push(&Event::new(EventKind::ViewItem, t + 20_000 + 31 * 60_000).with_item("sku-1", "shoes")).unwrap();
//! assert!(next.new_session);
//! assert_eq!(w.earlier().sessions, 1);
//! assert_eq!(w.earlier().pending.len(), 1);
//! ```

use std::collections::VecDeque;

use crate::error::Error;
use crate::event::{Event, EventKind, Kind};
use crate::features::{agg, aggregate_len, hour_of_day, log1p, log1p_count, num, row_len};
use crate::hash::{hash_id, KeyMap, KeySet, Salt};
use crate::kinds::{Column, Kinds};

/// Without a session id from the shop, a gap longer than this starts a new session (the Google
/// Analytics rule).
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// An event up to this much older than the newest one is accepted, with its time clamped to the
/// newest; an older one is rejected with [`Error::OutOfOrder`], unless it is more than
/// [`SESSION_GAP_MS`] older: then the clock was set back, and a new session starts.
pub const REORDER_TOLERANCE_MS: i64 = 2_000;
/// Distinct items (and categories) tracked per session; later new ones are not tracked.
pub const MAX_SESSION_ITEMS: usize = 512;
/// Pending items kept across sessions; the least recently touched is evicted first.
pub const MAX_PENDING: usize = 64;
/// A pending item not touched for this long is forgotten.
pub const PENDING_TTL_MS: i64 = 14 * 24 * 3_600_000;
/// Events in the engagement moving average.
pub const MA_SPAN: usize = 5;
/// Smoothing factor of the exponentially smoothed engagement.
pub const EWMA_ALPHA: f32 = 0.3;
/// The largest window accepted.
pub const MAX_WINDOW: usize = 1024;
/// The largest UTC offset accepted, in minutes either way (UTC-18:00 to UTC+18:00).
pub const MAX_UTC_OFFSET_MIN: i32 = 18 * 60;

/// The item was added to the cart.
pub(crate) const FLAG_CART: u8 = 1;
/// The item was added to the wishlist.
pub(crate) const FLAG_WISHLIST: u8 = 2;
/// The item was bought.
pub(crate) const FLAG_BOUGHT: u8 = 4;

/// How a window is set up.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowConfig {
    /// W: feature rows kept (for explanations and restore; the model itself streams).
    pub window: usize,
    /// Minutes to add to UTC for the shop's local time (UTC+8 is 480).
    pub utc_offset_min: i32,
    /// The kinds the model reads, in column order; events of other kinds are validated and then
    /// ignored.
    pub kinds: Kinds,
    /// The per-device salt item, category and session ids are hashed with.
    pub salt: Salt,
}

impl Default for WindowConfig {
    /// W = 32, UTC, the twelve GA4 kinds, an all-zero salt (tests and offline featurizing only:
    /// a browser must pass a random per-device salt).
    fn default() -> Self {
        WindowConfig { window: 32, utc_offset_min: 0, kinds: Kinds::standard(), salt: [0; 16] }
    }
}

impl WindowConfig {
    /// Checks the ranges: 1 <= W <= [`MAX_WINDOW`], offset within ±18 h.
    pub fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_WINDOW).contains(&self.window) {
            return Err(Error::BadOptions(format!("window must be 1..={MAX_WINDOW}, got {}", self.window)));
        }
        if self.utc_offset_min.abs() > MAX_UTC_OFFSET_MIN {
            return Err(Error::BadOptions(format!("utc offset must be within ±1080 minutes, got {}", self.utc_offset_min)));
        }
        Ok(())
    }
}

/// What one push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The event started a new session.
    pub new_session: bool,
    /// What became of it.
    pub outcome: Outcome,
}

/// What became of a pushed event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its kind is not one the model reads: nothing changed.
    Ignored,
    /// A feature row was appended: the model has a new prefix to score.
    Row,
    /// The session's first purchase: the session has converted.
    Purchase,
    /// An event after the session's purchase: counted for later sessions, no row.
    AfterPurchase,
}

/// What the window remembers about one item in the current session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ItemStat {
    pub views: u32,
    pub flags: u8,
}

/// A carted or wishlisted item from an earlier session, not bought since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The item's salted hash.
    pub item: u64,
    /// `1` carted, `2` wishlisted (both may be set).
    pub flags: u8,
    /// When it was last touched.
    pub last_ms: i64,
}

/// The bounded summary of earlier sessions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EarlierSessions {
    /// Earlier sessions.
    pub sessions: u32,
    /// Earlier sessions with a purchase.
    pub purchase_sessions: u32,
    /// The last event of the previous session.
    pub last_end_ms: Option<i64>,
    /// Pending items, at most [`MAX_PENDING`].
    pub pending: Vec<Pending>,
}

impl EarlierSessions {
    fn pending_flags(&self, item: u64) -> u8 {
        self.pending.iter().find(|p| p.item == item).map_or(0, |p| p.flags)
    }
}

/// The running state of the current session.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Session {
    /// The salted hash of the shop's session id, when it gave one.
    pub key: Option<u64>,
    pub start_ms: i64,
    pub last_ms: i64,
    /// Events accepted into the session (all of them, including after a purchase).
    pub events: u32,
    /// Events before the first purchase: the prefix length k.
    pub prefix: u32,
    /// Events per kind column.
    pub counts: Vec<u32>,
    /// `view_item` events (for the cart rate, whether or not the model reads views).
    pub views: u32,
    /// `add_to_cart` events.
    pub carts: u32,
    /// Price × quantity added to the cart minus removed (never below 0).
    pub cart_value: f64,
    pub items: KeyMap<ItemStat>,
    pub categories: KeySet,
    pub max_item_views: u32,
    /// Engagement weights of the last [`MA_SPAN`] prefix events, oldest first.
    pub recent: VecDeque<f32>,
    pub smoothed: f32,
    pub pending_touches: u32,
    pub purchased: bool,
    /// The local hour of the last prefix event.
    pub hour: (f32, f32),
    /// Pending items at the start of the session.
    pub pending_at_start: u32,
}

/// The last W feature rows of the session, in one flat ring buffer (no allocation per event).
#[derive(Clone, Debug)]
pub struct Rows {
    width: usize,
    cap: usize,
    data: Vec<f32>,
    start: usize,
    len: usize,
}

impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        self.width == other.width && self.cap == other.cap && self.iter().eq(other.iter())
    }
}

impl Rows {
    pub(crate) fn new(width: usize, cap: usize) -> Rows {
        Rows { width, cap, data: vec![0.0; width * cap], start: 0, len: 0 }
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.len = 0;
    }

    /// A zeroed slot for the newest row, evicting the oldest when full.
    pub(crate) fn push(&mut self) -> &mut [f32] {
        let slot = if self.len == self.cap {
            let s = self.start;
            self.start = (self.start + 1) % self.cap;
            s
        } else {
            self.len += 1;
            (self.start + self.len - 1) % self.cap
        };
        let row = &mut self.data[slot * self.width..(slot + 1) * self.width];
        row.fill(0.0);
        row
    }

    /// Row `i`, oldest first.
    pub fn get(&self, i: usize) -> Option<&[f32]> {
        (i < self.len).then(|| {
            let slot = (self.start + i) % self.cap;
            &self.data[slot * self.width..(slot + 1) * self.width]
        })
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The width of a row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The rows, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        (0..self.len).map(move |i| {
            let slot = (self.start + i) % self.cap;
            &self.data[slot * self.width..(slot + 1) * self.width]
        })
    }
}

/// The rolling window over one shopper's events.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub(crate) config: WindowConfig,
    pub(crate) earlier: EarlierSessions,
    pub(crate) session: Option<Session>,
    pub(crate) rows: Rows,
}

impl Window {
    /// An empty window.
    pub fn new(config: WindowConfig) -> Result<Window, Error> {
        config.validate()?;
        let rows = Rows::new(row_len(&config.kinds), config.window);
        Ok(Window { rows, config, earlier: EarlierSessions::default(), session: None })
    }

    /// The configuration.
    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// Sets the shop's local time for the events to come (kept rows keep theirs).
    pub(crate) fn set_utc_offset(&mut self, utc_offset_min: i32) {
        self.config.utc_offset_min = utc_offset_min;
    }

    /// The summary of earlier sessions.
    pub fn earlier(&self) -> &EarlierSessions {
        &self.earlier
    }

    /// Pushes one event: validates it, hashes its ids, starts a new session if due, and appends a
    /// feature row when the session has not converted yet.
    ///
    /// A new session starts at the first event; when the event and the current session both
    /// carry the shop's session id, exactly when the id changes; otherwise after a gap of more
    /// than [`SESSION_GAP_MS`].
    ///
    /// On error nothing changes.
    pub fn push(&mut self, event: &Event) -> Result<Pushed, Error> {
        event.validate()?;
        let newest = self.newest_ms();
        let mut ts = event.ts_ms;
        let mut clock_reset = false;
        if let Some(newest) = newest {
            if ts < newest - SESSION_GAP_MS {
                // Far older than anything seen: the clock was set back (or had jumped ahead).
                // Rejecting would refuse every later event until the clock caught up again;
                // a new session starts at the new time instead.
                clock_reset = true;
            } else if ts < newest - REORDER_TOLERANCE_MS {
                return Err(Error::OutOfOrder { ts_ms: ts, newest_ms: newest, tolerance_ms: REORDER_TOLERANCE_MS });
            } else {
                ts = ts.max(newest);
            }
        }
        let column = self.config.kinds.column(&event.kind);
        if column == Column::Ignored {
            return Ok(Pushed { new_session: false, outcome: Outcome::Ignored });
        }
        let key = event.session.as_deref().map(|id| hash_id(&self.config.salt, id));
        let new_session = clock_reset
            || match &self.session {
                None => true,
                Some(s) => match (s.key, key) {
                    (Some(a), Some(b)) => a != b,
                    _ => ts - s.last_ms > SESSION_GAP_MS,
                },
            };
        if new_session {
            self.fold_session();
            self.earlier.pending.retain(|p| ts - p.last_ms <= PENDING_TTL_MS);
            self.session = Some(Session {
                key,
                start_ms: ts,
                last_ms: ts,
                counts: vec![0; self.config.kinds.columns()],
                pending_at_start: self.earlier.pending.len() as u32,
                ..Session::default()
            });
            self.rows.clear();
        } else if let Some(s) = self.session.as_mut() {
            s.key = s.key.or(key);
        }
        let item = event.item.as_deref().map(|id| hash_id(&self.config.salt, id));
        let category = event.category.as_deref().map(|id| hash_id(&self.config.salt, id));
        let outcome = self.apply(event, column, ts, item, category);
        Ok(Pushed { new_session, outcome })
    }

    /// The newest accepted timestamp, if any.
    pub fn newest_ms(&self) -> Option<i64> {
        self.session.as_ref().map(|s| s.last_ms).or(self.earlier.last_end_ms)
    }

    fn apply(&mut self, event: &Event, column: Column, ts: i64, item: Option<u64>, category: Option<u64>) -> Outcome {
        let Some(s) = self.session.as_mut() else { return Outcome::Ignored };
        let kind: &Kind = &event.kind;
        let standard = kind.standard();
        let gap_ms = if s.events == 0 { 0 } else { ts - s.last_ms };
        s.last_ms = ts;
        s.events += 1;
        let mut kind_count = 0;
        if let Column::At(c) = column {
            s.counts[c] += 1;
            kind_count = s.counts[c];
        }
        match standard {
            Some(EventKind::ViewItem) => s.views += 1,
            Some(EventKind::AddToCart) => s.carts += 1,
            _ => {}
        }
        let amount = event.price.unwrap_or(0.0) * f64::from(event.quantity.unwrap_or(1));
        match standard {
            Some(EventKind::AddToCart) => s.cart_value += amount,
            Some(EventKind::RemoveFromCart) => s.cart_value = (s.cart_value - amount).max(0.0),
            _ => {}
        }

        // Item and category bookkeeping (bounded).
        let mut repeat_item = false;
        let mut item_views = 0;
        let mut pending = 0;
        if let Some(h) = item {
            pending = self.earlier.pending_flags(h);
            let tracked = s.items.len() < MAX_SESSION_ITEMS || s.items.contains_key(&h);
            let mut stat = ItemStat::default();
            if let Some(prev) = s.items.get(&h) {
                repeat_item = true;
                stat = *prev;
            }
            if standard == Some(EventKind::ViewItem) {
                stat.views += 1;
            }
            stat.flags |= match standard {
                Some(EventKind::AddToCart) => FLAG_CART,
                Some(EventKind::AddToWishlist) => FLAG_WISHLIST,
                Some(EventKind::Purchase) => FLAG_BOUGHT,
                _ => 0,
            };
            item_views = stat.views;
            if tracked {
                s.items.insert(h, stat);
                s.max_item_views = s.max_item_views.max(stat.views);
            }
        }
        let mut repeat_category = false;
        if let Some(h) = category {
            repeat_category = s.categories.contains(&h);
            if !repeat_category && s.categories.len() < MAX_SESSION_ITEMS {
                s.categories.insert(h);
            }
        }

        if s.purchased {
            return Outcome::AfterPurchase;
        }
        let Column::At(col) = column else {
            s.purchased = true;
            return Outcome::Purchase;
        };

        if pending != 0 {
            s.pending_touches += 1;
        }
        let position = s.prefix;
        s.prefix += 1;
        let w = kind.engagement();
        if s.recent.len() == MA_SPAN {
            s.recent.pop_front();
        }
        s.recent.push_back(w);
        s.smoothed = if position == 0 { w } else { EWMA_ALPHA * w + (1.0 - EWMA_ALPHA) * s.smoothed };
        s.hour = hour_of_day(ts, self.config.utc_offset_min);

        let h = &self.earlier;
        let n = self.config.kinds.columns();
        let row = self.rows.push();
        row[col] = 1.0;
        let x = &mut row[n..];
        x[num::LOG_GAP_S] = log1p(gap_ms as f64 / 1000.0);
        x[num::LOG_ELAPSED_S] = log1p((ts - s.start_ms) as f64 / 1000.0);
        x[num::LOG_POSITION] = log1p_count(position);
        x[num::LOG_KIND_COUNT] = log1p_count(kind_count);
        x[num::REPEAT_ITEM] = f32::from(u8::from(repeat_item));
        x[num::REPEAT_CATEGORY] = f32::from(u8::from(repeat_category));
        x[num::LOG_ITEM_VIEWS] = log1p_count(item_views);
        x[num::HOUR_SIN] = s.hour.0;
        x[num::HOUR_COS] = s.hour.1;
        x[num::LOG_PRICE] = event.price.map_or(0.0, log1p);
        x[num::LOG_SESSION_CARTS] = log1p_count(s.carts);
        x[num::LOG_CART_VALUE] = log1p(s.cart_value);
        x[num::LOG_PREV_SESSIONS] = log1p_count(h.sessions);
        x[num::LOG_PREV_PURCHASE_SESSIONS] = log1p_count(h.purchase_sessions);
        x[num::LOG_HOURS_SINCE_PREV] = h.last_end_ms.map_or(0.0, |e| log1p((s.start_ms - e) as f64 / 3.6e6));
        x[num::ITEM_PENDING_CART] = f32::from(u8::from(pending & FLAG_CART != 0));
        x[num::ITEM_PENDING_WISHLIST] = f32::from(u8::from(pending & FLAG_WISHLIST != 0));
        x[num::LOG_PENDING_ITEMS] = log1p_count(s.pending_at_start);
        x[num::PENDING_TOUCHED] = f32::from(u8::from(s.pending_touches > 0));
        Outcome::Row
    }

    /// Folds the current session into the history: counts, pending items, last end.
    /// Ends the session as the next session's first event would: it joins the earlier sessions
    /// (their count, purchases, the pending items it touched) and its rows go.
    pub(crate) fn end_session(&mut self) {
        self.fold_session();
        self.rows.clear();
    }

    fn fold_session(&mut self) {
        let Some(s) = self.session.take() else { return };
        let h = &mut self.earlier;
        h.sessions = h.sessions.saturating_add(1);
        if s.purchased {
            h.purchase_sessions = h.purchase_sessions.saturating_add(1);
        }
        h.last_end_ms = Some(s.last_ms);
        // Deterministic order: by hash, so the eviction below does not depend on map order.
        let mut touched: Vec<(u64, u8)> = s.items.iter().map(|(k, v)| (*k, v.flags)).filter(|(_, f)| *f != 0).collect();
        touched.sort_unstable();
        for (item, flags) in touched {
            let at = h.pending.iter().position(|p| p.item == item);
            if flags & FLAG_BOUGHT != 0 {
                if let Some(i) = at {
                    h.pending.remove(i);
                }
                continue;
            }
            match at {
                Some(i) => {
                    h.pending[i].flags |= flags;
                    h.pending[i].last_ms = s.last_ms;
                }
                None => h.pending.push(Pending { item, flags, last_ms: s.last_ms }),
            }
        }
        if h.pending.len() > MAX_PENDING {
            // Keep the most recently touched; ties by hash for determinism.
            h.pending.sort_by_key(|p| (std::cmp::Reverse(p.last_ms), p.item));
            h.pending.truncate(MAX_PENDING);
        }
    }

    /// The rows of the current session's window, oldest first (at most W).
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// The newest row, if the session has one.
    pub fn last_row(&self) -> Option<&[f32]> {
        self.rows.len().checked_sub(1).and_then(|i| self.rows.get(i))
    }

    /// k: events of the current session before its first purchase.
    pub fn prefix(&self) -> u32 {
        self.session.as_ref().map_or(0, |s| s.prefix)
    }

    /// Events accepted into the current session.
    pub fn session_events(&self) -> u32 {
        self.session.as_ref().map_or(0, |s| s.events)
    }

    /// Whether the current session has a purchase.
    pub fn converted(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.purchased)
    }

    /// When the current session started.
    pub fn session_start_ms(&self) -> Option<i64> {
        self.session.as_ref().map(|s| s.start_ms)
    }

    /// The aggregate features of the current session (all zero before any event), written into
    /// `out` (of [`crate::features::aggregate_len`] values).
    pub fn aggregates_into(&self, out: &mut [f32]) {
        out.fill(0.0);
        let n = self.config.kinds.columns();
        let h = &self.earlier;
        let a = &mut out[n..];
        a[agg::PREV_SESSIONS] = h.sessions as f32;
        a[agg::PREV_PURCHASE_SESSIONS] = h.purchase_sessions as f32;
        a[agg::HAS_PREV_SESSION] = f32::from(u8::from(h.sessions > 0));
        let Some(s) = &self.session else { return };
        let duration_s = (s.last_ms - s.start_ms) as f64 / 1000.0;
        a[agg::EVENTS] = s.events as f32;
        a[agg::DISTINCT_ITEMS] = s.items.len() as f32;
        a[agg::DISTINCT_CATEGORIES] = s.categories.len() as f32;
        a[agg::DURATION_S] = duration_s as f32;
        a[agg::EVENTS_PER_MINUTE] = (f64::from(s.events) / (duration_s / 60.0 + 1.0)) as f32;
        a[agg::CART_RATE] = s.carts as f32 / s.views.max(1) as f32;
        a[agg::MAX_ITEM_VIEWS] = s.max_item_views as f32;
        a[agg::ENGAGEMENT_MA] = if s.recent.is_empty() { 0.0 } else { s.recent.iter().sum::<f32>() / s.recent.len() as f32 };
        a[agg::ENGAGEMENT_SMOOTHED] = s.smoothed;
        a[agg::CART_VALUE] = s.cart_value as f32;
        a[agg::HOURS_SINCE_PREV] = h.last_end_ms.map_or(0.0, |e| ((s.start_ms - e).max(0) as f64 / 3.6e6) as f32);
        a[agg::PENDING_ITEMS] = s.pending_at_start as f32;
        a[agg::PENDING_TOUCHES] = s.pending_touches as f32;
        a[agg::HOUR_SIN] = s.hour.0;
        a[agg::HOUR_COS] = s.hour.1;
        for (i, c) in s.counts.iter().enumerate() {
            out[i] = *c as f32;
        }
    }

    /// The aggregate features of the current session as a new vector.
    pub fn aggregates(&self) -> Vec<f32> {
        let mut out = vec![0.0; aggregate_len(&self.config.kinds)];
        self.aggregates_into(&mut out);
        out
    }

    /// Forgets everything: the session, the rows and the history; `salt` replaces the salt. The
    /// rest of the configuration stays.
    pub fn forget(&mut self, salt: Salt) {
        self.session = None;
        self.rows.clear();
        self.earlier = EarlierSessions::default();
        self.config.salt = salt;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_511_600_000_000;

    fn ev(kind: EventKind, ts: i64, item: &str) -> Event {
        Event::new(kind, ts).with_item(item, "c1")
    }

    /// Column of a numeric feature with the GA4 kinds.
    fn c(i: usize) -> usize {
        Kinds::standard().columns() + i
    }

    #[test]
    fn out_of_order_policy() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        w.push(&ev(EventKind::ViewItem, T0, "a")).unwrap();
        // Within tolerance: accepted, clamped (gap 0).
        w.push(&ev(EventKind::ViewItem, T0 - 1_500, "b")).unwrap();
        assert_eq!(w.last_row().unwrap()[c(num::LOG_GAP_S)], 0.0);
        let before = w.clone();
        let err = w.push(&ev(EventKind::ViewItem, T0 - 2_001, "c")).unwrap_err();
        assert!(matches!(err, Error::OutOfOrder { .. }));
        assert_eq!(w, before, "a rejected event changes nothing");
        // Set back by more than the session gap: a new session at the new time, not a refusal.
        let back = w.push(&ev(EventKind::ViewItem, T0 - SESSION_GAP_MS - 1, "d")).unwrap();
        assert!(back.new_session && back.outcome == Outcome::Row);
        assert_eq!(w.newest_ms(), Some(T0 - SESSION_GAP_MS - 1));
        assert!(w.push(&ev(EventKind::ViewItem, T0 - SESSION_GAP_MS, "e")).is_ok());
        // Years ahead, then back: two new sessions, every event accepted.
        let years = 5 * 365 * 86_400_000;
        assert!(w.push(&ev(EventKind::ViewItem, T0 + years, "f")).unwrap().new_session);
        assert!(w.push(&ev(EventKind::ViewItem, T0 + 60_000, "g")).unwrap().new_session);
        assert_eq!(w.earlier().sessions, 3);
        assert!(w.aggregates().iter().all(|v| v.is_finite() && *v >= -1.0));
    }

    #[test]
    fn ignored_kinds_change_nothing() {
        let cfg = WindowConfig { kinds: Kinds::parse(&["view_item", "purchase"]).unwrap(), ..WindowConfig::default() };
        let mut w = Window::new(cfg).unwrap();
        let before = w.clone();
        let p = w.push(&Event::new(EventKind::PageView, T0)).unwrap();
        assert_eq!(p.outcome, Outcome::Ignored);
        assert_eq!(w, before);
    }

    #[test]
    fn purchase_converts_and_later_events_make_no_rows() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        w.push(&ev(EventKind::ViewItem, T0, "a")).unwrap();
        assert_eq!(w.push(&ev(EventKind::Purchase, T0 + 1, "a")).unwrap().outcome, Outcome::Purchase);
        assert!(w.converted());
        assert_eq!(w.push(&ev(EventKind::ViewItem, T0 + 2, "b")).unwrap().outcome, Outcome::AfterPurchase);
        assert_eq!(w.prefix(), 1);
        assert_eq!(w.rows().len(), 1);
        // The next session knows about the purchase.
        w.push(&ev(EventKind::ViewItem, T0 + SESSION_GAP_MS + 10, "b")).unwrap();
        assert_eq!(w.earlier().purchase_sessions, 1);
        assert!(!w.converted());
    }

    #[test]
    fn gap_of_exactly_thirty_minutes_stays_in_session() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        w.push(&ev(EventKind::ViewItem, T0, "a")).unwrap();
        assert!(!w.push(&ev(EventKind::ViewItem, T0 + SESSION_GAP_MS, "a")).unwrap().new_session);
        assert!(w.push(&ev(EventKind::ViewItem, T0 + 2 * SESSION_GAP_MS + 1, "a")).unwrap().new_session);
    }

    #[test]
    fn pending_items_flow_across_sessions_and_expire() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        w.push(&ev(EventKind::AddToCart, T0, "a")).unwrap();
        w.push(&ev(EventKind::AddToWishlist, T0 + 1, "b")).unwrap();
        let t1 = T0 + SESSION_GAP_MS + 1_000;
        w.push(&ev(EventKind::ViewItem, t1, "a")).unwrap();
        let r = w.last_row().unwrap();
        assert_eq!(r[c(num::ITEM_PENDING_CART)], 1.0);
        assert_eq!(r[c(num::ITEM_PENDING_WISHLIST)], 0.0);
        assert_eq!(r[c(num::PENDING_TOUCHED)], 1.0);
        assert_eq!(r[c(num::LOG_PENDING_ITEMS)], log1p(2.0));
        // Buying a pending item removes it at the end of the session.
        w.push(&ev(EventKind::Purchase, t1 + 1, "a")).unwrap();
        let t2 = t1 + SESSION_GAP_MS + 1_000;
        w.push(&ev(EventKind::ViewItem, t2, "c")).unwrap();
        assert_eq!(w.earlier().pending.len(), 1);
        // Fifteen days later the wishlisted item has expired.
        w.push(&ev(EventKind::ViewItem, t2 + 15 * 24 * 3_600_000, "b")).unwrap();
        assert_eq!(w.earlier().pending.len(), 0);
        assert_eq!(w.last_row().unwrap()[c(num::ITEM_PENDING_WISHLIST)], 0.0);
    }

    #[test]
    fn memory_stays_bounded() {
        let cfg = WindowConfig { window: 8, ..WindowConfig::default() };
        let mut w = Window::new(cfg).unwrap();
        let mut t = T0;
        for i in 0..5_000 {
            t += 1_000;
            let kind = if i % 3 == 0 { EventKind::AddToCart } else { EventKind::ViewItem };
            w.push(&Event::new(kind, t).with_item(format!("i{i}"), format!("c{i}"))).unwrap();
            if i % 700 == 699 {
                t += SESSION_GAP_MS + 1;
            }
        }
        assert!(w.rows().len() <= 8);
        let s = w.session.as_ref().unwrap();
        assert!(s.items.len() <= MAX_SESSION_ITEMS && s.categories.len() <= MAX_SESSION_ITEMS);
        assert!(w.earlier().pending.len() <= MAX_PENDING);
    }

    #[test]
    fn the_shops_session_id_decides_where_sessions_start() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        let e = |ts: i64, s: &str| Event::new(EventKind::PageView, ts).with_session(s);
        assert!(w.push(&e(T0, "a")).unwrap().new_session);
        // Two hours later, same session id: the same session.
        assert!(!w.push(&e(T0 + 2 * 3_600_000, "a")).unwrap().new_session);
        // A second later, another id: a new session.
        assert!(w.push(&e(T0 + 2 * 3_600_000 + 1_000, "b")).unwrap().new_session);
        assert_eq!(w.earlier().sessions, 1);
        // No id: the 30-minute rule, and the id seen later is adopted.
        let mut w = Window::new(WindowConfig::default()).unwrap();
        w.push(&Event::new(EventKind::PageView, T0)).unwrap();
        assert!(!w.push(&e(T0 + 1_000, "x")).unwrap().new_session);
        assert!(w.push(&e(T0 + 2_000, "y")).unwrap().new_session);
        assert!(w.push(&Event::new(EventKind::PageView, T0 + 2_000 + SESSION_GAP_MS + 1)).unwrap().new_session);
    }

    #[test]
    fn a_shops_own_kinds_get_their_columns() {
        let kinds = Kinds::parse(&["size_guide_open", "view_item", "purchase", "coupon_applied"]).unwrap();
        let mut w = Window::new(WindowConfig { kinds, ..WindowConfig::default() }).unwrap();
        let own = |name: &str, ts| Event::new(Kind::parse(name).unwrap(), ts);
        assert_eq!(w.push(&own("coupon_applied", T0)).unwrap().outcome, Outcome::Row);
        assert_eq!(&w.last_row().unwrap()[..3], [0.0, 0.0, 1.0]);
        assert_eq!(w.push(&own("size_guide_open", T0 + 1)).unwrap().outcome, Outcome::Row);
        assert_eq!(&w.last_row().unwrap()[..3], [1.0, 0.0, 0.0]);
        assert_eq!(w.push(&own("size_guide_open", T0 + 2)).unwrap().outcome, Outcome::Row);
        assert_eq!(w.last_row().unwrap()[3 + num::LOG_KIND_COUNT], log1p(2.0));
        assert_eq!(w.push(&own("unknown_to_the_model", T0 + 3)).unwrap().outcome, Outcome::Ignored);
        assert_eq!(w.push(&Event::new(EventKind::AddToCart, T0 + 4)).unwrap().outcome, Outcome::Ignored);
        assert_eq!(w.aggregates()[..3], [2.0, 0.0, 1.0]);
    }

    #[test]
    fn cart_value_counts_price_times_quantity_and_removals() {
        let mut w = Window::new(WindowConfig::default()).unwrap();
        let mut add = Event::new(EventKind::AddToCart, T0).with_item("a", "c").with_price(20.0);
        add.quantity = Some(3);
        w.push(&add).unwrap();
        assert_eq!(w.last_row().unwrap()[c(num::LOG_CART_VALUE)], log1p(60.0));
        w.push(&Event::new(EventKind::RemoveFromCart, T0 + 1).with_item("a", "c").with_price(20.0)).unwrap();
        assert_eq!(w.last_row().unwrap()[c(num::LOG_CART_VALUE)], log1p(40.0));
        let mut big = Event::new(EventKind::RemoveFromCart, T0 + 2).with_price(1000.0);
        big.quantity = Some(2);
        w.push(&big).unwrap();
        assert_eq!(w.last_row().unwrap()[c(num::LOG_CART_VALUE)], 0.0);
    }

    #[test]
    fn bad_config_is_an_error() {
        assert!(Window::new(WindowConfig { window: 0, ..WindowConfig::default() }).is_err());
        assert!(Window::new(WindowConfig { utc_offset_min: 24 * 60, ..WindowConfig::default() }).is_err());
    }
}
