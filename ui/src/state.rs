//! The Messages page's state and every decision about it that does not need a window: merging a
//! re-read list (which rows bubbled up and highlight, LST-12), paging (LST-11, THR-6), the open
//! thread in chronological order with its outbox (THR-4), the keyboard cursor, the list holding
//! still under the pointer (LST-13, rules in `hold`) and when opening a thread may mark it read
//! (THR-7: only once someone is looking at it).
//! The page's container feeds it `Action`s from command results and shell events.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use inbox_core::api::{ConversationPage, ConversationQuery, Counts};
use inbox_core::desktop::{ConversationHeader, OutboxEntry, OutboxState, ThreadView};
use inbox_core::{ConversationSummary, Id, ThreadItem};
use yew::Reducible;

use crate::hold::{in_place, same_order, Hold, Queued};

/// The conversation list for one query (its key: the query without a cursor).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    pub key: Option<ConversationQuery>,
    pub rows: Vec<ConversationSummary>,
    pub counts: Counts,
    pub next_cursor: Option<String>,
    /// The first page for `key` has not arrived yet.
    pub loading: bool,
    pub loading_more: bool,
    pub error: Option<String>,
    /// Rows that just bubbled up with new activity (LST-12), with the re-read that found them;
    /// cleared a moment later.
    pub highlighted: BTreeMap<Id, u64>,
    /// The newest re-read applied: an older one finishing late is dropped.
    pub refreshed_epoch: u64,
    /// A re-read that would move rows, held back while the list holds still (LST-13).
    pub queued: Option<Queued>,
    /// The shell reported a change while the first page was on its way: the page may predate
    /// it, and the re-read the change started is dropped if it answers first (RT-1, LST-12).
    pub changed_while_loading: bool,
}

/// The open conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadState {
    pub conversation_id: Id,
    pub header: Option<ConversationHeader>,
    /// Oldest first (the engine answers newest first).
    pub items: Vec<ThreadItem>,
    pub outbox: Vec<OutboxEntry>,
    pub has_more: bool,
    pub loading: bool,
    pub loading_earlier: bool,
    pub error: Option<String>,
    /// Someone has looked at it: open for a moment in a focused, visible window (THR-7).
    pub seen: bool,
}

impl ThreadState {
    pub fn opening(conversation_id: Id) -> ThreadState {
        ThreadState {
            conversation_id,
            header: None,
            items: Vec::new(),
            outbox: Vec::new(),
            has_more: false,
            loading: true,
            loading_earlier: false,
            error: None,
            seen: false,
        }
    }

    /// Outbox entries still worth showing: the server's copy of an accepted reply replaces it.
    pub fn visible_outbox(&self) -> Vec<&OutboxEntry> {
        let shown: BTreeSet<Id> = self
            .items
            .iter()
            .filter_map(|i| match i {
                ThreadItem::Message(m) => Some(m.id),
                _ => None,
            })
            .collect();
        let shown_clients: BTreeSet<&str> = self
            .items
            .iter()
            .filter_map(|i| match i {
                ThreadItem::Message(m) => m.client_id.as_deref(),
                _ => None,
            })
            .collect();
        self.outbox
            .iter()
            .filter(|e| !shown_clients.contains(e.client_id.as_str()))
            .filter(|e| match &e.state {
                OutboxState::Accepted { message_id } => !shown.contains(message_id),
                _ => true,
            })
            .collect()
    }

