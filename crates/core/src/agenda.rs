//! When an activity is overdue and when a deal is rotting: one rule each,
//! used by the board, the deal page and the activities page alike, so a
//! card and the deal it opens never disagree.
//!
//! Activities always store a due *instant* (the pages send a local date and
//! time, the API an RFC 3339 time, imports a time), never a bare date. An
//! activity planned for 10:00 is what a salesperson must do by 10:00, so it
//! is overdue from that instant on, not only from the next day.

use crate::time::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// Where an activity's due time lies as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// No due time.
    None,
    /// The due instant has passed and the activity is not done.
    Overdue,
    /// Still ahead, before the next local midnight.
    Today,
    /// On a later local day.
    Later,
}

impl DueState {
    /// The wire name the pages use as a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            DueState::None => "none",
            DueState::Overdue => "overdue",
            DueState::Today => "today",
            DueState::Later => "later",
        }
    }
}

/// An open activity is overdue once its due instant has passed; a done one
/// or one without a due time never is.
pub fn is_overdue(due: Option<Timestamp>, done: bool, now: Timestamp) -> bool {
    !done && due.is_some_and(|d| d < now)
}

/// Classifies an open activity's due time at `now`; `tomorrow` is the start
/// of the next day in the workspace's time zone.
pub fn due_state(due: Option<Timestamp>, now: Timestamp, tomorrow: Timestamp) -> DueState {
    match due {
        None => DueState::None,
        Some(d) if is_overdue(Some(d), false, now) => DueState::Overdue,
        Some(d) if d < tomorrow => DueState::Today,
        Some(_) => DueState::Later,
    }
}

/// A deal is rotting when its stage has rotting days and more than that many
/// days passed since the later of entering the stage and the last contact
/// (a contact made in an earlier stage does not refresh the new one).
pub fn is_rotting(
    rotting_days: Option<i64>,
    stage_entered_at: Timestamp,
    last_contact_at: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let last = last_contact_at.map_or(stage_entered_at, |l| l.max(stage_entered_at));
    rotting_days.is_some_and(|d| now.0.saturating_sub(last.0) > d.saturating_mul(DAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn overdue_from_the_due_instant() {
        let now = Timestamp(100 * DAY_MS + 12 * H);
        let tomorrow = Timestamp(101 * DAY_MS);
        assert!(is_overdue(Some(Timestamp(now.0 - 1)), false, now));
        assert!(!is_overdue(Some(Timestamp(now.0 - 1)), true, now), "done is never overdue");
        assert!(!is_overdue(Some(now), false, now), "due right now is not yet late");
        assert!(!is_overdue(None, false, now));
        assert_eq!(due_state(Some(Timestamp(now.0 - H)), now, tomorrow), DueState::Overdue);
        assert_eq!(due_state(Some(Timestamp(now.0 + H)), now, tomorrow), DueState::Today);
        assert_eq!(due_state(Some(tomorrow), now, tomorrow), DueState::Later);
        assert_eq!(due_state(None, now, tomorrow), DueState::None);
        assert_eq!(DueState::Overdue.as_str(), "overdue");
    }

    #[test]
    fn rotting_counts_from_the_later_of_entry_and_contact() {
        let entered = Timestamp(10 * DAY_MS);
        let now = Timestamp(20 * DAY_MS + 1);
        assert!(is_rotting(Some(10), entered, None, now));
        assert!(!is_rotting(Some(10), entered, None, Timestamp(20 * DAY_MS)), "exactly ten days is not yet");
        assert!(!is_rotting(Some(10), entered, Some(Timestamp(15 * DAY_MS)), now), "a contact refreshes");
        assert!(is_rotting(Some(10), entered, Some(Timestamp(DAY_MS)), now), "an older contact does not");
        assert!(!is_rotting(None, entered, None, now), "no rotting days, never rotting");
        assert!(!is_rotting(Some(i64::MAX), Timestamp(i64::MIN), None, Timestamp(i64::MAX)), "no overflow");
    }
}
