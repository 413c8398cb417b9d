//! `shopper-intent`: featurize event logs for training, score events, evaluate a model,
//! benchmark the engine.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use shopper_intent::features::{AGGREGATE_FEATURES, FEATURE_VERSION, SEQUENCE_FEATURES, SEQ_LEN};
use shopper_intent::{Engine, EngineOptions, KindSet, SequenceModel, Window, WindowConfig};
use shopper_intent_cli::dataset::{assign_splits, walk_user, Counts, Split, Tensors};
use shopper_intent_cli::eval::{baselines, figures, score_split};
use shopper_intent_cli::logs::{self, BadLine, Format, Log, OnError, TAOBAO_END_MS, TAOBAO_START_MS};

#[derive(Parser)]
#[command(name = "shopper-intent", version, about = "On-device purchase intent: training data, scoring, evaluation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Input {
    /// The event log: a Taobao UserBehavior CSV or generic JSONL (see the README).
    #[arg(long)]
    input: PathBuf,
    /// The log's format; guessed from the extension (.jsonl is JSONL, anything else Taobao).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Keep events from this time on (ms since the epoch); Taobao defaults to 2017-11-25T00:00+08:00.
    #[arg(long)]
    start_ms: Option<i64>,
    /// Keep events before this time (ms); Taobao defaults to 2017-12-04T00:00+08:00.
    #[arg(long)]
    end_ms: Option<i64>,
    /// Minutes east of UTC of the shop's local time; Taobao defaults to 480 (UTC+8), JSONL to 0.
    #[arg(long, allow_hyphen_values = true)]
    utc_offset_min: Option<i32>,
    /// Skip malformed lines (reported with line numbers) or reject the whole log at the first one.
    #[arg(long, value_enum, default_value = "skip")]
    on_error: OnError,
}

impl Input {
    fn format(&self) -> Format {
        self.format.unwrap_or_else(|| Format::guess(&self.input))
    }
    fn utc_offset(&self) -> i32 {
        self.utc_offset_min.unwrap_or(if self.format() == Format::Taobao { 480 } else { 0 })
    }
    fn read(&self) -> Result<Log> {
        let taobao = self.format() == Format::Taobao;
        let window = (
            self.start_ms.unwrap_or(if taobao { TAOBAO_START_MS } else { i64::MIN }),
            self.end_ms.unwrap_or(if taobao { TAOBAO_END_MS } else { i64::MAX }),
        );
        let f = File::open(&self.input).with_context(|| format!("opening {}", self.input.display()))?;
        let log = logs::read(BufReader::with_capacity(1 << 20, f), self.format(), window, self.on_error)
            .with_context(|| format!("reading {}", self.input.display()))?;
        report_bad(&log.bad);
        Ok(log)
    }
}

fn report_bad(bad: &[BadLine]) {
    for b in bad.iter().take(20) {
        eprintln!("line {}: {} (skipped)", b.line, b.error);
    }
    if bad.len() > 20 {
        eprintln!("... and {} more malformed lines (skipped)", bad.len() - 20);
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the feature lists and their version.
    Features {
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
        /// W, the model's window.
        #[arg(long, default_value_t = 32)]
        window: usize,
    },
    /// Score events (JSONL) with a model: one JSON line per event.
    Score {
        #[command(flatten)]
        input: Input,
        /// The ONNX model; its manifest is the same path with .json.
        #[arg(long)]
        model: PathBuf,
    },
    /// Evaluate a model on its seed's test users, beside the rule baselines.
    Eval {
        #[command(flatten)]
        input: Input,
        /// The ONNX model trained on the seed's train split (manifest beside it); with several
        /// seeds, a path containing `{seed}`, e.g. `build/seed{seed}/intent.onnx`.
        #[arg(long)]
        model: String,
        /// Another model to compare with (paired user-bootstrap difference); `{seed}` as above.
        #[arg(long)]
        compare: Option<String>,
        /// Seeds of the user splits, e.g. `0` or `0,1,2,3,4`: each seed's model is evaluated on
        /// that seed's test users only, then the figures are averaged over seeds.
        #[arg(long, value_delimiter = ',', default_value = "0")]
        seed: Vec<u64>,
        /// Which split to evaluate.
        #[arg(long, default_value = "test")]
        split: String,
        /// Bootstrap replicates.
        #[arg(long, default_value_t = 1000)]
        bootstrap: usize,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Measure featurizing and scoring speed.
    Bench {
        #[command(flatten)]
        input: Input,
        /// The ONNX model to time.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Repetitions of the featurizing pass.
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Features { json } => features(json),
        Command::Featurize { input, out, seed, window } => featurize(&input, &out, seed, window),
        Command::Score { input, model } => score(&input, &model),
        Command::Eval { input, model, compare, seed, split, bootstrap, json } => {
            eval_seeds(&input, &model, compare.as_deref(), &seed, &split, bootstrap, json.as_deref())
        }
        Command::Bench { input, model, reps } => bench(&input, model.as_deref(), reps),
    }
}

fn features(json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            json!({"feature_version": FEATURE_VERSION, "sequence_features": SEQUENCE_FEATURES, "aggregate_features": AGGREGATE_FEATURES})
        );
    } else {
        println!("feature version {FEATURE_VERSION}\n\nsequence features (per event):");
        for (i, n) in SEQUENCE_FEATURES.iter().enumerate() {
            println!("  {i:2} {n}");
        }
        println!("\naggregate features (per prefix):");
        for (i, n) in AGGREGATE_FEATURES.iter().enumerate() {
            println!("  {i:2} {n}");
        }
    }
    Ok(())
}

