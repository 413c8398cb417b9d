//! # shopper-intent
//!
//! The engine of an on-device purchase-intent widget. It keeps a rolling window of a shopper's
//! session events, turns them into the feature rows a small LSTM reads, and scores the
//! probability that the session ends in a purchase, one LSTM step per event, with tract running
//! the model.
//!
//! The engine is pure Rust: no I/O, no clock, no JavaScript. Model bytes come in as arguments
//! and time comes with each event, so everything here runs the same natively, in tests, and in
//! the browser through the `shopper-intent-wasm` crate.
//!
//! ```
//! use shopper_intent::{features::{num, row_len}, Event, EventKind, Window, WindowConfig};
//!
//! let mut window = Window::new(WindowConfig::default())?;
//! let t = 1_700_000_000_000; // ms since the epoch
//! window.push(&Event::new(EventKind::ViewItem, t).with_item("sku-1", "shoes"))?;
//! window.push(&Event::new(EventKind::ViewItem, t + 30_000).with_item("sku-1", "shoes"))?;
//! let kinds = &window.config().kinds;
//! let row = window.last_row().unwrap();
//! assert_eq!(row.len(), row_len(kinds));
//! assert_eq!(row[kinds.columns() + num::REPEAT_ITEM], 1.0);
//! # Ok::<(), shopper_intent::Error>(())
//! ```
//!
//! With a model, [`Engine`] wraps a window and returns an [`Update`] (score, segment change) for
//! every tracked event; see its documentation.
//!
//! Layering, bottom up: [`event`] and [`mapping`] (the event contract and the one name table),
//! [`kinds`], [`features`] and [`window`] (features), [`state`] (serialization), [`model`] (the
//! only module that knows tract), [`engine`] and [`batch`] (scoring).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod engine;
pub mod error;
pub mod event;
pub mod features;
pub mod hash;
pub mod kinds;
pub mod mapping;
pub mod model;
pub mod privacy;
pub mod state;
pub mod window;

#[doc(hidden)]
pub mod naive;
#[doc(hidden)]
pub mod testing;

pub use engine::{Engine, EngineOptions, Factor, ScorePoint, Segment, Update};
pub use error::Error;
pub use event::{Event, EventKind, Kind};
pub use kinds::Kinds;
pub use model::{Manifest, SequenceModel, Thresholds};
pub use window::{Outcome, Window, WindowConfig};
