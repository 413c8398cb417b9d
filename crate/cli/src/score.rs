//! `shopper-intent score`: every event of a log scored by the engine, one JSON line per input
//! line, in input order, with the session number and the position in the session so that the
//! scores join back to the log.

use std::io::Write;

use anyhow::Result;
use serde_json::json;
use shopper_intent::batch::BatchScorer;
use shopper_intent::engine::{Update, DEFAULT_HYSTERESIS};
use shopper_intent::{Error, Event, SequenceModel};

use crate::eval::BATCH;
use crate::logs::Log;

/// Writes one line per line of `log` to `out`, sorted by line number: an event's score, or for a
/// line without one, its `code` (`INVALID_EVENT` for a malformed line, with the error;
/// `OUTSIDE_WINDOW`, `EMPTY_LINE`), so every input line is accounted for. An event of a kind the
/// model does not read (`"ignored": true`) belongs to no scored session: its session, position,
/// prefix, score and segment are null.
pub fn score(log: &Log, model: &SequenceModel, utc_offset_min: i32, out: &mut impl Write) -> Result<()> {
    let streams: Vec<Vec<&Event>> = log.users.iter().map(|u| u.event_refs()).collect();
    let mut results: Vec<Vec<Option<Result<Update, Error>>>> = streams.iter().map(|s| vec![None; s.len()]).collect();
    let mut scorer = BatchScorer::new(model, BATCH, utc_offset_min, DEFAULT_HYSTERESIS)?;
    scorer.score(&streams, |s, i, r| results[s][i] = Some(r))?;
    // What each output line comes from, small and in line order; the JSON is written line by line
    // (formatting every line first held about 18 times the log's size in memory).
    let mut rows: Vec<(usize, Row)> = Vec::with_capacity(log.lines);
    for (u, user) in log.users.iter().enumerate() {
        let mut session: Option<u32> = None;
        for (i, (line, _)) in user.events.iter().enumerate() {
            if let Some(Ok(up)) = &results[u][i] {
                if up.new_session {
                    session = Some(session.map_or(0, |s| s + 1));
                }
            }
            rows.push((*line, Row::Event { user: u, index: i, session }));
        }
    }
    rows.extend(log.bad.iter().enumerate().map(|(b, bad)| (bad.line, Row::Bad(b))));
    rows.extend(log.skipped.iter().enumerate().map(|(k, (line, _))| (*line, Row::Skipped(k))));
    rows.sort_by_key(|(l, _)| *l);
    for (line, row) in rows {
        let v = match row {
            Row::Event { user: u, index: i, session } => {
                let (user, event) = (&log.users[u], &log.users[u].events[i].1);
                match results[u][i].take() {
                    Some(Ok(up)) if up.ignored => json!({
                        "line": line, "user": user.user, "type": event.kind.name(), "session": null, "position": null,
                        "prefix": null, "score": null, "segment": null, "segmentChanged": false,
                        "converted": null, "ignored": true, "scored": false, "newSession": false,
                    }),
                    Some(Ok(up)) => json!({
                        "line": line, "user": user.user, "type": event.kind.name(), "session": session, "position": up.events - 1,
                        "prefix": up.prefix, "score": up.score, "segment": up.segment.name(), "segmentChanged": up.segment_changed,
                        "converted": up.converted, "ignored": false, "scored": up.scored, "newSession": up.new_session,
                    }),
                    Some(Err(e)) => {
                        json!({"line": line, "user": user.user, "type": event.kind.name(), "error": e.to_string(), "code": e.code()})
                    }
                    None => json!({"line": line, "user": user.user, "error": "not scored", "code": "ENGINE_FAILED"}),
                }
            }
            Row::Bad(b) => json!({"line": line, "error": log.bad[b].error, "code": "INVALID_EVENT"}),
            Row::Skipped(k) => json!({"line": line, "code": log.skipped[k].1.code()}),
        };
        writeln!(out, "{v}")?;
    }
    Ok(())
}

/// The source of one output line: an event of a user (with its session number), a malformed
/// line, or a skipped one (indices into the log).
enum Row {
    Event { user: usize, index: usize, session: Option<u32> },
    Bad(usize),
    Skipped(usize),
}