fn model_and_manifest(model: &Path) -> Result<(Vec<u8>, String)> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let manifest_path = model.with_extension("json");
    let manifest =
        std::fs::read_to_string(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    Ok((bytes, manifest))
}

/// Featurizes every user of `log` with a bare window; returns the tensors per split and counts.
fn build_tensors(log: &Log, seed: u64, config: &WindowConfig) -> Result<(Vec<(Split, Tensors, Counts)>, Vec<BadLine>)> {
    let splits = assign_splits(&log.users, seed);
    let mut out: Vec<(Split, Tensors, Counts)> =
        Split::ALL.iter().map(|s| (*s, Tensors { window: config.window, ..Tensors::default() }, Counts::default())).collect();
    // Reserve the padded tensors up front (at most one sample per event): growing a vector of
    // hundreds of megabytes by doubling costs more than featurizing.
    for (split, t, _) in &mut out {
        let events: usize = log.users.iter().zip(&splits).filter(|(_, s)| *s == split).map(|(u, _)| u.events.len()).sum();
        t.reserve(events);
    }
    let mut next_session = 0i64;
    let mut rejected = Vec::new();
    for (u, user) in log.users.iter().enumerate() {
        let (_, t, counts) = out.iter_mut().find(|(s, _, _)| *s == splits[u]).context("split")?;
        let mut window = Window::new(config.clone())?;
        let t_cell = std::cell::RefCell::new(t);
        walk_user(
            &user.events,
            &mut window,
            &mut next_session,
            counts,
            &mut |s| t_cell.borrow_mut().push(s.window, s.session, u as i64),
            &mut |n, positive| t_cell.borrow_mut().label_session(n, positive),
            &mut |line, e| rejected.push(BadLine { line, error: e.to_string() }),
        );
    }
    for (_, t, c) in &mut out {
        c.positive_samples = t.label.iter().filter(|&&l| l != 0).count();
    }
    Ok((out, rejected))
}

