//! What the server holds in the context setting, per transaction level.

use std::num::NonZeroU32;

/// The value of the context setting at one transaction level, as far as we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Set by us to this JSON (`None`: empty, no context).
    Known(Option<String>),
    /// Unknown (after an error, or a transaction opened by raw SQL): set it again before use.
    Unknown,
}

/// A stack with one entry per open transaction level (top level first). `SET LOCAL` in a
/// savepoint survives `RELEASE` and is undone by `ROLLBACK TO`, so the stack follows both.
#[derive(Debug, Default)]
pub(crate) struct AppliedStack {
    levels: Vec<Applied>,
}

impl AppliedStack {
    /// The value in force at the innermost level.
    pub(crate) fn top(&self) -> &Applied {
        self.levels.last().unwrap_or(&Applied::Unknown)
    }

    /// Records what the innermost level now holds.
    pub(crate) fn set_top(&mut self, applied: Applied) {
        if let Some(top) = self.levels.last_mut() {
            *top = applied;
        }
    }

    /// A level was opened holding `applied`.
    pub(crate) fn push(&mut self, applied: Applied) {
        self.levels.push(applied);
    }

    /// A level was released (`RELEASE SAVEPOINT`, `COMMIT`): its value stays in force for
    /// the level below.
    pub(crate) fn release(&mut self) {
        if let Some(released) = self.levels.pop() {
            self.set_top(released);
        }
    }

    /// A level was rolled back: the level below holds what it held before.
    pub(crate) fn roll_back(&mut self) {
        self.levels.pop();
    }

    /// Makes the stack as deep as the transaction manager says; levels we did not see open
    /// are unknown.
    pub(crate) fn sync(&mut self, depth: Option<NonZeroU32>) {
        let depth = depth.map_or(0, |d| d.get() as usize);
        self.levels.truncate(depth);
        while self.levels.len() < depth {
            self.levels.push(Applied::Unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(s: &str) -> Applied {
        Applied::Known(Some(s.into()))
    }

    #[test]
    fn release_keeps_the_inner_value_and_rollback_restores_the_outer() {
        let mut stack = AppliedStack::default();
        stack.push(known("a"));
        stack.push(known("b"));
        stack.release();
        assert_eq!(stack.top(), &known("b"));
        stack.push(known("c"));
        stack.roll_back();
        assert_eq!(stack.top(), &known("b"));
        stack.sync(NonZeroU32::new(3));
        assert_eq!(stack.top(), &Applied::Unknown);
        stack.sync(None);
        assert_eq!(stack.top(), &Applied::Unknown);
    }
}
