//! The native side of shopper-intent: reading event logs, the training protocol, `.npy` output,
//! evaluation, scoring, conversion and benchmarks. The `shopper-intent` binary is a thin command
//! line over these modules; every feature it writes comes from the engine's own
//! [`shopper_intent::Window`], and every score from its [`shopper_intent::Engine`] logic.

pub mod bench;
#[cfg(feature = "onnx")]
pub mod convert;
pub mod dataset;
pub mod eval;
pub mod featurize;
#[doc(hidden)]
pub mod fuzzing;
pub mod logs;
pub mod metrics;
pub mod model_files;
pub mod npy;
pub mod reach;
pub mod replay;
pub mod report;
pub mod score;
