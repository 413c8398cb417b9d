//! # shopper-intent
//!
//! The engine of an on-device purchase-intent widget. It keeps a rolling window of a shopper's
//! session events, turns them into the feature rows a small LSTM reads, and scores the
//! probability that the session ends in a purchase, with tract running the ONNX model.
//!
//! The engine is pure Rust: no I/O, no clock, no JavaScript. Model bytes come in as arguments
//! and time comes with each event, so everything here runs the same natively, in tests, and in
//! the browser through the `shopper-intent-wasm` crate.
//!
//! ```
//! use shopper_intent::{Event, EventKind, Window, WindowConfig, features::SEQ_LEN};
//!
//! let mut window = Window::new(WindowConfig::default())?;
//! let t = 1_700_000_000_000; // ms since the epoch
//! window.push(&Event::new(EventKind::ViewItem, t).with_item("sku-1", "shoes"))?;
//! window.push(&Event::new(EventKind::ViewItem, t + 30_000).with_item("sku-1", "shoes"))?;
//! let row = window.last_row().unwrap();
//! assert_eq!(row.len(), SEQ_LEN);
//! assert_eq!(row[shopper_intent::features::seq::REPEAT_ITEM], 1.0);
//! # Ok::<(), shopper_intent::Error>(())
//! ```
//!
//! With a model, [`Engine`] wraps a window and returns an [`Update`] (score, segment change) for
//! every tracked event; see its documentation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod engine;
mod error;
mod event;
pub mod features;
pub mod hash;
pub mod mapping;
pub mod model;
mod state;
mod window;

#[doc(hidden)]
pub mod naive;

pub use engine::{Engine, EngineOptions, Factor, ScorePoint, Segment, Update, DEFAULT_HYSTERESIS, MAX_SCORE_POINTS};
pub use error::Error;
pub use model::{Manifest, SequenceModel, TabularModel, Thresholds};
pub use event::{Event, EventKind, KindSet, MAX_ID_BYTES, MAX_PRICE, MAX_QUANTITY, MAX_TS_MS, MIN_TS_MS};
pub use state::STATE_FORMAT;
pub use window::{
    History, Outcome, Pending, Pushed, Window, WindowConfig, EWMA_ALPHA, MAX_PENDING, MAX_SESSION_ITEMS, MAX_WINDOW,
    MA_SPAN, PENDING_TTL_MS, REORDER_TOLERANCE_MS, SESSION_GAP_MS,
};
