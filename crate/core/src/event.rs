//! Session events: the vocabulary, the event type and its validation.

use crate::Error;

/// Timestamps before this are refused as absurd: 2000-01-01T00:00:00Z.
pub const MIN_TS_MS: i64 = 946_684_800_000;
/// Timestamps from this on are refused as absurd: 2100-01-01T00:00:00Z.
pub const MAX_TS_MS: i64 = 4_102_444_800_000;
/// The longest item or category id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// The largest quantity accepted for one event.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// The largest price accepted for one event.
pub const MAX_PRICE: f64 = 1e9;

/// What a shopper did, in the GA4 ecommerce vocabulary.
///
/// The order is part of the feature contract: it is the order of the kind one-hot columns.
///
/// ```
/// use shopper_intent::EventKind;
/// assert_eq!(EventKind::parse("add_to_cart"), Some(EventKind::AddToCart));
/// assert_eq!(EventKind::AddToCart.name(), "add_to_cart");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventKind {
    /// Any page of the shop was shown.
    PageView = 0,
    /// A list of products (category page, search results) was shown.
    ViewItemList = 1,
    /// A product was picked from a list.
    SelectItem = 2,
    /// A product detail page was shown.
    ViewItem = 3,
    /// The shopper searched.
    Search = 4,
    /// A product was added to the wishlist (favourites).
    AddToWishlist = 5,
    /// A product was added to the cart.
    AddToCart = 6,
    /// A product was removed from the cart.
    RemoveFromCart = 7,
    /// The cart was shown.
    ViewCart = 8,
    /// Checkout started.
    BeginCheckout = 9,
    /// Payment details were entered.
    AddPaymentInfo = 10,
    /// An order was completed.
    Purchase = 11,
}

impl EventKind {
    /// Every kind, in column order.
    pub const ALL: [EventKind; 12] = [
        EventKind::PageView,
        EventKind::ViewItemList,
        EventKind::SelectItem,
        EventKind::ViewItem,
        EventKind::Search,
        EventKind::AddToWishlist,
        EventKind::AddToCart,
        EventKind::RemoveFromCart,
        EventKind::ViewCart,
        EventKind::BeginCheckout,
        EventKind::AddPaymentInfo,
        EventKind::Purchase,
    ];

    /// The number of kinds.
    pub const COUNT: usize = 12;

    /// The GA4 name of this kind, e.g. `"view_item"`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::ViewItemList => "view_item_list",
            EventKind::SelectItem => "select_item",
            EventKind::ViewItem => "view_item",
            EventKind::Search => "search",
            EventKind::AddToWishlist => "add_to_wishlist",
            EventKind::AddToCart => "add_to_cart",
            EventKind::RemoveFromCart => "remove_from_cart",
            EventKind::ViewCart => "view_cart",
            EventKind::BeginCheckout => "begin_checkout",
            EventKind::AddPaymentInfo => "add_payment_info",
            EventKind::Purchase => "purchase",
        }
    }

    /// The kind with this exact GA4 name; `None` for anything else (see [`crate::mapping`] for
    /// other vocabularies).
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The column index of this kind in the one-hot block.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind at column `i`, if any.
    pub fn from_index(i: usize) -> Option<EventKind> {
        EventKind::ALL.get(i).copied()
    }

    /// How much this kind says about engagement, for the moving-average and exponentially
    /// smoothed engagement scores (a classic hand-set scale: a view is 1, a cart 5, a purchase 10).
    pub fn engagement(self) -> f32 {
        match self {
            EventKind::PageView | EventKind::ViewItemList => 0.5,
            EventKind::SelectItem | EventKind::ViewItem | EventKind::Search => 1.0,
            EventKind::AddToWishlist => 3.0,
            EventKind::AddToCart => 5.0,
            EventKind::RemoveFromCart => 0.0,
            EventKind::ViewCart => 3.0,
            EventKind::BeginCheckout => 8.0,
            EventKind::AddPaymentInfo => 9.0,
            EventKind::Purchase => 10.0,
        }
    }
}

/// A set of kinds, as a bit mask.
///
/// ```
/// use shopper_intent::{EventKind, KindSet};
/// let set = KindSet::from_kinds(&[EventKind::ViewItem, EventKind::Purchase]);
/// assert!(set.contains(EventKind::ViewItem));
/// assert!(!set.contains(EventKind::Search));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindSet(u16);

impl KindSet {
    /// Every kind.
    pub const ALL: KindSet = KindSet((1 << EventKind::COUNT) - 1);

