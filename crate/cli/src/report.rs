//! What the commands print: the featurize summary and the evaluation tables.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::dataset::Split;
use crate::eval::{Figures, Mean, Scored, PREFIX_BUCKETS};
use crate::featurize::{Featurized, Options};
use crate::logs::{Log, Skipped};
use crate::metrics::Estimate;
use crate::reach::{Plan, Reach};

/// A progress line on the terminal for a long loop (`label: done of total steps`), drawn once the
/// loop has run a second, redrawn at most twice a second, cleared when dropped; nothing at all
/// when the standard error is not a terminal (a log file, a pipe, a test).
pub struct Progress {
    label: String,
    steps: String,
    total: usize,
    done: usize,
    start: Instant,
    drawn: Option<Instant>,
    tty: bool,
}

impl Progress {
    /// A loop of `total` steps: `label` says what it does, `steps` what its steps are.
    pub fn new(label: impl Into<String>, total: usize, steps: impl Into<String>) -> Progress {
        let tty = std::io::stderr().is_terminal();
        Progress { label: label.into(), steps: steps.into(), total, done: 0, start: Instant::now(), drawn: None, tty }
    }

    /// One step done.
    pub fn tick(&mut self) {
        self.done += 1;
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.start) < Duration::from_secs(1)
            || self.drawn.is_some_and(|t| now.duration_since(t) < Duration::from_millis(500))
        {
            return;
        }
        self.drawn = Some(now);
        eprint!("\r{}: {} of {} {}", self.label, self.done, self.total, self.steps);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.drawn.is_some() {
            // Back to the line's start, the line erased.
            eprint!("\r\x1b[2K");
        }
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("   -  ".into(), |v| format!("{v:.4}"))
}

/// `value [lo, hi]` to four places; `-` where the value is undefined, the interval's bounds as
/// `-` where no replicate had one.
fn fmt_ci(e: &Estimate) -> String {
    if !e.value.is_finite() {
        return "-".into();
    }
    let b = |v: f64| if v.is_finite() { format!("{v:.4}") } else { "-".into() };
    format!("{:.4} [{}, {}]", e.value, b(e.lo), b(e.hi))
}

/// The lines `featurize` prints.
pub fn featurized(f: &Featurized, log: &Log, options: &Options, out: &std::path::Path, elapsed: Duration) {
    let t = &f.total;
    // Every line is accounted for: the lines skipped for another reason than the time window
    // (blank lines, GA4's rows the widget never sees) are counted too.
    let mut other: Vec<(Skipped, usize)> = Vec::new();
    for &(_, why) in &log.skipped {
        if why == Skipped::OutsideWindow {
            continue;
        }
        match other.iter_mut().find(|(w, _)| *w == why) {
            Some((_, n)) => *n += 1,
            None => other.push((why, 1)),
        }
    }
    let other: String = other.iter().map(|(why, n)| format!(", {n} {}", why.words())).collect();
    println!(
        "{} lines, {} events kept ({} outside the log's time window, {} malformed lines{other}); {} featurized ({} refused by the window, {} of kinds without a column)",
        log.lines,
        log.events,
        log.outside_window,
        log.bad.len(),
        t.events,
        t.refused,
        t.ignored
    );
    println!(
        "of the {} events kept, {} have an item, {} a category, {} a price, {} a quantity, {} a session id",
        log.events, log.with_item, log.with_category, log.with_price, log.with_quantity, log.with_session
    );
    println!(
        "{} users, {} sessions, {} with a purchase ({:.2}%), {} starting with the purchase (no sample)",
        t.users,
        t.sessions,
        t.positive_sessions,
        100.0 * t.positive_sessions as f64 / t.sessions.max(1) as f64,
        t.sessions_starting_with_purchase
    );
    println!("event kinds (columns): {}", f.kinds.names().join(", "));
    for (split, s) in &f.splits {
        let c = &s.counts;
        println!(
            "  {:5} {:6} users {:7} sessions {:6} positive {:8} samples ({:.1}% positive)",
            Split::name(*split),
            c.users,
            c.sessions,
            c.positive_sessions,
            c.samples,
            100.0 * c.positive_samples as f64 / c.samples.max(1) as f64
        );
    }
    println!(
        "feature version {}, W = {}; written to {} in {:.2?}",
        shopper_intent::features::FEATURE_VERSION,
        options.window,
        out.display(),
        elapsed
    );
}

