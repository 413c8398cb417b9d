//! The incrementally kept window must give exactly the features that the naive reference
//! recomputes from scratch, after every event of random streams.

use proptest::prelude::*;
use shopper_intent::features::{aggregate_features, sequence_features};
use shopper_intent::window::SESSION_GAP_MS;
use shopper_intent::{naive, Event, EventKind, Kind, Kinds, Window, WindowConfig};

const T0: i64 = 1_511_539_200_000;

#[derive(Clone, Debug)]
struct Step {
    /// 0..12: a GA4 kind; 12..15: a shop's own kind.
    kind: u8,
    gap: i64,
    item: Option<u16>,
    category: Option<u8>,
    price: Option<f64>,
    quantity: Option<u32>,
    session: Option<u8>,
}

/// The kind of a step: the twelve GA4 kinds, then three of a shop's own.
fn kind_of(k: u8) -> Kind {
    match EventKind::ALL.get(usize::from(k)) {
        Some(k) => (*k).into(),
        None => Kind::parse(&format!("own_{k}")).unwrap(),
    }
}

fn event_of(s: &Step, t: i64) -> Event {
    let mut e = Event::new(kind_of(s.kind), t);
    e.item = s.item.map(|i| format!("item-{i}"));
    e.category = s.category.map(|c| format!("cat-{c}"));
    e.price = s.price;
    e.quantity = s.quantity;
    e.session = s.session.map(|s| format!("s{s}"));
    e
}

fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..5_000,
        3 => 5_000i64..600_000,
        1 => Just(SESSION_GAP_MS),
        2 => SESSION_GAP_MS + 1..SESSION_GAP_MS * 20,
        1 => 86_400_000i64..20 * 86_400_000,
        1 => -3_000i64..0,
        1 => -3 * SESSION_GAP_MS..-SESSION_GAP_MS + 1_000,
    ]
}

fn step(sessions: bool) -> impl Strategy<Value = Step> {
    (
        prop_oneof![6 => Just(3u8), 2 => Just(6u8), 1 => Just(5u8), 1 => Just(7u8), 1 => Just(11u8), 2 => 0u8..15],
        gap(),
        prop::option::weighted(0.9, 0u16..30),
        prop::option::weighted(0.8, 0u8..6),
        prop::option::weighted(0.3, prop_oneof![0.0..500.0, Just(f64::NAN), Just(-1.0)]),
        prop::option::weighted(0.2, 0u32..4),
        prop::option::weighted(0.8, 0u8..3),
    )
        .prop_map(move |(kind, gap, item, category, price, quantity, session)| Step {
            kind,
            gap,
            item,
            category,
            price,
            quantity,
            session: session.filter(|_| sessions),
        })
}

fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    any::<bool>().prop_flat_map(move |sessions| prop::collection::vec(step(sessions), 1..max))
}

fn config() -> impl Strategy<Value = WindowConfig> {
    (1usize..10, -720i32..840, 0u8..3, any::<[u8; 16]>()).prop_map(|(window, utc_offset_min, which, salt)| {
        let names: &[&str] = match which {
            0 => &[
                "page_view",
                "view_item_list",
                "select_item",
                "view_item",
                "search",
                "add_to_wishlist",
                "add_to_cart",
                "remove_from_cart",
                "view_cart",
                "begin_checkout",
                "add_payment_info",
                "purchase",
            ],
            1 => &["view_item", "add_to_wishlist", "add_to_cart", "purchase"],
            _ => &["own_13", "view_item", "purchase", "own_12", "add_to_cart", "remove_from_cart"],
        };
        WindowConfig { window, utc_offset_min, kinds: Kinds::parse(names).unwrap(), salt }
    })
}

fn assert_same(w: &Window, events: &[Event]) {
    let (rows, aggregates) = naive::features(w.config(), events);
    let names = sequence_features(&w.config().kinds);
    let agg_names = aggregate_features(&w.config().kinds);
    let got: Vec<Vec<f32>> = w.rows().iter().map(|r| r.to_vec()).collect();
    assert_eq!(got.len(), rows.len(), "row count");
    for (r, (a, b)) in got.iter().zip(&rows).enumerate() {
        assert_eq!(a.len(), names.len());
        for c in 0..a.len() {
            assert!((a[c] - b[c]).abs() <= 1e-6, "row {r} column {}: {} vs {}", names[c], a[c], b[c]);
        }
    }
    let got = w.aggregates();
    for c in 0..got.len() {
        assert!(
            (got[c] - aggregates[c]).abs() <= 1e-5 * aggregates[c].abs().max(1.0),
            "aggregate {}: {} vs {}",
            agg_names[c],
            got[c],
            aggregates[c]
        );
    }
}

fn run(config: WindowConfig, steps: &[Step], check_every: usize) {
    let mut w = Window::new(config).unwrap();
    let mut events = Vec::new();
    let mut t = T0;
    for (i, s) in steps.iter().enumerate() {
        t += s.gap;
        let e = event_of(s, t);
        let before = w.clone();
        if w.push(&e).is_err() {
            assert_eq!(w, before, "a rejected event must change nothing");
        }
        events.push(e);
        if i % check_every == 0 || i + 1 == steps.len() {
            assert_same(&w, &events);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn incremental_features_equal_naive(config in config(), steps in steps(120)) {
        run(config, &steps, 1);
    }

    #[test]
    fn state_round_trip_continues_identically(config in config(), steps in steps(60), cut in 0usize..60) {
        let cut = cut % steps.len();
        let mut a = Window::new(config).unwrap();
        let mut t = T0;
        let mut b = None;
        for (i, s) in steps.iter().enumerate() {
            if i == cut {
                b = Some(Window::from_bytes(&a.to_bytes()).unwrap());
            }
            t += s.gap;
            let e = event_of(s, t);
            let ra = a.push(&e);
            if let Some(b) = b.as_mut() {
                prop_assert_eq!(ra, b.push(&e));
            }
        }
        prop_assert_eq!(Some(a), b);
    }

    #[test]
    fn restore_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Window::from_bytes(&bytes);
        let mut prefixed = b"SIST\x02".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = Window::from_bytes(&prefixed);
    }
}

/// Saturation of the per-session item cap and the pending cap, which random streams rarely reach.
#[test]
fn caps_saturate_identically() {
    let mut steps = Vec::new();
    // Many sessions, each carting a few fresh items: more than MAX_PENDING pending items.
    for s in 0..30u16 {
        for i in 0..4u16 {
            steps.push(Step {
                kind: 6,
                gap: 1_000,
                item: Some(s * 4 + i),
                category: Some((i % 6) as u8),
                price: None,
                quantity: None,
                session: None,
            });
        }
        steps.push(Step { kind: 3, gap: SESSION_GAP_MS + 5, item: Some(s), category: None, price: None, quantity: None, session: None });
    }
    run(WindowConfig { window: 4, ..WindowConfig::default() }, &steps, 7);

    // One long session with more distinct items than MAX_SESSION_ITEMS, some viewed again.
    let mut w = Window::new(WindowConfig::default()).unwrap();
    let mut events = Vec::new();
    for i in 0..700u32 {
        let item = if i % 5 == 4 { i / 2 } else { i };
        let e = Event::new(EventKind::ViewItem, T0 + i64::from(i) * 1_000).with_item(format!("x{item}"), format!("c{}", i % 600));
        w.push(&e).unwrap();
        events.push(e);
    }
    assert_same(&w, &events);
}
