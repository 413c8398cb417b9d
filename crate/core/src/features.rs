//! The feature lists, their order and their version: defined here and nowhere else.
//!
//! Two lists. [`SEQUENCE_FEATURES`] is one row per event, what the LSTM reads.
//! [`AGGREGATE_FEATURES`] summarises the session after each event, for the tabular baselines.
//! Both are computed by [`crate::Window`]; `shopper-intent features` prints them, and every
//! training file and model manifest records [`FEATURE_VERSION`].
//!
//! Logs are natural (`ln(1 + x)`); times are in seconds or hours as the name says; hour of day is
//! the shop's local time, encoded on the unit circle so 23:59 sits next to 00:00.

/// Bump whenever a name, an order or a formula below changes.
pub const FEATURE_VERSION: u32 = 1;

/// Columns per event row.
pub const SEQ_LEN: usize = 29;
/// Columns of the aggregate vector.
pub const AGG_LEN: usize = 29;

/// The per-event columns, in order.
pub const SEQUENCE_FEATURES: [&str; SEQ_LEN] = [
    "kind_page_view",
    "kind_view_item_list",
    "kind_select_item",
    "kind_view_item",
    "kind_search",
    "kind_add_to_wishlist",
    "kind_add_to_cart",
    "kind_remove_from_cart",
    "kind_view_cart",
    "kind_begin_checkout",
    "kind_add_payment_info",
    "kind_purchase",
    "log_gap_s",
    "log_elapsed_s",
    "log_position",
    "repeat_item",
    "repeat_category",
    "log_item_views",
    "hour_sin",
    "hour_cos",
    "log_price",
    "log_session_carts",
    "log_prev_sessions",
    "log_prev_purchase_sessions",
    "log_hours_since_prev_session",
    "item_pending_cart",
    "item_pending_wishlist",
    "log_pending_items",
    "pending_touched",
];

/// Column indices of [`SEQUENCE_FEATURES`].
pub mod seq {
    /// First of the twelve kind one-hot columns (in [`crate::EventKind`] order).
    pub const KIND: usize = 0;
    /// `ln(1 + seconds since the previous event of the session)`, 0 for the first.
    pub const LOG_GAP_S: usize = 12;
    /// `ln(1 + seconds since the session's first event)`.
    pub const LOG_ELAPSED_S: usize = 13;
    /// `ln(1 + events before this one in the session)`.
    pub const LOG_POSITION: usize = 14;
    /// 1 when the session touched this item before.
    pub const REPEAT_ITEM: usize = 15;
    /// 1 when the session touched this category before.
    pub const REPEAT_CATEGORY: usize = 16;
    /// `ln(1 + views of this item in the session, this event included)`; 0 without an item.
    pub const LOG_ITEM_VIEWS: usize = 17;
    /// `sin(2π · local hour / 24)`.
    pub const HOUR_SIN: usize = 18;
    /// `cos(2π · local hour / 24)`.
    pub const HOUR_COS: usize = 19;
    /// `ln(1 + price)`, 0 without a price.
    pub const LOG_PRICE: usize = 20;
    /// `ln(1 + add_to_cart events in the session so far)`, this event included.
    pub const LOG_SESSION_CARTS: usize = 21;
    /// `ln(1 + earlier sessions)`.
    pub const LOG_PREV_SESSIONS: usize = 22;
    /// `ln(1 + earlier sessions that had a purchase)`.
    pub const LOG_PREV_PURCHASE_SESSIONS: usize = 23;
    /// `ln(1 + hours from the end of the previous session to the start of this one)`; 0 if none.
    pub const LOG_HOURS_SINCE_PREV: usize = 24;
    /// 1 when this item was carted in an earlier session and not bought since.
    pub const ITEM_PENDING_CART: usize = 25;
    /// 1 when this item was wishlisted in an earlier session and not bought since.
    pub const ITEM_PENDING_WISHLIST: usize = 26;
    /// `ln(1 + pending items)` at the start of the session.
    pub const LOG_PENDING_ITEMS: usize = 27;
    /// 1 once the session has touched any pending item (this event included).
    pub const PENDING_TOUCHED: usize = 28;
}

/// The aggregate columns, in order.
pub const AGGREGATE_FEATURES: [&str; AGG_LEN] = [
    "count_page_view",
    "count_view_item_list",
    "count_select_item",
    "count_view_item",
    "count_search",
    "count_add_to_wishlist",
    "count_add_to_cart",
    "count_remove_from_cart",
    "count_view_cart",
    "count_begin_checkout",
    "count_add_payment_info",
    "count_purchase",
    "events",
    "distinct_items",
    "distinct_categories",
    "duration_s",
    "events_per_minute",
    "cart_rate",
    "max_item_views",
    "engagement_moving_average",
    "engagement_smoothed",
    "prev_sessions",
    "prev_purchase_sessions",
    "hours_since_prev_session",
    "has_prev_session",
    "pending_items",
    "pending_touches",
    "hour_sin",
    "hour_cos",
];