    /// What "Load earlier messages" asks for (THR-6): the oldest item shown.
    pub fn oldest(&self) -> Option<&ThreadItem> {
        self.items.first()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    pub list: ListState,
    pub thread: Option<Rc<ThreadState>>,
    /// Bumped when the shell says rows changed: the page re-reads the list.
    pub list_epoch: u64,
    /// Bumped when the open thread changed: the page re-reads it.
    pub thread_epoch: u64,
    /// The keyboard's position in the list (↑/↓, j/k); Enter opens it.
    pub cursor: Option<Id>,
    /// What keeps the list still (LST-13).
    pub hold: Hold,
    /// The window is unfocused, minimised or hidden: nobody is reading the open thread.
    pub window_away: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A new query: show loading until its first page arrives.
    ListRequested(ConversationQuery),
    ListLoaded {
        key: ConversationQuery,
        page: ConversationPage,
    },
    /// "Load more" started (LST-11).
    MoreRequested,
    MoreLoaded {
        key: ConversationQuery,
        page: ConversationPage,
    },
    /// The pages currently shown, read again after a change (LST-12), for `list_epoch` `epoch`.
    ListRefreshed {
        key: ConversationQuery,
        page: ConversationPage,
        epoch: u64,
    },
    ListFailed {
        key: ConversationQuery,
        message: String,
    },
    /// The highlights found by re-reads up to this epoch fade.
    ClearHighlight(u64),
    ThreadOpened(Id),
    ThreadClosed,
    /// The thread's newest page (and header, outbox), first read or re-read after a change.
    ThreadLoaded {
        conversation_id: Id,
        header: Option<ConversationHeader>,
        view: ThreadView,
    },
    EarlierRequested,
    EarlierLoaded {
        conversation_id: Id,
        view: ThreadView,
    },
    ThreadFailed {
        conversation_id: Id,
        message: String,
    },
    /// The shell reported changes to these conversations (`Update::Changed`, `Update::Outbox`).
    Touched(Vec<Id>),
    /// Everything may have changed (`Update::Resynced`, Refresh).
    TouchedAll,
    /// Move the keyboard cursor by this many rows.
    MoveCursor(i32),
    /// The pointer entered (true) or left (false) the rows (LST-13).
    PointerOverList(bool),
    /// The list gained (true) or lost (false) keyboard focus (LST-13).
    ListFocused(bool),
    /// "N new — show": apply the held-back re-read now (LST-13).
    ShowQueued,
    /// The window lost (true) or regained (false) focus or visibility (THR-7).
    WindowAway(bool),
    /// This thread has been on screen in a focused window for the dwell time (THR-7).
    Dwelt(Id),
}

impl Reducible for Inbox {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

impl Inbox {
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::ListRequested(key) => {
                if self.list.key.as_ref() != Some(&key) {
                    // The rows' element gives way to "Loading…" and never reports the pointer
                    // leaving it, nor the keyboard focus it had: the new list starts free (LST-13).
                    self.hold = Hold::default();
                    self.list = ListState {
                        key: Some(key),
                        loading: true,
                        ..ListState::default()
                    };
                }
            }
            Action::ListLoaded { key, page } => {
                if self.list.key.as_ref() == Some(&key) {
                    self.list.rows = page.items;
                    self.list.counts = page.counts;
                    self.list.next_cursor = page.next_cursor;
                    self.list.loading = false;
                    self.list.error = None;
                    self.list.queued = None;
                    if std::mem::take(&mut self.list.changed_while_loading) {
                        self.list_epoch += 1;
                    }
                }
            }
            Action::MoreRequested => self.list.loading_more = true,
            Action::MoreLoaded { key, page } => {
                if self.list.key.as_ref() == Some(&key) {
                    let known: BTreeSet<Id> = self.list.rows.iter().map(|r| r.id).collect();
                    let more: Vec<ConversationSummary> = page
                        .items
                        .into_iter()
                        .filter(|r| !known.contains(&r.id))
                        .collect();
                    if let Some(q) = &mut self.list.queued {
                        // LST-13: the held-back re-read read only the rows shown before; the
                        // release must not drop these. They go after it, with its cursor.
                        let queued: BTreeSet<Id> = q.page.items.iter().map(|r| r.id).collect();
                        q.page
                            .items
                            .extend(more.iter().filter(|r| !queued.contains(&r.id)).cloned());
                        q.page.next_cursor = page.next_cursor.clone();
                    }
                    self.list.rows.extend(more);
                    self.list.counts = page.counts;
                    self.list.next_cursor = page.next_cursor;
                    self.list.loading_more = false;
                    // A re-read still running read fewer rows than are shown now: it is dropped,
                    // and one of every row shown (which also fills a row that slid from the end
                    // of the held-back page to just before this one) takes its place.
                    self.list_epoch += 1;
                    self.list.refreshed_epoch = self.list_epoch;
                }
            }
            Action::ListRefreshed { key, page, epoch } => {
                let current = self.list.key.as_ref() == Some(&key) && !self.list.loading;
                if current && epoch >= self.list.refreshed_epoch {
                    self.list.refreshed_epoch = epoch;
                    self.list.error = None;
                    self.list.counts = page.counts;
                    let fresh = bubbled(&self.list.rows, &page.items);
                    if self.hold.active() && !same_order(&self.list.rows, &page.items) {
                        // LST-13: text changes in place; the new order waits for the release.
                        let shown: BTreeSet<Id> = self.list.rows.iter().map(|r| r.id).collect();
                        for id in fresh.iter().filter(|id| shown.contains(*id)) {
                            self.list.highlighted.insert(*id, epoch);
                        }
                        self.list.rows = in_place(&self.list.rows, &page.items);
                        let mut waiting =
                            self.list.queued.take().map(|q| q.fresh).unwrap_or_default();
                        waiting.extend(fresh);
                        self.list.queued = Some(Queued {
                            page,
                            epoch,
                            fresh: waiting,
                        });
                    } else {
                        let waiting = self.list.queued.take().map(|q| q.fresh).unwrap_or_default();
                        for id in fresh.into_iter().chain(waiting) {
                            self.list.highlighted.insert(id, epoch);
                        }
                        self.list.rows = page.items;
                        self.list.next_cursor = page.next_cursor;
                    }
                }
            }
            Action::ListFailed { key, message } => {
                if self.list.key.as_ref() == Some(&key) {
                    self.list.loading = false;
                    self.list.loading_more = false;
                    self.list.error = Some(message);
                }
            }
            Action::ClearHighlight(epoch) => self.list.highlighted.retain(|_, e| *e > epoch),
            Action::ThreadOpened(id) => {
                if self.thread.as_ref().map(|t| t.conversation_id) != Some(id) {
                    self.thread = Some(Rc::new(ThreadState::opening(id)));
                }
            }
            Action::ThreadClosed => {
                self.thread = None;
                // Back from a thread that filled a narrow window: the pointer was on "Back",
                // and a list hidden under the thread never reported it leaving (LST-13).
                self.hold.pointer = false;
                self.release_unless_held();
            }
            Action::ThreadLoaded {
                conversation_id,
                header,
                view,
            } => {
                if let Some(t) = self.thread_mut(conversation_id) {
                    let first = t.loading;
                    t.items = merge_items(&t.items, newest_first_to_chronological(view.items));
                    if first {
                        t.has_more = view.has_more;
                    }
                    t.outbox = view.outbox;
                    t.header = header.or(t.header.take());
                    t.loading = false;
                    t.error = None;
                }
            }
            Action::EarlierRequested => {
                if let Some(t) = &mut self.thread {
                    Rc::make_mut(t).loading_earlier = true;
                }
            }
            Action::EarlierLoaded {
                conversation_id,
                view,
            } => {
                if let Some(t) = self.thread_mut(conversation_id) {
                    t.items = merge_items(&t.items, newest_first_to_chronological(view.items));
                    t.has_more = view.has_more;
                    t.loading_earlier = false;
                }
            }
            Action::ThreadFailed {
                conversation_id,
                message,
            } => {
                if let Some(t) = self.thread_mut(conversation_id) {
                    t.loading = false;
                    t.loading_earlier = false;
                    t.error = Some(message);
                }
            }
            Action::Touched(ids) => {
                self.list_epoch += 1;
                self.list.changed_while_loading |= self.list.loading;
                if let Some(t) = &self.thread {
                    if ids.contains(&t.conversation_id) {
                        self.thread_epoch += 1;
                    }
                }
            }
            Action::TouchedAll => {
                self.list_epoch += 1;
                self.list.changed_while_loading |= self.list.loading;
                self.thread_epoch += 1;
            }
            Action::MoveCursor(delta) => {
                let ids: Vec<Id> = self.list.rows.iter().map(|r| r.id).collect();
                // Until the keyboard is used, it starts from the open conversation, if any.
                let from = self.cursor.or(self.open_id());
                self.cursor = move_cursor(&ids, from, delta);
            }
            Action::PointerOverList(over) => {
                self.hold.pointer = over;
                self.release_unless_held();
            }
            Action::ListFocused(focused) => {
                self.hold.focus = focused;
                self.release_unless_held();
            }
            Action::ShowQueued => self.release(),
            Action::WindowAway(away) => {
                self.window_away = away;
                if away {
                    if let Some(t) = &mut self.thread {
                        Rc::make_mut(t).seen = false;
                    }
                }
            }
            Action::Dwelt(id) => {
                if !self.window_away {
                    if let Some(t) = self.thread_mut(id) {
                        t.seen = true;
                    }
                }
            }
        }
    }

