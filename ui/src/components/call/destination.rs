//! Where a reassigned call goes (VOI-6): what the dialog has been told, and the request Confirm
//! sends once a destination is complete.

use inbox_core::api::CallDestination;
use inbox_core::desktop::ReassignArgs;
use inbox_core::{Call, Customer, Id};

/// The server keeps at most this much of a reason (longer is refused).
pub const REASON_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// "Move to a different customer".
    Customer,
    /// "Detach to anonymous".
    Anonymous,
}

/// What the dialog has been told so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub choice: Option<Choice>,
    /// The customer picked from the search (kept while switching choices).
    pub customer: Option<Customer>,
    pub reason: String,
}

impl Draft {
    /// Where the call would go; None until a destination is complete.
    pub fn destination(&self) -> Option<CallDestination> {
        match self.choice? {
            Choice::Customer => self
                .customer
                .as_ref()
                .map(|c| CallDestination::Customer { customer_id: c.id }),
            Choice::Anonymous => Some(CallDestination::Anonymous),
        }
    }

    /// The request Confirm sends, or why it cannot be sent yet.
    pub fn args(&self, call_id: Id) -> Result<ReassignArgs, String> {
        let destination = self
            .destination()
            .ok_or_else(|| "Choose where the call goes.".to_string())?;
        let reason = self.reason.trim();
        if reason.chars().count() > REASON_MAX {
            return Err(format!(
                "Keep the reason to {REASON_MAX} characters or fewer."
            ));
        }
        Ok(ReassignArgs {
            call_id,
            destination,
            reason: Some(reason.to_string()).filter(|r| !r.is_empty()),
        })
    }

    /// The new conversation's title as far as the dialog knows it, for "Moved to …".
    pub fn destination_title(&self, call: &Call) -> String {
        match (self.choice, &self.customer) {
            (Some(Choice::Customer), Some(c)) => c.name.clone(),
            _ => call
                .from_number
                .clone()
                .unwrap_or_else(|| "Withheld number".into()),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::fixtures;
    use inbox_core::ThreadItem;

    pub fn customer(id: Id, name: &str) -> Customer {
        Customer {
            id,
            name: name.into(),
            phones: vec!["+447700900602".into()],
            email: Some(format!(
                "{}@example.com",
                name.to_lowercase().replace(' ', ".")
            )),
        }
    }

    fn a_call() -> Call {
        let ThreadItem::Call(c) = fixtures::call(137, 15) else {
            unreachable!()
        };
        c
    }

    #[test]
    fn voi6_confirm_waits_for_a_destination() {
        let mut d = Draft::default();
        assert_eq!(d.destination(), None);
        assert!(d.args(137).is_err());
        d.choice = Some(Choice::Customer);
        assert_eq!(d.destination(), None, "a customer must be picked");
        d.customer = Some(customer(3, "Noah King"));
        assert_eq!(
            d.destination(),
            Some(CallDestination::Customer { customer_id: 3 })
        );
        d.choice = Some(Choice::Anonymous);
        assert_eq!(d.destination(), Some(CallDestination::Anonymous));
    }

    #[test]
    fn voi6_reason_is_optional_trimmed_and_bounded() {
        let mut d = Draft {
            choice: Some(Choice::Customer),
            customer: Some(customer(3, "Noah King")),
            reason: "  Spouse calling from her phone \n".into(),
        };
        let args = d.args(137).unwrap();
        assert_eq!(args.call_id, 137);
        assert_eq!(
            args.reason.as_deref(),
            Some("Spouse calling from her phone")
        );
        d.reason = "   ".into();
        assert_eq!(d.args(137).unwrap().reason, None);
        d.reason = "é".repeat(REASON_MAX);
        assert!(d.args(137).is_ok(), "characters, not bytes");
        d.reason.push('x');
        assert!(d.args(137).unwrap_err().contains("500"));
    }

    #[test]
    fn voi6_moved_title_falls_back_to_the_destination() {
        let call = a_call();
        let mut d = Draft {
            choice: Some(Choice::Customer),
            customer: Some(customer(3, "Noah King")),
            reason: String::new(),
        };
        assert_eq!(d.destination_title(&call), "Noah King");
        d.choice = Some(Choice::Anonymous);
        assert_eq!(d.destination_title(&call), "+447700900123");
        let withheld = Call {
            from_number: None,
            ..call
        };
        assert_eq!(d.destination_title(&withheld), "Withheld number");
    }
}
