//! Playbook compliance per stage (docs/metrics.md "Playbook compliance"):
//! of the forward exits from a stage in a period, how many went with the
//! checklist complete (no override) and how many with every timed required
//! step done by its due time; and the overrides per deal owner. The store
//! loads the stage logs of the deals that moved in the period, the required
//! steps, the deals' step states and done activities; this counts.

use super::{Ms, Period, pct};
use crate::model::{ActivityKind, EventKind};
use crate::{DealId, PipelineId, StageId, StepId, UserId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where a stage sits, to tell a forward move from a backward one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePlace {
    pub id: StageId,
    pub pipeline: PipelineId,
    pub position: i64,
}

/// One stage event of a deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub deal: DealId,
    /// The deal's current owner.
    pub owner: Option<UserId>,
    pub kind: EventKind,
    pub stage: StageId,
    pub from_stage: Option<StageId>,
    pub at: Ms,
    /// The move went past open required steps with an override.
    pub overridden: bool,
    /// Made by someone working the deal (origin `live`), not loaded as
    /// history or placed by an import: only those are exits.
    pub worked: bool,
}

/// A required step, live or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredStep {
    pub id: StepId,
    pub stage: StageId,
    /// Evidence steps: the activity kind whose completion is the step.
    pub evidence: Option<ActivityKind>,
    pub created_at: Ms,
    pub deleted_at: Option<Ms>,
}

/// A deal's stored state of a step: its due and done times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTimes {
    pub deal: DealId,
    pub step: StepId,
    pub due_at: Option<Ms>,
    pub done_at: Option<Ms>,
}

/// An activity of a deal that was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoneActivity {
    pub deal: DealId,
    pub kind: ActivityKind,
    pub done_at: Ms,
}

/// What compliance is computed from. `events` holds every event (up to
/// the period's end) of the deals that moved in the period, ordered by
/// deal, then time, then id.
#[derive(Debug, Clone, Default)]
pub struct ComplianceInputs {
    pub stages: Vec<StagePlace>,
    pub events: Vec<LogEvent>,
    pub steps: Vec<RequiredStep>,
    pub times: Vec<StepTimes>,
    pub activities: Vec<DoneActivity>,
}

/// One stage's compliance figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageCompliance {
    /// Forward exits from the stage in the period (to a later stage of its
    /// pipeline, or won).
    pub left_forward: u64,
    /// Of those, the exits made with every required step done: no override.
    pub playbook_complete: u64,
    /// `playbook_complete / left_forward × 100`; null without exits.
    pub playbook_complete_rate: Option<f64>,
    /// Of the complete exits, those whose every required step with a due
    /// time was done by it.
    pub playbook_on_time: u64,
    /// `playbook_on_time / left_forward × 100`; null without exits.
    pub playbook_on_time_rate: Option<f64>,
}

/// Overrides of one deal owner in the period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OwnerOverrides {
    /// The deals' current owner; null for deals without one.
    pub owner_id: Option<UserId>,
    /// Forward exits made past open required steps.
    pub overrides: u64,
}

/// Compliance per stage (only stages with exits appear) and overrides per
/// owner (most first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compliance {
    pub stages: BTreeMap<StageId, StageCompliance>,
    pub overrides_by_owner: Vec<OwnerOverrides>,
}

