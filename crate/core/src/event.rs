//! Session events: event types (GA4 kinds and a shop's own), the event, its validation.
//!
//! The event contract is checked here and nowhere else: the JavaScript, wasm and CLI layers only
//! convert shapes and pass this module's errors on.

use crate::error::Error;
use crate::mapping::canonical_kind;

/// Timestamps before this are refused as absurd: 2000-01-01T00:00:00Z.
pub const MIN_TS_MS: i64 = 946_684_800_000;
/// Timestamps from this on are refused as absurd: 2200-01-01T00:00:00Z.
pub const MAX_TS_MS: i64 = 7_258_118_400_000;
/// The longest item, category or session id accepted, in bytes (UTF-8).
pub const MAX_ID_BYTES: usize = 256;
/// The longest event type accepted, in bytes (UTF-8).
pub const MAX_TYPE_BYTES: usize = 64;
/// The largest quantity accepted for one event.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// The largest price accepted for one event.
pub const MAX_PRICE: f64 = 1e9;

/// The GA4 recommended ecommerce events: the kinds whose meaning the engine knows.
///
/// Cart, wishlist and purchase events drive the pending-item and cart features; a purchase ends
/// the part of a session that is scored. A shop's own event types are [`Kind`]s too, with no
/// meaning beyond their column.
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
    /// Every standard kind, in the GA4 funnel's order (the order of their columns when a
    /// featurizer picks the kinds of a log).
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

    /// The kind with this exact GA4 name; `None` for anything else (see [`Kind::parse`] for
    /// other vocabularies and a shop's own types).
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its position in [`EventKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// How much this kind says about engagement, for the moving-average and exponentially
    /// smoothed engagement aggregates (a classic hand-set scale: a view is 1, a cart 5, a
    /// purchase 10). A shop's own kinds weigh 1.
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

/// An event type: one of the GA4 [`EventKind`]s, or a shop's own type (`size_guide_open`,
/// `coupon_applied`, a page type...). Made by [`Kind::parse`], which maps the names of other
/// vocabularies (Shopify Web Pixels, Segment, Taobao) to their GA4 kind first, so that one kind
/// has one name.
///
/// ```
/// use shopper_intent::{EventKind, Kind};
/// assert_eq!(Kind::parse("Product Added")?, Kind::from(EventKind::AddToCart));
/// let own = Kind::parse("size_guide_open")?;
/// assert_eq!((own.name(), own.standard()), ("size_guide_open", None));
/// assert!(Kind::parse("").is_err());
/// # Ok::<(), shopper_intent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(Repr);

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Standard(EventKind),
    Custom(Box<str>),
}

impl Kind {
    /// The kind a `type` string means: a GA4 name, a mapped Shopify, Segment or Taobao name
    /// (see [`crate::mapping`]), or else the shop's own type when the name is well formed:
    /// 1 to [`MAX_TYPE_BYTES`] bytes, no control characters, no leading or trailing space.
    pub fn parse(name: &str) -> Result<Kind, Error> {
        if let Some(k) = canonical_kind(name) {
            return Ok(Kind(Repr::Standard(k)));
        }
        check_type_name(name)?;
        Ok(Kind(Repr::Custom(name.into())))
    }

    /// The name: the GA4 name of a standard kind, the shop's own name otherwise.
    pub fn name(&self) -> &str {
        match &self.0 {
            Repr::Standard(k) => k.name(),
            Repr::Custom(n) => n,
        }
    }

    /// The GA4 kind, if this is one.
    pub fn standard(&self) -> Option<EventKind> {
        match &self.0 {
            Repr::Standard(k) => Some(*k),
            Repr::Custom(_) => None,
        }
    }

    /// Whether this is `kind`.
    pub fn is(&self, kind: EventKind) -> bool {
        self.0 == Repr::Standard(kind)
    }

    /// The engagement weight of [`EventKind::engagement`]; 1 for a shop's own kind.
    pub fn engagement(&self) -> f32 {
        self.standard().map_or(1.0, EventKind::engagement)
    }
}

impl From<EventKind> for Kind {
    fn from(k: EventKind) -> Kind {
        Kind(Repr::Standard(k))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn check_type_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "must not be empty".to_string()
    } else if name.len() > MAX_TYPE_BYTES {
        format!("is {} bytes long; at most {MAX_TYPE_BYTES} are accepted", name.len())
    } else if name.chars().any(char::is_control) {
        "must not contain control characters".to_string()
    } else if name.trim() != name {
        "must not start or end with white space".to_string()
    } else {
        return Ok(());
    };
    Err(Error::InvalidField { field: "type", reason })
}

/// One thing a shopper did, as it arrives from the page or from a log.
///
/// Ids are raw here; the window hashes them on entry and never stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: Kind,
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
    /// The session the shop's own analytics put the event in (GA4's `ga_session_id`, a
    /// `user_session` column...). When given, it decides where sessions start instead of the
    /// 30-minute rule.
    pub session: Option<String>,
}

