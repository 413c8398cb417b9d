//! A from-scratch reference for the window's features.
//!
//! [`Window`](crate::Window) keeps its state incrementally. This module recomputes the same rows
//! and aggregates from the whole list of events by rescanning it, with none of the window's
//! running state, so that property tests can check one against the other. It is slow on purpose
//! (quadratic) and is not part of the public API.

use crate::event::{Event, EventKind, Kind};
use crate::features::{agg, aggregate_len, hour_of_day, log1p, num, row_len};
use crate::hash::hash_id;
use crate::kinds::Column;
use crate::window::{
    Pending, WindowConfig, EWMA_ALPHA, FLAG_BOUGHT, FLAG_CART, FLAG_WISHLIST, MAX_PENDING, MAX_SESSION_ITEMS, MA_SPAN, PENDING_TTL_MS,
    REORDER_TOLERANCE_MS, SESSION_GAP_MS,
};

/// An event as the window would accept it: time clamped, ids hashed.
#[derive(Clone, Debug)]
struct Accepted {
    kind: Kind,
    ts: i64,
    item: Option<u64>,
    category: Option<u64>,
    session: Option<u64>,
    price: Option<f64>,
    quantity: Option<u32>,
    /// The clock was set back: a session starts here whatever the gap says.
    reset: bool,
}

impl Accepted {
    fn is(&self, k: EventKind) -> bool {
        self.kind.is(k)
    }
}

