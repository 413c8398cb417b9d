//! The feature lists, their order and their version: defined here and nowhere else.
//!
//! Two lists, each a block of one-hot or count columns for the model's event kinds ([`Kinds`],
//! in the manifest's order, purchase excluded) followed by fixed numeric columns:
//!
//! - the **sequence row**, one per event, what the LSTM reads: `kind_<name>` one-hot, then
//!   [`NUMERIC_FEATURES`];
//! - the **aggregates**, a summary of the session after each event, for the tabular baselines:
//!   `count_<name>`, then [`AGGREGATE_NUMERIC`].
//!
//! Both are computed by [`crate::Window`]; `shopper-intent features` prints them, and every
//! training file and model manifest records [`FEATURE_VERSION`] and the names.
//!
//! Logs are natural (`ln(1 + x)`); times are in seconds or hours as the name says; hour of day is
//! the shop's local time, encoded on the unit circle so 23:59 sits next to 00:00.

use crate::event::EventKind;
use crate::kinds::Kinds;

/// Bump whenever a name, an order or a formula below changes.
///
/// Version 2: kind columns follow the model's kinds (a shop's own kinds included, purchase
/// without a column); `log_kind_count` and `log_cart_value` added.
pub const FEATURE_VERSION: u32 = 2;

/// Numeric columns of the sequence row, after the kind columns.
pub const NUMERIC_LEN: usize = 19;

/// The numeric columns of the sequence row, in order.
pub const NUMERIC_FEATURES: [&str; NUMERIC_LEN] = [
    "log_gap_s",
    "log_elapsed_s",
    "log_position",
    "log_kind_count",
    "repeat_item",
    "repeat_category",
    "log_item_views",
    "hour_sin",
    "hour_cos",
    "log_price",
    "log_session_carts",
    "log_cart_value",
    "log_prev_sessions",
    "log_prev_purchase_sessions",
    "log_hours_since_prev_session",
    "item_pending_cart",
    "item_pending_wishlist",
    "log_pending_items",
    "pending_touched",
];

/// Positions in [`NUMERIC_FEATURES`]; a row's column is [`Kinds::columns`] plus the position.
pub mod num {
    /// `ln(1 + seconds since the previous event of the session)`, 0 for the first.
    pub const LOG_GAP_S: usize = 0;
    /// `ln(1 + seconds since the session's first event)`.
    pub const LOG_ELAPSED_S: usize = 1;
    /// `ln(1 + events before this one in the session)`.
    pub const LOG_POSITION: usize = 2;
    /// `ln(1 + events of this kind in the session so far, this one included)`.
    pub const LOG_KIND_COUNT: usize = 3;
    /// 1 when the session touched this item before.
    pub const REPEAT_ITEM: usize = 4;
    /// 1 when the session touched this category before.
    pub const REPEAT_CATEGORY: usize = 5;
    /// `ln(1 + views of this item in the session, this event included)`; 0 without an item.
    pub const LOG_ITEM_VIEWS: usize = 6;
    /// `sin(2π · local hour / 24)`.
    pub const HOUR_SIN: usize = 7;
    /// `cos(2π · local hour / 24)`.
    pub const HOUR_COS: usize = 8;
    /// `ln(1 + price)`, 0 without a price.
    pub const LOG_PRICE: usize = 9;
    /// `ln(1 + add_to_cart events in the session so far)`, this event included.
    pub const LOG_SESSION_CARTS: usize = 10;
    /// `ln(1 + cart value)`: the sum of price × quantity (1 when absent) of the session's
    /// `add_to_cart` events minus its `remove_from_cart` events, never below 0.
    pub const LOG_CART_VALUE: usize = 11;
    /// `ln(1 + earlier sessions)`.
    pub const LOG_PREV_SESSIONS: usize = 12;
    /// `ln(1 + earlier sessions that had a purchase)`.
    pub const LOG_PREV_PURCHASE_SESSIONS: usize = 13;
    /// `ln(1 + hours from the end of the previous session to the start of this one)`; 0 if none.
    pub const LOG_HOURS_SINCE_PREV: usize = 14;
    /// 1 when this item was carted in an earlier session and not bought since.
    pub const ITEM_PENDING_CART: usize = 15;
    /// 1 when this item was wishlisted in an earlier session and not bought since.
    pub const ITEM_PENDING_WISHLIST: usize = 16;
    /// `ln(1 + pending items)` at the start of the session.
    pub const LOG_PENDING_ITEMS: usize = 17;
    /// 1 once the session has touched any pending item (this event included).
    pub const PENDING_TOUCHED: usize = 18;
}

/// Numeric aggregate columns, after the per-kind counts.
pub const AGGREGATE_LEN: usize = 18;

/// The numeric aggregate columns, in order.
pub const AGGREGATE_NUMERIC: [&str; AGGREGATE_LEN] = [
    "events",
    "distinct_items",
    "distinct_categories",
    "duration_s",
    "events_per_minute",
    "cart_rate",
    "max_item_views",
    "engagement_moving_average",
    "engagement_smoothed",
    "cart_value",
    "prev_sessions",
    "prev_purchase_sessions",
    "hours_since_prev_session",
    "has_prev_session",
    "pending_items",
    "pending_touches",
    "hour_sin",
    "hour_cos",
];

