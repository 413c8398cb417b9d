//! [`Kinds`]: the event kinds a model reads, in the order of their feature columns.

use std::collections::HashMap;

use crate::error::Error;
use crate::event::{EventKind, Kind};

/// The most event kinds one model reads.
pub const MAX_KINDS: usize = 64;

/// What the window does with an event of some kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Not a kind the model reads: the event is ignored.
    Ignored,
    /// The purchase: it converts the session and has no column.
    Purchase,
    /// A kind with this one-hot column.
    At(usize),
}

/// The event kinds a model reads, in column order.
///
/// `purchase` is always one of them: it labels sessions and converts them, and has no column
/// (a purchase ends the part of a session that is scored). Every other kind has one one-hot
/// column, in the order given. Events of any other kind are ignored by the window.
///
/// ```
/// use shopper_intent::{EventKind, Kind, Kinds, kinds::Column};
/// let kinds = Kinds::parse(&["view_item", "size_guide_open", "purchase"])?;
/// assert_eq!(kinds.columns(), 2);
/// assert_eq!(kinds.column(&Kind::parse("size_guide_open")?), Column::At(1));
/// assert_eq!(kinds.column(&EventKind::Purchase.into()), Column::Purchase);
/// assert_eq!(kinds.column(&EventKind::Search.into()), Column::Ignored);
/// # Ok::<(), shopper_intent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kinds {
    kinds: Vec<Kind>,
    /// The column of each standard kind, by [`EventKind::index`].
    standard: [Column; 12],
    /// The shop's own kinds and their columns.
    custom: Vec<(Kind, usize)>,
    columns: usize,
}

impl Kinds {
    /// The kinds given, in column order. Errors: no `purchase`, a kind twice, more than
    /// [`MAX_KINDS`].
    pub fn new(kinds: Vec<Kind>) -> Result<Kinds, Error> {
        let bad = |m: String| Err(Error::BadOptions(m));
        if kinds.len() > MAX_KINDS {
            return bad(format!("{} event kinds; a model reads at most {MAX_KINDS}", kinds.len()));
        }
        if !kinds.iter().any(|k| k.is(EventKind::Purchase)) {
            return bad("the event kinds must include purchase (it labels and converts sessions)".into());
        }
        let mut standard = [Column::Ignored; 12];
        let mut custom = Vec::new();
        let mut columns = 0;
        for (i, k) in kinds.iter().enumerate() {
            if kinds[..i].contains(k) {
                return bad(format!("event kind {k} is listed twice"));
            }
            let column = if k.is(EventKind::Purchase) {
                Column::Purchase
            } else {
                columns += 1;
                Column::At(columns - 1)
            };
            match (k.standard(), column) {
                (Some(s), c) => standard[s.index()] = c,
                (None, Column::At(c)) => custom.push((k.clone(), c)),
                (None, _) => {}
            }
        }
        Ok(Kinds { kinds, standard, custom, columns })
    }

