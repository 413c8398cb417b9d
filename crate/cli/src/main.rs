//! `shopper-intent`: featurize event logs for training, score events, evaluate a model, convert
//! an exported model, benchmark the engine. This file parses arguments and calls the library.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use sha2::{Digest, Sha256};
use shopper_intent::features::{aggregate_features, sequence_features, FEATURE_VERSION};
use shopper_intent::{Kind, Kinds, Manifest, WindowConfig};
#[cfg(feature = "onnx")]
use shopper_intent_cli::convert;
use shopper_intent_cli::dataset::{self, Users};
use shopper_intent_cli::logs::{self, BadLine, Format, Log, OnError, ReadOptions, SHOWN_BAD_LINES, TAOBAO_END_MS, TAOBAO_START_MS};
use shopper_intent_cli::{bench, eval, featurize, model_files, reach, replay, report, score};

#[derive(Parser)]
#[command(name = "shopper-intent", version, about = "On-device purchase intent: training data, scoring, evaluation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Input {
    /// The event log: generic JSONL (see the README), GA4's BigQuery export as JSONL, or a Taobao
    /// UserBehavior CSV; `-` reads it from the standard input (a pipe, `<(zcat log.jsonl.gz)`
    /// and /dev/stdin work too: the log is read once, from its first byte).
    #[arg(long)]
    input: PathBuf,
    /// The log's format; when not given, the one most of its first 20 non-empty lines are in.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Keep events from this time on (ms since the epoch); Taobao defaults to 2017-11-25T00:00+08:00.
    #[arg(long)]
    start_ms: Option<i64>,
    /// Keep events before this time (ms); Taobao defaults to 2017-12-04T00:00+08:00.
    #[arg(long)]
    end_ms: Option<i64>,
    /// Minutes east of UTC of the shop's local time (hour-of-day features). When it is not given:
    /// the model's own (its manifest's `utc_offset_min`, the training log's) for commands with a
    /// model, else 480 (UTC+8) for Taobao, else UTC, with a note. Within ±1080 (±18 hours).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_utc_offset)]
    utc_offset_min: Option<i32>,
    /// Skip malformed lines (reported with line numbers) or reject the whole log at the first one.
    #[arg(long, value_enum, default_value = "skip")]
    on_error: OnError,
    /// The largest share of malformed lines accepted before the log is refused, from 0 to 1.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true, value_parser = parse_share)]
    max_malformed: f64,
}

/// `--utc-offset-min`: whole minutes east of UTC, within the ±18 hours of the engine's range,
/// checked before any reading.
fn parse_utc_offset(s: &str) -> Result<i32, String> {
    let max = shopper_intent::window::MAX_UTC_OFFSET_MIN;
    let o: i32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of minutes east of UTC (480 for UTC+08:00, -300 for UTC-05:00)"))?;
    if o.abs() <= max {
        return Ok(o);
    }
    // Seconds for minutes: only when the minutes would be an offset clocks use (quarter hours).
    let seconds = if o % 60 == 0 && (o / 60).abs() <= max && (o / 60) % 15 == 0 {
        format!("; it looks like seconds: give {}", o / 60)
    } else {
        String::new()
    };
    Err(format!(
        "{o} is outside -{max}..{max}: the offset is in minutes east of UTC, at most 18 hours either way (480 for UTC+08:00, \
         -300 for UTC-05:00){seconds}"
    ))
}

/// `--max-malformed`: a share from 0 to 1, checked before any reading.
fn parse_share(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number; give a share from 0 to 1 (0.05 is 5%)"))?;
    if (0.0..=1.0).contains(&v) {
        return Ok(v);
    }
    let percent = if v > 1.0 && v <= 100.0 { format!("; for {v}%, give {}", (v * 100.0).round() / 10_000.0) } else { String::new() };
    Err(format!("{v} is not a share from 0 to 1 (the largest share of the non-empty lines that may be malformed: 0.05 is 5%){percent}"))
}

/// The values `--split` takes.
const SPLITS: [&str; 4] = ["train", "val", "test", "all"];

