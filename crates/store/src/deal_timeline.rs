//! The deal timeline read model: everything that happened to one deal —
//! its activities, notes, stage log, field history, the outreach to its
//! person and that person's e-mail events and replies — merged into one list, newest first. The deal page only words
//! and formats the entries; the people and organization pages have their
//! own read model (`lists::timeline`).

use crate::{ActivityFilter, EmailEntry, NoteFilter, OutreachFilter, Page, Store, StoreError};
use dealflow_core::model::{Activity, Deal, FieldChange, Note, OutreachMessage, StageEvent};
use dealflow_core::time::Timestamp;

/// What one timeline entry is about.
#[derive(Debug, Clone)]
pub enum DealTimelineKind {
    /// An activity of the deal: planned (at its creation) while open, done
    /// (at its completion) once done. Each activity appears once.
    Activity(Activity),
    /// A note on the deal, at its creation.
    Note(Note),
    /// A stage entry, win, loss or reopen.
    Stage(StageEvent),
    /// A change of a tracked field (value, owner, close date, …).
    Field(FieldChange),
    /// A message sent to the deal's person.
    Sent(OutreachMessage),
    /// The person's reply to that message, at the reply time.
    Replied(OutreachMessage),
    /// An e-mail event of the deal's person (opens collapsed) or an
    /// inbound reply from them.
    Email(EmailEntry),
    /// A score threshold that fired, or a disqualified flag cleared.
    Score(crate::scoring::Firing),
    /// A decision on the deal in a weekly audit, at the audit's sign-off.
    Review(crate::Review),
}

/// One entry of a deal's timeline.
#[derive(Debug, Clone)]
pub struct DealTimelineItem {
    pub at: Timestamp,
    pub kind: DealTimelineKind,
}

impl DealTimelineItem {
    fn new(at: Timestamp, kind: DealTimelineKind) -> Self {
        Self { at, kind }
    }
}

impl Store {
    /// The timeline of `deal`, newest first; entries at the same time keep
    /// the order activities, notes, stage log, field history, outreach. At
    /// most `limit` activities, notes and outreach messages are read each
    /// (the newest); the stage log and field history are read whole.
    pub async fn deal_timeline(&self, deal: &Deal, limit: i64) -> Result<Vec<DealTimelineItem>, StoreError> {
        let page = Page { limit, before: None };
        let mut out = Vec::new();
        let acts = ActivityFilter { deal_id: Some(deal.id), ..Default::default() };
        for a in self.list_activities(&acts, page).await?.items {
            let at = a.done_at.unwrap_or(a.created_at);
            out.push(DealTimelineItem::new(at, DealTimelineKind::Activity(a)));
        }
        let notes = NoteFilter { deal_id: Some(deal.id), ..Default::default() };
        for n in self.list_notes(&notes, page).await?.items {
            out.push(DealTimelineItem::new(n.created_at, DealTimelineKind::Note(n)));
        }
        for e in self.deal_events(deal.id).await? {
            out.push(DealTimelineItem::new(e.at, DealTimelineKind::Stage(e)));
        }
        for c in self.deal_history(deal.id).await? {
            out.push(DealTimelineItem::new(c.at, DealTimelineKind::Field(c)));
        }
        if let Some(p) = deal.person_id {
            let f = OutreachFilter { person_id: Some(p), ..Default::default() };
            for m in self.list_outreach(&f, page).await?.items {
                if let Some(r) = m.replied_at {
                    out.push(DealTimelineItem::new(m.sent_at, DealTimelineKind::Sent(m.clone())));
                    out.push(DealTimelineItem::new(r, DealTimelineKind::Replied(m)));
                } else {
                    out.push(DealTimelineItem::new(m.sent_at, DealTimelineKind::Sent(m)));
                }
            }
            for e in self.email_timeline(p, limit).await? {
                out.push(DealTimelineItem::new(e.at(), DealTimelineKind::Email(e)));
            }
        }
        for f in self.score_firings(deal.id).await? {
            out.push(DealTimelineItem::new(f.at, DealTimelineKind::Score(f)));
        }
        for r in self.deal_reviews(deal.id).await? {
            out.push(DealTimelineItem::new(r.signed_off_at, DealTimelineKind::Review(r)));
        }
        // A stable sort: equal times keep the source order above.
        out.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(out)
    }
}
