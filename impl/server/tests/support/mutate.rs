//! Byte-level mutation of valid tokens for the no-panic properties:
//! overwrite, insert, delete or truncate at proptest-chosen positions.

use proptest::prelude::*;

/// A byte-level edit: overwrite, insert, delete or truncate.
#[derive(Debug, Clone)]
pub enum Edit {
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Truncate(prop::sample::Index),
}

/// Edits, overwrites four times as likely as each other kind.
pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Edit::Delete),
        1 => any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

/// `t` with `edits` applied in order (stopping once it is empty).
pub fn mutate(mut t: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if t.is_empty() {
            break;
        }
        match e {
            Edit::Set(i, b) => {
                let i = i.index(t.len());
                t[i] = *b;
            }
            Edit::Insert(i, b) => t.insert(i.index(t.len() + 1), *b),
            Edit::Delete(i) => {
                t.remove(i.index(t.len()));
            }
            Edit::Truncate(i) => t.truncate(i.index(t.len())),
        }
    }
    t
}
