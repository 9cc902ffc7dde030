//! The Approval Queue's state (APQ-1) and what its items say: a decided item leaves at once and
//! stays gone while reads that began earlier still list it; a refused decision brings it back
//! with why.

use std::collections::BTreeSet;
use std::rc::Rc;

use inbox_core::{ApprovalItem, Id, Message};
use yew::Reducible;

/// The queue as the page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Queue {
    /// None until the first read answers.
    pub items: Option<Vec<ApprovalItem>>,
    /// Decided here (answered or still on its way): hidden even while a read that began before
    /// the decision still lists it.
    pub decided: BTreeSet<Id>,
    /// Why the queue could not be read.
    pub load_error: Option<String>,
    /// Why the last decision did not go through.
    pub error: Option<String>,
    /// The newest read applied; an older one answering late is dropped.
    read: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueueAction {
    Loaded {
        read: u64,
        items: Vec<ApprovalItem>,
    },
    LoadFailed {
        read: u64,
        message: String,
    },
    /// Approve or Reject was clicked: the item leaves the list now.
    Deciding(Id),
    /// The decision was refused: the item comes back, with why.
    DecisionFailed {
        id: Id,
        message: String,
    },
}

impl Queue {
    pub fn visible(&self) -> Vec<ApprovalItem> {
        self.items
            .iter()
            .flatten()
            .filter(|i| !self.decided.contains(&i.message.id))
            .cloned()
            .collect()
    }

    pub fn apply(mut self, action: QueueAction) -> Queue {
        match action {
            QueueAction::Loaded { read, items } => {
                if read < self.read {
                    return self;
                }
                self.read = read;
                // Once the server no longer lists a decided message there is nothing to hide.
                self.decided
                    .retain(|id| items.iter().any(|i| i.message.id == *id));
                self.items = Some(items);
                self.load_error = None;
            }
            QueueAction::LoadFailed { read, message } => {
                if read < self.read {
                    return self;
                }
                self.read = read;
                self.load_error = Some(message);
            }
            QueueAction::Deciding(id) => {
                self.decided.insert(id);
                self.error = None;
            }
            QueueAction::DecisionFailed { id, message } => {
                self.decided.remove(&id);
                self.error = Some(message);
            }
        }
        self
    }
}

impl Reducible for Queue {
    type Action = QueueAction;

    fn reduce(self: Rc<Self>, action: QueueAction) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

/// Who wrote a reply: its staff author, else the name the thread shows.
pub fn author(m: &Message) -> &str {
    m.author
        .as_ref()
        .map_or(m.sender_name.as_str(), |a| &a.name)
}

/// What a reply says; a template reply without text names its template and parameters.
pub fn text(m: &Message) -> String {
    match (&m.template, m.body.trim().is_empty()) {
        (Some(t), true) if t.params.is_empty() => format!("Template {}", t.name),
        (Some(t), true) => format!("Template {} ({})", t.name, t.params.join(", ")),
        _ => m.body.clone(),
    }
}

/// A reject reason worth sending: trimmed, not blank (the server refuses a blank one).
pub fn reject_reason(typed: &str) -> Option<String> {
    Some(typed.trim().to_string()).filter(|r| !r.is_empty())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::fixtures::message;
    use inbox_core::{Channel, DeliveryStatus, Direction, StaffRef, TemplateUse, ThreadItem};

    pub fn item(id: Id, conversation_id: Id) -> ApprovalItem {
        let ThreadItem::Message(mut m) =
            message(id, 30, Direction::Outbound, DeliveryStatus::PendingApproval)
        else {
            unreachable!()
        };
        m.conversation_id = conversation_id;
        m.channel = Channel::Sms;
        m.body = "Can we book you in for Tuesday?".into();
        m.author = Some(StaffRef {
            id: 2,
            name: "Toby Trainee".into(),
        });
        ApprovalItem {
            message: m,
            conversation_title: "Amelia Davies".into(),
        }
    }

    fn loaded(read: u64, items: Vec<ApprovalItem>) -> QueueAction {
        QueueAction::Loaded { read, items }
    }

    fn ids(q: &Queue) -> Vec<Id> {
        q.visible().iter().map(|i| i.message.id).collect()
    }

    #[test]
    fn apq1_a_decided_item_leaves_at_once_and_returns_if_refused() {
        let q = Queue::default().apply(loaded(1, vec![item(5, 1), item(6, 2)]));
        let q = q.apply(QueueAction::Deciding(5));
        assert_eq!(ids(&q), vec![6]);
        // A read that began before the decision still lists it: it stays hidden.
        let q = q.apply(loaded(2, vec![item(5, 1), item(6, 2)]));
        assert_eq!(ids(&q), vec![6]);
        let q = q.apply(QueueAction::DecisionFailed {
            id: 5,
            message: "Could not approve the message: this message is pending and no longer \
                      awaits approval."
                .into(),
        });
        assert_eq!(ids(&q), vec![5, 6]);
        assert!(q.error.as_deref().unwrap_or_default().contains("no longer"));
        let q = q.apply(QueueAction::Deciding(6));
        assert_eq!(q.error, None, "a new decision clears the old failure");
    }

    #[test]
    fn apq1_items_another_approver_handled_go_on_the_next_read() {
        let q = Queue::default().apply(loaded(1, vec![item(5, 1), item(6, 2)]));
        let q = q.apply(QueueAction::Deciding(6));
        let q = q.apply(loaded(2, vec![item(7, 3)]));
        assert_eq!(ids(&q), vec![7]);
        assert!(q.decided.is_empty(), "nothing left to hide");
        // An older read answering late changes nothing.
        let q = q.apply(loaded(1, vec![item(5, 1)]));
        assert_eq!(ids(&q), vec![7]);
        let q = q.apply(QueueAction::LoadFailed {
            read: 1,
            message: "late".into(),
        });
        assert_eq!(q.load_error, None);
    }

    #[test]
    fn apq1_reject_needs_a_reason() {
        assert_eq!(reject_reason("   \n"), None);
        assert_eq!(
            reject_reason("  Please quote the price too "),
            Some("Please quote the price too".into())
        );
    }

    #[test]
    fn apq1_template_replies_name_their_template() {
        let mut m = item(5, 1).message;
        m.body = String::new();
        m.template = Some(TemplateUse {
            name: "vehicle_ready".into(),
            params: vec!["Sam".into(), "AB12 CDE".into()],
        });
        assert_eq!(text(&m), "Template vehicle_ready (Sam, AB12 CDE)");
        m.author = None;
        assert_eq!(author(&m), "Sam Desk", "falls back to the sender name");
    }
}
