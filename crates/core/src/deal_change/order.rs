//! "No skipping stages": a pipeline that wants every stage's procedure
//! followed lets deals start in its first stage only and move forward one
//! stage at a time, and be won only from its last open stage. Backward
//! moves, losing and moves to another pipeline are free. The decision
//! ([`super::decide_create`], [`super::decide_update`]) applies it, and the
//! store's list of possible moves asks [`stages_first`] too.

use crate::model::{DealStatus, Stage};
use crate::stage_move::Position;
use crate::{Invalid, StageId};

/// The stages a forward move from `from` to `to` would skip: the active
/// stages between them (for won, every active stage after `from`). Empty
/// when the move goes to the next stage, or is not forward in the pipeline
/// (the caller checks that).
pub fn stages_first<'a>(from: StageId, to: &Position, stages: &'a [Stage]) -> Vec<&'a Stage> {
    let pos = |id: StageId| stages.iter().find(|s| s.id == id).map(|s| s.position);
    let Some(start) = pos(from) else { return Vec::new() };
    let end = match to.status {
        DealStatus::Won => None,
        DealStatus::Lost => return Vec::new(),
        DealStatus::Open => match pos(to.stage_id) {
            Some(p) => Some(p),
            None => return Vec::new(),
        },
    };
    stages.iter().filter(|s| !s.archived && s.position > start && end.is_none_or(|e| s.position < e)).collect()
}

/// The refusal of a move that skips `skipped`: under `status` for won,
/// else under `stage_id`, naming the stages to go through first.
pub fn refuse(errs: &mut Invalid, to: &Position, skipped: &[&Stage]) {
    let names: Vec<String> = skipped.iter().map(|s| format!("\"{}\"", s.name)).collect();
    let (field, what) = match to.status {
        DealStatus::Won => ("status", "be won only from the pipeline's last open stage"),
        _ => ("stage_id", "move forward only one stage at a time"),
    };
    errs.add(
        field,
        format!(
            "this pipeline allows no skipping stages: deals {what}; move the deal through {} first, or give \
             `override_reason`",
            names.join(", ")
        ),
    );
}

/// The stage a new deal must start in when the pipeline allows no
/// skipping: its first active stage.
pub fn first_stage(stages: &[Stage]) -> Option<&Stage> {
    stages.iter().find(|s| !s.archived)
}