/// The table of one evaluation. Events of kinds the model does not read are not counted here:
/// the note before it (`note_ignored` in main.rs) names them, once for the log.
pub fn eval(users: &str, scored: &Scored, figs: &[Figures], reps: usize) {
    let c = scored.counts();
    println!(
        "{users}: {} users, {} sessions ({} positive), {} samples ({} positive); {reps} bootstrap replicates over users",
        c.users, c.sessions, c.positive_sessions, c.samples, c.positive_samples
    );
    if c.refused > 0 {
        println!("{} events were refused by the window (out of order) and not scored", c.refused);
    }
    if c.sessions_starting_with_purchase > 0 {
        println!(
            "sess AUC is over the {} sessions with a sample: {} open with their purchase and have none",
            c.sessions - c.sessions_starting_with_purchase,
            c.sessions_starting_with_purchase
        );
    }
    println!(
        "{:18} {:>24} {:>24} {:>24} {:>8} {:>8}",
        "scorer", "online AUC [95% CI]", "PR-AUC [95% CI]", "sess AUC [95% CI]", "Brier", "ECE"
    );
    for f in figs {
        println!(
            "{:18} {:>24} {:>24} {:>24} {:>8} {:>8}",
            f.name,
            fmt_ci(&f.online_auc),
            fmt_ci(&f.pr_auc_ci),
            fmt_ci(&f.session_auc_ci),
            fmt_opt(Some(f.brier).filter(|v| v.is_finite())),
            fmt_opt(Some(f.ece).filter(|v| v.is_finite()))
        );
    }
    let m = &figs[0];
    if let Some(t) = &m.at_threshold {
        println!(
            "model at threshold {:.4}: F1 {:.4}, precision {:.4}, recall {:.4}, accuracy {:.4}",
            t.threshold, t.f1, t.precision, t.recall, t.accuracy
        );
    }
    println!("model AUC@k, k = 1..10: {}", m.auc_at_k.iter().map(|v| fmt_opt(*v)).collect::<Vec<_>>().join(" "));
    let buckets: Vec<String> = PREFIX_BUCKETS
        .iter()
        .zip(&m.auc_by_prefix)
        .map(|(&(lo, hi), v)| {
            let range = if lo == hi {
                format!("{lo}")
            } else if hi == u32::MAX {
                format!("{lo}+")
            } else {
                format!("{lo}-{hi}")
            };
            format!("{range}: {}", fmt_opt(*v))
        })
        .collect();
    println!("model AUC by prefix length: {}", buckets.join(", "));
    for (name, d) in &m.paired {
        println!("model - {name:16} online AUC {:+.4} [{:+.4}, {:+.4}]", d.value, d.lo, d.hi);
    }
    let undefined = figs
        .iter()
        .flat_map(|f| [f.online_auc.undefined, f.pr_auc_ci.undefined, f.session_auc_ci.undefined])
        .chain(m.paired.iter().map(|(_, d)| d.undefined))
        .max()
        .unwrap_or(0);
    undefined_note(undefined, reps, "the users drawn had samples of one class only");
}

/// Says how many bootstrap replicates had no value, when any had none.
fn undefined_note(undefined: usize, reps: usize, why: &str) {
    if undefined > 0 {
        println!(
            "note: in {undefined} of {reps} bootstrap replicates ({:.1}%) {why}, so ROC-AUC was undefined; the intervals are over \
             the others, and with this few buying users they are unreliable (likely too narrow)",
            100.0 * undefined as f64 / reps.max(1) as f64
        );
    }
}