    fn release_unless_held(&mut self) {
        if !self.hold.active() {
            self.release();
        }
    }

    /// LST-13: the held-back re-read lands; the rows that waited glow as they move up.
    fn release(&mut self) {
        if let Some(q) = self.list.queued.take() {
            for id in q.fresh {
                self.list.highlighted.insert(id, q.epoch);
            }
            self.list.rows = q.page.items;
            self.list.next_cursor = q.page.next_cursor;
        }
    }

    /// THR-7: the open thread to mark read, with the unread count it had, once someone is
    /// looking at it: open for a moment (`Dwelt`) in a focused, visible window. A thread opened
    /// by a link while the window is in the background waits until the window is back.
    pub fn mark_read_due(&self) -> Option<(Id, u32)> {
        let t = self.thread.as_ref()?;
        let unread = t.header.as_ref()?.summary.unread_count;
        (t.seen && !self.window_away && unread > 0).then_some((t.conversation_id, unread))
    }

    /// THR-7: the thread whose dwell is being timed: open, its content on screen (loaded), in a
    /// window that is focused and visible. A change of any of these restarts the dwell.
    pub fn dwell_target(&self) -> Option<Id> {
        let t = self.thread.as_ref()?;
        (!t.loading && !self.window_away).then_some(t.conversation_id)
    }

    fn thread_mut(&mut self, conversation_id: Id) -> Option<&mut ThreadState> {
        self.thread
            .as_mut()
            .filter(|t| t.conversation_id == conversation_id)
            .map(Rc::make_mut)
    }

    pub fn open_id(&self) -> Option<Id> {
        self.thread.as_ref().map(|t| t.conversation_id)
    }
}