impl Input {
    /// Refuses a time window that keeps nothing, and warns of the two slips of units seen in
    /// use: seconds for milliseconds, hours for minutes.
    fn check_options(&self) -> Result<()> {
        if let (Some(start), Some(end)) = (self.start_ms, self.end_ms) {
            if start >= end {
                bail!("--start-ms {start} is not before --end-ms {end}: the window keeps no event");
            }
        }
        for (name, v) in [("--start-ms", self.start_ms), ("--end-ms", self.end_ms)] {
            // 1e11 ms is March 1973; as seconds, 1e11 is the year 5138.
            if let Some(v) = v.filter(|v| v.unsigned_abs() < 100_000_000_000 && *v != 0) {
                let year = 1970.0 + v as f64 / (365.2425 * 86_400_000.0);
                eprintln!(
                    "warning: {name} {v} is a time in {} as milliseconds since the epoch; if it is in seconds, give {}",
                    year.floor(),
                    v.saturating_mul(1000)
                );
            }
        }
        if let Some(o) = self.utc_offset_min.filter(|o| o % 15 != 0) {
            eprintln!(
                "warning: --utc-offset-min {o} is not a whole number of quarter hours, as the offsets of time zones are; it is in \
                 minutes ({} is {} minutes)",
                if o.abs() <= 14 { format!("{o} hours") } else { "UTC+08:00".to_string() },
                if o.abs() <= 14 { o * 60 } else { 480 }
            );
        }
        Ok(())
    }

    fn read(&self) -> Result<Log> {
        self.check_options()?;
        let source: Box<dyn Read> = if self.input.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(File::open(&self.input).with_context(|| format!("opening {}", self.input.display()))?)
        };
        // Opened once and read once, so that a pipe (which cannot be read again) is read whole;
        // the lines the format is told from are read again from memory.
        let mut file = BufReader::with_capacity(1 << 20, Hashing { inner: source, hasher: Sha256::new() });
        let (format, head) = match self.format {
            Some(f) => (f, Vec::new()),
            None => {
                let mut recording = Recording { inner: &mut file, seen: Vec::new() };
                let format = logs::sniff(&mut recording).with_context(|| format!("reading {}", self.input.display()))?;
                (format, recording.seen)
            }
        };
        // The Taobao log has a stated time window.
        let (s, e) = if format == Format::Taobao { (TAOBAO_START_MS, TAOBAO_END_MS) } else { (i64::MIN, i64::MAX) };
        let window = (self.start_ms.unwrap_or(s), self.end_ms.unwrap_or(e));
        let options = ReadOptions { format: Some(format), window, on_error: self.on_error, max_malformed: self.max_malformed };
        let mut reader = std::io::Cursor::new(head).chain(file);
        let mut log = logs::read(&mut reader, options).with_context(|| format!("reading {}", self.input.display()))?;
        // The reader stops at the end of the log; whatever is left (nothing) is hashed too.
        std::io::copy(&mut reader, &mut std::io::sink()).with_context(|| format!("reading {}", self.input.display()))?;
        let (_, file) = reader.into_inner();
        log.sha256 = file.into_inner().hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        report_bad(&log.bad, "malformed, skipped");
        if let Some(&first) = log.bad_purchases.first() {
            eprintln!(
                "warning: {} of the malformed lines are purchases (the first: line {first}): their sessions are read without \
                 that purchase, as sessions where nothing was bought. Fix those lines and read the log again",
                log.bad_purchases.len()
            );
        }
        if let (Some(first), n) = log.repeated_lines {
            eprintln!(
                "note: {n} line(s) repeat an earlier line exactly (the first: line {first}), and each is read as an event. \
                 If the export repeats rows (overlapping files, a retried job), remove the repeats first: a repeated event \
                 counts twice in its session's features"
            );
        }
        // GA4's export keeps no order within a table: said for the other formats only.
        if let (Some(first), n) = log.out_of_order {
            if log.format != logs::Format::Ga4 {
                eprintln!(
                    "note: {n} event(s) are timed before the previous line of the same user (the first: line {first}): each user's \
                     events are read in time order, so a session's positions follow ts, not the order of the lines"
                );
            }
        }
        if !log.not_on_page.is_empty() {
            eprintln!(
                "note: {} GA4 events the widget never sees left out ({}): GA4's automatic events do not pass through the page's \
                 dataLayer, and the page's capture skips GTM's gtm.* and the widget's own shopper_intent_* pushes",
                log.not_on_page.values().sum::<usize>(),
                logs::counts_text(&log.not_on_page)
            );
        }
        if log.duplicates > 0 {
            eprintln!(
                "note: {} GA4 row(s) repeat an earlier one (the same browser, microsecond, event, parameters, items and batch ids) and were read once: \
                 an export of both the daily and the intraday tables, or appended twice?",
                log.duplicates
            );
        }
        if log.no_browser_id > 0 {
            eprintln!(
                "note: {} GA4 row(s) have no user_pseudo_id (Consent Mode's cookieless pings) and were left out: they cannot be \
                 followed as one browser",
                log.no_browser_id
            );
        }
        if let Some(note) = logs::unread_keys_note(&log) {
            eprintln!("note: {note}");
        }
        if let Some(note) = logs::lookalike_kinds_note(&log.kinds) {
            eprintln!("note: {note}");
        }
        Ok(log)
    }

    /// The shop's local time for `log`: `--utc-offset-min`, else the model's (the one it was
    /// trained in, as the browser takes it), else the log format's; says which when it guesses.
    /// Warns when the offset given is not the model's: its hour-of-day features are then read in
    /// another time than the one it learned from.
    fn utc_offset(&self, log: &Log, model: Option<&Manifest>) -> i32 {
        if let Some(o) = self.utc_offset_min {
            if let Some(trained) = model.and_then(|m| m.utc_offset_min).filter(|t| *t != o) {
                eprintln!(
                    "warning: the model was trained with hours of day at {} (its manifest's utc_offset_min, {trained}); this log is \
                     read at {} (--utc-offset-min {o}). That is right if this log's shop keeps {}; if the log is from the shop the \
                     model was trained on, give --utc-offset-min {trained} (or leave it out): otherwise its hour-of-day features are \
                     not the ones the model learned from",
                    utc_text(trained),
                    utc_text(o),
                    utc_text(o)
                );
            }
            return o;
        }
        if let Some(o) = model.and_then(|m| m.utc_offset_min) {
            if log.format != Format::Taobao {
                eprintln!("note: no --utc-offset-min given: the shop's local time is taken as the model's, {} (its manifest)", utc_text(o));
            }
            return o;
        }
        if log.format == Format::Taobao {
            return 480;
        }
        eprintln!("note: no --utc-offset-min given: the shop's local time is taken as UTC (it only affects the hour-of-day features)");
        0
    }
}

