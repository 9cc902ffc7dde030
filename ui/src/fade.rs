//! LST-12: a row that bubbled up glows for a moment, counted from the re-read that found it. One
//! timer per re-read (its `list_epoch`), started once and never restarted: with customers writing
//! more often than a glow lasts, restarting one timer on every change would keep every row
//! glowing for as long as the traffic went on.

use std::collections::{BTreeSet, HashMap};

/// The fade timers running, one per epoch that still has rows glowing (`T` is the timer; dropping
/// it cancels it).
#[derive(Debug)]
pub struct Fades<T> {
    timers: HashMap<u64, T>,
}

impl<T> Default for Fades<T> {
    fn default() -> Self {
        Fades {
            timers: HashMap::new(),
        }
    }
}

impl<T> Fades<T> {
    /// Brings the timers in line with the epochs still glowing: `start` is called once for each
    /// epoch not yet timed; a timer whose epoch is no longer glowing is dropped.
    pub fn sync(&mut self, glowing: &BTreeSet<u64>, mut start: impl FnMut(u64) -> T) {
        self.timers.retain(|epoch, _| glowing.contains(epoch));
        for &epoch in glowing {
            self.timers.entry(epoch).or_insert_with(|| start(epoch));
        }
    }

    /// The epochs being timed.
    pub fn timed(&self) -> BTreeSet<u64> {
        self.timers.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lst12_each_reread_gets_one_timer_that_later_changes_do_not_restart() {
        let mut fades = Fades::default();
        let mut started = Vec::new();
        // Re-reads 1, 2 and 3 arrive less than a glow apart.
        for glowing in [vec![1], vec![1, 2], vec![1, 2, 3]] {
            fades.sync(&glowing.into_iter().collect(), |e| {
                started.push(e);
                e
            });
        }
        assert_eq!(started, vec![1, 2, 3], "each started once, none restarted");
        // Epoch 1's timer fires and clears it (and anything older); 2 and 3 keep theirs.
        fades.sync(&[2, 3].into(), |e| {
            started.push(e);
            e
        });
        assert_eq!(fades.timed(), [2, 3].into());
        assert_eq!(started.len(), 3);
        // Everything faded: no timer left running.
        fades.sync(&BTreeSet::new(), |e| e);
        assert!(fades.timed().is_empty());
    }
}
