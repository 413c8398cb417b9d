//! The engine with a model: streaming scores against a scalar reference at every session length,
//! exact restores, explanations, batch scoring equal to one-at-a-time scoring, and saved state
//! that refuses every corruption.

use proptest::prelude::*;
use shopper_intent::batch::BatchScorer;
use shopper_intent::engine::{Update, DEFAULT_HYSTERESIS, MAX_SCORE_POINTS};
use shopper_intent::model::{LstmState, Weights};
use shopper_intent::testing::random_model;
use shopper_intent::{Engine, EngineOptions, Event, EventKind, Kind, Kinds, SequenceModel};

const T0: i64 = 1_700_000_000_000;
const W: usize = 6;

fn kinds() -> Kinds {
    Kinds::parse(&["page_view", "view_item", "add_to_cart", "remove_from_cart", "begin_checkout", "purchase", "coupon_applied"]).unwrap()
}

fn engine(hidden: usize, head: usize, seed: u64) -> (Engine, Vec<u8>, String) {
    let (bytes, manifest) = random_model(&kinds(), W, hidden, head, seed);
    let model = SequenceModel::load(&bytes, &manifest).unwrap();
    (Engine::new(model, EngineOptions { salt: [9; 16], ..EngineOptions::default() }).unwrap(), bytes, manifest)
}

fn stream(n: usize, seed: u64) -> Vec<Event> {
    let names = ["page_view", "view_item", "view_item", "add_to_cart", "coupon_applied", "search", "remove_from_cart", "begin_checkout"];
    let mut s = seed | 1;
    let mut next = move |m: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % m
    };
    let mut t = T0;
    (0..n)
        .map(|i| {
            t += match next(20) {
                0 => 40 * 60_000,
                1 => 0,
                _ => 1_000 + next(60_000) as i64,
            };
            let kind =
                if next(60) == 0 { EventKind::Purchase.into() } else { Kind::parse(names[next(names.len() as u64) as usize]).unwrap() };
            let mut e = Event::new(kind, t).with_item(format!("sku-{}", next(9)), format!("c{}", next(3)));
            e.price = (next(3) == 0).then(|| next(200) as f64);
            e.quantity = (i % 7 == 0).then_some(2);
            e
        })
        .collect()
}

#[test]
fn streaming_scores_equal_a_scalar_reference_past_the_window() {
    for (hidden, head) in [(8, 0), (16, 6)] {
        let (mut engine, bytes, manifest) = engine(hidden, head, 5);
        let w = Weights::parse(&bytes, &shopper_intent::Manifest::parse(&manifest).unwrap().model).unwrap();
        let mut reference = LstmState::zero(hidden);
        let mut longest = 0;
        for e in stream(400, 11) {
            let u = engine.track(&e).unwrap();
            if u.new_session {
                reference = LstmState::zero(hidden);
            }
            if u.scored {
                let row = engine.window().last_row().unwrap().to_vec();
                let (p, h, c) = w.reference_step(&row, &reference.h, &reference.c);
                reference = LstmState { h, c };
                assert!((p - u.score).abs() < 1e-5, "prefix {}: engine {} reference {p}", u.prefix, u.score);
                longest = longest.max(u.prefix as usize);
            }
        }
        assert!(longest > 3 * W, "the stream should have sessions well past W, longest {longest}");
    }
}

#[test]
fn purchase_converts_ignored_kinds_change_nothing_and_sessions_restart() {
    let (mut e, _, _) = engine(8, 0, 1);
    let u = e.track(&Event::new(EventKind::ViewItem, T0).with_item("a", "c")).unwrap();
    assert!(u.scored && u.new_session && u.prefix == 1 && (0.0..=1.0).contains(&u.score));
    let before = e.export_state();
    let ignored = e.track(&Event::new(EventKind::Search, T0 + 1)).unwrap();
    assert!(ignored.ignored && !ignored.scored);
    assert_eq!(e.export_state(), before, "an ignored kind changes nothing");
    let bought = e.track(&Event::new(EventKind::Purchase, T0 + 2)).unwrap();
    assert!(bought.converted && bought.score == 1.0 && bought.segment.name() == "high" && !bought.scored);
    assert_eq!(e.explain().unwrap()[0].factor, "purchase");
    let next = e.track(&Event::new(EventKind::ViewItem, T0 + 3_000_000)).unwrap();
    assert!(next.new_session && !next.converted && next.events == 1);
    assert_eq!(e.history().count(), 1);
    let bad = e.track(&Event::new(EventKind::ViewItem, T0 + 3_000_000 - 60_000)).unwrap_err();
    assert_eq!(bad.code(), "OUT_OF_ORDER");
    // A clock set back by hours: a new session, not a refusal.
    let back = e.track(&Event::new(EventKind::ViewItem, T0)).unwrap();
    assert!(back.new_session && back.scored);
}

