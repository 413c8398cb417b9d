//! Name tables from other event vocabularies to [`EventKind`].
//!
//! | source | name | kind |
//! |---|---|---|
//! | Taobao UserBehavior | `pv` | `view_item` |
//! | Taobao UserBehavior | `fav` | `add_to_wishlist` |
//! | Taobao UserBehavior | `cart` | `add_to_cart` |
//! | Taobao UserBehavior | `buy` | `purchase` |
//! | GA4 `dataLayer` / gtag | the twelve GA4 names, plus `view_promotion`, `select_promotion` | same name; promotions as `view_item_list` / `select_item` |
//! | Shopify Web Pixels | `page_viewed` | `page_view` |
//! | Shopify Web Pixels | `collection_viewed` | `view_item_list` |
//! | Shopify Web Pixels | `product_viewed` | `view_item` |
//! | Shopify Web Pixels | `search_submitted` | `search` |
//! | Shopify Web Pixels | `product_added_to_cart` | `add_to_cart` |
//! | Shopify Web Pixels | `product_removed_from_cart` | `remove_from_cart` |
//! | Shopify Web Pixels | `cart_viewed` | `view_cart` |
//! | Shopify Web Pixels | `checkout_started` | `begin_checkout` |
//! | Shopify Web Pixels | `payment_info_submitted` | `add_payment_info` |
//! | Shopify Web Pixels | `checkout_completed` | `purchase` |
//! | Segment Ecommerce v2 | `Products Searched` | `search` |
//! | Segment Ecommerce v2 | `Product List Viewed`, `Product List Filtered` | `view_item_list` |
//! | Segment Ecommerce v2 | `Product Clicked` | `select_item` |
//! | Segment Ecommerce v2 | `Product Viewed` | `view_item` |
//! | Segment Ecommerce v2 | `Product Added to Wishlist` | `add_to_wishlist` |
//! | Segment Ecommerce v2 | `Product Added` | `add_to_cart` |
//! | Segment Ecommerce v2 | `Product Removed` | `remove_from_cart` |
//! | Segment Ecommerce v2 | `Cart Viewed` | `view_cart` |
//! | Segment Ecommerce v2 | `Checkout Started` | `begin_checkout` |
//! | Segment Ecommerce v2 | `Payment Info Entered` | `add_payment_info` |
//! | Segment Ecommerce v2 | `Order Completed` | `purchase` |
//! | Segment warehouses | each Segment name in snake case, as its warehouse tables are named (`order_completed`, `product_added`, ...) | the same kinds |
//!
//! [`canonical_kind`] tries the GA4 names first, then Shopify, Segment and Taobao, so a shop can
//! send whichever names its tag setup already produces. Any other well-formed name is the shop's
//! own event type ([`crate::Kind`]). This is the only name table of the project: the browser
//! package reads it from the engine ([`table`]).

use crate::EventKind;

/// A source vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vocabulary {
    /// GA4 recommended ecommerce events as pushed to `dataLayer` or sent with `gtag`.
    Ga4,
    /// Shopify Web Pixels standard events.
    Shopify,
    /// Segment Ecommerce Events v2.
    Segment,
    /// The Taobao UserBehavior log (`pv`, `cart`, `fav`, `buy`).
    Taobao,
}

impl Vocabulary {
    /// Every vocabulary, in the order [`canonical_kind`] tries them.
    pub const ALL: [Vocabulary; 4] = [Vocabulary::Ga4, Vocabulary::Shopify, Vocabulary::Segment, Vocabulary::Taobao];

    /// `"ga4"`, `"shopify"`, `"segment"` or `"taobao"`.
    pub fn name(self) -> &'static str {
        match self {
            Vocabulary::Ga4 => "ga4",
            Vocabulary::Shopify => "shopify",
            Vocabulary::Segment => "segment",
            Vocabulary::Taobao => "taobao",
        }
    }

    /// The names this vocabulary maps, with their kinds (for GA4: the two promotion events; the
    /// twelve GA4 names themselves are [`EventKind::ALL`]).
    pub fn table(self) -> &'static [(&'static str, EventKind)] {
        match self {
            Vocabulary::Ga4 => GA4_EXTRA,
            Vocabulary::Shopify => SHOPIFY,
            Vocabulary::Segment => SEGMENT,
            Vocabulary::Taobao => TAOBAO,
        }
    }
}

const TAOBAO: &[(&str, EventKind)] =
    &[("pv", EventKind::ViewItem), ("fav", EventKind::AddToWishlist), ("cart", EventKind::AddToCart), ("buy", EventKind::Purchase)];

const GA4_EXTRA: &[(&str, EventKind)] = &[("view_promotion", EventKind::ViewItemList), ("select_promotion", EventKind::SelectItem)];

const SHOPIFY: &[(&str, EventKind)] = &[
    ("page_viewed", EventKind::PageView),
    ("collection_viewed", EventKind::ViewItemList),
    ("product_viewed", EventKind::ViewItem),
    ("search_submitted", EventKind::Search),
    ("product_added_to_cart", EventKind::AddToCart),
    ("product_removed_from_cart", EventKind::RemoveFromCart),
    ("cart_viewed", EventKind::ViewCart),
    ("checkout_started", EventKind::BeginCheckout),
    ("payment_info_submitted", EventKind::AddPaymentInfo),
    ("checkout_completed", EventKind::Purchase),
];

