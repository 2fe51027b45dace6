//! The committed files: reading vector files from a directory or from the
//! copies compiled into the binary, and writing what the generator makes
//! (vectors, `schema.json`, the id ledger).

use std::path::{Path, PathBuf};

use crate::ids::{Ledger, RetiredIds};
use crate::model::{VectorFile, json_schema};

/// A file that cannot be read or does not parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// JSON that does not match the model.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error (with line and column).
        source: serde_json::Error,
    },
    /// A file named after another suite.
    #[error("{path}: suite {suite:?} does not match the file name")]
    Name {
        /// The file.
        path: PathBuf,
        /// The suite it declares.
        suite: String,
    },
    /// The ledger.
    #[error("{0}")]
    Ledger(String),
}

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        /// The vector files compiled into this binary, by suite name.
        pub const EMBEDDED: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../vectors/", $name, ".json"))),)*
        ];
    };
}

embed!(
    "wire-kerberos",
    "wire-record-mark",
    "wire-kkdcp",
    "wire-iakerb",
    "wire-gss",
    "wire-spnego",
    "wire-ntlm",
    "crypto-rfc3962",
    "crypto-rfc8009",
    "crypto-rfc3961",
    "crypto-rc4",
    "crypto-rfc6113",
    "crypto-invalid",
    "kdc-as",
    "kdc-tgs",
    "kkdcp-relay",
    "iakerb-acceptor",
    "spnego-acceptor",
    "ntlm-acceptor",
    "negotiator-paths",
);

/// The retired ids compiled into this binary.
pub const RETIRED: &str = include_str!("../retired-ids.json");
/// The id ledger compiled into this binary.
pub const LEDGER: &str = include_str!("../id-ledger.txt");

fn parse(path: &Path, suite: &str, text: &str) -> Result<VectorFile, FileError> {
    let f: VectorFile = serde_json::from_str(text).map_err(|source| FileError::Json {
        path: path.to_owned(),
        source,
    })?;
    if f.suite != suite {
        return Err(FileError::Name {
            path: path.to_owned(),
            suite: f.suite,
        });
    }
    Ok(f)
}

/// The embedded vector files, parsed.
pub fn embedded() -> Result<Vec<VectorFile>, FileError> {
    EMBEDDED
        .iter()
        .map(|(name, text)| parse(Path::new(&format!("vectors/{name}.json")), name, text))
        .collect()
}

/// Every `*.json` in `dir`, parsed, in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<VectorFile>, FileError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| FileError::Io { path, source }
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(io(p))?;
            let suite = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            parse(p, suite, &text)
        })
        .collect()
}

/// The retired ids (embedded copy).
pub fn retired() -> Result<RetiredIds, FileError> {
    serde_json::from_str(RETIRED).map_err(|source| FileError::Json {
        path: PathBuf::from("retired-ids.json"),
        source,
    })
}

/// The id ledger (embedded copy).
pub fn ledger() -> Result<Ledger, FileError> {
    Ledger::parse(LEDGER).map_err(FileError::Ledger)
}

/// Writes `files` into `root/vectors/`, `root/schema.json`, and appends
/// new ids to `root/id-ledger.txt`. Returns the paths written.
pub fn write_all(root: &Path, files: &[VectorFile]) -> Result<Vec<PathBuf>, FileError> {
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text)
            .map(|()| path.clone())
            .map_err(|source| FileError::Io { path, source })
    };
    let vectors = root.join("vectors");
    std::fs::create_dir_all(&vectors).map_err(|source| FileError::Io {
        path: vectors.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for f in files {
        out.push(write(
            vectors.join(format!("{}.json", f.suite)),
            &f.to_json(),
        )?);
    }
    out.push(write(root.join("schema.json"), &json_schema())?);
    out.push(write(
        root.join("principals.toml"),
        &crate::generate::principals_toml(),
    )?);
    let ledger_path = root.join("id-ledger.txt");
    let mut ledger = match std::fs::read_to_string(&ledger_path) {
        Ok(t) => Ledger::parse(&t).map_err(FileError::Ledger)?,
        Err(_) => Ledger::default(),
    };
    ledger.extend_from(files).map_err(FileError::Ledger)?;
    out.push(write(ledger_path, &ledger.render())?);
    Ok(out)
}