/// LST-12: the rows of a re-read list that moved up with new activity — a later
/// `last_activity_at` than before, or new to the list and newer than anything it showed.
pub fn bubbled(old: &[ConversationSummary], new: &[ConversationSummary]) -> Vec<Id> {
    if old.is_empty() {
        return Vec::new();
    }
    let before: HashMap<Id, _> = old.iter().map(|r| (r.id, r.last_activity_at)).collect();
    let newest_before = old.iter().map(|r| r.last_activity_at).max();
    new.iter()
        .filter(|r| match before.get(&r.id) {
            Some(at) => r.last_activity_at > *at,
            None => newest_before.is_some_and(|n| r.last_activity_at > n),
        })
        .map(|r| r.id)
        .collect()
}

/// ↑/↓ (j/k) through the list: stops at the ends; from nowhere, down starts at the top and up
/// at the bottom; a cursor on a row that left the list restarts likewise.
pub fn move_cursor(ids: &[Id], current: Option<Id>, delta: i32) -> Option<Id> {
    if ids.is_empty() {
        return None;
    }
    let last = ids.len() - 1;
    let index = match current.and_then(|c| ids.iter().position(|&i| i == c)) {
        Some(i) => {
            let step = delta.unsigned_abs() as usize;
            if delta < 0 {
                i.saturating_sub(step)
            } else {
                (i + step).min(last)
            }
        }
        None if delta < 0 => last,
        None => 0,
    };
    ids.get(index).copied()
}

fn newest_first_to_chronological(mut items: Vec<ThreadItem>) -> Vec<ThreadItem> {
    items.reverse();
    items
}

/// A thread item's identity across re-reads: messages, calls and notes have separate ids.
fn item_key(item: &ThreadItem) -> (u8, Id) {
    match item {
        ThreadItem::Message(m) => (0, m.id),
        ThreadItem::Call(c) => (1, c.id),
        ThreadItem::Note(n) => (2, n.id),
    }
}