impl Event {
    /// An event with no item, category, price, quantity or session id.
    ///
    /// ```
    /// use shopper_intent::{Event, EventKind};
    /// let e = Event::new(EventKind::PageView, 1_700_000_000_000);
    /// assert!(e.validate().is_ok());
    /// ```
    pub fn new(kind: impl Into<Kind>, ts_ms: i64) -> Event {
        Event { kind: kind.into(), ts_ms, item: None, category: None, price: None, quantity: None, session: None }
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

    /// The same event in the shop's session `id`.
    pub fn with_session(mut self, id: impl Into<String>) -> Event {
        self.session = Some(id.into());
        self
    }

    /// Checks everything about the event that does not depend on the window: timestamp range,
    /// id lengths, and that price and quantity are finite, non-negative and not absurd.
    pub fn validate(&self) -> Result<(), Error> {
        if !(MIN_TS_MS..MAX_TS_MS).contains(&self.ts_ms) {
            return Err(Error::BadTimestamp { ts_ms: self.ts_ms });
        }
        for (field, id) in [("item", &self.item), ("category", &self.category), ("session", &self.session)] {
            if let Some(id) = id {
                check_id(field, id)?;
            }
        }
        if let Some(price) = self.price {
            check_price(price)?;
        }
        if let Some(q) = self.quantity {
            check_quantity(f64::from(q))?;
        }
        Ok(())
    }
}

/// Checks an item, category or session id: 1 to [`MAX_ID_BYTES`] bytes.
pub fn check_id(field: &'static str, id: &str) -> Result<(), Error> {
    if id.len() > MAX_ID_BYTES {
        return Err(Error::IdTooLong { field, len: id.len(), max: MAX_ID_BYTES });
    }
    if id.is_empty() {
        return Err(Error::InvalidField { field, reason: "must not be empty".into() });
    }
    Ok(())
}

/// Checks a price: a finite number from 0 to [`MAX_PRICE`].
pub fn check_price(price: f64) -> Result<(), Error> {
    if price.is_finite() && (0.0..=MAX_PRICE).contains(&price) {
        Ok(())
    } else {
        Err(Error::InvalidField { field: "price", reason: format!("must be a finite number from 0 to {MAX_PRICE}, got {}", shown(price)) })
    }
}

/// Checks a quantity given as a number: a whole number from 0 to [`MAX_QUANTITY`]; returns it.
pub fn check_quantity(q: f64) -> Result<u32, Error> {
    if q.is_finite() && q >= 0.0 && q.fract() == 0.0 && q <= f64::from(MAX_QUANTITY) {
        Ok(q as u32)
    } else {
        Err(Error::InvalidField { field: "quantity", reason: format!("must be a whole number from 0 to {MAX_QUANTITY}, got {}", shown(q)) })
    }
}

/// A number as an error message shows it: in scientific notation past 15 digits, where `{}`
/// would write out all 309 digits of `1e308`.
pub fn shown(x: f64) -> String {
    if x.is_finite() && (x.abs() >= 1e15 || (x != 0.0 && x.abs() < 1e-6)) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Checks a timestamp given as a number of milliseconds since the epoch: finite and within
/// 2000-01-01..2200-01-01; returns it with any fraction of a millisecond dropped (rounded down),
/// the one rule every layer (page, wasm, log reader) follows.
pub fn check_ts(ts: f64) -> Result<i64, Error> {
    if ts.is_finite() && ts >= MIN_TS_MS as f64 && ts < MAX_TS_MS as f64 {
        Ok(ts.floor() as i64)
    } else {
        Err(Error::BadTimestamp { ts_ms: if ts.is_finite() { ts as i64 } else { 0 } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (i, k) in EventKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(EventKind::parse(k.name()), Some(k));
            assert_eq!(Kind::parse(k.name()).unwrap(), Kind::from(k));
        }
        assert_eq!(EventKind::parse("View_Item"), None);
    }

    #[test]
    fn custom_kinds_are_any_well_formed_name() {
        for name in ["size_guide_open", "page_type_3", "Coupon Applied", "ünïcode", &"x".repeat(MAX_TYPE_BYTES)] {
            let k = Kind::parse(name).unwrap();
            assert_eq!((k.name(), k.standard()), (name, None));
            assert_eq!(k.engagement(), 1.0);
        }
        for name in ["", " padded", "tab\there", "new\nline", &"x".repeat(MAX_TYPE_BYTES + 1)] {
            let e = Kind::parse(name).unwrap_err();
            assert!(matches!(e, Error::InvalidField { field: "type", .. }), "{name:?}: {e}");
        }
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
        let e = ok.clone().with_session("");
        assert!(matches!(e.validate(), Err(Error::InvalidField { field: "session", .. })));
        let mut e = ok;
        e.quantity = Some(MAX_QUANTITY + 1);
        assert!(matches!(e.validate(), Err(Error::InvalidField { field: "quantity", .. })));
    }

    #[test]
    fn errors_show_absurd_numbers_briefly() {
        let e = check_price(1e308).unwrap_err().to_string();
        assert!(e.contains("got 1e308") && e.len() < 120, "{e}");
        let e = check_quantity(-1e300).unwrap_err().to_string();
        assert!(e.contains("got -1e300") && e.len() < 120, "{e}");
        assert_eq!(
            (shown(2e9), shown(0.5), shown(-1.0), shown(0.0), shown(f64::NAN)),
            ("2000000000".into(), "0.5".into(), "-1".into(), "0".into(), "NaN".into())
        );
        assert_eq!(shown(1e-9), "1e-9");
    }

    #[test]
    fn numbers_from_other_layers_are_checked_once_here() {
        assert_eq!(check_ts(1_700_000_000_000.0), Ok(1_700_000_000_000));
        assert_eq!(check_ts(1_700_000_000_000.9), Ok(1_700_000_000_000));
        assert!(matches!(check_ts(f64::NAN), Err(Error::BadTimestamp { ts_ms: 0 })));
        assert!(matches!(check_ts(1e3), Err(Error::BadTimestamp { ts_ms: 1000 })));
        assert_eq!(check_quantity(3.0), Ok(3));
        assert!(check_quantity(2.5).is_err() && check_quantity(-1.0).is_err() && check_quantity(f64::INFINITY).is_err());
    }
}