/// The features of the window after all of `events`, recomputed from scratch: the rows of the
/// current session's window (oldest first) and its aggregates.
pub fn features(config: &WindowConfig, events: &[Event]) -> (Vec<Vec<f32>>, Vec<f32>) {
    let kinds = &config.kinds;
    let n = kinds.columns();
    // Which events the window accepts, and at what time.
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut newest: Option<i64> = None;
    for e in events {
        if e.validate().is_err() {
            continue;
        }
        let (ts, reset) = match newest {
            Some(n) if e.ts_ms < n - SESSION_GAP_MS => (e.ts_ms, true),
            Some(n) if e.ts_ms < n - REORDER_TOLERANCE_MS => continue,
            Some(n) => (e.ts_ms.max(n), false),
            None => (e.ts_ms, false),
        };
        if !kinds.contains(&e.kind) {
            continue;
        }
        newest = Some(ts);
        accepted.push(Accepted {
            kind: e.kind.clone(),
            ts,
            item: e.item.as_deref().map(|id| hash_id(&config.salt, id)),
            category: e.category.as_deref().map(|id| hash_id(&config.salt, id)),
            session: e.session.as_deref().map(|id| hash_id(&config.salt, id)),
            price: e.price,
            quantity: e.quantity,
            reset,
        });
    }

    // Sessions: an id change when both sides have one (the first id of a session counts),
    // otherwise a gap over 30 minutes.
    let mut sessions: Vec<&[Accepted]> = Vec::new();
    let mut start = 0;
    for i in 1..=accepted.len() {
        let boundary = i == accepted.len() || accepted[i].reset || {
            let key = accepted[start..i].iter().find_map(|a| a.session);
            match (key, accepted[i].session) {
                (Some(a), Some(b)) => a != b,
                _ => accepted[i].ts - accepted[i - 1].ts > SESSION_GAP_MS,
            }
        };
        if boundary {
            if i > start {
                sessions.push(&accepted[start..i]);
            }
            start = i;
        }
    }
    let Some((current, earlier)) = sessions.split_last() else {
        return (Vec::new(), vec![0.0; aggregate_len(kinds)]);
    };

    // EarlierSessions: replay the earlier sessions' outcomes.
    let mut pending: Vec<Pending> = Vec::new();
    let mut purchase_sessions = 0u32;
    for (i, s) in earlier.iter().enumerate() {
        let start = s[0].ts;
        pending.retain(|p| start - p.last_ms <= PENDING_TTL_MS);
        if s.iter().any(|e| e.is(EventKind::Purchase)) {
            purchase_sessions += 1;
        }
        let last = s[s.len() - 1].ts;
        let mut items: Vec<u64> = tracked(s.iter().map(|e| e.item), MAX_SESSION_ITEMS);
        items.sort_unstable();
        for item in items {
            let flags = s.iter().filter(|e| e.item == Some(item)).fold(0u8, |f, e| {
                f | match e.kind.standard() {
                    Some(EventKind::AddToCart) => FLAG_CART,
                    Some(EventKind::AddToWishlist) => FLAG_WISHLIST,
                    Some(EventKind::Purchase) => FLAG_BOUGHT,
                    _ => 0,
                }
            });
            if flags == 0 {
                continue;
            }
            let at = pending.iter().position(|p| p.item == item);
            if flags & FLAG_BOUGHT != 0 {
                if let Some(at) = at {
                    pending.remove(at);
                }
            } else if let Some(at) = at {
                pending[at].flags |= flags;
                pending[at].last_ms = last;
            } else {
                pending.push(Pending { item, flags, last_ms: last });
            }
        }
        if pending.len() > MAX_PENDING {
            pending.sort_by_key(|p| (std::cmp::Reverse(p.last_ms), p.item));
            pending.truncate(MAX_PENDING);
        }
        let _ = i;
    }
    let s = *current;
    let start = s[0].ts;
    pending.retain(|p| start - p.last_ms <= PENDING_TTL_MS);
    let prev_sessions = earlier.len() as u32;
    let last_end = earlier.last().map(|p| p[p.len() - 1].ts);
    let pending_flags = |item: Option<u64>| item.and_then(|h| pending.iter().find(|p| p.item == h)).map_or(0, |p| p.flags);

    // The current session.
    let prefix_len = s.iter().position(|e| e.is(EventKind::Purchase)).unwrap_or(s.len());
    let items_tracked = tracked(s.iter().map(|e| e.item), MAX_SESSION_ITEMS);
    let cats_tracked = tracked(s.iter().map(|e| e.category), MAX_SESSION_ITEMS);
    let amount = |e: &Accepted| e.price.unwrap_or(0.0) * f64::from(e.quantity.unwrap_or(1));
    let cart_value = |upto: &[Accepted]| {
        upto.iter().fold(0.0f64, |v, e| match e.kind.standard() {
            Some(EventKind::AddToCart) => v + amount(e),
            Some(EventKind::RemoveFromCart) => (v - amount(e)).max(0.0),
            _ => v,
        })
    };
    let mut rows = Vec::new();
    for j in 0..prefix_len {
        let e = &s[j];
        let before = &s[..j];
        let mut row = vec![0f32; row_len(kinds)];
        let Column::At(col) = kinds.column(&e.kind) else { unreachable!("a prefix event has a column") };
        row[col] = 1.0;
        let x = &mut row[n..];
        let gap = if j == 0 { 0 } else { e.ts - s[j - 1].ts };
        x[num::LOG_GAP_S] = log1p(gap as f64 / 1000.0);
        x[num::LOG_ELAPSED_S] = log1p((e.ts - start) as f64 / 1000.0);
        x[num::LOG_POSITION] = log1p(j as f64);
        x[num::LOG_KIND_COUNT] = log1p(s[..=j].iter().filter(|b| b.kind == e.kind).count() as f64);
        let item_tracked = e.item.is_some_and(|h| items_tracked.contains(&h));
        let repeat_item = item_tracked && before.iter().any(|b| b.item == e.item);
        let views = if e.item.is_none() {
            0
        } else if item_tracked {
            s[..=j].iter().filter(|b| b.item == e.item && b.is(EventKind::ViewItem)).count()
        } else {
            usize::from(e.is(EventKind::ViewItem))
        };
        let cat_tracked = e.category.is_some_and(|h| cats_tracked.contains(&h));
        let repeat_cat = cat_tracked && before.iter().any(|b| b.category == e.category);
        x[num::REPEAT_ITEM] = if repeat_item { 1.0 } else { 0.0 };
        x[num::REPEAT_CATEGORY] = if repeat_cat { 1.0 } else { 0.0 };
        x[num::LOG_ITEM_VIEWS] = log1p(views as f64);
        let (hs, hc) = hour_of_day(e.ts, config.utc_offset_min);
        x[num::HOUR_SIN] = hs;
        x[num::HOUR_COS] = hc;
        x[num::LOG_PRICE] = e.price.map_or(0.0, log1p);
        let carts = s[..=j].iter().filter(|b| b.is(EventKind::AddToCart)).count();
        x[num::LOG_SESSION_CARTS] = log1p(carts as f64);
        x[num::LOG_CART_VALUE] = log1p(cart_value(&s[..=j]));
        x[num::LOG_PREV_SESSIONS] = log1p(f64::from(prev_sessions));
        x[num::LOG_PREV_PURCHASE_SESSIONS] = log1p(f64::from(purchase_sessions));
        x[num::LOG_HOURS_SINCE_PREV] = last_end.map_or(0.0, |end| log1p((start - end) as f64 / 3.6e6));
        let flags = pending_flags(e.item);
        x[num::ITEM_PENDING_CART] = if flags & FLAG_CART != 0 { 1.0 } else { 0.0 };
        x[num::ITEM_PENDING_WISHLIST] = if flags & FLAG_WISHLIST != 0 { 1.0 } else { 0.0 };
        x[num::LOG_PENDING_ITEMS] = log1p(pending.len() as f64);
        let touched = s[..=j].iter().any(|b| pending_flags(b.item) != 0);
        x[num::PENDING_TOUCHED] = if touched { 1.0 } else { 0.0 };
        rows.push(row);
    }
    let rows = rows[rows.len().saturating_sub(config.window)..].to_vec();

    let mut out = vec![0f32; aggregate_len(kinds)];
    for (c, k) in kinds.with_columns().enumerate() {
        out[c] = s.iter().filter(|e| e.kind == *k).count() as f32;
    }
    let a = &mut out[n..];
    let duration_s = (s[s.len() - 1].ts - start) as f64 / 1000.0;
    a[agg::EVENTS] = s.len() as f32;
    a[agg::DISTINCT_ITEMS] = items_tracked.len() as f32;
    a[agg::DISTINCT_CATEGORIES] = cats_tracked.len() as f32;
    a[agg::DURATION_S] = duration_s as f32;
    a[agg::EVENTS_PER_MINUTE] = (s.len() as f64 / (duration_s / 60.0 + 1.0)) as f32;
    let count = |k: EventKind| s.iter().filter(|e| e.is(k)).count();
    a[agg::CART_RATE] = count(EventKind::AddToCart) as f32 / count(EventKind::ViewItem).max(1) as f32;
    a[agg::MAX_ITEM_VIEWS] =
        items_tracked.iter().map(|h| s.iter().filter(|e| e.item == Some(*h) && e.is(EventKind::ViewItem)).count()).max().unwrap_or(0)
            as f32;
    let prefix = &s[..prefix_len];
    let recent = &prefix[prefix.len().saturating_sub(MA_SPAN)..];
    a[agg::ENGAGEMENT_MA] =
        if recent.is_empty() { 0.0 } else { recent.iter().map(|e| e.kind.engagement()).sum::<f32>() / recent.len() as f32 };
    let mut smoothed = 0f32;
    for (i, e) in prefix.iter().enumerate() {
        let w = e.kind.engagement();
        smoothed = if i == 0 { w } else { EWMA_ALPHA * w + (1.0 - EWMA_ALPHA) * smoothed };
    }
    a[agg::ENGAGEMENT_SMOOTHED] = smoothed;
    a[agg::CART_VALUE] = cart_value(s) as f32;
    a[agg::PREV_SESSIONS] = prev_sessions as f32;
    a[agg::PREV_PURCHASE_SESSIONS] = purchase_sessions as f32;
    a[agg::HOURS_SINCE_PREV] = last_end.map_or(0.0, |end| ((start - end).max(0) as f64 / 3.6e6) as f32);
    a[agg::HAS_PREV_SESSION] = if prev_sessions > 0 { 1.0 } else { 0.0 };
    a[agg::PENDING_ITEMS] = pending.len() as f32;
    a[agg::PENDING_TOUCHES] = prefix.iter().filter(|e| pending_flags(e.item) != 0).count() as f32;
    if let Some(last) = prefix.last() {
        let (hs, hc) = hour_of_day(last.ts, config.utc_offset_min);
        a[agg::HOUR_SIN] = hs;
        a[agg::HOUR_COS] = hc;
    }
    (rows, out)
}

/// The first `max` distinct ids, in order of first appearance.
fn tracked(ids: impl Iterator<Item = Option<u64>>, max: usize) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for id in ids.flatten() {
        if out.len() < max && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}
