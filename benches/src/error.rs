//! The one error type of the fixtures.

/// A fixture that could not be built or did not do what it is named after.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// A data file is missing or unreadable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A data file holds something else than expected.
    #[error("{path}: {what}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong.
        what: String,
    },
    /// A party refused or failed where the fixture expects success.
    #[error("{0}")]
    Failed(String),
}

impl FixtureError {
    /// `Failed` from anything printable.
    pub fn failed(what: impl std::fmt::Display) -> Self {
        FixtureError::Failed(what.to_string())
    }
}
