//! `shopper-intent bench`: speed of reading, featurizing and scoring, natively. Figures only, no
//! assertion; `make bench` puts them beside the browser's in BENCHMARKS.md.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;
use shopper_intent::batch::BatchScorer;
use shopper_intent::engine::DEFAULT_HYSTERESIS;
#[cfg(feature = "onnx")]
use shopper_intent::model::LstmState;
use shopper_intent::{Engine, EngineOptions, Event, SequenceModel, Window, WindowConfig};

use crate::dataset::samples_of;
use crate::eval::BATCH;
use crate::logs::Log;
use crate::model_files::ModelFiles;

fn per_s(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

/// Scores every stream with `threads` threads, each with its own batch scorer; returns the
/// events scored and the seconds taken.
fn batch_score(files: &ModelFiles, model: &SequenceModel, streams: &[Vec<&Event>], threads: usize, utc: i32) -> Result<(usize, f64)> {
    let t = Instant::now();
    let chunk = streams.len().div_ceil(threads.max(1));
    let counts: Vec<Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = streams
            .chunks(chunk.max(1))
            .map(|part| {
                let (manifest, weights) = (files.manifest.clone(), model.weights().clone());
                s.spawn(move || -> Result<usize> {
                    let model = SequenceModel::new(manifest, weights)?;
                    let mut scorer = BatchScorer::new(&model, BATCH, utc, DEFAULT_HYSTERESIS)?;
                    let mut n = 0;
                    scorer.score(part, |_, _, r| n += usize::from(r.is_ok()))?;
                    Ok(n)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| anyhow::anyhow!("a scoring thread panicked"))?).collect()
    });
    let n = counts.into_iter().sum::<Result<usize>>()?;
    Ok((n, t.elapsed().as_secs_f64()))
}

/// The feature rows of every scored event, user by user (a zero state at each user's start and
/// at each new session, as the engine does).
#[cfg(feature = "onnx")]
fn session_rows(log: &Log, config: &WindowConfig) -> Result<Vec<(bool, Vec<f32>)>> {
    let mut rows = Vec::new();
    for user in &log.users {
        let mut w = Window::new(config.clone())?;
        for (_, e) in &user.events {
            if let Ok(p) = w.push(e) {
                if p.outcome == shopper_intent::Outcome::Row {
                    if let Some(r) = w.last_row() {
                        rows.push((p.new_session, r.to_vec()));
                    }
                }
            }
        }
    }
    Ok(rows)
}

/// Per-step time of one graph of the step, natively: `step(row, state)` over every row,
/// best of `reps` passes; returns (p50, mean) in microseconds.
#[cfg(feature = "onnx")]
fn time_steps(
    rows: &[(bool, Vec<f32>)],
    hidden: usize,
    reps: usize,
    mut step: impl FnMut(&[f32], &mut LstmState) -> Result<f32>,
) -> Result<(f64, f64)> {
    let mut best: Option<Vec<f64>> = None;
    for _ in 0..reps.max(1) {
        let mut state = LstmState::zero(hidden);
        let mut times = Vec::with_capacity(rows.len());
        for (first, row) in rows {
            if *first {
                state = LstmState::zero(hidden);
            }
            let t = Instant::now();
            std::hint::black_box(step(row, &mut state)?);
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let sum: f64 = times.iter().sum();
        if best.as_ref().is_none_or(|b| sum < b.iter().sum()) {
            best = Some(times);
        }
    }
    let mut times = best.unwrap_or_default();
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    Ok((quantile(&times, 0.5), mean))
}

/// Tract on other graphs of the same step (ONNX files with inputs `x`, `h`, `c` and outputs
/// `p`, `h_out`, `c_out`, as the trainer and `tests/bench/tools/onnx_step.py` write them), against
/// the graph the engine builds, on the same rows.
#[cfg(feature = "onnx")]
fn compare_graphs(
    log: &Log,
    config: &WindowConfig,
    model: &SequenceModel,
    graphs: &[std::path::PathBuf],
    reps: usize,
) -> Result<serde_json::Value> {
    use shopper_intent::model::onnx::OnnxModel;
    use shopper_intent::model::OnnxSpec;
    let rows = session_rows(log, config)?;
    let hidden = model.hidden();
    let inputs = model.weights().inputs;
    let mut ours = SequenceModel::new(model.manifest().clone(), model.weights().clone())?;
    let (p50, mean) = time_steps(&rows, hidden, reps, |r, s| Ok(ours.step(r, s)?))?;
    println!("one step natively over {} rows, best of {reps}:", rows.len());
    println!("  the engine's graph (tract-core, built from the weights): p50 {p50:.2} us, mean {mean:.2} us");
    let mut out = vec![json!({"graph": "engine", "p50_us": p50, "mean_us": mean, "rows": rows.len()})];
    let names = |a: [&str; 3]| a.map(String::from);
    for path in graphs {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let spec = OnnxSpec { file: path.display().to_string(), inputs: names(["x", "h", "c"]), outputs: names(["p", "h_out", "c_out"]) };
        let mut g = OnnxModel::load(&bytes, &spec, inputs, hidden).with_context(|| format!("loading {}", path.display()))?;
        let (p50, mean) = time_steps(&rows, hidden, reps, |r, s| Ok(g.step(r, s)?))?;
        println!("  {} (tract-onnx, optimized): p50 {p50:.2} us, mean {mean:.2} us", path.display());
        out.push(json!({"graph": path.display().to_string(), "p50_us": p50, "mean_us": mean, "rows": rows.len()}));
    }
    Ok(serde_json::Value::Array(out))
}

/// Runs the benchmark; prints a table and returns the figures as JSON. `graphs`: other ONNX
/// graphs of the model's step to time against the engine's own (with the `onnx` feature).
pub fn bench(
    log: &Log,
    parse_secs: f64,
    config: &WindowConfig,
    model: Option<(&SequenceModel, &ModelFiles)>,
    reps: usize,
    graphs: &[std::path::PathBuf],
) -> Result<serde_json::Value> {
    let events = log.events;
    let mut out = serde_json::Map::new();
    println!("read + parse: {events} events in {parse_secs:.2} s ({:.2} M events/s)", per_s(events, parse_secs) / 1e6);
    out.insert("parse_events_per_s".into(), json!(per_s(events, parse_secs)));

    let mut best = f64::INFINITY;
    let mut agg = Vec::new();
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let mut rows = 0usize;
        for user in &log.users {
            let mut w = Window::new(config.clone())?;
            agg.resize(shopper_intent::features::aggregate_len(&config.kinds), 0.0);
            for (_, e) in &user.events {
                if let Ok(p) = w.push(e) {
                    rows += usize::from(p.outcome == shopper_intent::Outcome::Row);
                    w.aggregates_into(&mut agg);
                    std::hint::black_box(&agg);
                }
            }
        }
        std::hint::black_box(rows);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("window + features (row and aggregates per event), best of {reps}: {:.2} M events/s", per_s(events, best) / 1e6);
    out.insert("features_events_per_s".into(), json!(per_s(events, best)));

    let t = Instant::now();
    let all = vec![true; log.users.len()];
    let samples = samples_of(log, &all, config, true)?;
    let secs = t.elapsed().as_secs_f64();
    println!("featurize to training rows ({} samples): {:.2} M events/s", samples.len(), per_s(events, secs) / 1e6);
    out.insert("featurize_events_per_s".into(), json!(per_s(events, secs)));

    let Some((model, files)) = model else { return Ok(serde_json::Value::Object(out)) };
    let t = Instant::now();
    let loaded = SequenceModel::load(&files.weights, &files.manifest_text).context("loading the model")?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    println!("model load (parse, build, optimize, first step): {load_ms:.2} ms; hidden {}", loaded.hidden());
    out.insert("model_load_ms".into(), json!(load_ms));
    out.insert("hidden".into(), json!(loaded.hidden()));

    // One event at a time, as the page does.
    let mut engine = Engine::new(loaded, EngineOptions { utc_offset_min: Some(config.utc_offset_min), ..EngineOptions::default() })?;
    let mut times = Vec::with_capacity(events);
    for user in &log.users {
        engine.forget([0; 16]);
        for (_, e) in &user.events {
            let t = Instant::now();
            let r = engine.track(e);
            let dt = t.elapsed().as_secs_f64();
            if r.is_ok() {
                times.push(dt * 1e6);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let total: f64 = times.iter().sum();
    println!(
        "engine.track, one event at a time: {} events, p50 {:.2} us, p99 {:.2} us, max {:.1} us ({:.0} events/s)",
        times.len(),
        quantile(&times, 0.5),
        quantile(&times, 0.99),
        times.last().copied().unwrap_or(0.0),
        times.len() as f64 / (total / 1e6)
    );
    out.insert(
        "track_us".into(),
        json!({"p50": quantile(&times, 0.5), "p99": quantile(&times, 0.99), "max": times.last(), "events_per_s": times.len() as f64 / (total / 1e6)}),
    );
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..20 {
        n += engine.explain()?.len();
    }
    std::hint::black_box(n);
    let explain_ms = t.elapsed().as_secs_f64() * 1e3 / 20.0;
    let state = engine.export_state();
    let t = Instant::now();
    for _ in 0..20 {
        engine.restore_state(&state, log.users.last().and_then(|u| u.events.last()).map_or(0, |(_, e)| e.ts_ms))?;
    }
    let restore_ms = t.elapsed().as_secs_f64() * 1e3 / 20.0;
    println!("explain: {explain_ms:.3} ms; state {} bytes, restore {restore_ms:.3} ms", state.len());
    out.insert("explain_ms".into(), json!(explain_ms));
    out.insert("state_bytes".into(), json!(state.len()));
    out.insert("restore_ms".into(), json!(restore_ms));

    // Many users at once: featurize + score.
    let streams: Vec<Vec<&Event>> = log.users.iter().map(|u| u.event_refs()).collect();
    let mut batch = serde_json::Map::new();
    for threads in [1, 2] {
        let mut best = (0, f64::INFINITY);
        for _ in 0..reps.max(1) {
            let (n, secs) = batch_score(files, model, &streams, threads, config.utc_offset_min)?;
            if secs < best.1 {
                best = (n, secs);
            }
        }
        let rate = per_s(best.0, best.1);
        println!("featurize + score in batches of {BATCH}, {threads} thread(s): {} events, {:.2} M events/s", best.0, rate / 1e6);
        batch.insert(format!("threads_{threads}"), json!(rate));
    }
    out.insert("batch_events_per_s".into(), serde_json::Value::Object(batch));
    if !graphs.is_empty() {
        #[cfg(feature = "onnx")]
        out.insert("step_graphs".into(), compare_graphs(log, config, model, graphs, reps)?);
        #[cfg(not(feature = "onnx"))]
        anyhow::bail!("--graph needs the CLI built with its `onnx` feature");
    }
    Ok(serde_json::Value::Object(out))
}