/// `UTC+08:00`, `UTC-05:30`.
fn utc_text(offset_min: i32) -> String {
    let sign = if offset_min < 0 { '-' } else { '+' };
    format!("UTC{sign}{:02}:{:02}", offset_min.abs() / 60, offset_min.abs() % 60)
}

fn report_bad(bad: &[BadLine], what: &str) {
    for b in bad.iter().take(SHOWN_BAD_LINES) {
        eprintln!("line {}: {} ({what})", b.line, b.error);
    }
    if bad.len() > SHOWN_BAD_LINES {
        eprintln!("... and {} more lines ({what})", bad.len() - SHOWN_BAD_LINES);
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the feature lists and their version, for the given kinds or a model's.
    Features {
        /// Event kinds, comma-separated (default: the twelve GA4 kinds).
        #[arg(long, value_delimiter = ',')]
        kinds: Option<Vec<String>>,
        /// Or: the kinds of this model (its manifest).
        #[arg(long, conflicts_with = "kinds")]
        model: Option<PathBuf>,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn an event log into training tensors (.npy) split by user, with a JSON summary.
    Featurize {
        #[command(flatten)]
        input: Input,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the user split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// W, the rows the engine keeps for explanations.
        #[arg(long, default_value_t = 32)]
        window: usize,
        /// Event kinds (feature columns), comma-separated, purchase included; default: the log's.
        #[arg(long, value_delimiter = ',')]
        kinds: Option<Vec<String>>,
        /// Go on when the log is too small to split and train (figures then mean little).
        #[arg(long)]
        allow_small: bool,
    },
    /// Score every event of a log: one JSON line per input line, in input order (a line without a
    /// score has a `code`: INVALID_EVENT, OUTSIDE_WINDOW, EMPTY_LINE, or for GA4 rows NOT_ON_PAGE,
    /// DUPLICATE_EVENT or NO_BROWSER_ID; an event of a kind the model does not read has `ignored: true` and no
    /// session or score). `session` counts each user's sessions from 0 (group by user and session),
    /// `position` the events before this one in it. Only lines with `scored: true` are samples (every
    /// prefix before the session's purchase): a purchase and the events after it have
    /// `scored: false` and the widget's score, 1 once converted, so compute figures over
    /// `scored: true` lines alone, as `eval` does.
    Score {
        #[command(flatten)]
        input: Input,
        /// The model: its manifest (.json), or its weights or ONNX file beside the manifest.
        #[arg(long)]
        model: PathBuf,
    },
    /// Evaluate a model on a seed's test users, or on a whole log, beside the rule baselines.
    Eval {
        #[command(flatten)]
        input: Input,
        /// The model (manifest path); with several seeds, a path containing `{seed}`, e.g.
        /// `build/seed{seed}/intent.json`.
        #[arg(long)]
        model: String,
        /// Another model to compare with (paired user-bootstrap difference); `{seed}` as above.
        #[arg(long)]
        compare: Option<String>,
        /// Seeds of the user splits, e.g. `0` or `0,1,2,3,4`: each seed's model is evaluated on
        /// that seed's test users only, then the figures are averaged over seeds.
        #[arg(long, value_delimiter = ',', default_value = "0")]
        seed: Vec<u64>,
        /// `test` (default), `val`, `train`, or `all`: every user of the log (a new shop's log).
        #[arg(long, default_value = "test", value_parser = SPLITS)]
        split: String,
        /// Bootstrap replicates.
        #[arg(long, default_value_t = 1000)]
        bootstrap: usize,
        /// Also write the figures as JSON here: one seed's, or with several seeds `{"runs": [...],
        /// "mean": {...}}` (the means over seeds with their intervals).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write the weights file from the ONNX file a manifest names, and check that they agree.
    #[cfg(feature = "onnx")]
    Convert {
        /// The manifest (written by the trainer; updated with the weights' size and checksum).
        #[arg(long)]
        model: PathBuf,
        /// Only check the files as they are (ONNX vs weights, and the trainer's fixtures).
        #[arg(long)]
        check: bool,
        /// The trainer's fixtures (default: fixtures/<name>/ beside the manifest).
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// Plan an experiment: replay a log's users through a policy ("treat a session once it
    /// reaches high", before its purchase, as the package's experiments enter) and report each
    /// arm's exposed and purchasing sessions (the entering sessions split by the arms' expected
    /// shares), when they enter, and the minimum detectable effect: the smallest increase in a
    /// session's conversion rate, in percentage points, that a two-sided two-proportion test at 5%
    /// finds with 80% power, between the two smallest treated arms and between the holdout and the
    /// largest arm. Units are sessions.
    Reach {
        #[command(flatten)]
        input: Input,
        /// The model.
        #[arg(long)]
        model: PathBuf,
        /// Sessions enter once their segment reaches this: medium or high.
        #[arg(long, default_value = "high")]
        segment: String,
        /// Arms and weights, e.g. `control:0.5,treatment:0.5`.
        #[arg(long, default_value = "control:0.5,treatment:0.5")]
        arms: String,
        /// The holdout share.
        #[arg(long, default_value_t = 0.1)]
        holdout: f64,
        /// Seed of the user split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `test` (default), `val`, `train` or `all`.
        #[arg(long, default_value = "test", value_parser = SPLITS)]
        split: String,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write a seed's users' events and the engine's feature rows for them (the browser benchmark's input).
    ReplayFixture {
        #[command(flatten)]
        input: Input,
        /// The model whose kinds and window define the rows.
        #[arg(long)]
        model: PathBuf,
        /// Seed of the user split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `test` (default), `val`, `train` or `all`.
        #[arg(long, default_value = "test", value_parser = SPLITS)]
        split: String,
        /// Output folder (events.json, rows.f32).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure reading, featurizing and scoring speed.
    Bench {
        #[command(flatten)]
        input: Input,
        /// The model to time.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Repetitions.
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Another ONNX graph of the model's step (inputs x, h, c; outputs p, h_out, c_out) to time
        /// with tract beside the engine's own graph; repeatable.
        #[arg(long)]
        graph: Vec<PathBuf>,
    },
}

fn main() {
    restore_sigpipe();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`shopper-intent eval ... | head`) would
/// panic; with the default action the tool ends quietly, as other command-line tools do.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread starts; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The files a command reads that its output must not replace: the log, and each model's
/// manifest with the files beside it of the same name (`intent.json`, `intent.bin`,
/// `intent.onnx`: the weights and the exchange file the manifest names by default).
fn read_files(input: &Path, models: &[&Path]) -> Vec<PathBuf> {
    let mut files = vec![input.to_path_buf()];
    for m in models {
        files.push(m.to_path_buf());
        if let (Some(stem), Some(dir)) = (m.file_stem(), m.parent()) {
            for ext in ["bin", "onnx", "json"] {
                files.push(dir.join(stem).with_extension(ext));
            }
        }
    }
    files
}

/// Whether two paths name one file (the same device and inode, or the same path once resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// A file a command writes at its end, checked before the work: its folder must exist, and it
/// must not be one of the files the command reads (`reads`: the log, the model's files), which
/// the write would replace.
fn check_output(path: Option<&Path>, reads: &[PathBuf]) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!("cannot write {}: {} is not a folder", path.display(), dir.display());
    }
    if path.is_dir() {
        bail!("cannot write {}: it is a folder", path.display());
    }
    if let Some(read) = reads.iter().find(|r| r.as_os_str() != "-" && same_file(path, r)) {
        bail!("cannot write {}: it is {}, which this command reads; give another path", path.display(), read.display());
    }
    // Opened for writing, as it will be, without changing it (a file made here is removed), so
    // that a folder or file the user may not write is said before the work, not after it.
    let existed = path.exists();
    std::fs::OpenOptions::new().append(true).create(true).open(path).with_context(|| format!("cannot write {}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Says on stderr how many of the log's events are of kinds the model does not read (it ignores
/// them), so that figures over a log of other kinds are not misread.
fn note_ignored(log: &Log, kinds: &Kinds) -> f64 {
    let mut ignored: Vec<(&str, usize)> = log.kinds.iter().filter(|(k, _)| !kinds.contains(k)).map(|(k, n)| (k.name(), *n)).collect();
    if ignored.is_empty() {
        return 0.0;
    }
    ignored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let total: usize = ignored.iter().map(|(_, n)| n).sum();
    let shown: Vec<String> = ignored.iter().take(8).map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!(
        "note: {total} of {} events ({:.0}%) are of kinds the model does not read and are ignored: {}{} (the model reads {})",
        log.events,
        100.0 * total as f64 / log.events.max(1) as f64,
        shown.join(", "),
        if ignored.len() > 8 { format!(" and {} more kinds", ignored.len() - 8) } else { String::new() },
        kinds.names().join(", ")
    );
    total as f64 / log.events.max(1) as f64
}

/// Warns of each kind `--kinds` names that no event of the log has: its column would be zeros,
/// likely a typo (`Page_Type_1` for `page_type_1`), so the log kind it resembles is named.
fn warn_absent_kinds(kinds: &Kinds, log_kinds: &HashMap<Kind, usize>) {
    let squeeze = |name: &str| name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    for kind in kinds.iter().filter(|k| !log_kinds.contains_key(*k)) {
        let mut like: Vec<(&Kind, usize)> = log_kinds
            .iter()
            .filter(|(k, _)| !kinds.contains(k) && squeeze(k.name()) == squeeze(kind.name()))
            .map(|(k, n)| (k, *n))
            .collect();
        like.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name().cmp(b.0.name())));
        let hint = match like.first() {
            Some((k, n)) => format!(" (did you mean {}? The log has {n} of those, and they get no column)", k.name()),
            None => String::new(),
        };
        eprintln!("warning: --kinds names {}, which no event of the log has: its column is all zeros{hint}", kind.name());
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Features { kinds, model, json } => features(kinds, model.as_deref(), json),
        Command::Featurize { input, out, seed, window, kinds, allow_small } => {
            if out.exists() && !out.is_dir() {
                bail!("--out {}: a file is there; give a folder", out.display());
            }
            // The options' own errors before the log is read.
            WindowConfig { window, ..WindowConfig::default() }.validate()?;
            if let Some(names) = &kinds {
                Kinds::parse(names).context("--kinds")?;
            }
            let log = input.read()?;
            if let Some(names) = &kinds {
                warn_absent_kinds(&Kinds::parse(names)?, &log.kinds);
            }
            let options = featurize::Options { seed, window, utc_offset_min: input.utc_offset(&log, None), kinds, allow_small };
            let started = Instant::now();
            let f = featurize::featurize(&log, &options)?;
            for (_, s) in &f.splits {
                report_bad(&s.refused, "refused by the window");
            }
            let info =
                featurize::Input { path: &input.input, sha256: log.sha256.clone(), utc_offset_given: input.utc_offset_min.is_some() };
            featurize::write(&f, &log, &options, &info, &out)?;
            report::featurized(&f, &log, &options, &out, started.elapsed());
            Ok(())
        }
        Command::Score { input, model } => {
            let (model, _) = model_files::load(&model)?;
            let log = input.read()?;
            note_ignored(&log, &model.manifest().kinds()?);
            let stdout = std::io::stdout();
            score::score(&log, &model, input.utc_offset(&log, Some(model.manifest())), &mut BufWriter::new(stdout.lock()))
        }
        Command::Eval { input, model, compare, seed, split, bootstrap, json } => {
            eval_seeds(&input, &model, compare.as_deref(), &seed, &split, bootstrap, json.as_deref())
        }
        #[cfg(feature = "onnx")]
        Command::Convert { model, check, fixtures } => {
            let parity = if check { convert::check(&model, fixtures.as_deref())? } else { convert::convert(&model, fixtures.as_deref())? };
            println!(
                "{}: weights graph vs ONNX graph over {} steps, worst difference {:.1e} in the score (at most {:.0e}), {:.1e} in the state; {}",
                model.display(),
                parity.steps,
                parity.worst_onnx,
                convert::PARITY_TOLERANCE,
                parity.worst_state,
                if parity.fixture_steps > 0 {
                    format!(
                        "streamed vs the trainer's whole-session scores over {} steps, worst {:.1e} (at most {:.0e})",
                        parity.fixture_steps, parity.worst_fixture, convert::FIXTURE_TOLERANCE
                    )
                } else {
                    "no trainer fixtures".into()
                }
            );
            Ok(())
        }
        Command::Reach { input, model, segment, arms, holdout, seed, split, json } => {
            let segment = match segment.as_str() {
                "medium" => shopper_intent::Segment::Medium,
                "high" => shopper_intent::Segment::High,
                other => bail!("--segment must be medium or high, not {other:?}"),
            };
            let arms = arms
                .split(',')
                .map(|a| {
                    let (name, w) = a.split_once(':').with_context(|| format!("--arms: an arm is name:weight, not {a:?}"))?;
                    Ok((name.trim().to_string(), w.trim().parse::<f64>().with_context(|| format!("--arms: the weight of {name}"))?))
                })
                .collect::<Result<Vec<_>>>()?;
            let plan = reach::Plan { segment, arms, holdout };
            plan.check()?;
            check_output(json.as_deref(), &read_files(&input.input, &[&model]))?;
            let (m, _) = model_files::load(&model)?;
            let log = input.read()?;
            let ignored = note_ignored(&log, &m.manifest().kinds()?);
            let users = Users::parse(&split, seed)?;
            warn_in_sample(&log, m.manifest(), users)?;
            let r = reach::reach(&log, users, &m, input.utc_offset(&log, Some(m.manifest())), &plan)?;
            report::reach(&users.name(), &plan, &r, ignored);
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&r)?).with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        }
        Command::ReplayFixture { input, model, seed, split, out } => {
            let files = model_files::read(&model)?;
            let log = input.read()?;
            let m = &files.manifest;
            note_ignored(&log, &m.kinds()?);
            let config =
                WindowConfig { window: m.window, utc_offset_min: input.utc_offset(&log, Some(m)), kinds: m.kinds()?, salt: [0; 16] };
            let (events, rows) = replay::write(&log, Users::parse(&split, seed)?, &config, &out)?;
            println!("{events} events, {rows} scored rows written to {}", out.display());
            Ok(())
        }
        Command::Bench { input, model, reps, json, graph } => {
            if reps == 0 {
                bail!("--reps must be at least 1");
            }
            check_output(json.as_deref(), &read_files(&input.input, &model.as_deref().into_iter().collect::<Vec<_>>()))?;
            let t = Instant::now();
            let log = input.read()?;
            let parse = t.elapsed().as_secs_f64();
            let loaded = model.as_deref().map(model_files::load).transpose()?;
            let kinds = match &loaded {
                Some((m, _)) => m.manifest().kinds()?,
                None => Kinds::from_counts(&log.kinds)?.0,
            };
            // Events the model skips are timed too, and they are quick: a log of other kinds than
            // the model's would show a rate of skipping, not of scoring.
            if note_ignored(&log, &kinds) > 0.5 {
                eprintln!(
                    "warning: most events are of kinds the model skips: the per-event times below are mostly of skipping, not of scoring"
                );
            }
            let utc_offset_min = input.utc_offset(&log, loaded.as_ref().map(|(m, _)| m.manifest()));
            let config = WindowConfig { window: 32, utc_offset_min, kinds, salt: [0; 16] };
            if !graph.is_empty() && loaded.is_none() {
                anyhow::bail!("--graph needs --model (the graphs are timed against the model's own)");
            }
            let figures = bench::bench(&log, parse, &config, loaded.as_ref().map(|(m, f)| (m, f)), reps, &graph)?;
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&figures)?).with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(())
        }
    }
}

