//! `shopper-intent featurize`: an event log to training tensors split by user, with a summary.
//!
//! The kinds (feature columns) come from the log itself unless given; the log must have enough
//! users, sessions and purchases in each split for training and evaluation to mean anything,
//! otherwise featurizing stops and says how many are needed.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::json;
use shopper_intent::features::{aggregate_features, sequence_features, FEATURE_VERSION};
use shopper_intent::{Kinds, WindowConfig};

use crate::dataset::{assign_splits, Counts, Samples, Split, SPLIT_RULE};
use crate::logs::Log;

/// Users needed before a log is split (so that validation and test get a few each).
pub const MIN_USERS: usize = 20;
/// Purchasing sessions with at least one sample needed in the training split.
pub const MIN_TRAIN_PURCHASES: usize = 10;
/// Purchasing and non-purchasing sessions with samples needed in validation and test each.
pub const MIN_EVAL_SESSIONS: usize = 10;

/// How to featurize.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seed of the user split.
    pub seed: u64,
    /// W.
    pub window: usize,
    /// Minutes east of UTC.
    pub utc_offset_min: i32,
    /// The kinds, in column order; `None` takes the log's.
    pub kinds: Option<Vec<String>>,
    /// Go on (with a warning) when the log is too small to split and train.
    pub allow_small: bool,
}

/// The kinds to featurize with: the ones given, or the log's most frequent (with a note of any
/// left out).
pub fn choose_kinds(log: &Log, given: Option<&[String]>) -> Result<Kinds> {
    if let Some(names) = given {
        return Kinds::parse(names).context("--kinds");
    }
    let (kinds, dropped) = Kinds::from_counts(&log.kinds)?;
    if !dropped.is_empty() {
        let list: Vec<String> = dropped.iter().take(10).map(|(k, n)| format!("{k} ({n})")).collect();
        eprintln!(
            "note: the log has more than {} event types; {} rare ones get no column: {}{}",
            shopper_intent::kinds::MAX_KINDS,
            dropped.len(),
            list.join(", "),
            if dropped.len() > 10 { ", ..." } else { "" }
        );
    }
    // A log without a purchase is refused after featurizing (check_size), which names its types.
    Ok(kinds)
}

/// The featurized splits.
pub struct Featurized {
    /// The kinds used.
    pub kinds: Kinds,
    /// Samples per split, in [`Split::ALL`] order.
    pub splits: Vec<(Split, Samples)>,
    /// The whole log's counts.
    pub total: Counts,
    /// Why the log is too small to split and train, when `allow_small` let it through (empty
    /// otherwise): the report of a training run says so.
    pub size_problems: Vec<String>,
}

/// Featurizes every user of `log` into its split.
pub fn featurize(log: &Log, options: &Options) -> Result<Featurized> {
    let kinds = choose_kinds(log, options.kinds.as_deref())?;
    let config = WindowConfig { window: options.window, utc_offset_min: options.utc_offset_min, kinds: kinds.clone(), salt: [0; 16] };
    config.validate()?;
    let splits = assign_splits(&log.users, options.seed);
    let mut out: Vec<(Split, Samples)> = Split::ALL.iter().map(|s| (*s, Samples::new(&kinds, true))).collect();
    for (split, samples) in &mut out {
        samples.reserve(log.users.iter().zip(&splits).filter(|(_, s)| *s == split).map(|(u, _)| u.events.len()).sum());
    }
    for (u, user) in log.users.iter().enumerate() {
        let (_, samples) = out.iter_mut().find(|(s, _)| *s == splits[u]).expect("every split is in the list");
        samples.walk(u, user, &config)?;
    }
    let mut total = Counts::default();
    for (_, s) in &out {
        total.add(&s.counts);
    }
    let mut f = Featurized { kinds, splits: out, total, size_problems: Vec::new() };
    f.size_problems = check_size(&f, log, options.allow_small)?;
    Ok(f)
}

/// Purchasing and other sessions that have at least one sample.
fn sessions_with_samples(s: &Samples) -> (usize, usize) {
    let mut pos = std::collections::HashSet::new();
    let mut neg = std::collections::HashSet::new();
    for (i, &sess) in s.session.iter().enumerate() {
        if s.label[i] != 0 {
            pos.insert(sess);
        } else {
            neg.insert(sess);
        }
    }
    (pos.len(), neg.len())
}

