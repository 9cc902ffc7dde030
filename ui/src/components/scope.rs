//! The Messages page's scope as the person left it (LST-6, LST-7): the saved preferences, and a
//! view whose URL has no range filled in with the remembered one.

use inbox_core::desktop::Preferences;
use inbox_core::range::RangePreset;

use crate::route::InboxView;

/// The saved preferences, as far as the shell has answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Prefs {
    Loading,
    Loaded(Preferences),
    /// The shell could not say; defaults apply and nothing is saved.
    Unavailable,
}

impl Prefs {
    pub fn range(&self) -> RangePreset {
        match self {
            Prefs::Loaded(p) => p.range,
            _ => RangePreset::default(),
        }
    }

    /// The preferences once the shell answered (the defaults when it could not say).
    pub fn known(&self) -> Option<Preferences> {
        match self {
            Prefs::Loading => None,
            Prefs::Loaded(p) => Some(p.clone()),
            Prefs::Unavailable => Some(Preferences::default()),
        }
    }
}

/// `view` with the remembered scope (LST-7) in place of the range its URL lacks.
pub fn remembered(view: &InboxView, p: &Preferences) -> InboxView {
    let mut filled = view.clone();
    filled.range = Some(p.range);
    if p.range == RangePreset::Custom {
        filled.from = p.custom_from;
        filled.to = p.custom_to;
    }
    filled
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    /// LST-7: the list asked for with the remembered scope, before the URL carries it, is the
    /// list the rewritten URL asks for; so it is asked for once.
    #[test]
    fn lst7_the_list_asked_before_the_url_is_rewritten_is_the_one_after() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d);
        let remembered_scopes = [
            Preferences::default(),
            Preferences {
                range: RangePreset::AllTime,
                ..Preferences::default()
            },
            Preferences {
                range: RangePreset::Custom,
                custom_from: day(2),
                custom_to: day(20),
                ..Preferences::default()
            },
            // A custom range without its dates asks for no list, before or after.
            Preferences {
                range: RangePreset::Custom,
                ..Preferences::default()
            },
        ];
        let urls = [
            "",
            "conversation=5",
            "filter=unread",
            "q=brake+pads%20%26+discs",
            "from=2026-11-01&to=2026-11-03",
        ];
        for p in &remembered_scopes {
            for url in urls {
                let early = remembered(&InboxView::parse(url), p);
                let rewritten = InboxView::parse(&early.to_query());
                assert_eq!(
                    early.list_query(p.range),
                    rewritten.list_query(p.range),
                    "{url:?} under {p:?}"
                );
            }
        }
    }
}