/// Items already shown plus a fresh page: the fresh copy wins (a status moved on, RT-1), the
/// order is chronological, nothing is shown twice.
pub fn merge_items(shown: &[ThreadItem], fresh: Vec<ThreadItem>) -> Vec<ThreadItem> {
    let mut by_key: HashMap<(u8, Id), ThreadItem> =
        shown.iter().map(|i| (item_key(i), i.clone())).collect();
    for item in fresh {
        by_key.insert(item_key(&item), item);
    }
    let mut items: Vec<ThreadItem> = by_key.into_values().collect();
    items.sort_by_key(|i| (i.at(), item_key(i)));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use inbox_core::DeliveryStatus;

    fn page(rows: Vec<ConversationSummary>) -> ConversationPage {
        ConversationPage {
            items: rows,
            next_cursor: None,
            counts: Counts {
                all: 3,
                unread: 1,
                unassigned: 0,
                mine: 0,
            },
        }
    }

    fn loaded(rows: Vec<ConversationSummary>) -> Inbox {
        let key = ConversationQuery::default();
        let mut inbox = Inbox::default();
        inbox.apply(Action::ListRequested(key.clone()));
        inbox.apply(Action::ListLoaded {
            key,
            page: page(rows),
        });
        inbox
    }

    /// RT-1: a change reported while the first page is on its way is read again once the page
    /// is in, even when the re-read it started answered first and was dropped.
    #[test]
    fn rt1_a_change_while_the_first_page_loads_is_read_again_after_it() {
        let key = ConversationQuery::default();
        let mut inbox = Inbox::default();
        inbox.apply(Action::ListRequested(key.clone()));
        inbox.apply(Action::Touched(vec![9]));
        let epoch = inbox.list_epoch;
        inbox.apply(Action::ListRefreshed {
            key: key.clone(),
            page: page(vec![row(9, 70), row(1, 50)]),
            epoch,
        });
        assert!(
            inbox.list.rows.is_empty(),
            "a re-read before the page is dropped"
        );
        inbox.apply(Action::ListLoaded {
            key: key.clone(),
            page: page(vec![row(1, 50)]),
        });
        assert!(inbox.list_epoch > epoch, "the page is read again");
        let again = inbox.list_epoch;
        inbox.apply(Action::ListRefreshed {
            key,
            page: page(vec![row(9, 70), row(1, 50)]),
            epoch: again,
        });
        assert_eq!(
            inbox.list.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [9, 1]
        );

        // No change while loading: the page is not read twice.
        let quiet = loaded(vec![row(1, 50)]);
        assert_eq!(quiet.list_epoch, 0);
    }

    #[test]
    fn lst12_rows_with_new_activity_bubble_up_and_highlight() {
        let old = vec![row(1, 50), row(2, 40), row(3, 30)];
        let mut inbox = loaded(old);
        let new = vec![row(3, 60), row(1, 50), row(2, 40)];
        inbox.apply(Action::ListRefreshed {
            key: ConversationQuery::default(),
            page: page(new.clone()),
            epoch: 1,
        });
        let order: Vec<Id> = inbox.list.rows.iter().map(|r| r.id).collect();
        assert_eq!(order, vec![3, 1, 2]);
        assert_eq!(inbox.list.highlighted, BTreeMap::from([(3, 1)]));
        // A second change before the first highlight fades: 2 glows its full time.
        let newer = vec![row(2, 70), row(3, 60), row(1, 50)];
        inbox.apply(Action::ListRefreshed {
            key: ConversationQuery::default(),
            page: page(newer),
            epoch: 2,
        });
        inbox.apply(Action::ClearHighlight(1));
        assert_eq!(inbox.list.highlighted, BTreeMap::from([(2, 2)]));
        // A re-read that started earlier but finished later is dropped.
        inbox.apply(Action::ListRefreshed {
            key: ConversationQuery::default(),
            page: page(new),
            epoch: 1,
        });
        assert_eq!(inbox.list.rows[0].id, 2);
        inbox.apply(Action::ClearHighlight(2));
        assert!(inbox.list.highlighted.is_empty());
    }

    #[test]
    fn lst12_a_new_conversation_highlights_but_a_first_load_does_not() {
        assert!(bubbled(&[], &[row(1, 10)]).is_empty());
        let old = vec![row(1, 50), row(2, 40)];
        // 9 is new and newest; 8 only appeared because the page grew (older than anything shown).
        let new = vec![row(9, 70), row(1, 50), row(2, 40), row(8, 5)];
        assert_eq!(bubbled(&old, &new), vec![9]);
        // A row read as it was (a mark-read, say) does not highlight.
        assert!(bubbled(&old, &old).is_empty());
    }

    #[test]
    fn lst11_load_more_appends_without_duplicates() {
        let mut inbox = loaded(vec![row(1, 50), row(2, 40)]);
        inbox.apply(Action::MoreRequested);
        assert!(inbox.list.loading_more);
        inbox.apply(Action::MoreLoaded {
            key: ConversationQuery::default(),
            page: page(vec![row(2, 40), row(3, 30)]),
        });
        let order: Vec<Id> = inbox.list.rows.iter().map(|r| r.id).collect();
        assert_eq!(order, vec![1, 2, 3]);
        assert!(!inbox.list.loading_more);
    }

    #[test]
    fn lst11_load_more_rows_survive_a_held_reread_being_released() {
        let mut inbox = loaded(vec![row(1, 50), row(2, 40)]);
        inbox.list.next_cursor = Some("c1".into());
        inbox.apply(Action::PointerOverList(true));
        // 2 has news while the pointer is over the list: the new order waits.
        inbox.apply(Action::Touched(vec![2]));
        let first = inbox.list_epoch;
        refreshed(&mut inbox, vec![row(2, 60), row(1, 50)], first);
        assert!(inbox.list.queued.is_some());
        // More news: a re-read of the two rows shown starts, and "Load more" is clicked.
        inbox.apply(Action::Touched(vec![2]));
        let epoch = inbox.list_epoch;
        inbox.apply(Action::MoreRequested);
        let mut more = page(vec![row(3, 30), row(4, 20)]);
        more.next_cursor = Some("c2".into());
        inbox.apply(Action::MoreLoaded {
            key: ConversationQuery::default(),
            page: more,
        });
        assert_eq!(ids(&inbox), vec![1, 2, 3, 4]);
        assert!(inbox.list_epoch > epoch, "every row shown is read again");
        // A re-read that started before "Load more" answers late: it read two rows only.
        refreshed(&mut inbox, vec![row(2, 60), row(1, 50)], epoch);
        assert_eq!(
            ids(&inbox),
            vec![1, 2, 3, 4],
            "a short late re-read is dropped"
        );
        // The pointer leaves: the waiting order lands, and the loaded rows stay below it.
        inbox.apply(Action::PointerOverList(false));
        assert_eq!(ids(&inbox), vec![2, 1, 3, 4], "no loaded row vanished");
        assert_eq!(inbox.list.next_cursor.as_deref(), Some("c2"));
    }

    #[test]
    fn lst7_answers_for_a_superseded_query_are_dropped() {
        let mut inbox = loaded(vec![row(1, 50)]);
        let today = ConversationQuery {
            range: inbox_core::range::RangePreset::Today,
            ..ConversationQuery::default()
        };
        inbox.apply(Action::ListRequested(today.clone()));
        assert!(inbox.list.loading && inbox.list.rows.is_empty());
        inbox.apply(Action::ListLoaded {
            key: ConversationQuery::default(),
            page: page(vec![row(5, 1)]),
        });
        assert!(
            inbox.list.loading,
            "a late answer for the old range is ignored"
        );
        inbox.apply(Action::ListLoaded {
            key: today,
            page: page(vec![row(2, 1)]),
        });
        assert_eq!(inbox.list.rows[0].id, 2);
    }

    #[test]
    fn rt1_changes_ask_for_rereads_of_the_list_and_the_open_thread_only() {
        let mut inbox = loaded(vec![row(1, 50)]);
        inbox.apply(Action::ThreadOpened(1));
        inbox.apply(Action::Touched(vec![2]));
        assert_eq!((inbox.list_epoch, inbox.thread_epoch), (1, 0));
        inbox.apply(Action::Touched(vec![2, 1]));
        assert_eq!((inbox.list_epoch, inbox.thread_epoch), (2, 1));
        inbox.apply(Action::TouchedAll);
        assert_eq!((inbox.list_epoch, inbox.thread_epoch), (3, 2));
    }

    #[test]
    fn thr4_thread_reads_chronologically_and_statuses_update_live() {
        let mut inbox = Inbox::default();
        inbox.apply(Action::ThreadOpened(1));
        let newest_first = vec![
            message(
                12,
                30,
                inbox_core::Direction::Outbound,
                DeliveryStatus::Sent,
            ),
            note(5, 20),
            message(11, 10, inbox_core::Direction::Inbound, DeliveryStatus::Read),
        ];
        inbox.apply(Action::ThreadLoaded {
            conversation_id: 1,
            header: None,
            view: thread_view(newest_first, true),
        });
        let t = inbox.thread.as_ref().unwrap();
        assert_eq!(keys(&t.items), vec![(0, 11), (2, 5), (0, 12)]);
        assert!(t.has_more);
        // A re-read: 12 was delivered, 13 is new; the earlier paging state stays.
        inbox.apply(Action::ThreadLoaded {
            conversation_id: 1,
            header: None,
            view: thread_view(
                vec![
                    message(
                        13,
                        40,
                        inbox_core::Direction::Inbound,
                        DeliveryStatus::Delivered,
                    ),
                    message(
                        12,
                        30,
                        inbox_core::Direction::Outbound,
                        DeliveryStatus::Delivered,
                    ),
                ],
                false,
            ),
        });
        let t = inbox.thread.as_ref().unwrap();
        assert_eq!(keys(&t.items), vec![(0, 11), (2, 5), (0, 12), (0, 13)]);
        assert!(t.has_more, "older pages are still there to load");
        match &t.items[2] {
            ThreadItem::Message(m) => assert_eq!(m.status, DeliveryStatus::Delivered),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn thr6_earlier_pages_prepend() {
        let mut inbox = Inbox::default();
        inbox.apply(Action::ThreadOpened(1));
        inbox.apply(Action::ThreadLoaded {
            conversation_id: 1,
            header: None,
            view: thread_view(vec![note(5, 20)], true),
        });
        assert_eq!(
            inbox.thread.as_ref().and_then(|t| t.oldest()).map(item_key),
            Some((2, 5))
        );
        inbox.apply(Action::EarlierRequested);
        inbox.apply(Action::EarlierLoaded {
            conversation_id: 1,
            view: thread_view(vec![call(3, 10), note(1, 5)], false),
        });
        let t = inbox.thread.as_ref().unwrap();
        assert_eq!(keys(&t.items), vec![(2, 1), (1, 3), (2, 5)]);
        assert!(!t.has_more && !t.loading_earlier);
    }

    #[test]
    fn thr1_answers_for_a_thread_no_longer_open_are_dropped() {
        let mut inbox = Inbox::default();
        inbox.apply(Action::ThreadOpened(1));
        inbox.apply(Action::ThreadOpened(2));
        inbox.apply(Action::ThreadLoaded {
            conversation_id: 1,
            header: None,
            view: thread_view(vec![note(5, 20)], false),
        });
        let t = inbox.thread.as_ref().unwrap();
        assert_eq!(t.conversation_id, 2);
        assert!(t.loading && t.items.is_empty());
    }

    #[test]
    fn dsk5_accepted_replies_give_way_to_the_servers_copy() {
        let mut t = ThreadState::opening(1);
        let mut m = match message(
            40,
            10,
            inbox_core::Direction::Outbound,
            DeliveryStatus::Sent,
        ) {
            ThreadItem::Message(m) => m,
            _ => unreachable!(),
        };
        m.client_id = Some("c-2".into());
        t.items = vec![ThreadItem::Message(m)];
        t.outbox = vec![
            outbox("c-1", OutboxState::Queued),
            outbox("c-2", OutboxState::Accepted { message_id: 40 }),
            outbox(
                "c-3",
                OutboxState::Refused {
                    reason: "window closed".into(),
                },
            ),
            outbox("c-4", OutboxState::Accepted { message_id: 41 }),
        ];
        let shown: Vec<&str> = t
            .visible_outbox()
            .iter()
            .map(|e| e.client_id.as_str())
            .collect();
        assert_eq!(shown, vec!["c-1", "c-3", "c-4"]);
    }

    #[test]
    fn keyboard_cursor_moves_within_the_list() {
        let ids = [10, 20, 30];
        assert_eq!(move_cursor(&ids, None, 1), Some(10));
        assert_eq!(move_cursor(&ids, None, -1), Some(30));
        assert_eq!(move_cursor(&ids, Some(10), 1), Some(20));
        assert_eq!(move_cursor(&ids, Some(30), 1), Some(30), "stops at the end");
        assert_eq!(
            move_cursor(&ids, Some(10), -1),
            Some(10),
            "stops at the top"
        );
        assert_eq!(move_cursor(&ids, Some(99), 1), Some(10), "gone: restart");
        assert_eq!(move_cursor(&[], Some(10), 1), None);
        let mut inbox = loaded(vec![row(1, 50), row(2, 40)]);
        inbox.apply(Action::MoveCursor(1));
        inbox.apply(Action::MoveCursor(1));
        assert_eq!(inbox.cursor, Some(2));

        // A click opens a thread without moving the cursor; the first key starts from there.
        let mut inbox = loaded(vec![row(1, 50), row(2, 40), row(3, 30)]);
        inbox.apply(Action::ThreadOpened(2));
        assert_eq!(inbox.cursor, None);
        inbox.apply(Action::MoveCursor(1));
        assert_eq!(inbox.cursor, Some(3));
        // Back in the list with nothing open, a fresh cursor starts at the top.
        let mut inbox = loaded(vec![row(1, 50), row(2, 40), row(3, 30)]);
        inbox.apply(Action::ThreadOpened(1));
        inbox.apply(Action::ThreadClosed);
        inbox.apply(Action::MoveCursor(1));
        inbox.apply(Action::MoveCursor(1));
        assert_eq!(inbox.cursor, Some(2));
    }

    fn ids(inbox: &Inbox) -> Vec<Id> {
        inbox.list.rows.iter().map(|r| r.id).collect()
    }

    fn refreshed(inbox: &mut Inbox, rows: Vec<ConversationSummary>, epoch: u64) {
        inbox.apply(Action::ListRefreshed {
            key: ConversationQuery::default(),
            page: page(rows),
            epoch,
        });
    }

    #[test]
    fn lst13_rows_never_move_under_the_pointer_until_it_leaves() {
        let mut inbox = loaded(vec![row(1, 50), row(2, 40), row(3, 30)]);
        inbox.apply(Action::PointerOverList(true));
        // 3 gets a message and would bubble to the top; 9 is a new conversation.
        let mut bumped = row(3, 60);
        bumped.preview = "Is the Golf ready?".into();
        refreshed(
            &mut inbox,
            vec![row(9, 70), bumped, row(1, 50), row(2, 40)],
            1,
        );
        assert_eq!(
            ids(&inbox),
            vec![1, 2, 3],
            "nothing moves under the pointer"
        );
        assert_eq!(
            inbox.list.rows[2].preview, "Is the Golf ready?",
            "text in place"
        );
        assert!(inbox.list.highlighted.contains_key(&3));
        assert_eq!(inbox.list.queued.as_ref().map(Queued::new_count), Some(2));
        // Another change while still held: the newest order waits, the count grows.
        refreshed(
            &mut inbox,
            vec![row(2, 80), row(9, 70), row(3, 60), row(1, 50)],
            2,
        );
        assert_eq!(ids(&inbox), vec![1, 2, 3]);
        assert_eq!(inbox.list.queued.as_ref().map(Queued::new_count), Some(3));
        // Keyboard focus holds too: the pointer leaving alone does not release.
        inbox.apply(Action::ListFocused(true));
        inbox.apply(Action::PointerOverList(false));
        assert_eq!(ids(&inbox), vec![1, 2, 3]);
        inbox.apply(Action::ListFocused(false));
        assert_eq!(
            ids(&inbox),
            vec![2, 9, 3, 1],
            "released when focus moves on"
        );
        assert!(inbox.list.queued.is_none());
        for id in [2, 9, 3] {
            assert!(
                inbox.list.highlighted.contains_key(&id),
                "{id} glows as it moves up"
            );
        }
        // Not held: a re-read applies at once.
        refreshed(
            &mut inbox,
            vec![row(1, 90), row(2, 80), row(9, 70), row(3, 60)],
            3,
        );
        assert_eq!(ids(&inbox), vec![1, 2, 9, 3]);
    }

    #[test]
    fn lst13_the_pill_shows_the_waiting_rows_and_a_late_reread_stays_dropped() {
        let mut inbox = loaded(vec![row(1, 50), row(2, 40)]);
        inbox.apply(Action::PointerOverList(true));
        refreshed(&mut inbox, vec![row(2, 60), row(1, 50)], 2);
        assert_eq!(ids(&inbox), vec![1, 2]);
        // An older re-read finishing late changes nothing.
        refreshed(&mut inbox, vec![row(1, 50), row(2, 40)], 1);
        assert_eq!(inbox.list.queued.as_ref().map(|q| q.epoch), Some(2));
        // A re-read that only changes text (same order) applies in full, queue or not.
        inbox.apply(Action::ShowQueued);
        assert_eq!(
            ids(&inbox),
            vec![2, 1],
            "the pill shows them while the pointer stays"
        );
        let mut read = row(2, 60);
        read.preview = "Marked read".into();
        refreshed(&mut inbox, vec![read, row(1, 50)], 3);
        assert!(inbox.list.queued.is_none());
        assert_eq!(inbox.list.rows[0].preview, "Marked read");
        // A new query drops whatever waited.
        inbox.apply(Action::PointerOverList(true));
        refreshed(&mut inbox, vec![row(1, 70), row(2, 60)], 4);
        assert!(inbox.list.queued.is_some());
        let today = ConversationQuery {
            range: inbox_core::range::RangePreset::Today,
            ..ConversationQuery::default()
        };
        inbox.apply(Action::ListRequested(today));
        assert!(inbox.list.queued.is_none());
        assert!(!inbox.hold.pointer, "the new list's rows start free");
    }

    #[test]
    fn lst13_a_new_query_releases_a_keyboard_hold_whose_list_went_away() {
        let mut inbox = loaded(vec![row(1, 50), row(2, 40)]);
        // The list has keyboard focus; a shortcut or a link switches to another filter. The
        // focused list gives way to "Loading…" and never reports losing focus.
        inbox.apply(Action::ListFocused(true));
        let unread = ConversationQuery {
            filter: inbox_core::api::ListFilter::Unread,
            ..ConversationQuery::default()
        };
        inbox.apply(Action::ListRequested(unread.clone()));
        assert!(!inbox.hold.active(), "the new list starts free");
        inbox.apply(Action::ListLoaded {
            key: unread.clone(),
            page: page(vec![row(1, 50), row(2, 40)]),
        });
        inbox.apply(Action::ListRefreshed {
            key: unread,
            page: page(vec![row(2, 60), row(1, 50)]),
            epoch: 1,
        });
        assert_eq!(ids(&inbox), vec![2, 1], "news moves the rows again");
    }

    fn with_header(inbox: &mut Inbox, id: Id, unread: u32) {
        let mut summary = row(id, 10);
        summary.unread_count = unread;
        inbox.apply(Action::ThreadLoaded {
            conversation_id: id,
            header: Some(ConversationHeader {
                summary,
                whatsapp_window: None,
            }),
            view: thread_view(vec![], false),
        });
    }

    #[test]
    fn thr7_a_thread_is_marked_read_only_once_someone_is_looking_at_it() {
        // Opened by a link while the window is in the background: nothing is marked.
        let mut inbox = Inbox::default();
        inbox.apply(Action::WindowAway(true));
        inbox.apply(Action::ThreadOpened(4));
        with_header(&mut inbox, 4, 2);
        inbox.apply(Action::Dwelt(4));
        assert_eq!(inbox.mark_read_due(), None, "the window is away");
        // Back in front: only after the dwell.
        inbox.apply(Action::WindowAway(false));
        assert_eq!(inbox.mark_read_due(), None, "not yet looked at");
        inbox.apply(Action::Dwelt(3));
        assert_eq!(inbox.mark_read_due(), None, "another thread's dwell");
        inbox.apply(Action::Dwelt(4));
        assert_eq!(inbox.mark_read_due(), Some((4, 2)));
        // Read: nothing more to mark; a new message while looking is marked too.
        with_header(&mut inbox, 4, 0);
        assert_eq!(inbox.mark_read_due(), None);
        with_header(&mut inbox, 4, 1);
        assert_eq!(inbox.mark_read_due(), Some((4, 1)));
        // Away again (another app, minimised): a new message stays unread until the next look.
        inbox.apply(Action::WindowAway(true));
        with_header(&mut inbox, 4, 2);
        inbox.apply(Action::WindowAway(false));
        assert_eq!(inbox.mark_read_due(), None);
        inbox.apply(Action::Dwelt(4));
        assert_eq!(inbox.mark_read_due(), Some((4, 2)));
        // A newly opened thread starts unseen.
        inbox.apply(Action::ThreadOpened(5));
        with_header(&mut inbox, 5, 1);
        assert_eq!(inbox.mark_read_due(), None);
    }

    #[test]
    fn thr7_the_dwell_starts_once_the_thread_is_on_screen() {
        let mut inbox = Inbox::default();
        inbox.apply(Action::ThreadOpened(4));
        assert_eq!(
            inbox.dwell_target(),
            None,
            "still loading: nothing to look at"
        );
        with_header(&mut inbox, 4, 2);
        assert_eq!(inbox.dwell_target(), Some(4));
        inbox.apply(Action::WindowAway(true));
        assert_eq!(inbox.dwell_target(), None, "nobody is looking");
        inbox.apply(Action::WindowAway(false));
        assert_eq!(inbox.dwell_target(), Some(4));
        inbox.apply(Action::ThreadOpened(5));
        assert_eq!(inbox.dwell_target(), None, "the next thread is loading");
        inbox.apply(Action::ThreadClosed);
        assert_eq!(inbox.dwell_target(), None);
    }

    fn keys(items: &[ThreadItem]) -> Vec<(u8, Id)> {
        items.iter().map(item_key).collect()
    }
}
