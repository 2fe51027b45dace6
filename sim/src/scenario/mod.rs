//! Scenario files: the format ([`model`]), loading with located errors
//! ([`load`]) and semantic validation ([`validate`]).

pub mod load;
pub mod model;
pub mod validate;

pub use load::{Located, ScenarioError, load_file, load_str};
pub use model::*;
