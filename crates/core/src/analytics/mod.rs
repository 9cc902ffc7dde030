//! The AI Analytics tab's figures (AIA-1): what is counted, when, and how the counts become the
//! report. The server keeps daily counters on every write (`rollup`) and builds the report from
//! them (`report`); both use the organisation's opening hours (`hours`) and time zone, so a
//! figure means the same thing however the counters were reached (live writes or a rebuild).

pub mod csv;
pub mod hours;
pub mod report;
pub mod rollup;

pub use hours::{DayHours, OpeningHours};
pub use report::{Analytics, AnalyticsQuery};
pub use rollup::{ConversationState, Delta, Fact, Metric, OrgClock};

#[cfg(test)]
mod tests;
