//! LST-13: the list holds still under the pointer. While the pointer is over the rows or the
//! list has keyboard focus, a re-read updates the rows shown in place (preview, time, badges) but
//! never moves, adds or removes one, so a click always lands on the row that was under it. The
//! new order waits behind a "N new — show" pill until the pointer leaves, focus moves on, or the
//! pill is clicked.

use std::collections::{BTreeSet, HashMap};

use inbox_core::api::ConversationPage;
use inbox_core::{ConversationSummary, Id};

/// What keeps the list still.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hold {
    /// The pointer is over the rows.
    pub pointer: bool,
    /// The list has keyboard focus (Tab; a click on a row does not focus it).
    pub focus: bool,
}

impl Hold {
    pub fn active(&self) -> bool {
        self.pointer || self.focus
    }
}

/// A re-read held back while the list holds still.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub page: ConversationPage,
    /// The re-read's `list_epoch` (its highlights fade with it).
    pub epoch: u64,
    /// Rows with new activity since the hold began: they would move up (or appear) on release.
    pub fresh: BTreeSet<Id>,
}

impl Queued {
    /// The pill's N: conversations with new activity waiting to move up.
    pub fn new_count(&self) -> usize {
        self.page
            .items
            .iter()
            .filter(|r| self.fresh.contains(&r.id))
            .count()
    }
}

/// The same rows in the same order: applying the re-read moves nothing.
pub fn same_order(shown: &[ConversationSummary], fresh: &[ConversationSummary]) -> bool {
    shown.len() == fresh.len() && shown.iter().zip(fresh).all(|(a, b)| a.id == b.id)
}

/// The rows shown, each replaced by its fresh copy where the re-read has one, in the order shown;
/// rows the re-read no longer has stay until the hold ends.
pub fn in_place(
    shown: &[ConversationSummary],
    fresh: &[ConversationSummary],
) -> Vec<ConversationSummary> {
    let by_id: HashMap<Id, &ConversationSummary> = fresh.iter().map(|r| (r.id, r)).collect();
    shown
        .iter()
        .map(|r| by_id.get(&r.id).map_or_else(|| r.clone(), |f| (*f).clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::row;

    fn ids(rows: &[ConversationSummary]) -> Vec<Id> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn lst13_in_place_updates_text_but_keeps_order_and_rows() {
        let shown = vec![row(1, 50), row(2, 40), row(3, 30)];
        let mut bumped = row(3, 60);
        bumped.preview = "Is the Golf ready?".into();
        // 3 bubbled to the top, 9 is new, 2 left the list (read under the Unread filter).
        let fresh = vec![row(9, 70), bumped, row(1, 50)];
        let held = in_place(&shown, &fresh);
        assert_eq!(ids(&held), vec![1, 2, 3]);
        assert_eq!(held[2].preview, "Is the Golf ready?");
        assert_eq!(held[2].last_activity_at, fresh[1].last_activity_at);
        assert!(!same_order(&shown, &fresh));
        assert!(same_order(&shown, &held));
    }

    #[test]
    fn lst13_the_pill_counts_waiting_rows_still_in_the_list() {
        let q = Queued {
            page: ConversationPage {
                items: vec![row(9, 70), row(3, 60), row(1, 50)],
                next_cursor: None,
                counts: Default::default(),
            },
            epoch: 4,
            fresh: [9, 3, 7].into(),
        };
        assert_eq!(q.new_count(), 2, "7 left the list since");
        assert!(Hold {
            pointer: false,
            focus: true
        }
        .active());
        assert!(!Hold::default().active());
    }
}