const SEGMENT: &[(&str, EventKind)] = &[
    ("Products Searched", EventKind::Search),
    ("Product List Viewed", EventKind::ViewItemList),
    ("Product List Filtered", EventKind::ViewItemList),
    ("Product Clicked", EventKind::SelectItem),
    ("Product Viewed", EventKind::ViewItem),
    ("Product Added to Wishlist", EventKind::AddToWishlist),
    ("Product Added", EventKind::AddToCart),
    ("Product Removed", EventKind::RemoveFromCart),
    ("Cart Viewed", EventKind::ViewCart),
    ("Checkout Started", EventKind::BeginCheckout),
    ("Payment Info Entered", EventKind::AddPaymentInfo),
    ("Order Completed", EventKind::Purchase),
    // The same events as Segment's warehouses name their tables, as a log exported from them has
    // them (three are also Shopify's names, for the same kinds).
    ("products_searched", EventKind::Search),
    ("product_list_viewed", EventKind::ViewItemList),
    ("product_list_filtered", EventKind::ViewItemList),
    ("product_clicked", EventKind::SelectItem),
    ("product_viewed", EventKind::ViewItem),
    ("product_added_to_wishlist", EventKind::AddToWishlist),
    ("product_added", EventKind::AddToCart),
    ("product_removed", EventKind::RemoveFromCart),
    ("cart_viewed", EventKind::ViewCart),
    ("checkout_started", EventKind::BeginCheckout),
    ("payment_info_entered", EventKind::AddPaymentInfo),
    ("order_completed", EventKind::Purchase),
];

fn lookup(table: &[(&str, EventKind)], name: &str) -> Option<EventKind> {
    table.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// The kind that `name` means in `vocabulary`, if it is one of the mapped names.
///
/// ```
/// use shopper_intent::{mapping::{kind_from, Vocabulary}, EventKind};
/// assert_eq!(kind_from(Vocabulary::Taobao, "fav"), Some(EventKind::AddToWishlist));
/// assert_eq!(kind_from(Vocabulary::Segment, "Order Completed"), Some(EventKind::Purchase));
/// assert_eq!(kind_from(Vocabulary::Shopify, "add_to_cart"), None);
/// ```
pub fn kind_from(vocabulary: Vocabulary, name: &str) -> Option<EventKind> {
    match vocabulary {
        Vocabulary::Ga4 => EventKind::parse(name).or_else(|| lookup(GA4_EXTRA, name)),
        v => lookup(v.table(), name),
    }
}

/// The GA4 kind `name` means in any known vocabulary: GA4 first, then Shopify, Segment and
/// Taobao; `None` for a shop's own type. [`crate::Kind::parse`] is built on it.
///
/// ```
/// use shopper_intent::{mapping::canonical_kind, EventKind};
/// assert_eq!(canonical_kind("checkout_completed"), Some(EventKind::Purchase));
/// assert_eq!(canonical_kind("size_guide_open"), None);
/// ```
pub fn canonical_kind(name: &str) -> Option<EventKind> {
    Vocabulary::ALL.into_iter().find_map(|v| kind_from(v, name))
}

/// Every mapped name with its vocabulary and kind, GA4's own names included: the one table
/// the browser package reads (through the wasm crate) instead of keeping a copy.
pub fn table() -> impl Iterator<Item = (Vocabulary, &'static str, EventKind)> {
    EventKind::ALL
        .into_iter()
        .map(|k| (Vocabulary::Ga4, k.name(), k))
        .chain(Vocabulary::ALL.into_iter().flat_map(|v| v.table().iter().map(move |(n, k)| (v, *n, *k))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_no_name_that_means_two_things() {
        let all: Vec<(&str, EventKind)> =
            [TAOBAO, GA4_EXTRA, SHOPIFY, SEGMENT].concat().into_iter().chain(EventKind::ALL.iter().map(|k| (k.name(), *k))).collect();
        for (i, (a, ka)) in all.iter().enumerate() {
            for (b, kb) in &all[i + 1..] {
                assert!(a != b || ka == kb, "{a} maps to {ka:?} and {kb:?}");
            }
        }
    }

    #[test]
    fn every_kind_is_reachable_from_shopify_or_segment_except_wishlist() {
        for k in EventKind::ALL {
            let shopify = SHOPIFY.iter().any(|(_, x)| *x == k);
            let segment = SEGMENT.iter().any(|(_, x)| *x == k);
            assert!(shopify || segment || k == EventKind::ViewItemList, "{k:?}");
        }
        assert_eq!(canonical_kind("Product Added"), Some(EventKind::AddToCart));
        assert_eq!(canonical_kind("buy"), Some(EventKind::Purchase));
        assert_eq!(canonical_kind("select_promotion"), Some(EventKind::SelectItem));
    }

    #[test]
    fn segment_names_in_snake_case_mean_what_the_names_do() {
        let (titled, snake) = SEGMENT.split_at(SEGMENT.len() / 2);
        assert_eq!(titled.len(), snake.len());
        for ((t, kt), (s, ks)) in titled.iter().zip(snake) {
            assert_eq!(t.to_lowercase().replace(' ', "_"), *s);
            assert_eq!(kt, ks, "{t} and {s}");
        }
    }

    #[test]
    fn the_table_is_what_canonical_kind_reads() {
        let rows: Vec<_> = table().collect();
        assert_eq!(rows.len(), 12 + GA4_EXTRA.len() + SHOPIFY.len() + SEGMENT.len() + TAOBAO.len());
        for (_, name, kind) in rows {
            assert_eq!(canonical_kind(name), Some(kind), "{name}");
        }
    }
}