fn features(kinds: Option<Vec<String>>, model: Option<&Path>, json: bool) -> Result<()> {
    let kinds = match (kinds, model) {
        (Some(names), _) => Kinds::parse(&names).context("--kinds")?,
        (None, Some(path)) => model_files::read(path)?.manifest.kinds()?,
        (None, None) => Kinds::standard(),
    };
    let seq = sequence_features(&kinds);
    let agg = aggregate_features(&kinds);
    if json {
        println!(
            "{}",
            json!({"feature_version": FEATURE_VERSION, "kinds": kinds.names(), "sequence_features": seq, "aggregate_features": agg})
        );
    } else {
        println!("feature version {FEATURE_VERSION}, kinds {}\n\nsequence features (per event):", kinds.names().join(", "));
        for (i, n) in seq.iter().enumerate() {
            println!("  {i:2} {n}");
        }
        println!("\naggregate features (per prefix):");
        for (i, n) in agg.iter().enumerate() {
            println!("  {i:2} {n}");
        }
    }
    Ok(())
}

/// What `eval`'s progress line calls the bootstrap's steps (the line kept under 80 columns: a
/// wrapped line is not redrawn in place).
const BOOTSTRAP_STEPS: &str = "replicates";

/// Fewest bootstrap replicates `eval` accepts.
const MIN_BOOTSTRAP: usize = 10;
/// Below these, `eval` warns that its figures say little.
const MIN_USERS: usize = 20;
const MIN_POSITIVE_SESSIONS: usize = 10;

