//! The native side of shopper-intent: reading event logs, the training protocol, `.npy` output,
//! evaluation metrics. The `shopper-intent` binary is a thin command line over these modules;
//! every feature it writes comes from the engine's own [`shopper_intent::Window`].

pub mod dataset;
pub mod eval;
pub mod logs;
pub mod metrics;
pub mod npy;
