//! negotiator-paths suite (filled in below).

use crate::model::VectorFile;

pub(crate) fn suites() -> Vec<VectorFile> {
    Vec::new()
}