/// Column indices of [`AGGREGATE_FEATURES`].
pub mod agg {
    /// First of the twelve per-kind counts.
    pub const COUNT: usize = 0;
    /// Events in the session so far.
    pub const EVENTS: usize = 12;
    /// Distinct items touched (saturates at [`crate::window::MAX_SESSION_ITEMS`]).
    pub const DISTINCT_ITEMS: usize = 13;
    /// Distinct categories touched (saturates likewise).
    pub const DISTINCT_CATEGORIES: usize = 14;
    /// Seconds from the first to the last event.
    pub const DURATION_S: usize = 15;
    /// `events / (duration_s / 60 + 1)`.
    pub const EVENTS_PER_MINUTE: usize = 16;
    /// `add_to_cart / max(1, view_item)`.
    pub const CART_RATE: usize = 17;
    /// The most views of any one item.
    pub const MAX_ITEM_VIEWS: usize = 18;
    /// Mean engagement weight of the last [`crate::window::MA_SPAN`] events.
    pub const ENGAGEMENT_MA: usize = 19;
    /// Exponentially smoothed engagement weight, `α = `[`crate::window::EWMA_ALPHA`].
    pub const ENGAGEMENT_SMOOTHED: usize = 20;
    /// Earlier sessions.
    pub const PREV_SESSIONS: usize = 21;
    /// Earlier sessions with a purchase.
    pub const PREV_PURCHASE_SESSIONS: usize = 22;
    /// Hours from the end of the previous session to the start of this one; 0 if none.
    pub const HOURS_SINCE_PREV: usize = 23;
    /// 1 when there was an earlier session.
    pub const HAS_PREV_SESSION: usize = 24;
    /// Pending (carted or wishlisted, not bought) items from earlier sessions.
    pub const PENDING_ITEMS: usize = 25;
    /// Events of this session that touched a pending item.
    pub const PENDING_TOUCHES: usize = 26;
    /// `sin(2π · local hour / 24)` of the last event.
    pub const HOUR_SIN: usize = 27;
    /// `cos(2π · local hour / 24)` of the last event.
    pub const HOUR_COS: usize = 28;
}

/// Named groups of sequence columns, for explanations: a group's effect is the change in score
/// when its columns are zeroed across the window.
pub const FACTOR_GROUPS: &[(&str, &str, &[usize])] = &[
    ("carts", "Added to cart", &[seq::KIND + 6, seq::LOG_SESSION_CARTS]),
    ("wishlist", "Added to wishlist", &[seq::KIND + 5]),
    ("checkout", "Checkout steps", &[seq::KIND + 8, seq::KIND + 9, seq::KIND + 10]),
    ("views", "Products viewed", &[seq::KIND, seq::KIND + 1, seq::KIND + 2, seq::KIND + 3, seq::KIND + 4]),
    ("repeat_views", "Came back to the same products", &[seq::REPEAT_ITEM, seq::REPEAT_CATEGORY, seq::LOG_ITEM_VIEWS]),
    ("pace", "Time and pace of the session", &[seq::LOG_GAP_S, seq::LOG_ELAPSED_S, seq::LOG_POSITION]),
    ("time_of_day", "Time of day", &[seq::HOUR_SIN, seq::HOUR_COS]),
    ("price", "Prices looked at", &[seq::LOG_PRICE]),
    (
        "earlier_sessions",
        "Earlier visits",
        &[seq::LOG_PREV_SESSIONS, seq::LOG_PREV_PURCHASE_SESSIONS, seq::LOG_HOURS_SINCE_PREV],
    ),
    (
        "pending_items",
        "Items saved in an earlier visit",
        &[seq::ITEM_PENDING_CART, seq::ITEM_PENDING_WISHLIST, seq::LOG_PENDING_ITEMS, seq::PENDING_TOUCHED],
    ),
];

/// `ln(1 + x)` for the non-negative counts and durations the features use.
#[inline]
pub fn log1p(x: f64) -> f32 {
    x.max(0.0).ln_1p() as f32
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
    use crate::EventKind;

    #[test]
    fn names_and_indices_agree() {
        for k in EventKind::ALL {
            assert_eq!(SEQUENCE_FEATURES[seq::KIND + k.index()], format!("kind_{}", k.name()));
            assert_eq!(AGGREGATE_FEATURES[agg::COUNT + k.index()], format!("count_{}", k.name()));
        }
        assert_eq!(SEQUENCE_FEATURES[seq::PENDING_TOUCHED], "pending_touched");
        assert_eq!(SEQUENCE_FEATURES[seq::LOG_PRICE], "log_price");
        assert_eq!(AGGREGATE_FEATURES[agg::HOUR_COS], "hour_cos");
        assert_eq!(AGGREGATE_FEATURES[agg::ENGAGEMENT_SMOOTHED], "engagement_smoothed");
        let mut names = SEQUENCE_FEATURES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SEQ_LEN);
    }

    #[test]
    fn factor_groups_cover_distinct_columns() {
        let mut seen = [false; SEQ_LEN];
        for (_, _, cols) in FACTOR_GROUPS {
            for &c in *cols {
                assert!(!seen[c], "column {c} is in two groups");
                seen[c] = true;
            }
        }
        // Only the purchase and remove_from_cart one-hots are in no group: the model never sees
        // a purchase row, and a removal is not a reason to buy.
        let missing: Vec<usize> = (0..SEQ_LEN).filter(|&c| !seen[c]).collect();
        assert_eq!(missing, vec![seq::KIND + 7, seq::KIND + 11]);
    }
}