#[test]
fn explanations_start_from_the_state_before_the_window() {
    let (mut e, _, _) = engine(12, 0, 2);
    assert!(e.explain().unwrap().is_empty());
    for ev in stream(200, 3).into_iter().filter(|ev| !ev.kind.is(EventKind::Purchase)) {
        let ev = Event { ts_ms: T0, ..ev };
        e.track(&ev).unwrap();
    }
    assert!(e.window().prefix() as usize > W);
    let factors = e.explain().unwrap();
    assert!(!factors.is_empty());
    for pair in factors.windows(2) {
        assert!(pair[0].effect.abs() >= pair[1].effect.abs());
    }
    // Occluding nothing gives the score itself: every effect is bounded by the score's range.
    for f in &factors {
        assert!(f.effect.abs() <= 1.0 && f.effect.is_finite(), "{f:?}");
    }
    assert!(e.history().count() <= MAX_SCORE_POINTS);
}

#[test]
fn a_restored_engine_continues_exactly() {
    let events = stream(300, 21);
    for cut in [0, 1, 5, W, W + 1, 57, 200, 299] {
        let (mut a, bytes, manifest) = engine(10, 4, 8);
        let mut b = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
        for (i, ev) in events.iter().enumerate() {
            if i == cut {
                // Restored when it was saved, after its last event (a state restored after its
                // session ended: a_state_restored_after_its_session_ended_is_low_...).
                b.restore_state(&a.export_state(), a.window().newest_ms().unwrap_or(ev.ts_ms)).unwrap();
                assert_eq!(a.score(), b.score(), "cut {cut}");
                assert_eq!(a.segment(), b.segment());
                assert!(a.history().eq(b.history()) || a.window().prefix() as usize > W, "cut {cut}");
            }
            let ua = a.track(ev);
            if i >= cut {
                assert_eq!(ua, b.track(ev), "cut {cut} event {i}");
            }
        }
        assert_eq!(a.explain().unwrap(), b.explain().unwrap());
    }
}

