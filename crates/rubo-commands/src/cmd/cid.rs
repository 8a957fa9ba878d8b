//! Placeholder until the module is written.

use crate::registry::{Group, Spec};

pub(crate) fn groups() -> Vec<Group> {
    Vec::new()
}

pub(crate) fn specs() -> Vec<Spec> {
    Vec::new()
}
