//! The one error type of the engine.

/// Everything that can go wrong, as a value. Each variant has a stable [`Error::code`] that the
/// JavaScript layer exposes, so callers never have to match on message text.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The timestamp is outside 2000-01-01..2200-01-01.
    #[error("timestamp {ts_ms} ms is outside 2000-01-01..2200-01-01 (milliseconds since the Unix epoch expected)")]
    BadTimestamp {
        /// The timestamp as given.
        ts_ms: i64,
    },
    /// An id is longer than allowed.
    #[error("{field} id is {len} bytes long; at most {max} are accepted")]
    IdTooLong {
        /// `"item"` or `"category"`.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field has a value it cannot have.
    #[error("{field} {reason}")]
    InvalidField {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The event is older than the newest one by more than the reorder tolerance.
    #[error("event at {ts_ms} ms is older than the newest event ({newest_ms} ms) by more than {tolerance_ms} ms; it was rejected")]
    OutOfOrder {
        /// The event's time.
        ts_ms: i64,
        /// The newest accepted time.
        newest_ms: i64,
        /// The tolerance.
        tolerance_ms: i64,
    },
    /// Serialized state that is corrupt, foreign, of another version, or expired.
    #[error("cannot restore state: {0}")]
    BadState(String),
    /// Model bytes tract cannot load or run.
    #[error("cannot load the model: {0}")]
    BadModel(String),
    /// A manifest that does not fit this engine or its model.
    #[error("model manifest does not match: {0}")]
    ManifestMismatch(String),
    /// Options out of range.
    #[error("bad options: {0}")]
    BadOptions(String),
    /// The engine broke outside its contract (a model that loaded but then failed to run) and
    /// cannot be used any more.
    #[error("engine failed: {0}")]
    Failed(String),
}

impl Error {
    /// A stable machine-readable code: `INVALID_EVENT`, `OUT_OF_ORDER`, `BAD_STATE`,
    /// `BAD_MODEL`, `MANIFEST_MISMATCH`, `BAD_OPTIONS` or `ENGINE_FAILED`.
    ///
    /// ```
    /// use shopper_intent::Error;
    /// assert_eq!(Error::BadTimestamp { ts_ms: 0 }.code(), "INVALID_EVENT");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadTimestamp { .. } | Error::IdTooLong { .. } | Error::InvalidField { .. } => "INVALID_EVENT",
            Error::OutOfOrder { .. } => "OUT_OF_ORDER",
            Error::BadState(_) => "BAD_STATE",
            Error::BadModel(_) => "BAD_MODEL",
            Error::ManifestMismatch(_) => "MANIFEST_MISMATCH",
            Error::BadOptions(_) => "BAD_OPTIONS",
            Error::Failed(_) => "ENGINE_FAILED",
        }
    }
}