fn featurize(input: &Input, out: &Path, seed: u64, window: usize) -> Result<()> {
    let started = Instant::now();
    let log = input.read()?;
    let config = WindowConfig { window, utc_offset_min: input.utc_offset(), kinds: KindSet::ALL, salt: [0; 16] };
    let (splits, rejected) = build_tensors(&log, seed, &config)?;
    report_bad(&rejected);
    let elapsed = started.elapsed();
    let mut per_split = serde_json::Map::new();
    let mut total = Counts::default();
    for (split, tensors, counts) in &splits {
        tensors.write(&out.join(split.name()))?;
        per_split.insert(split.name().into(), serde_json::to_value(counts)?);
        total.users += counts.users;
        total.events += counts.events;
        total.sessions += counts.sessions;
        total.positive_sessions += counts.positive_sessions;
        total.sessions_starting_with_purchase += counts.sessions_starting_with_purchase;
        total.samples += counts.samples;
        total.positive_samples += counts.positive_samples;
    }
    let digest = {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(&input.input).with_context(|| format!("reading {}", input.input.display()))?;
        Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let summary = json!({
        "feature_version": FEATURE_VERSION,
        "input_sha256": digest,
        "window": window,
        "seed": seed,
        "input": input.input.display().to_string(),
        "format": format!("{:?}", input.format()).to_lowercase(),
        "utc_offset_min": input.utc_offset(),
        "lines": log.lines,
        "events_outside_window": log.outside_window,
        "malformed_lines": log.bad.len() + rejected.len(),
        "malformed": log.bad.iter().chain(&rejected).take(100).collect::<Vec<_>>(),
        "sequence_features": SEQUENCE_FEATURES,
        "aggregate_features": AGGREGATE_FEATURES,
        "total": total,
        "splits": per_split,
    });
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("summary.json"), serde_json::to_string_pretty(&summary)?)?;
    println!(
        "{} lines, {} events kept ({} outside the log's window, {} malformed)",
        log.lines,
        total.events,
        log.outside_window,
        log.bad.len() + rejected.len()
    );
    println!(
        "{} users, {} sessions, {} with a purchase ({:.2}%), {} starting with the purchase (no sample)",
        total.users,
        total.sessions,
        total.positive_sessions,
        100.0 * total.positive_sessions as f64 / total.sessions.max(1) as f64,
        total.sessions_starting_with_purchase
    );
    for (split, t, c) in &splits {
        println!(
            "  {:5} {:4} users {:6} sessions {:5} positive {:6} samples ({:.1}% positive)",
            split.name(),
            c.users,
            c.sessions,
            c.positive_sessions,
            t.samples(),
            100.0 * c.positive_samples as f64 / c.samples.max(1) as f64
        );
    }
    println!("feature version {FEATURE_VERSION}, W = {window}; written to {} in {:.2?}", out.display(), elapsed);
    Ok(())
}

fn score(input: &Input, model: &Path) -> Result<()> {
    let (bytes, manifest) = model_and_manifest(model)?;
    let log = input.read()?;
    let template = SequenceModel::load(&bytes, &manifest)?;
    let mut engine = Engine::new(template, EngineOptions { utc_offset_min: input.utc_offset(), ..EngineOptions::default() })?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for user in &log.users {
        engine.forget();
        for (line, event) in &user.events {
            let v = match engine.track(event) {
                Ok(u) => json!({
                    "line": line, "user": user.user, "type": event.kind.name(), "score": u.score,
                    "segment": u.segment.name(), "segmentChanged": u.segment_changed, "converted": u.converted,
                    "ignored": u.ignored, "newSession": u.new_session, "events": u.events,
                }),
                Err(e) => json!({"line": line, "user": user.user, "error": e.to_string(), "code": e.code()}),
            };
            writeln!(out, "{v}")?;
        }
    }
    Ok(())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("   -  ".into(), |v| format!("{v:.4}"))
}

/// Evaluates each seed's model on that seed's split, then prints the mean and spread over seeds.
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
    let path = |template: &str, seed: u64| PathBuf::from(template.replace("{seed}", &seed.to_string()));
    let mut runs = Vec::new();
    for &seed in seeds {
        runs.push(eval(input, &path(model, seed), compare.map(|c| path(c, seed)).as_deref(), seed, split, reps)?);
        println!();
    }
    if seeds.len() > 1 {
        println!("mean over seeds {seeds:?} (sd over seeds):");
        let names: Vec<String> = runs[0]["figures"].as_array().into_iter().flatten().filter_map(|f| f["name"].as_str().map(str::to_string)).collect();
        for (i, name) in names.iter().enumerate() {
            let values: Vec<f64> = runs.iter().filter_map(|r| r["figures"][i]["online_auc"]["value"].as_f64()).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0).max(1.0)).sqrt();
            println!("  {name:18} online AUC {mean:.4} ({sd:.4})");
        }
    }
    if let Some(path) = json_out {
        let v = if runs.len() == 1 { runs.remove(0) } else { serde_json::Value::Array(runs) };
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    }
    Ok(())
}

