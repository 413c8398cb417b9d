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
//!
//! [`kind_from_any`] tries the GA4 names first, then Shopify, Segment and Taobao, so a shop can
//! send whichever names its tag setup already produces.

use crate::EventKind;

/// A source vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vocabulary {
    /// The Taobao UserBehavior log (`pv`, `cart`, `fav`, `buy`).
    Taobao,
    /// GA4 recommended ecommerce events as pushed to `dataLayer` or sent with `gtag`.
    Ga4,
    /// Shopify Web Pixels standard events.
    Shopify,
    /// Segment Ecommerce Events v2.
    Segment,
}

const TAOBAO: &[(&str, EventKind)] = &[
    ("pv", EventKind::ViewItem),
    ("fav", EventKind::AddToWishlist),
    ("cart", EventKind::AddToCart),
    ("buy", EventKind::Purchase),
];

const GA4_EXTRA: &[(&str, EventKind)] = &[
    ("view_promotion", EventKind::ViewItemList),
    ("select_promotion", EventKind::SelectItem),
];

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
        Vocabulary::Taobao => lookup(TAOBAO, name),
        Vocabulary::Ga4 => EventKind::parse(name).or_else(|| lookup(GA4_EXTRA, name)),
        Vocabulary::Shopify => lookup(SHOPIFY, name),
        Vocabulary::Segment => lookup(SEGMENT, name),
    }
}

/// The kind `name` means in any known vocabulary: GA4 first, then Shopify, Segment and Taobao.
///
/// ```
/// use shopper_intent::{mapping::kind_from_any, EventKind};
/// assert_eq!(kind_from_any("checkout_completed"), Some(EventKind::Purchase));
/// assert_eq!(kind_from_any("teleport"), None);
/// ```
pub fn kind_from_any(name: &str) -> Option<EventKind> {
    [Vocabulary::Ga4, Vocabulary::Shopify, Vocabulary::Segment, Vocabulary::Taobao]
        .into_iter()
        .find_map(|v| kind_from(v, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_no_name_that_means_two_things() {
        let all: Vec<(&str, EventKind)> = [TAOBAO, GA4_EXTRA, SHOPIFY, SEGMENT]
            .concat()
            .into_iter()
            .chain(EventKind::ALL.iter().map(|k| (k.name(), *k)))
            .collect();
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
        assert_eq!(kind_from_any("Product Added"), Some(EventKind::AddToCart));
        assert_eq!(kind_from_any("buy"), Some(EventKind::Purchase));
        assert_eq!(kind_from_any("select_promotion"), Some(EventKind::SelectItem));
    }
}