/// Counts the forward exits of period `p` in `i`.
pub fn compliance(i: &ComplianceInputs, p: Period) -> Compliance {
    let place: HashMap<StageId, StagePlace> = i.stages.iter().map(|s| (s.id, *s)).collect();
    let times: HashMap<(DealId, StepId), StepTimes> = i.times.iter().map(|t| ((t.deal, t.step), *t)).collect();
    let mut done: HashMap<DealId, Vec<DoneActivity>> = HashMap::new();
    for a in &i.activities {
        done.entry(a.deal).or_default().push(*a);
    }
    let mut out = Compliance::default();
    let mut overrides: BTreeMap<Option<UserId>, u64> = BTreeMap::new();
    // When the deal last entered (or resumed in) each stage.
    let mut entered: HashMap<StageId, Ms> = HashMap::new();
    let mut prev: Option<&LogEvent> = None;
    for e in &i.events {
        if prev.is_none_or(|x| x.deal != e.deal) {
            entered.clear();
            prev = None;
        }
        if p.contains(e.at)
            && e.worked
            && let Some(stage) = left_forward(e, prev, &place)
        {
            let start = entered.get(&stage).copied();
            let acts = done.get(&e.deal).map_or(&[][..], Vec::as_slice);
            let on_time = !e.overridden && timed_steps_on_time(i, &times, acts, e, stage, start);
            let c = out.stages.entry(stage).or_default();
            c.left_forward += 1;
            c.playbook_complete += u64::from(!e.overridden);
            c.playbook_on_time += u64::from(on_time);
            if e.overridden {
                *overrides.entry(e.owner).or_default() += 1;
            }
        }
        if matches!(e.kind, EventKind::Enter | EventKind::Reopen) {
            entered.insert(e.stage, e.at);
        }
        prev = Some(e);
    }
    for c in out.stages.values_mut() {
        c.playbook_complete_rate = pct(c.playbook_complete, c.left_forward);
        c.playbook_on_time_rate = pct(c.playbook_on_time, c.left_forward);
    }
    let mut by_owner: Vec<OwnerOverrides> =
        overrides.into_iter().map(|(owner_id, overrides)| OwnerOverrides { owner_id, overrides }).collect();
    by_owner.sort_by(|a, b| b.overrides.cmp(&a.overrides).then(a.owner_id.cmp(&b.owner_id)));
    out.overrides_by_owner = by_owner;
    out
}

/// The stage `e` leaves forward, if it does: a move to a later stage of
/// the same pipeline leaves the stage it came from; a win leaves the stage
/// the deal was won in, unless the same request moved it there (then the
/// move is the exit, and the stage it passed through was never worked).
fn left_forward(e: &LogEvent, prev: Option<&LogEvent>, place: &HashMap<StageId, StagePlace>) -> Option<StageId> {
    match e.kind {
        EventKind::Enter => {
            let (from, to) = (place.get(&e.from_stage?)?, place.get(&e.stage)?);
            (from.pipeline == to.pipeline && to.position > from.position).then_some(from.id)
        }
        EventKind::Won => {
            let moved_here = prev.is_some_and(|x| {
                x.kind == EventKind::Enter && x.stage == e.stage && x.at == e.at && x.from_stage.is_some()
            });
            (!moved_here).then_some(e.stage)
        }
        EventKind::Lost | EventKind::Reopen => None,
    }
}

