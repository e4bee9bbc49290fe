//! The last contact with a deal, one rule for the board's rotting mark and
//! the weekly audit (docs/metrics.md "Audit facts"): a done call, meeting,
//! e-mail or LinkedIn activity on the deal or its person, outreach sent to
//! that person or their reply, an inbound `replied` e-mail event or reply
//! from them. Opens, clicks and deliveries are not contact.

use crate::row::*;
use dealflow_core::time::Timestamp;
use sqlx::any::AnyRow;

/// Columns for a query over `deals d`: each kind of contact's latest time.
/// Read them back with [`last_contact`].
pub(crate) const CONTACT_COLUMNS: &str = "
    (SELECT MAX(a.done_at) FROM activities a
       WHERE (a.deal_id = d.id OR (d.person_id IS NOT NULL AND a.person_id = d.person_id))
         AND a.done_at IS NOT NULL AND a.kind IN ('call', 'meeting', 'email', 'linkedin')) AS c_activity,
    (SELECT MAX(o.sent_at) FROM outreach_messages o
       WHERE o.person_id = d.person_id AND o.deleted_at IS NULL) AS c_sent,
    (SELECT MAX(o.replied_at) FROM outreach_messages o
       WHERE o.person_id = d.person_id AND o.deleted_at IS NULL) AS c_replied,
    (SELECT MAX(e.at) FROM email_events e WHERE e.person_id = d.person_id AND e.type = 'replied') AS c_event,
    (SELECT MAX(r.received_at) FROM email_replies r WHERE r.person_id = d.person_id) AS c_reply";

/// The latest contact from a row with [`CONTACT_COLUMNS`]; one recorded for
/// after `now` has not happened yet.
pub(crate) fn last_contact(r: &AnyRow, now: Timestamp) -> R<Option<Timestamp>> {
    let mut latest: Option<i64> = None;
    for c in ["c_activity", "c_sent", "c_replied", "c_event", "c_reply"] {
        latest = latest.max(opt_i64(r, c)?.filter(|t| *t <= now.0));
    }
    Ok(latest.map(Timestamp))
}