/// A reader that hashes the bytes it reads: the log's sha256, taken as the log is read.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// A buffered reader that keeps a copy of the bytes read through it: the first lines of the log,
/// read to tell its format, and read again after.
struct Recording<'a, R> {
    inner: &'a mut R,
    seen: Vec<u8>,
}

impl<R: BufRead> Read for Recording<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Recording<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes consumed are the front of what `fill_buf` last gave, still buffered.
        if let Ok(buffered) = self.inner.fill_buf() {
            self.seen.extend_from_slice(&buffered[..amt.min(buffered.len())]);
        }
        self.inner.consume(amt);
    }
}

/// Warns when `users` of `log` include users that trained the model or chose it: the log is the
/// one its manifest records (the same sha256), and either it was read with other options (then
/// its split is not the training's, the test users included) or the users are not the held-out
/// test users of that split (test users are the same for every seed; validation and training
/// users are not).
fn warn_in_sample(log: &Log, manifest: &Manifest, users: Users) -> Result<()> {
    let data = &manifest.metrics["data"];
    let (Some(trained_on), Some(seed)) = (data["input_sha256"].as_str(), data["split_seed"].as_u64()) else { return Ok(()) };
    if log.sha256 != trained_on {
        return Ok(());
    }
    // The split is the training run's only if the log was read as it was then (the same window):
    // otherwise even the test users (the last 15% of this read) may include training users.
    let trained: Option<u64> = data["splits"].as_object().map(|s| s.values().filter_map(|v| v["users"].as_u64()).sum());
    if trained != Some(log.users.len() as u64) {
        eprintln!(
            "warning: this is the log the model was trained on (its manifest records the same sha256), read with other options \
             ({} users here, {} in training): its split is not the training's, so some of these users may have trained the model \
             or chosen it, and the figures may be in part in-sample and optimistic",
            log.users.len(),
            trained.map_or("unknown".to_string(), |n| n.to_string())
        );
        return Ok(());
    }
    if matches!(users, Users::Split(_, dataset::Split::Test)) {
        return Ok(());
    }
    let model_splits = dataset::assign_splits(&log.users, seed);
    let selected = users.select(log);
    let n = selected.iter().filter(|&&s| s).count();
    let seen = selected.iter().zip(&model_splits).filter(|(&s, split)| s && **split != dataset::Split::Test).count();
    if seen == 0 {
        return Ok(());
    }
    let of = match users {
        Users::All => format!("of its {n} users"),
        Users::Split(..) => format!("of the {n} users of {}", users.name()),
    };
    eprintln!(
        "warning: this is the log the model was trained on (its manifest records the same sha256): {seen} {of} \
         trained the model or chose it (seed {seed}'s train and validation users), so the figures are in-sample and \
         optimistic. --split test --seed {seed} evaluates the held-out users alone"
    );
    Ok(())
}

