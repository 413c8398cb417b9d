//! `shopper-intent replay-fixture`: the events of a set of users, with the feature row the
//! engine computes for every scored event, for the browser benchmark (which replays the events
//! through the page package and feeds the same rows to a peer runtime).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use shopper_intent::WindowConfig;

use crate::dataset::{samples_of, Users};
use crate::logs::Log;

/// Writes `events.json` (`[{user, events: [{type, ts, item?, category?, price?, quantity?,
/// session?, row}]}]`, `row` the index of the event's feature row or -1) and `rows.f32` (the rows,
/// little-endian f32, `width` columns each) into `out`; returns (events, rows).
pub fn write(log: &Log, users: Users, config: &WindowConfig, out: &Path) -> Result<(usize, usize)> {
    let selected = users.select(log);
    let samples = samples_of(log, &selected, config, true)?;
    let mut row_of: std::collections::HashMap<(i64, u32), usize> = std::collections::HashMap::new();
    for i in 0..samples.len() {
        row_of.insert((samples.user[i], samples.event[i]), i);
    }
    let mut sessions = Vec::new();
    let mut events = 0;
    for (u, user) in log.users.iter().enumerate() {
        if !selected[u] {
            continue;
        }
        let list: Vec<serde_json::Value> = user
            .events
            .iter()
            .enumerate()
            .map(|(i, (_, e))| {
                let mut v = json!({"type": e.kind.name(), "ts": e.ts_ms});
                let o = v.as_object_mut().expect("an object");
                if let Some(x) = &e.item {
                    o.insert("item".into(), x.clone().into());
                }
                if let Some(x) = &e.category {
                    o.insert("category".into(), x.clone().into());
                }
                if let Some(x) = e.price {
                    o.insert("price".into(), x.into());
                }
                if let Some(x) = e.quantity {
                    o.insert("quantity".into(), x.into());
                }
                if let Some(x) = &e.session {
                    o.insert("session".into(), x.clone().into());
                }
                o.insert("row".into(), row_of.get(&(u as i64, i as u32)).map_or(-1, |r| *r as i64).into());
                v
            })
            .collect();
        events += list.len();
        sessions.push(json!({"user": user.user, "events": list}));
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("events.json"), serde_json::to_string(&json!({"width": samples.width, "users": sessions}))?)
        .with_context(|| format!("writing {}", out.join("events.json").display()))?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("rows.f32"))?);
    for v in &samples.seq {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()?;
    Ok((events, samples.len()))
}