    /// Parses names with [`Kind::parse`] (so Shopify, Segment and Taobao names mean their GA4
    /// kind) and checks them as [`Kinds::new`] does.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Kinds, Error> {
        let kinds = names.iter().map(|n| Kind::parse(n.as_ref())).collect::<Result<Vec<_>, _>>()?;
        Kinds::new(kinds)
    }

    /// The twelve GA4 kinds, in [`EventKind::ALL`] order.
    pub fn standard() -> Kinds {
        Kinds::new(EventKind::ALL.into_iter().map(Kind::from).collect()).expect("the GA4 kinds are a valid list")
    }

    /// The kinds of a log, most frequent first up to [`MAX_KINDS`] (purchase always kept), then
    /// put in column order: the GA4 kinds in funnel order, then the shop's own kinds by name.
    /// Returns them and the kinds left out with their counts.
    pub fn from_counts(counts: &HashMap<Kind, usize>) -> Result<(Kinds, Vec<(Kind, usize)>), Error> {
        let mut by_count: Vec<(&Kind, usize)> = counts.iter().map(|(k, n)| (k, *n)).collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let purchase = Kind::from(EventKind::Purchase);
        let mut kept: Vec<Kind> = vec![purchase.clone()];
        let mut dropped = Vec::new();
        for (k, n) in by_count {
            if *k == purchase {
                continue;
            }
            if kept.len() < MAX_KINDS {
                kept.push(k.clone());
            } else {
                dropped.push((k.clone(), n));
            }
        }
        kept.sort_by_key(|k| (k.standard().is_none(), k.standard(), k.name().to_string()));
        Ok((Kinds::new(kept)?, dropped))
    }

    /// What the window does with `kind`.
    #[inline]
    pub fn column(&self, kind: &Kind) -> Column {
        match kind.standard() {
            Some(k) => self.standard[k.index()],
            None => self.custom.iter().find(|(c, _)| c == kind).map_or(Column::Ignored, |(_, at)| Column::At(*at)),
        }
    }

    /// The column of a standard kind, if the model reads it.
    pub fn column_of(&self, kind: EventKind) -> Option<usize> {
        match self.standard[kind.index()] {
            Column::At(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the model reads `kind`.
    pub fn contains(&self, kind: &Kind) -> bool {
        self.column(kind) != Column::Ignored
    }

    /// One-hot columns: every kind but purchase.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The kinds in the order given.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Kind> {
        self.kinds.iter()
    }

    /// The kinds that have a column, in column order.
    pub fn with_columns(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.iter().filter(|k| !k.is(EventKind::Purchase))
    }

    /// Their names, in the order given.
    pub fn names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_string()).collect()
    }

    /// Kinds in the list, purchase included.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Never true: purchase is always there.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_checked() {
        assert!(Kinds::parse(&["view_item"]).is_err(), "no purchase");
        assert!(Kinds::parse(&["purchase", "view_item", "Product Viewed"]).is_err(), "view_item twice");
        let many: Vec<String> = (0..MAX_KINDS).map(|i| format!("k{i}")).chain(["purchase".into()]).collect();
        assert!(Kinds::parse(&many).is_err());
        assert!(Kinds::parse(&many[1..]).is_ok());
        assert!(Kinds::parse(&["purchase", ""]).is_err());
    }

    #[test]
    fn columns_follow_the_order_given_without_purchase() {
        let k = Kinds::parse(&["add_to_cart", "purchase", "b", "a"]).unwrap();
        assert_eq!(k.columns(), 3);
        assert_eq!(k.column_of(EventKind::AddToCart), Some(0));
        assert_eq!(k.column(&Kind::parse("b").unwrap()), Column::At(1));
        assert_eq!(k.column(&Kind::parse("a").unwrap()), Column::At(2));
        assert_eq!(k.column(&Kind::parse("c").unwrap()), Column::Ignored);
        assert_eq!(k.with_columns().map(Kind::name).collect::<Vec<_>>(), ["add_to_cart", "b", "a"]);
    }

    #[test]
    fn kinds_of_a_log_keep_the_most_frequent_in_funnel_then_name_order() {
        let mut counts = HashMap::new();
        for (name, n) in [("zeta", 5), ("alpha", 9), ("view_item", 50), ("purchase", 1), ("page_view", 3)] {
            counts.insert(Kind::parse(name).unwrap(), n);
        }
        let (k, dropped) = Kinds::from_counts(&counts).unwrap();
        assert_eq!(k.names(), ["page_view", "view_item", "purchase", "alpha", "zeta"]);
        assert!(dropped.is_empty());
        for i in 0..80 {
            counts.insert(Kind::parse(&format!("rare{i:02}")).unwrap(), 1);
        }
        counts.remove(&Kind::from(EventKind::Purchase));
        let (k, dropped) = Kinds::from_counts(&counts).unwrap();
        assert_eq!(k.len(), MAX_KINDS);
        assert!(k.contains(&EventKind::Purchase.into()) && k.contains(&Kind::parse("zeta").unwrap()));
        assert_eq!(dropped.len(), 4 + 80 - (MAX_KINDS - 1));
    }
}
