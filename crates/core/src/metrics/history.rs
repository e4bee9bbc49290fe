//! What a deal's event log says, replayed once: when it first reached each
//! stage of its pipeline, the stays it made in stages, and its state at a
//! given instant. Every metric reads these instead of re-walking events.

use super::facts::{DealEventKind, DealFact, Facts, Ms, StageInfo};
use crate::ids::PipelineId;
use crate::model::DealStatus;
use std::collections::HashMap;

/// The stages of every pipeline, in order, looked up by pipeline id.
pub(crate) struct StageIndex<'a> {
    by_pipeline: HashMap<PipelineId, Vec<&'a StageInfo>>,
}

impl<'a> StageIndex<'a> {
    pub(crate) fn new(facts: &'a Facts) -> Self {
        let by_pipeline = facts.pipelines.iter().map(|p| (p.id, p.ordered_stages())).collect();
        StageIndex { by_pipeline }
    }

    /// The ordered stages of a pipeline (empty if the pipeline is unknown).
    pub(crate) fn stages(&self, pipeline: PipelineId) -> &[&'a StageInfo] {
        self.by_pipeline.get(&pipeline).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A continuous time a deal spent in one stage. It ends with a move, a win
/// or a loss; `end` is `None` while the deal still sits there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stay {
    pub stage: usize,
    pub start: Ms,
    pub end: Option<Ms>,
}

/// A deal's replayed history against its pipeline's ordered stages.
pub(crate) struct Timeline<'a> {
    pub deal: &'a DealFact,
    pub stages: &'a [&'a StageInfo],
    /// First moment the deal reached each stage (by position).
    pub reach: Vec<Option<Ms>>,
    pub stays: Vec<Stay>,
    /// The stage the deal is in after its last event (by position), and
    /// when it last entered it.
    pub current: Option<(usize, Ms)>,
    /// For each stage, the last time the deal entered it before each win:
    /// `(stage, entered_at, won_at)`, used for "days from entering to a win".
    pub entry_to_win: Vec<(usize, Ms, Ms)>,
}

impl<'a> Timeline<'a> {
    pub(crate) fn build(deal: &'a DealFact, index: &'a StageIndex<'a>) -> Self {
        Self::with_stages(deal, index.stages(deal.pipeline))
    }

    /// Replays `deal` against `stages`, its pipeline's stages in order.
    pub(crate) fn with_stages(deal: &'a DealFact, stages: &'a [&'a StageInfo]) -> Self {
        let mut reach: Vec<Option<Ms>> = vec![None; stages.len()];
        let mut last_entry: Vec<Option<Ms>> = vec![None; stages.len()];
        let mut stays = Vec::new();
        let mut entry_to_win = Vec::new();
        // The stage the deal is in (position) and the start of its open stay.
        let mut cur: Option<usize> = None;
        let mut cur_entered: Ms = deal.created_at;
        let mut stay_start: Option<Ms> = None;
        for ev in &deal.events {
            let t = ev.at;
            match &ev.kind {
                DealEventKind::Enter(stage) => {
                    if let (Some(s), Some(start)) = (cur, stay_start.take()) {
                        stays.push(Stay { stage: s, start, end: Some(t) });
                    }
                    // A stage of another pipeline (the deal was moved) has no
                    // position here: it neither reaches nor stays.
                    cur = stages.iter().position(|s| s.id == *stage);
                    cur_entered = t;
                    if let Some(i) = cur {
                        // Entering S reaches S and every stage before it.
                        for r in reach.iter_mut().take(i + 1).filter(|r| r.is_none()) {
                            *r = Some(t);
                        }
                        last_entry[i] = Some(t);
                        stay_start = Some(t);
                    }
                }
                DealEventKind::Won | DealEventKind::Lost => {
                    if let (Some(s), Some(start)) = (cur, stay_start.take()) {
                        stays.push(Stay { stage: s, start, end: Some(t) });
                    }
                    if ev.kind == DealEventKind::Won {
                        // A win reaches every stage the deal had skipped.
                        for r in reach.iter_mut().filter(|r| r.is_none()) {
                            *r = Some(t);
                        }
                        for (i, e) in last_entry.iter().enumerate() {
                            if let Some(e) = e {
                                entry_to_win.push((i, *e, t));
                            }
                        }
                    }
                }
                DealEventKind::Reopen => {
                    // The deal resumes in the stage it was in: a new stay.
                    if cur.is_some() {
                        stay_start = Some(t);
                    }
                }
            }
        }
        if let (Some(s), Some(start)) = (cur, stay_start) {
            stays.push(Stay { stage: s, start, end: None });
        }
        let current = cur.map(|s| (s, cur_entered));
        Timeline { deal, stages, reach, stays, current, entry_to_win }
    }

    /// When the deal first reached a stage with this milestone (the first
    /// such stage in order, since reaching a later stage reaches earlier ones).
    pub(crate) fn milestone_reach(&self, m: crate::model::Milestone) -> Option<Ms> {
        let i = self.stages.iter().position(|s| s.milestone == Some(m))?;
        // `reach` has one entry per stage, so a position in `stages` fits.
        self.reach[i]
    }
}

/// Whether the deal was open at instant `t`, replayed from the events dated
/// strictly before `t` (docs/metrics.md: "`open_deals` is the state at the instant
/// `to`, replayed from the events dated before it").
pub(crate) fn open_before(deal: &DealFact, t: Ms) -> bool {
    if deal.created_at >= t {
        return false;
    }
    let mut status = DealStatus::Open;
    for ev in deal.events.iter().filter(|e| e.at < t) {
        status = match ev.kind {
            DealEventKind::Won => DealStatus::Won,
            DealEventKind::Lost => DealStatus::Lost,
            DealEventKind::Reopen | DealEventKind::Enter(_) => DealStatus::Open,
        };
    }
    status == DealStatus::Open
}

/// The status and close time the event log leaves when replayed up to and
/// including `t` (used to rebuild a deal "as of" `t`).
pub(crate) fn status_as_of(deal: &DealFact, t: Ms) -> (DealStatus, Option<Ms>) {
    let mut status = (DealStatus::Open, None);
    for ev in deal.events.iter().filter(|e| e.at <= t) {
        status = match ev.kind {
            DealEventKind::Won => (DealStatus::Won, Some(ev.at)),
            DealEventKind::Lost => (DealStatus::Lost, Some(ev.at)),
            DealEventKind::Reopen | DealEventKind::Enter(_) => (DealStatus::Open, None),
        };
    }
    status
}