/// Evaluates each seed's model on that seed's users, then prints the mean and spread over seeds.
fn eval_seeds(
    input: &Input,
    model: &str,
    compare: Option<&str>,
    seeds: &[u64],
    split: &str,
    reps: usize,
    json_out: Option<&Path>,
) -> Result<()> {
    if seeds.len() > 1 && !model.contains("{seed}") {
        bail!("a model is trained on one seed's users: with several seeds give --model as a path with {{seed}} in it");
    }
    if split == "all" && seeds.len() > 1 {
        bail!("--split all evaluates every user of the log: give one model, without several seeds");
    }
    if reps < MIN_BOOTSTRAP {
        bail!("--bootstrap {reps}: at least {MIN_BOOTSTRAP} replicates are needed for an interval (the default is 1000)");
    }
    let path = |template: &str, seed: u64| PathBuf::from(template.replace("{seed}", &seed.to_string()));
    let models: Vec<PathBuf> = seeds.iter().flat_map(|&s| std::iter::once(path(model, s)).chain(compare.map(|c| path(c, s)))).collect();
    check_output(json_out, &read_files(&input.input, &models.iter().map(PathBuf::as_path).collect::<Vec<_>>()))?;
    let log = input.read()?;
    let mut utc = None;
    let mut runs = Vec::new();
    let mut scored_runs = Vec::new();
    let mut noted_constant = false;
    for &seed in seeds {
        let users = Users::parse(split, seed)?;
        let (m, _) = model_files::load(&path(model, seed))?;
        if utc.is_none() {
            note_ignored(&log, &m.manifest().kinds()?);
        }
        let utc = *utc.get_or_insert_with(|| input.utc_offset(&log, Some(m.manifest())));
        warn_in_sample(&log, m.manifest(), users)?;
        let scored = eval::score_users(&log, users, &m, utc)?;
        let c = scored.counts();
        if c.users < MIN_USERS || c.positive_sessions < MIN_POSITIVE_SESSIONS {
            eprintln!(
                "warning: the evaluation ({}) has {} users and {} sessions with a purchase: with fewer than {MIN_USERS} users or {MIN_POSITIVE_SESSIONS} \
                 purchasing sessions the intervals are wide and the figures say little",
                users.name(),
                c.users,
                c.positive_sessions
            );
        }
        let mut others = eval::baselines(&scored, &m.manifest().kinds()?);
        let constant: Vec<&str> =
            others.iter().filter(|(n, s)| *n != "prior" && s.len() > 1 && s.windows(2).all(|w| w[0] == w[1])).map(|(n, _)| *n).collect();
        if !constant.is_empty() && !noted_constant {
            noted_constant = true;
            eprintln!(
                "note: {} give every sample the same score on these users: their AUC of 0.5 compares the model with nothing \
                 (the rule baselines read carts and wishlists and weigh a shop's own kinds alike; session length is constant when \
                 every prefix has the same length)",
                constant.join(", ")
            );
        }
        if let Some(c) = compare {
            let (other, _) = model_files::load(&path(c, seed))?;
            others.push(("compare", eval::score_users(&log, users, &other, utc)?.score));
        }
        let mut progress = report::Progress::new(format!("bootstrap ({})", users.name()), reps, BOOTSTRAP_STEPS);
        let figures = eval::figures(&scored, m.manifest().threshold, reps, seed, &others, &mut || progress.tick())?;
        drop(progress);
        report::eval(&users.name(), &scored, &figures, reps);
        println!();
        runs.push(eval::Run { seed, split: split.to_string(), counts: scored.counts().clone(), bootstrap: reps, figures });
        if seeds.len() > 1 {
            scored_runs.push((seed, scored, others));
        }
    }
    let mean = if seeds.len() > 1 {
        let by_seed: Vec<_> = scored_runs.iter().map(|(seed, s, o)| (*seed, s, o.as_slice())).collect();
        let mut progress = report::Progress::new("bootstrap (the mean over seeds)", reps, BOOTSTRAP_STEPS);
        let mean = eval::mean_over_seeds(log.users.len(), &by_seed, reps, &mut || progress.tick())?;
        drop(progress);
        report::eval_mean(&mean);
        Some(mean)
    } else {
        None
    };
    if let Some(path) = json_out {
        let v = match mean {
            None => serde_json::to_value(runs.remove(0))?,
            Some(mean) => serde_json::json!({ "runs": runs, "mean": mean }),
        };
        std::fs::write(path, serde_json::to_string_pretty(&v)?).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
