//! Where an inbound message from a known or unknown sender lands (RTE-1 … RTE-3).

use crate::classify::asks_for_booking;
use crate::model::{ContextBadge, Id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub badge: ContextBadge,
    /// Link the conversation to this work order (exactly one active, RTE-2).
    pub link_work_order: Option<Id>,
    /// Several active work orders: staff must choose (RTE-3).
    pub needs_work_order_pick: bool,
}

/// `customer_known`: the sender matched a customer; `active_work_orders`: that customer's
/// active work orders; `text`: the message (empty for calls).
pub fn route(customer_known: bool, active_work_orders: &[Id], text: &str) -> Route {
    if !customer_known {
        return Route {
            badge: ContextBadge::Unknown,
            link_work_order: None,
            needs_work_order_pick: false,
        };
    }
    let badge = if asks_for_booking(text) {
        ContextBadge::Booking
    } else {
        ContextBadge::General
    };
    match active_work_orders {
        [only] => Route {
            badge,
            link_work_order: Some(*only),
            needs_work_order_pick: false,
        },
        [] => Route {
            badge,
            link_work_order: None,
            needs_work_order_pick: false,
        },
        _ => Route {
            badge,
            link_work_order: None,
            needs_work_order_pick: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rte1_unknown_sender_gets_unknown_badge() {
        let r = route(false, &[], "Can I book an MOT?");
        assert_eq!(r.badge, ContextBadge::Unknown);
        assert_eq!(r.link_work_order, None);
    }

    #[test]
    fn rte1_known_customer_without_work_order_is_booking_or_general() {
        assert_eq!(
            route(true, &[], "Can I book my car in for an MOT?").badge,
            ContextBadge::Booking
        );
        assert_eq!(
            route(true, &[], "Thanks, see you then").badge,
            ContextBadge::General
        );
    }

    #[test]
    fn rte2_one_active_work_order_links_it() {
        assert_eq!(route(true, &[9], "Is it ready?").link_work_order, Some(9));
    }

    #[test]
    fn rte3_several_work_orders_ask_staff_to_pick() {
        let r = route(true, &[1, 2], "Is it ready?");
        assert!(r.needs_work_order_pick);
        assert_eq!(r.link_work_order, None);
    }
}