#[test]
fn forget_leaves_nothing_that_links_to_before() {
    // After forget(new salt), the engine is a fresh one made with that salt: the same events give
    // the same state, byte for byte. With the old salt kept, the state would differ (it holds the
    // salt and the ids hashed with it).
    let events = stream(120, 31);
    let (mut used, bytes, manifest) = engine(8, 0, 3);
    for e in &events {
        used.track(e).unwrap();
    }
    let fresh_salt = [77; 16];
    used.forget(fresh_salt);
    let mut fresh =
        Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions { salt: fresh_salt, ..EngineOptions::default() })
            .unwrap();
    let (mut kept, _, _) = engine(8, 0, 3);
    kept.forget([9; 16]);
    for e in &events[..40] {
        assert_eq!(used.track(e), fresh.track(e));
        kept.track(e).unwrap();
    }
    assert_eq!(used.export_state(), fresh.export_state());
    assert_ne!(used.export_state(), kept.export_state(), "the salt is in the state");
}
/// A new model deployed: a session whose every row is kept is recomputed by the new model, as
/// if it had tracked the session's events itself; the hidden size may differ.
#[test]
fn a_short_session_of_another_model_is_recomputed_by_this_one() {
    let events = stream(60, 7);
    let mut checked = 0;
    for cut in 1..events.len() {
        let (mut old, _, _) = engine(8, 0, 1);
        for e in &events[..cut] {
            let _ = old.track(e);
        }
        let prefix = old.window().prefix() as usize;
        if prefix == 0 || prefix > W {
            continue;
        }
        let state = old.export_state();
        let now = events[cut - 1].ts_ms;
        for (hidden, seed) in [(8, 2), (16, 3)] {
            let (mut new, _, _) = engine(hidden, 0, seed);
            new.restore_state(&state, now).unwrap();
            let (mut tracked, _, _) = engine(hidden, 0, seed);
            for e in &events[..cut] {
                let _ = tracked.track(e);
            }
            // The same state, segment (with its hysteresis) included, as the new model's own.
            assert_eq!(
                new.export_state(),
                tracked.export_state(),
                "cut {cut}, hidden {hidden}: the same state as the new model tracking the events"
            );
            assert_eq!(new.score().to_bits(), tracked.score().to_bits(), "cut {cut}, hidden {hidden}");
            assert_eq!(new.segment(), tracked.segment(), "cut {cut}, hidden {hidden}");
            let next = &events[cut];
            assert_eq!(
                new.track(next).map(|u| u.score.to_bits()).ok(),
                tracked.track(next).map(|u| u.score.to_bits()).ok(),
                "cut {cut}: the next event"
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "short sessions checked: {checked}");
    // A new model in another local time: the rows' hours are the old time's: refused.
    let (mut old, _, _) = engine(8, 0, 1);
    let _ = old.track(&events[0]);
    let (bytes, manifest) = random_model(&kinds(), W, 8, 0, 2);
    let model = SequenceModel::load(&bytes, &manifest).unwrap();
    let mut shifted = Engine::new(model, EngineOptions { salt: [9; 16], utc_offset_min: Some(480), ..EngineOptions::default() }).unwrap();
    let e = shifted.restore_state(&old.export_state(), events[0].ts_ms).unwrap_err();
    assert!(e.code() == "BAD_STATE" && e.to_string().contains("another model") && e.to_string().contains("another local time"), "{e}");
    // Over by the clock: ended into the earlier sessions.
    shifted.restore_state(&old.export_state(), events[0].ts_ms + 31 * 60_000).unwrap();
    assert_eq!((shifted.window().earlier().sessions, shifted.window().prefix()), (1, 0));
}

#[test]
fn states_of_other_models_and_formats_are_refused() {
    let (mut a, _, _) = engine(8, 0, 1);
    for ev in stream(300, 4) {
        let _ = a.track(&ev);
        if a.window().prefix() as usize > W + 2 {
            break;
        }
    }
    assert!(a.window().prefix() as usize > W, "a session longer than the window");
    let state = a.export_state();
    let now = a.window().newest_ms().unwrap();
    let (mut other, _, _) = engine(8, 0, 2);
    let e = other.restore_state(&state, now).unwrap_err();
    assert!(
        e.code() == "BAD_STATE" && e.to_string().contains("another model") && e.to_string().contains("longer than the 6 rows kept"),
        "{e}"
    );
    assert_eq!(other.window().prefix(), 0, "the engine is unchanged");
    // Over by the clock, the session is ended into the earlier sessions, as the next event would
    // end it: a deploy keeps the shopper's history. The same model's engine, restored and given
    // the next event, holds the same history after it.
    let later = now + 31 * 60_000;
    other.restore_state(&state, later).expect("another model's session, over: ended, the rest kept");
    assert_eq!((other.score(), other.segment(), other.history().count()), (0.0, shopper_intent::Segment::Low, 0));
    assert_eq!(other.window().prefix(), 0);
    let (mut same, _, _) = engine(8, 0, 1);
    same.restore_state(&state, later).unwrap();
    let next = Event::new(Kind::from(EventKind::ViewItem), later).with_item("sku-1", "c");
    let (uo, us) = (other.track(&next).unwrap(), same.track(&next).unwrap());
    assert!(uo.new_session && us.new_session);
    assert!(other.window().earlier().sessions >= 1);
    assert_eq!(other.window().earlier(), same.window().earlier(), "the same earlier sessions and pending items");
    assert_eq!(other.window().last_row(), same.window().last_row(), "the same features of the next session's first event");
    let (mut bigger, _, _) = engine(16, 0, 1);
    assert_eq!(bigger.restore_state(&state, T0).unwrap_err().code(), "BAD_STATE");
    // A window state alone, or a version-1 state, is not an engine state.
    assert_eq!(other.restore_state(&a.window().to_bytes(), T0).unwrap_err().code(), "BAD_STATE");
    let mut v1 = state.clone();
    v1[4] = 0;
    assert!(a.restore_state(&v1, T0).unwrap_err().to_string().contains("format 0"));
}

#[test]
fn batch_scoring_equals_one_event_at_a_time() {
    let (_, bytes, manifest) = engine(12, 0, 6);
    let streams: Vec<Vec<Event>> = (0..37).map(|s| stream(5 + (s * 13) % 90, 100 + s as u64)).collect();
    let refs: Vec<Vec<&Event>> = streams.iter().map(|s| s.iter().collect()).collect();
    let model = SequenceModel::load(&bytes, &manifest).unwrap();
    for batch in [1, 4, 64] {
        let mut scorer = BatchScorer::new(&model, batch, 0, DEFAULT_HYSTERESIS).unwrap();
        let mut got: Vec<Vec<Option<Update>>> = streams.iter().map(|s| vec![None; s.len()]).collect();
        scorer.score(&refs, |s, i, r| got[s][i] = r.ok()).unwrap();
        for (s, events) in streams.iter().enumerate() {
            let mut e = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
            for (i, ev) in events.iter().enumerate() {
                let want = e.track(ev).ok();
                let g = got[s][i].unwrap_or_else(|| panic!("batch {batch}: stream {s} event {i} not scored"));
                let w = want.unwrap();
                assert!((g.score - w.score).abs() < 1e-6, "batch {batch} stream {s} event {i}: {} vs {}", g.score, w.score);
                assert_eq!(
                    (g.segment, g.prefix, g.new_session, g.converted, g.scored),
                    (w.segment, w.prefix, w.new_session, w.converted, w.scored)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every byte of a saved state is covered: a flipped byte is refused, or (when it does not
    /// matter) restores to the very same engine. Truncations are always refused.
    #[test]
    fn any_flipped_byte_is_refused_or_harmless(seed in 0u64..1000, n in 1usize..60, flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)) {
        let (mut a, bytes, manifest) = engine(8, 0, 3);
        for ev in stream(n, seed) {
            let _ = a.track(&ev);
        }
        let state = a.export_state();
        let mut b = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
        let mut bad = state.clone();
        for (at, x) in &flips {
            bad[at.index(state.len())] ^= x;
        }
        match b.restore_state(&bad, T0) {
            Err(e) => prop_assert_eq!(e.code(), "BAD_STATE"),
            Ok(()) => prop_assert_eq!(b.export_state(), state.clone()),
        }
        for cut in [0, 1, state.len() / 2, state.len() - 1] {
            prop_assert!(b.restore_state(&state[..cut], T0).is_err());
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let (mut e, _, _) = engine(8, 0, 1);
        let _ = e.restore_state(&bytes, T0);
        let mut prefixed = b"SIEN\x01".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = e.restore_state(&prefixed, T0);
    }
}

#[test]
fn the_shops_local_time_is_the_manifests_unless_given() {
    // The hour-of-day columns are read in the time zone the model was trained in (its manifest's
    // utc_offset_min) unless the options say otherwise; a restored state takes the engine's.
    let (bytes, manifest) = random_model(&kinds(), W, 8, 0, 4);
    let mut json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    json["utc_offset_min"] = 300.into();
    let trained_at_300 = json.to_string();
    let make = |manifest: &str, utc_offset_min: Option<i32>| {
        let model = SequenceModel::load(&bytes, manifest).unwrap();
        Engine::new(model, EngineOptions { salt: [3; 16], utc_offset_min, ..EngineOptions::default() }).unwrap()
    };
    let events = stream(30, 41);
    let scores = |engine: &mut Engine| events.iter().map(|e| engine.track(e).unwrap().score).collect::<Vec<_>>();
    let by_default = scores(&mut make(&trained_at_300, None));
    assert_eq!(by_default, scores(&mut make(&trained_at_300, Some(300))), "the manifest's offset when none is given");
    assert_ne!(by_default, scores(&mut make(&trained_at_300, Some(0))), "another offset moves the hour columns");
    assert_eq!(scores(&mut make(&manifest, None)), scores(&mut make(&manifest, Some(0))), "UTC for a manifest without one");
    let mut bad = json.clone();
    bad["utc_offset_min"] = 1200.into();
    assert!(SequenceModel::load(&bytes, &bad.to_string()).is_err(), "an offset past ±18 h is refused");

    let mut utc = make(&manifest, Some(0));
    for e in &events[..10] {
        utc.track(e).unwrap();
    }
    let mut restored = make(&trained_at_300, None);
    restored.restore_state(&utc.export_state(), events[10].ts_ms).unwrap();
    assert_eq!(restored.window().config().utc_offset_min, 300, "a restored state takes this engine's local time");
}

#[test]
fn a_state_restored_after_its_session_ended_is_low_until_the_next_event() {
    // Restored within the session gap, the score and segment carry on; restored after it, the
    // session is over: score 0, segment low (not the last session's high).
    let (mut a, bytes, manifest) = engine(8, 0, 6);
    let t = |m: i64| T0 + m * 60_000;
    for (i, kind) in [EventKind::ViewItem, EventKind::AddToCart, EventKind::Purchase].into_iter().enumerate() {
        a.track(&Event::new(Kind::from(kind), t(i as i64)).with_item("sku", "c")).unwrap();
    }
    assert_eq!((a.score(), a.segment()), (1.0, shopper_intent::Segment::High), "a purchase is high");
    let restored = |minutes_later: i64| {
        let mut b = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
        b.restore_state(&a.export_state(), t(2 + minutes_later)).unwrap();
        (b.score(), b.segment())
    };
    assert_eq!(restored(29), (1.0, shopper_intent::Segment::High));
    assert_eq!(restored(31), (0.0, shopper_intent::Segment::Low));
    // A clock now behind the last event by more than the gap (it ran ahead when the state was
    // saved, then was corrected): over too, as tracking takes such a clock for a new session.
    assert_eq!(restored(-29), (1.0, shopper_intent::Segment::High));
    assert_eq!(restored(-2 - 31), (0.0, shopper_intent::Segment::Low));
    assert_eq!(restored(-2 - 365 * 24 * 60), (0.0, shopper_intent::Segment::Low));
}

#[test]
fn a_session_a_restore_found_over_has_nothing_behind_it_until_it_goes_on() {
    let (mut live, bytes, manifest) = engine(8, 0, 6);
    let t = |m: i64| T0 + m * 60_000;
    let fresh = || {
        Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions { salt: [9; 16], ..EngineOptions::default() }).unwrap()
    };
    // A converted session, saved, restored 35 minutes after its last event: over.
    for (i, kind) in [EventKind::ViewItem, EventKind::Purchase].into_iter().enumerate() {
        live.track(&Event::new(Kind::from(kind), t(i as i64)).with_item("sku", "c")).unwrap();
    }
    let mut b = fresh();
    b.restore_state(&live.export_state(), t(1 + 35)).unwrap();
    assert_eq!((b.score(), b.segment()), (0.0, shopper_intent::Segment::Low));
    assert_eq!((b.history().count(), b.explain().unwrap()), (0, vec![]), "no history, no factors behind a score of 0");
    // An event of its time (the page replaying what it had not saved yet) takes it up again: a
    // converted session, high, with its history, as in the engine never saved.
    let late = Event::new(Kind::from(EventKind::ViewItem), t(20)).with_item("sku", "c");
    let (ul, ub) = (live.track(&late).unwrap(), b.track(&late).unwrap());
    assert_eq!((ub.score, ub.segment, ub.converted, ub.new_session), (ul.score, ul.segment, ul.converted, false));
    assert_eq!((ub.score, ub.segment), (1.0, shopper_intent::Segment::High));
    assert!(live.history().eq(b.history()));
    assert_eq!(live.explain().unwrap(), b.explain().unwrap());

    // A session with an id, over at the restore, goes on with the next event of that id: from
    // the carried state, as in the engine never saved.
    let (mut live, _, _) = engine(8, 0, 6);
    let cart = |m: i64| Event::new(Kind::from(EventKind::AddToCart), t(m)).with_item(format!("sku-{m}"), "c").with_session("s2");
    for m in 0..4 {
        live.track(&cart(m)).unwrap();
    }
    let mut b = fresh();
    b.restore_state(&live.export_state(), t(3 + 31)).unwrap();
    assert_eq!((b.score(), b.history().count()), (0.0, 0));
    let (ul, ub) = (live.track(&cart(3 + 41)).unwrap(), b.track(&cart(3 + 41)).unwrap());
    assert!(!ub.new_session);
    assert_eq!((ub.score, ub.segment, ub.prefix, ub.events), (ul.score, ul.segment, ul.prefix, ul.events));
    assert!(live.history().eq(b.history()));
    // Nothing to take up: the next event after the gap starts a new session in both.
    let mut b = fresh();
    b.restore_state(&live.export_state(), t(44 + 31)).unwrap();
    let next = Event::new(Kind::from(EventKind::ViewItem), t(44 + 32)).with_item("x", "c");
    let (ul, ub) = (live.track(&next).unwrap(), b.track(&next).unwrap());
    assert!(ub.new_session && ul.new_session);
    assert_eq!(ub.score, ul.score);
}

#[test]
fn a_restore_in_a_session_keeps_its_pending_items_as_the_engine_never_saved_does() {
    // An item put in the cart and not bought stays pending for PENDING_TTL_MS, counted from the
    // start of a later session; a restore in the middle of that session must not drop it sooner.
    let ttl = shopper_intent::window::PENDING_TTL_MS;
    let (mut live, bytes, manifest) = engine(8, 0, 4);
    let mut b =
        Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions { salt: [9; 16], ..EngineOptions::default() }).unwrap();
    let at = |ms: i64, kind: EventKind, item: &str| Event::new(Kind::from(kind), ms).with_item(item, "c");
    live.track(&at(T0, EventKind::AddToCart, "p")).unwrap();
    let start = T0 + ttl - 20 * 60_000;
    live.track(&at(start, EventKind::ViewItem, "a")).unwrap();
    live.track(&at(start + 10 * 60_000, EventKind::ViewItem, "b")).unwrap();
    b.restore_state(&live.export_state(), start + 25 * 60_000).unwrap();
    assert_eq!(b.score(), live.score());
    let again = at(start + 26 * 60_000, EventKind::ViewItem, "p");
    let (ul, ub) = (live.track(&again).unwrap(), b.track(&again).unwrap());
    assert_eq!(ub, ul);
    assert_eq!(b.window().last_row(), live.window().last_row(), "the same features: p is still pending");
    // Restored after the gap (over), then taken up again by an event of the session's id: the
    // same, p still pending.
    let (mut live, _, _) = engine(8, 0, 4);
    let mut b =
        Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions { salt: [9; 16], ..EngineOptions::default() }).unwrap();
    live.track(&at(T0, EventKind::AddToCart, "p")).unwrap();
    live.track(&at(start, EventKind::ViewItem, "a").with_session("s2")).unwrap();
    b.restore_state(&live.export_state(), start + 40 * 60_000).unwrap();
    assert_eq!(b.score(), 0.0, "over at the restore");
    let again = at(start + 41 * 60_000, EventKind::ViewItem, "p").with_session("s2");
    let (ul, ub) = (live.track(&again).unwrap(), b.track(&again).unwrap());
    assert!(!ub.new_session);
    assert_eq!((ub.score, ub.segment), (ul.score, ul.segment));
    assert_eq!(b.window().last_row(), live.window().last_row(), "p still pending when the session goes on");
}

/// A session of four events (id `s1`, a minute apart) whose score falls at its next event, an hour
/// on, and thresholds that put its last score in high and the next one within the hysteresis
/// below high: an engine never saved stays high at that event. Returns (events, next, thresholds).
fn falling_session() -> (Vec<Event>, Event, shopper_intent::Thresholds) {
    let ev = |m: i64, kind: EventKind| Event::new(Kind::from(kind), T0 + m * 60_000).with_item(format!("sku-{m}"), "c").with_session("s1");
    let kinds = [EventKind::ViewItem, EventKind::AddToCart, EventKind::ViewItem, EventKind::AddToCart];
    let events: Vec<Event> = kinds.iter().enumerate().map(|(m, k)| ev(m as i64, *k)).collect();
    let next = ev(60, EventKind::ViewItem);
    let (mut probe, _, _) = engine(8, 0, 12);
    let last = events.iter().map(|e| probe.track(e).unwrap().score).last().unwrap();
    let following = probe.track(&next).unwrap().score;
    assert!(following < last, "the case needs a falling score: {last} then {following}");
    // High between the two scores, within the hysteresis of the lower one.
    let high = following + (last - following).min(0.02) / 2.0;
    (events, next, shopper_intent::Thresholds { medium: high / 2.0, high })
}

#[test]
fn a_session_taken_up_after_a_restore_keeps_its_segment_and_hysteresis() {
    // Thresholds set so that the last score is high and the next one falls between the high
    // threshold and the hysteresis below it: an engine never saved stays high, and so must one
    // restored after the gap whose session goes on.
    let (mut live, bytes, manifest) = engine(8, 0, 12);
    let t = |m: i64| T0 + m * 60_000;
    let (events, next, thresholds) = falling_session();
    live.set_thresholds(thresholds).unwrap();
    let mut b = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    b.set_thresholds(thresholds).unwrap();
    for e in &events {
        live.track(e).unwrap();
    }
    b.restore_state(&live.export_state(), t(3 + 31)).unwrap();
    // Saved again while over (a page saves the state it restored) and restored: the segment the
    // session holds is saved with it, not the low it shows while over.
    let mut c = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    c.set_thresholds(thresholds).unwrap();
    c.restore_state(&b.export_state(), t(3 + 32)).unwrap();
    assert_eq!((c.score(), c.segment()), (0.0, shopper_intent::Segment::Low), "over");
    let (ul, ub, uc) = (live.track(&next).unwrap(), b.track(&next).unwrap(), c.track(&next).unwrap());
    assert_eq!(ul.segment, shopper_intent::Segment::High, "the engine never saved stays high, within the hysteresis");
    assert_eq!((ub.score, ub.segment), (ul.score, ul.segment));
    assert_eq!((uc.score, uc.segment, uc.segment_changed), (ul.score, ul.segment, ub.segment_changed));
}

#[test]
fn thresholds_set_while_a_restored_session_is_over_apply_when_it_goes_on() {
    // The live engine and one restored after the gap both get new thresholds, then the session's
    // next event (its id takes it up again). The thresholds put the last score in high and the
    // next one within the hysteresis below high: the live engine stays high, and so must the
    // restored one, whose held segment was worked out under the old thresholds.
    let (mut live, bytes, manifest) = engine(8, 0, 12);
    let t = |m: i64| T0 + m * 60_000;
    let (events, next, thresholds) = falling_session();
    for e in &events {
        live.track(e).unwrap();
    }
    let mut b = Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    b.restore_state(&live.export_state(), t(3 + 31)).unwrap();
    live.set_thresholds(thresholds).unwrap();
    b.set_thresholds(thresholds).unwrap();
    assert_eq!(live.segment(), shopper_intent::Segment::High);
    assert_eq!(b.segment(), shopper_intent::Segment::Low, "over: low until the session goes on");
    let (ul, ub) = (live.track(&next).unwrap(), b.track(&next).unwrap());
    assert!(!ub.new_session);
    assert_eq!(ul.segment, shopper_intent::Segment::High, "the live engine stays high, within the hysteresis");
    assert_eq!((ub.score, ub.segment), (ul.score, ul.segment));
}

#[test]
fn a_restore_keeps_the_newest_score_points_when_the_window_holds_more() {
    // A model of a window longer than the history (W up to 1024 rows, 512 score points): the
    // restore rebuilds the points from the kept rows, and keeps as many as tracking keeps.
    let window = MAX_SCORE_POINTS + 88;
    let (bytes, manifest) = random_model(&kinds(), window, 4, 0, 2);
    let fresh = || Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    let mut live = fresh();
    let ev = |i: i64| Event::new(Kind::from(EventKind::ViewItem), T0 + i * 1_000).with_item(format!("sku-{}", i % 50), "c");
    for i in 0..window as i64 {
        live.track(&ev(i)).unwrap();
    }
    assert_eq!(live.history().count(), MAX_SCORE_POINTS);
    let mut b = fresh();
    b.restore_state(&live.export_state(), T0 + window as i64 * 1_000).unwrap();
    assert_eq!(b.history().count(), MAX_SCORE_POINTS);
    assert!(live.history().eq(b.history()));
    for i in window as i64..window as i64 + 20 {
        let (ul, ub) = (live.track(&ev(i)).unwrap(), b.track(&ev(i)).unwrap());
        assert_eq!(ub, ul);
    }
    assert_eq!(b.history().count(), MAX_SCORE_POINTS, "bounded as the session goes on");
    assert!(live.history().eq(b.history()));
}

/// A state edited by hand with a valid checksum (another script of the shop's origin, a shopper
/// in the browser's tools): an LSTM state no engine can make is refused, not scored.
#[test]
fn a_forged_lstm_state_out_of_range_is_refused() {
    let (mut a, bytes, manifest) = engine(10, 4, 8);
    for ev in stream(40, 5).iter().take(20) {
        let _ = a.track(ev);
    }
    let now = a.window().newest_ms().unwrap();
    let good = a.export_state();
    let hidden = 10;
    // (Numbers that are not finite are refused as they are read.) magic 4, format 1, model id 8, segment 1, hidden 2, then h and c as f32.
    let h_at = 16;
    let c_at = h_at + 4 * hidden;
    let forge = |at: usize, v: f32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let body = b.len() - 8;
        let sum = shopper_intent::state::fnv1a(&b[..body]);
        b[body..].copy_from_slice(&sum.to_le_bytes());
        b
    };
    let fresh = || Engine::new(SequenceModel::load(&bytes, &manifest).unwrap(), EngineOptions::default()).unwrap();
    let mut e = fresh();
    e.restore_state(&forge(h_at, 0.5), now).expect("an h within (-1, 1) is a state an engine can make");
    let steps = a.window().prefix() as usize - a.window().rows().len();
    assert!(steps > 1, "the kept rows start after {steps} steps");
    e.restore_state(&forge(c_at, steps as f32 * 0.9), now).expect("a c within the steps taken");
    for (what, at, v) in [
        ("h above 1", h_at, 1.5),
        ("h at -3e38", h_at + 4, -3.0e38),
        ("c beyond the steps", c_at, steps as f32 + 2.0),
        ("c at 3e38", c_at, 3.0e38),
    ] {
        let mut e = fresh();
        let err = e.restore_state(&forge(at, v), now).expect_err(what);
        assert!(err.to_string().contains("an LSTM state out of its range"), "{what}: {err}");
        assert_eq!(e.window().prefix(), 0, "{what}: the engine is unchanged");
    }
    // Rows of huge (finite) numbers: refused too (they are not rows the features make).
    let mut b = good.clone();
    let body = b.len() - 8;
    let floats = a.window().rows().len() * a.window().rows().width();
    for i in 0..floats {
        let at = body - 4 * (i + 1);
        b[at..at + 4].copy_from_slice(&(if i % 2 == 0 { 3.0e38f32 } else { -3.0e38 }).to_le_bytes());
    }
    let sum = shopper_intent::state::fnv1a(&b[..body]);
    b[body..].copy_from_slice(&sum.to_le_bytes());
    let err = fresh().restore_state(&b, now).expect_err("rows no engine makes");
    assert!(matches!(err, shopper_intent::Error::BadState(_)), "{err}");
}
