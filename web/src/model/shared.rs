//! A value shared by `Rc` and changed in place, with a version that counts the changes.
//!
//! yew keeps the previous state (and the rendered handle keeps another) while the reducer builds
//! the next one, so `Rc::make_mut` would copy every time. The message logs (500 rows) and the
//! charts are instead changed in place; a state snapshot holds the pointer and the version it
//! saw, so two snapshots compare by identity and version, never row by row, and cloning one
//! copies a pointer.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

#[derive(Debug, Default)]
pub(crate) struct Shared<T> {
    cell: Rc<RefCell<T>>,
    version: u64,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self {
            cell: Rc::clone(&self.cell),
            version: self.version,
        }
    }
}

/// Equal when it is the same value at the same version: O(1), whatever it holds.
impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.cell, &other.cell) && self.version == other.version
    }
}

impl<T> Shared<T> {
    /// Views borrow only while rendering and the reducer only inside a dispatch, and yew does
    /// not run the two at once, so a borrow never meets `update`.
    pub(crate) fn borrow(&self) -> Ref<'_, T> {
        self.cell.borrow()
    }

    /// Changes the value in place and counts a new version.
    pub(crate) fn update<R>(&mut self, change: impl FnOnce(&mut T) -> R) -> R {
        self.version += 1;
        change(&mut self.cell.borrow_mut())
    }

    #[cfg(test)]
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Whether both hold the very same value (not a copy).
    #[cfg(test)]
    pub(crate) fn same_value(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.cell, &other.cell)
    }
}
