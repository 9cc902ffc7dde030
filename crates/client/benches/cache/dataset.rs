//! The server's generated benchmark organisation turned into the changes a desktop cache
//! receives, with ids assigned as the server's import assigns them.

use chrono::{DateTime, Utc};
use inbox_core::sync::Change;
use inbox_core::{
    phone, Call, ConversationSummary, Customer, Direction, Id, Message, Note, StaffRef, WorkOrder,
    WorkOrderRef,
};
use inbox_server::store::dataset::{call_summary, derive, ItemData, OrgData, Party};

/// The generated organisation as the changes a cache receives: staff, customers, work orders,
/// then each conversation's row followed by its thread items.
pub fn changes(org: OrgData, now: DateTime<Utc>) -> impl Iterator<Item = Change> {
    let OrgData {
        users,
        customers,
        work_orders,
        conversations,
        ..
    } = org;
    let staff: Vec<StaffRef> = (1..)
        .zip(&users)
        .map(|(id, u)| StaffRef {
            id,
            name: u.name.clone(),
        })
        .collect();
    let customers: Vec<Customer> = (1..)
        .zip(customers)
        .map(|(id, c)| Customer {
            id,
            name: c.name,
            phones: c.phones,
            email: c.email,
        })
        .collect();
    let work_orders: Vec<WorkOrder> = (1..)
        .zip(work_orders)
        .map(|(id, w)| WorkOrder {
            id,
            number: w.number,
            status: w.status,
            vehicle_registration: w.vehicle_registration,
            description: w.description,
            customer_id: w.customer as Id + 1,
            customer_name: customers[w.customer].name.clone(),
        })
        .collect();
    let head: Vec<Change> = staff
        .iter()
        .cloned()
        .map(Change::Staff)
        .chain(customers.iter().cloned().map(Change::Customer))
        .chain(work_orders.iter().cloned().map(Change::WorkOrder))
        .collect();
    let (mut message_id, mut call_id, mut note_id) = (0, 0, 0);
    let rows = (1..).zip(conversations).flat_map(move |(id, conv)| {
        let created = conv.items.first().map(ItemData::at).unwrap_or(now);
        let d = derive(&conv.items, created);
        let (customer, number) = match &conv.party {
            Party::Customer(i) => (Some(&customers[*i]), None),
            Party::Number(n) => (None, Some(n.clone())),
            Party::Withheld => (None, None),
        };
        let title = match (customer, &number) {
            (Some(c), _) => c.name.clone(),
            (None, Some(n)) => phone::display(n),
            (None, None) => "Withheld number".to_string(),
        };
        let call_from = customer
            .and_then(|c| c.phones.first().cloned())
            .or_else(|| number.clone());
        let mut out = vec![Change::Conversation(ConversationSummary {
            id,
            title: title.clone(),
            customer_id: customer.map(|c| c.id),
            withheld: matches!(conv.party, Party::Withheld),
            caller_number: number,
            preview: d.preview,
            last_channel: d.last_channel,
            last_activity_at: d.last_activity_at,
            unread_count: d.unread_count,
            unresolved_calls: d.unresolved_calls,
            assignee: conv.assignee.map(|u| staff[u].clone()),
            context_badge: conv.context_badge,
            work_order: conv.work_order.map(|w| WorkOrderRef {
                id: w as Id + 1,
                number: work_orders[w].number.clone(),
            }),
            needs_work_order_pick: conv.needs_work_order_pick,
            intent: None,
        })];
        for item in conv.items {
            out.push(match item {
                ItemData::Message {
                    direction,
                    channel,
                    body,
                    status,
                    author,
                    at,
                    read,
                    error,
                } => {
                    message_id += 1;
                    let author = author
                        .filter(|_| direction == Direction::Outbound)
                        .map(|u| staff[u].clone());
                    Change::Message(Message {
                        attachments: Vec::new(),
                        id: message_id,
                        conversation_id: id,
                        direction,
                        channel,
                        body,
                        template: None,
                        status,
                        sender_name: author
                            .as_ref()
                            .map_or_else(|| title.clone(), |a| a.name.clone()),
                        author,
                        client_id: None,
                        error,
                        created_at: at,
                        updated_at: at,
                        read_at: (direction == Direction::Inbound && read).then_some(at),
                        intent: None,
                    })
                }
                ItemData::Call {
                    outcome,
                    duration_secs,
                    recording_secs,
                    transcript,
                    resolved,
                    at,
                } => {
                    call_id += 1;
                    Change::Call(Call {
                        id: call_id,
                        conversation_id: id,
                        direction: Direction::Inbound,
                        outcome,
                        from_number: call_from.clone(),
                        duration_secs,
                        recording_url: None,
                        recording_secs,
                        transcript,
                        resolved,
                        started_at: at,
                        summary: call_summary(outcome, duration_secs, recording_secs),
                    })
                }
                ItemData::Note {
                    kind,
                    body,
                    author,
                    at,
                } => {
                    note_id += 1;
                    Change::Note(Note {
                        id: note_id,
                        conversation_id: id,
                        kind,
                        body,
                        author: author.map(|u| staff[u].clone()),
                        created_at: at,
                    })
                }
            });
        }
        out
    });
    head.into_iter().chain(rows)
}