/// Positions in [`AGGREGATE_NUMERIC`]; an aggregate's column is [`Kinds::columns`] plus the
/// position.
pub mod agg {
    /// Events in the session so far (all of them, after a purchase too).
    pub const EVENTS: usize = 0;
    /// Distinct items touched (saturates at [`crate::window::MAX_SESSION_ITEMS`]).
    pub const DISTINCT_ITEMS: usize = 1;
    /// Distinct categories touched (saturates likewise).
    pub const DISTINCT_CATEGORIES: usize = 2;
    /// Seconds from the first to the last event.
    pub const DURATION_S: usize = 3;
    /// `events / (duration_s / 60 + 1)`.
    pub const EVENTS_PER_MINUTE: usize = 4;
    /// `add_to_cart / max(1, view_item)`.
    pub const CART_RATE: usize = 5;
    /// The most views of any one item.
    pub const MAX_ITEM_VIEWS: usize = 6;
    /// Mean engagement weight of the last [`crate::window::MA_SPAN`] prefix events.
    pub const ENGAGEMENT_MA: usize = 7;
    /// Exponentially smoothed engagement weight, `α = `[`crate::window::EWMA_ALPHA`].
    pub const ENGAGEMENT_SMOOTHED: usize = 8;
    /// The cart value of [`super::num::LOG_CART_VALUE`], not logged.
    pub const CART_VALUE: usize = 9;
    /// Earlier sessions.
    pub const PREV_SESSIONS: usize = 10;
    /// Earlier sessions with a purchase.
    pub const PREV_PURCHASE_SESSIONS: usize = 11;
    /// Hours from the end of the previous session to the start of this one; 0 if none.
    pub const HOURS_SINCE_PREV: usize = 12;
    /// 1 when there was an earlier session.
    pub const HAS_PREV_SESSION: usize = 13;
    /// Pending (carted or wishlisted, not bought) items from earlier sessions.
    pub const PENDING_ITEMS: usize = 14;
    /// Events of this session that touched a pending item.
    pub const PENDING_TOUCHES: usize = 15;
    /// `sin(2π · local hour / 24)` of the last prefix event.
    pub const HOUR_SIN: usize = 16;
    /// `cos(2π · local hour / 24)` of the last prefix event.
    pub const HOUR_COS: usize = 17;
}

/// Width of a sequence row for these kinds.
pub fn row_len(kinds: &Kinds) -> usize {
    kinds.columns() + NUMERIC_LEN
}

/// Width of the aggregates for these kinds.
pub fn aggregate_len(kinds: &Kinds) -> usize {
    kinds.columns() + AGGREGATE_LEN
}

/// The sequence row's column names for these kinds.
///
/// ```
/// use shopper_intent::{features::sequence_features, Kinds};
/// let names = sequence_features(&Kinds::parse(&["view_item", "purchase", "coupon_applied"])?);
/// assert_eq!(&names[..3], ["kind_view_item", "kind_coupon_applied", "log_gap_s"]);
/// # Ok::<(), shopper_intent::Error>(())
/// ```
pub fn sequence_features(kinds: &Kinds) -> Vec<String> {
    kinds.with_columns().map(|k| format!("kind_{}", k.name())).chain(NUMERIC_FEATURES.iter().map(|s| s.to_string())).collect()
}

/// The aggregate column names for these kinds.
pub fn aggregate_features(kinds: &Kinds) -> Vec<String> {
    kinds.with_columns().map(|k| format!("count_{}", k.name())).chain(AGGREGATE_NUMERIC.iter().map(|s| s.to_string())).collect()
}

/// A named group of sequence columns, for explanations: its effect is the change in score when
/// its columns are zeroed across the window.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorGroup {
    /// A stable id, e.g. `"carts"`.
    pub id: &'static str,
    /// Words for people, e.g. `"Added to cart"`.
    pub label: &'static str,
    /// The row columns of the group.
    pub columns: Vec<usize>,
}