/// Whether every required step of `stage` (live when the deal left) with
/// a due time for this deal was done by it. An evidence step is done when
/// the first activity of its kind was done during the stay; the others
/// when their stored state says.
fn timed_steps_on_time(
    i: &ComplianceInputs,
    times: &HashMap<(DealId, StepId), StepTimes>,
    acts: &[DoneActivity],
    e: &LogEvent,
    stage: StageId,
    start: Option<Ms>,
) -> bool {
    let live = |s: &&RequiredStep| s.stage == stage && s.created_at <= e.at && s.deleted_at.is_none_or(|d| d > e.at);
    i.steps.iter().filter(live).all(|s| {
        let Some(t) = times.get(&(e.deal, s.id)) else { return true };
        let Some(due) = t.due_at else { return true };
        let done_at = match s.evidence {
            Some(kind) => acts
                .iter()
                .filter(|a| a.kind == kind && a.done_at <= e.at && start.is_none_or(|st| a.done_at >= st))
                .map(|a| a.done_at)
                .min(),
            None => t.done_at,
        };
        done_at.is_some_and(|d| d <= due)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Ms = 3_600_000;

    fn ev(deal: i64, kind: EventKind, stage: i64, from: Option<i64>, at: Ms, overridden: bool) -> LogEvent {
        LogEvent {
            deal: DealId(deal),
            owner: Some(UserId(deal % 2)),
            kind,
            stage: StageId(stage),
            from_stage: from.map(StageId),
            at,
            overridden,
            worked: true,
        }
    }

    fn inputs() -> ComplianceInputs {
        let place = |id, position| StagePlace { id: StageId(id), pipeline: PipelineId(1), position };
        ComplianceInputs {
            stages: vec![place(10, 0), place(11, 1), place(12, 2)],
            steps: vec![
                RequiredStep { id: StepId(1), stage: StageId(10), evidence: None, created_at: 0, deleted_at: None },
                RequiredStep {
                    id: StepId(2),
                    stage: StageId(10),
                    evidence: Some(ActivityKind::Meeting),
                    created_at: 0,
                    deleted_at: None,
                },
            ],
            ..Default::default()
        }
    }

    /// Five deals leave stage 10 in the period, by hand-counted outcomes:
    /// d1 on time, d2 late on the task step, d3 overridden, d4 with its
    /// meeting after the due time, d5 moved backwards (not an exit) and
    /// then won in stage 10 with nothing timed. d6 left before the period;
    /// d7's exit was imported.
    #[test]
    fn counts_forward_exits_complete_and_on_time() {
        let mut i = inputs();
        let t0 = 100 * H;
        use EventKind::*;
        i.events = vec![
            ev(1, Enter, 10, None, t0, false),
            ev(1, Enter, 11, Some(10), t0 + 5 * H, false),
            ev(2, Enter, 10, None, t0, false),
            ev(2, Enter, 12, Some(10), t0 + 5 * H, false),
            ev(3, Enter, 10, None, t0, false),
            ev(3, Enter, 11, Some(10), t0 + 5 * H, true),
            ev(4, Enter, 10, None, t0, false),
            ev(4, Won, 10, None, t0 + 6 * H, false),
            ev(5, Enter, 11, None, t0, false),
            ev(5, Enter, 10, Some(11), t0 + H, false),
            ev(5, Won, 10, None, t0 + 2 * H, false),
            ev(6, Enter, 10, None, H, false),
            ev(6, Enter, 11, Some(10), 2 * H, false),
            // d7 was placed by an import past stage 10: no exit.
            ev(7, Enter, 10, None, t0, false),
            LogEvent { worked: false, ..ev(7, Enter, 11, Some(10), t0 + 5 * H, false) },
        ];
        let due = t0 + 3 * H;
        let times = |deal, step, done: Option<Ms>| StepTimes {
            deal: DealId(deal),
            step: StepId(step),
            due_at: Some(due),
            done_at: done,
        };
        i.times = vec![
            times(1, 1, Some(t0 + H)),
            times(1, 2, None),
            times(2, 1, Some(t0 + 4 * H)),
            times(2, 2, None),
            times(3, 1, None),
            times(4, 1, Some(t0 + H)),
            times(4, 2, None),
        ];
        let act = |deal, done_at| DoneActivity { deal: DealId(deal), kind: ActivityKind::Meeting, done_at };
        // d1's meeting is on time; d2's too; d4's comes after the due time,
        // and a meeting before d4 entered the stage does not count.
        i.activities = vec![act(1, t0 + 2 * H), act(2, t0 + H), act(4, t0 - H), act(4, t0 + 4 * H)];
        let c = compliance(&i, Period::new(50 * H, 200 * H));
        let s = &c.stages[&StageId(10)];
        assert_eq!((s.left_forward, s.playbook_complete, s.playbook_on_time), (5, 4, 2));
        assert_eq!(s.playbook_complete_rate, Some(80.0));
        assert_eq!(s.playbook_on_time_rate, Some(40.0));
        assert!(!c.stages.contains_key(&StageId(11)), "d5's move back is no exit of 11");
        assert_eq!(c.overrides_by_owner, vec![OwnerOverrides { owner_id: Some(UserId(1)), overrides: 1 }]);
    }

    #[test]
    fn a_move_and_a_win_in_one_request_leave_only_the_first_stage() {
        let mut i = inputs();
        use EventKind::*;
        i.events = vec![
            ev(1, Enter, 10, None, 0, false),
            ev(1, Enter, 11, Some(10), H, false),
            ev(1, Won, 11, None, H, false),
        ];
        let c = compliance(&i, Period::new(0, 10 * H));
        assert_eq!(c.stages.keys().copied().collect::<Vec<_>>(), vec![StageId(10)]);
        assert_eq!(c.stages[&StageId(10)].playbook_on_time, 1, "nothing timed: on time");
    }
}