/// Refuses a log too small to split and train (unless `allow_small`: then returns why it is).
fn check_size(f: &Featurized, log: &Log, allow_small: bool) -> Result<Vec<String>> {
    if f.total.positive_sessions == 0 && !log.bad_purchases.is_empty() && log.outside_window == 0 {
        let first = log.bad_purchases[0];
        let why = log.bad_line(first).map_or(String::new(), |b| format!(": {}", b.error));
        bail!(
            "the log has no purchase that could be read: its {} purchase line(s) are all malformed (line {first}{why}). \
             Fix them and read the log again",
            log.bad_purchases.len()
        );
    }
    if f.total.positive_sessions == 0 {
        // Nothing to learn from, however small the log may be allowed to be.
        let mut kinds: Vec<(&str, usize)> = log.kinds.iter().map(|(k, n)| (k.name(), *n)).collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = kinds.iter().take(15).map(|(k, n)| format!("{k} {n}")).collect();
        bail!(
            "the log has no purchase: no event is of type purchase or of a name that maps to it (Shopify's checkout_completed, \
             Segment's Order Completed, Taobao's buy); its event types are {}{}. Give your purchase event the type purchase{}",
            shown.join(", "),
            if kinds.len() > 15 { format!(" and {} more", kinds.len() - 15) } else { String::new() },
            if log.outside_window > 0 {
                format!(
                    " ({} events fall outside the time window read, --start-ms/--end-ms: purchases among them are not counted)",
                    log.outside_window
                )
            } else {
                String::new()
            }
        );
    }
    if f.total.positive_samples == 0 {
        // Every purchasing session begins with its purchase: nothing to learn from either.
        let cause = if f.total.ignored > 0 {
            format!(
                "The kinds read, {}, leave out {} events of the log's other types (--kinds): give the types that lead to \
                 a purchase too",
                f.kinds.names().join(", "),
                f.total.ignored
            )
        } else {
            "Does the export hold the events that lead to a purchase (item views, cart adds), with the same user ids?".to_string()
        };
        bail!(
            "no purchase in the log has an event before it in its session: each of the {} purchasing sessions begins with \
             its purchase, and a session is scored at each event before that. {cause}",
            f.total.positive_sessions
        );
    }
    let mut problems = Vec::new();
    if f.total.users < MIN_USERS {
        problems.push(format!("{} users; at least {MIN_USERS} are needed to split them 70/15/15", f.total.users));
    }
    for (split, s) in &f.splits {
        let (pos, neg) = sessions_with_samples(s);
        let need_pos = if *split == Split::Train { MIN_TRAIN_PURCHASES } else { MIN_EVAL_SESSIONS };
        if pos < need_pos || neg < MIN_EVAL_SESSIONS {
            problems.push(format!(
                "the {} split has {pos} purchasing and {neg} other sessions with samples; at least {need_pos} and {MIN_EVAL_SESSIONS} are needed",
                split.name()
            ));
        }
    }
    if problems.is_empty() {
        return Ok(problems);
    }
    let msg = format!("the log is too small to train and evaluate a model:\n  {}", problems.join("\n  "));
    if allow_small {
        eprintln!("warning: {msg}\n(going on because of --allow-small: figures from such data mean little)");
        Ok(problems)
    } else {
        bail!("{msg}\n(a purchase is an event of type purchase, or a mapped name such as Order Completed; --allow-small goes on anyway, with make train TRAIN_ARGS=--allow-small)")
    }
}

/// Where the input came from, for the summary.
pub struct Input<'a> {
    /// The path given.
    pub path: &'a Path,
    /// Its sha256.
    pub sha256: String,
    /// Whether the UTC offset was given or assumed.
    pub utc_offset_given: bool,
}

/// Writes the tensors and `summary.json` into `out`; returns the summary.
pub fn write(f: &Featurized, log: &Log, options: &Options, input: &Input<'_>, out: &Path) -> Result<serde_json::Value> {
    let mut per_split = serde_json::Map::new();
    for (split, samples) in &f.splits {
        samples.write(&out.join(split.name()))?;
        per_split.insert(split.name().into(), serde_json::to_value(&samples.counts)?);
    }
    let refused: Vec<_> = f.splits.iter().flat_map(|(_, s)| &s.refused).collect();
    let mut kinds: Vec<(String, usize)> = log.kinds.iter().map(|(k, n)| (k.name().to_string(), *n)).collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let sessions_from = match (log.with_session, log.events) {
        // The GA4 reader leaves ga_session_id out on purpose (logs.rs): not "no session ids".
        _ if log.format == crate::logs::Format::Ga4 => {
            "30-minute gaps (GA4's ga_session_id is not used: the widget on the page cuts sessions by 30-minute gaps, so \
             training does too)"
        }
        (0, _) => "30-minute gaps (the log has no session ids)",
        (s, e) if s == e => "the log's session ids",
        _ => "the log's session ids where given, 30-minute gaps elsewhere",
    };
    let summary = json!({
        "feature_version": FEATURE_VERSION,
        "kinds": f.kinds.names(),
        "sequence_features": sequence_features(&f.kinds),
        "aggregate_features": aggregate_features(&f.kinds),
        "input": input.path.display().to_string(),
        "input_sha256": input.sha256,
        "format": log.format,
        "window": options.window,
        "seed": options.seed,
        "split": SPLIT_RULE,
        "utc_offset_min": options.utc_offset_min,
        "utc_offset_assumed": !input.utc_offset_given,
        "sessions_from": sessions_from,
        "lines": log.lines,
        "events_outside_window": log.outside_window,
        "events_not_on_page": log.not_on_page,
        "duplicate_rows": log.duplicates,
        "rows_without_browser_id": log.no_browser_id,
        "malformed_lines": log.bad.len(),
        "malformed_purchase_lines": log.bad_purchases.len(),
        "repeated_lines": log.repeated_lines.1,
        "events_kept": log.events,
        "events_with_item": log.with_item,
        "events_with_category": log.with_category,
        "events_with_price": log.with_price,
        "events_with_quantity": log.with_quantity,
        "events_with_session": log.with_session,
        "keys_not_read": log.unread_keys.iter().take(100).collect::<Vec<_>>(),
        "size_problems": f.size_problems,
        "malformed": log.bad.iter().take(100).collect::<Vec<_>>(),
        "refused_events": refused.len(),
        "refused": refused.iter().take(100).collect::<Vec<_>>(),
        "event_types": kinds,
        "total": f.total,
        "splits": per_split,
    });
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?).with_context(|| format!("writing {}", path.display()))?;
    Ok(summary)
}