    /// The set of the given kinds.
    pub fn from_kinds(kinds: &[EventKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |m, k| m | 1 << k.index()))
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: EventKind) -> bool {
        self.0 & (1 << kind.index()) != 0
    }

    /// The kinds in the set, in column order.
    pub fn kinds(self) -> impl Iterator<Item = EventKind> {
        EventKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

/// One thing a shopper did, as it arrives from the page or from a log.
///
/// Ids are raw here; the window hashes them on entry and never stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When, in milliseconds since the Unix epoch (UTC).
    pub ts_ms: i64,
    /// The product's id, where the event concerns one product.
    pub item: Option<String>,
    /// The product's category id.
    pub category: Option<String>,
    /// The unit price, in the shop's currency.
    pub price: Option<f64>,
    /// How many units.
    pub quantity: Option<u32>,
}

impl Event {
    /// An event with no item, category, price or quantity.
    ///
    /// ```
    /// use shopper_intent::{Event, EventKind};
    /// let e = Event::new(EventKind::PageView, 1_700_000_000_000);
    /// assert!(e.validate().is_ok());
    /// ```
    pub fn new(kind: EventKind, ts_ms: i64) -> Event {
        Event { kind, ts_ms, item: None, category: None, price: None, quantity: None }
    }

    /// The same event about `item` in `category`.
    pub fn with_item(mut self, item: impl Into<String>, category: impl Into<String>) -> Event {
        self.item = Some(item.into());
        self.category = Some(category.into());
        self
    }

    /// The same event with a unit price.
    pub fn with_price(mut self, price: f64) -> Event {
        self.price = Some(price);
        self
    }

    /// Checks everything about the event that does not depend on the window: timestamp range,
    /// id lengths, and that price and quantity are finite, non-negative and not absurd.
    pub fn validate(&self) -> Result<(), Error> {
        if !(MIN_TS_MS..MAX_TS_MS).contains(&self.ts_ms) {
            return Err(Error::BadTimestamp { ts_ms: self.ts_ms });
        }
        for (field, id) in [("item", &self.item), ("category", &self.category)] {
            if let Some(id) = id {
                if id.len() > MAX_ID_BYTES {
                    return Err(Error::IdTooLong { field, len: id.len(), max: MAX_ID_BYTES });
                }
                if id.is_empty() {
                    return Err(Error::InvalidField { field, reason: "must not be empty".into() });
                }
            }
        }
        if let Some(price) = self.price {
            if !price.is_finite() || !(0.0..=MAX_PRICE).contains(&price) {
                return Err(Error::InvalidField {
                    field: "price",
                    reason: format!("must be a finite number from 0 to {MAX_PRICE}, got {price}"),
                });
            }
        }
        if let Some(q) = self.quantity {
            if q > MAX_QUANTITY {
                return Err(Error::InvalidField {
                    field: "quantity",
                    reason: format!("must be at most {MAX_QUANTITY}, got {q}"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_follow_column_order() {
        for (i, k) in EventKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(EventKind::parse(k.name()), Some(k));
            assert_eq!(EventKind::from_index(i), Some(k));
        }
        assert_eq!(EventKind::parse("View_Item"), None);
        assert_eq!(EventKind::from_index(12), None);
    }

    #[test]
    fn validation_rejects_bad_fields() {
        let ok = Event::new(EventKind::ViewItem, 1_600_000_000_000).with_item("a", "b");
        assert!(ok.validate().is_ok());
        let mut e = ok.clone();
        e.ts_ms = 0;
        assert!(matches!(e.validate(), Err(Error::BadTimestamp { .. })));
        e.ts_ms = MAX_TS_MS;
        assert!(matches!(e.validate(), Err(Error::BadTimestamp { .. })));
        for p in [f64::NAN, f64::INFINITY, -1.0, 2e9] {
            let e = ok.clone().with_price(p);
            assert!(matches!(e.validate(), Err(Error::InvalidField { field: "price", .. })), "{p}");
        }
        let mut e = ok.clone();
        e.item = Some("x".repeat(MAX_ID_BYTES + 1));
        assert!(matches!(e.validate(), Err(Error::IdTooLong { field: "item", .. })));
        let mut e = ok.clone();
        e.category = Some(String::new());
        assert!(matches!(e.validate(), Err(Error::InvalidField { field: "category", .. })));
        let mut e = ok;
        e.quantity = Some(MAX_QUANTITY + 1);
        assert!(matches!(e.validate(), Err(Error::InvalidField { field: "quantity", .. })));
    }
}