/// The means over seeds: each scorer's online AUC and the model's paired differences.
pub fn eval_mean(m: &Mean) {
    println!(
        "mean over seeds {:?} (95% interval: the log's users resampled together for all seeds, {} replicates; sd over seeds):",
        m.seeds, m.bootstrap
    );
    for s in &m.scorers {
        println!(
            "  {:18} online AUC {} (sd {:.4}), PR-AUC {}, sess AUC {}",
            s.name,
            fmt_ci(&s.online_auc),
            s.sd,
            fmt_ci(&s.pr_auc),
            fmt_ci(&s.session_auc)
        );
    }
    for (name, d) in &m.paired {
        println!("  model - {name:16} online AUC {:+.4} [{:+.4}, {:+.4}]", d.value, d.lo, d.hi);
    }
    let undefined = m
        .scorers
        .iter()
        .flat_map(|s| [s.online_auc.undefined, s.pr_auc.undefined, s.session_auc.undefined])
        .chain(m.paired.iter().map(|(_, d)| d.undefined))
        .max()
        .unwrap_or(0);
    undefined_note(undefined, m.bootstrap, "some seed's users drawn had samples of one class only");
}

/// The table of `reach`; `ignored` is the share of the log's events the model does not read.
pub fn reach(users: &str, plan: &Plan, r: &Reach, ignored: f64) {
    let q = |v: &[f64; 3]| format!("{:.1} / {:.1} / {:.1}", v[0], v[1], v[2]);
    println!(
        "{users}: {} sessions, {} with a purchase; policy: enter once the segment reaches {}",
        r.sessions,
        r.purchasing_sessions,
        plan.segment.name()
    );
    if r.entering == 0 {
        let hint = if ignored > 0.5 {
            format!(
                ": the model does not read {:.0}% of this log's events (the note above names their kinds); a model trained on \
                 this shop's own events reads them (make train DATA=... OUT=models/<name>)",
                100.0 * ignored
            )
        } else if plan.segment == shopper_intent::Segment::High {
            " (try --segment medium)".to_string()
        } else {
            String::new()
        };
        println!("entering: no session reaches {} under this model, so there is nothing to plan{hint}", plan.segment.name());
        return;
    }
    println!(
        "entering: {} sessions ({:.1}% reach), {} of them buy afterwards ({:.1}% precision; {:.1}% of all buyers reached)",
        r.entering,
        100.0 * r.reach,
        r.entering_purchasing,
        100.0 * r.precision,
        100.0 * r.recall
    );
    println!(
        "entry at event (25/50/75%): {}; as a share of the session: {:.2} / {:.2} / {:.2}",
        q(&r.entry_event_quartiles),
        r.entry_share_quartiles[0],
        r.entry_share_quartiles[1],
        r.entry_share_quartiles[2]
    );
    println!("buyers: events from entry to purchase (25/50/75%): {}", q(&r.events_to_purchase_quartiles));
    println!("{:12} {:>7} {:>10} {:>11}  (expected sessions)", "arm", "share", "exposed", "purchasing");
    for a in &r.arms {
        println!("{:12} {:>6.1}% {:>10.1} {:>11.1}", a.name, 100.0 * a.share, a.exposed, a.purchasing);
    }
    // A difference in conversion rate, or why there is no figure.
    let points = |v: f64| {
        if !v.is_finite() {
            "no figure".to_string()
        } else if v >= 1.0 {
            "none (too few sessions: over 100 points)".to_string()
        } else {
            format!("{:.1} percentage points", 100.0 * v)
        }
    };
    println!(
        "minimum detectable difference in conversion rate (5% two-sided, 80% power): {} between the treated arms, {} against the holdout",
        points(r.minimum_detectable_effect),
        points(r.minimum_detectable_effect_holdout)
    );
    for (sessions, m, h) in &r.minimum_detectable_effect_at {
        println!(
            "  with {sessions} sessions in all of such traffic (entering ones in the same proportion): {} between the treated arms, {} against the holdout",
            points(*m),
            points(*h)
        );
    }
    if !r.minimum_detectable_effect.is_finite() && r.entering_purchasing == 0 {
        println!("(no entering session buys afterwards: a conversion rate of 0 gives no test size)");
    }
}