fn eval(input: &Input, model: &Path, compare: Option<&Path>, seed: u64, split: &str, reps: usize) -> Result<serde_json::Value> {
    let split = match split {
        "train" => Split::Train,
        "val" => Split::Val,
        "test" => Split::Test,
        other => bail!("unknown split {other:?}: train, val or test"),
    };
    let (bytes, manifest) = model_and_manifest(model)?;
    let threshold = SequenceModel::load(&bytes, &manifest)?.manifest().threshold;
    let log = input.read()?;
    let scored = score_split(&log, seed, split, &bytes, &manifest, input.utc_offset())?;
    let mut others = baselines(&scored);
    if let Some(other) = compare {
        let (b, m) = model_and_manifest(other)?;
        let s = score_split(&log, seed, split, &b, &m, input.utc_offset())?;
        others.push(("compare", s.score));
    }
    let figs = figures(&scored, threshold, reps, seed, &others);
    if scored.rejected > 0 {
        eprintln!("{} events were refused by the window and not scored", scored.rejected);
    }
    let c = &scored.counts;
    println!(
        "seed {seed}, {} split: {} users, {} sessions ({} positive), {} samples ({} positive); {} bootstrap replicates over users",
        split.name(),
        c.users,
        c.sessions,
        c.positive_sessions,
        c.samples,
        c.positive_samples,
        reps
    );
    println!("{:18} {:>24} {:>8} {:>8} {:>8} {:>8}", "scorer", "online AUC [95% CI]", "PR-AUC", "sess AUC", "Brier", "ECE");
    for f in &figs {
        println!(
            "{:18} {:.4} [{:.4}, {:.4}] {:>8.4} {:>8} {:>8} {:>8}",
            f.name,
            f.online_auc.value,
            f.online_auc.lo,
            f.online_auc.hi,
            f.pr_auc,
            fmt_opt(f.session_auc),
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
    for (name, d) in &m.paired {
        println!("model - {name:16} online AUC {:+.4} [{:+.4}, {:+.4}]", d.value, d.lo, d.hi);
    }
    Ok(json!({"seed": seed, "split": split.name(), "counts": scored.counts, "bootstrap": reps, "figures": figs}))
}

fn bench(input: &Input, model: Option<&Path>, reps: usize) -> Result<()> {
    let t = Instant::now();
    let log = input.read()?;
    let parse = t.elapsed();
    let events = log.events;
    println!("read + parse: {events} events in {parse:.2?} ({:.2} M events/s)", events as f64 / parse.as_secs_f64() / 1e6);
    let config = WindowConfig { window: 32, utc_offset_min: input.utc_offset(), kinds: KindSet::ALL, salt: [0; 16] };
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let mut rows = 0usize;
        for user in &log.users {
            let mut w = Window::new(config.clone())?;
            for (_, e) in &user.events {
                if w.push(e).is_ok() {
                    rows += w.last_row().map_or(0, |r| r.len() / SEQ_LEN);
                    std::hint::black_box(w.aggregates());
                }
            }
        }
        std::hint::black_box(rows);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("window + features (rows and aggregates per event): best of {reps}: {:.2} M events/s", events as f64 / best / 1e6);
    let t = Instant::now();
    let (splits, _) = build_tensors(&log, 0, &config)?;
    let tensors = t.elapsed().as_secs_f64();
    let samples: usize = splits.iter().map(|s| s.1.samples()).sum();
    println!(
        "featurize to padded tensors (W = 32, {samples} samples): {:.2} M events/s",
        events as f64 / tensors / 1e6
    );
    if let Some(model) = model {
        let (bytes, manifest) = model_and_manifest(model)?;
        let t = Instant::now();
        let m = SequenceModel::load(&bytes, &manifest)?;
        println!("model load (parse, optimize, first step): {:.2?}", t.elapsed());
        let mut engine = Engine::new(m, EngineOptions { utc_offset_min: input.utc_offset(), ..EngineOptions::default() })?;
        let mut n = 0usize;
        let t = Instant::now();
        for user in log.users.iter().take(200) {
            engine.forget();
            for (_, e) in &user.events {
                if engine.track(e).is_ok() {
                    n += 1;
                }
            }
        }
        let per = t.elapsed().as_secs_f64() / n.max(1) as f64;
        println!("engine.track with scoring: {n} events, {:.1} us per event", per * 1e6);
        let rows = vec![[0.1f32; SEQ_LEN]; 32];
        let mut model = SequenceModel::load(&bytes, &manifest)?;
        let t = Instant::now();
        for _ in 0..100 {
            std::hint::black_box(model.run(rows.iter())?);
        }
        println!("re-scoring a full 32-row window: {:.1} us", t.elapsed().as_secs_f64() / 100.0 * 1e6);
    }
    Ok(())
}
