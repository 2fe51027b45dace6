//! Writing the four files of a report into a directory.

use std::path::{Path, PathBuf};

use crate::input::Report;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Creating the directory or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Serialising `results.json` failed.
    #[error("results.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// The files written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// `summary.md`.
    pub summary: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// `results.json`.
    pub json: PathBuf,
    /// `junit.xml`.
    pub junit: PathBuf,
}

fn put(path: PathBuf, text: &str) -> Result<PathBuf, ReportError> {
    std::fs::write(&path, text).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes `summary.md`, `report.html`, `results.json` and `junit.xml` into
/// `dir` (created if missing).
pub fn write_report(dir: &Path, report: &Report<'_>) -> Result<Written, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let json = crate::json::results(report)?;
    Ok(Written {
        summary: put(dir.join("summary.md"), &crate::markdown::summary(report))?,
        html: put(dir.join("report.html"), &crate::html::page(report))?,
        json: put(dir.join("results.json"), &json)?,
        junit: put(dir.join("junit.xml"), &crate::junit::junit(report))?,
    })
}