/// The factor groups of these kinds; groups without a column are left out.
pub fn factor_groups(kinds: &Kinds) -> Vec<FactorGroup> {
    use EventKind as K;
    let n = kinds.columns();
    let kind_cols = |ks: &[EventKind]| -> Vec<usize> { ks.iter().filter_map(|k| kinds.column_of(*k)).collect() };
    let nums = |cols: &[usize]| -> Vec<usize> { cols.iter().map(|c| n + c).collect() };
    let own: Vec<usize> = kinds.with_columns().enumerate().filter(|(_, k)| k.standard().is_none()).map(|(i, _)| i).collect();
    let groups = [
        (
            "carts",
            "Added to cart",
            [kind_cols(&[K::AddToCart, K::RemoveFromCart]), nums(&[num::LOG_SESSION_CARTS, num::LOG_CART_VALUE])].concat(),
        ),
        ("wishlist", "Added to wishlist", kind_cols(&[K::AddToWishlist])),
        ("checkout", "Checkout steps", kind_cols(&[K::ViewCart, K::BeginCheckout, K::AddPaymentInfo])),
        ("views", "Pages and products viewed", kind_cols(&[K::PageView, K::ViewItemList, K::SelectItem, K::ViewItem, K::Search])),
        ("own_events", "The shop's own events", own),
        (
            "repeat_views",
            "Came back to the same products and pages",
            nums(&[num::REPEAT_ITEM, num::REPEAT_CATEGORY, num::LOG_ITEM_VIEWS, num::LOG_KIND_COUNT]),
        ),
        ("pace", "Time and pace of the session", nums(&[num::LOG_GAP_S, num::LOG_ELAPSED_S, num::LOG_POSITION])),
        ("time_of_day", "Time of day", nums(&[num::HOUR_SIN, num::HOUR_COS])),
        ("price", "Prices looked at", nums(&[num::LOG_PRICE])),
        ("earlier_sessions", "Earlier visits", nums(&[num::LOG_PREV_SESSIONS, num::LOG_PREV_PURCHASE_SESSIONS, num::LOG_HOURS_SINCE_PREV])),
        (
            "pending_items",
            "Items saved in an earlier visit",
            nums(&[num::ITEM_PENDING_CART, num::ITEM_PENDING_WISHLIST, num::LOG_PENDING_ITEMS, num::PENDING_TOUCHED]),
        ),
    ];
    groups.into_iter().filter(|(_, _, c)| !c.is_empty()).map(|(id, label, columns)| FactorGroup { id, label, columns }).collect()
}

/// `ln(1 + x)` for the non-negative counts and durations the features use.
#[inline]
pub fn log1p(x: f64) -> f32 {
    x.max(0.0).ln_1p() as f32
}

/// [`log1p`] of a count, the same number: counts below 256 are read from a table that `log1p`
/// filled once. Seven of a row's features are counts; measured natively, `ln_1p` was a tenth of
/// the time of featurizing and scoring a log in batches.
#[inline]
pub fn log1p_count(n: u32) -> f32 {
    static TABLE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| std::array::from_fn(|i| log1p(i as f64)));
    table.get(n as usize).copied().unwrap_or_else(|| log1p(f64::from(n)))
}

/// The local hour of day on the unit circle: `(sin, cos)` of `2π · hour / 24`, where the hour is
/// fractional and `utc_offset_min` turns UTC into the shop's local time.
///
/// ```
/// use shopper_intent::features::hour_of_day;
/// let (s, c) = hour_of_day(6 * 3_600_000, 0);
/// assert!((s - 1.0).abs() < 1e-6 && c.abs() < 1e-6);
/// let (s, c) = hour_of_day(0, 8 * 60); // midnight UTC is 08:00 in UTC+8
/// assert!((s - 0.866_025).abs() < 1e-5 && (c + 0.5).abs() < 1e-5);
/// ```
pub fn hour_of_day(ts_ms: i64, utc_offset_min: i32) -> (f32, f32) {
    const DAY_MS: i64 = 86_400_000;
    let local = ts_ms + i64::from(utc_offset_min) * 60_000;
    let ms_of_day = local.rem_euclid(DAY_MS);
    let angle = std::f64::consts::TAU * ms_of_day as f64 / DAY_MS as f64;
    (angle.sin() as f32, angle.cos() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_from_the_table_is_the_same_number_as_log1p() {
        for n in (0..600).chain([u32::MAX - 1, u32::MAX]) {
            assert_eq!(log1p_count(n).to_bits(), log1p(f64::from(n)).to_bits(), "{n}");
        }
    }

    #[test]
    fn names_are_unique_and_sized() {
        let kinds = Kinds::standard();
        let names = sequence_features(&kinds);
        assert_eq!(names.len(), row_len(&kinds));
        assert_eq!(names.len(), 11 + NUMERIC_LEN);
        assert_eq!(names[kinds.columns() + num::PENDING_TOUCHED], "pending_touched");
        assert_eq!(names[kinds.columns() + num::LOG_CART_VALUE], "log_cart_value");
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        let a = aggregate_features(&kinds);
        assert_eq!(a.len(), aggregate_len(&kinds));
        assert_eq!(a[kinds.columns() + agg::HOUR_COS], "hour_cos");
        assert_eq!(a[kinds.columns() + agg::CART_VALUE], "cart_value");
    }

    #[test]
    fn factor_groups_cover_distinct_columns() {
        for kinds in [Kinds::standard(), Kinds::parse(&["view_item", "purchase", "own_a", "own_b"]).unwrap()] {
            let mut seen = vec![false; row_len(&kinds)];
            for g in factor_groups(&kinds) {
                for c in g.columns {
                    assert!(!seen[c], "column {c} is in two groups");
                    seen[c] = true;
                }
            }
            // Every column is in some group.
            assert!(seen.iter().all(|s| *s), "{:?}", sequence_features(&kinds));
        }
        let taobao = Kinds::parse(&["pv", "fav", "cart", "buy"]).unwrap();
        let ids: Vec<_> = factor_groups(&taobao).iter().map(|g| g.id).collect();
        assert!(!ids.contains(&"checkout") && !ids.contains(&"own_events") && ids.contains(&"carts"));
    }
}
