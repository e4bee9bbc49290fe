use super::*;

/// A plain stage of `pipeline` at `pos` (also used by the deal-change tests).
pub(crate) fn stage(id: i64, pipeline: i64, pos: i64) -> Stage {
    Stage {
        id: StageId(id),
        pipeline_id: PipelineId(pipeline),
        name: format!("S{id}"),
        position: pos,
        probability: None,
        rotting_days: None,
        milestone: None,
        archived: false,
        version: 1,
    }
}

fn open_at(stage_id: i64) -> Position {
    Position {
        pipeline_id: PipelineId(1),
        stage_id: StageId(stage_id),
        status: DealStatus::Open,
        lost_reason: None,
        closed_at: None,
        stage_entered_at: Timestamp(0),
    }
}

fn ctx<'a>(stages: &'a [Stage], reasons: &'a [String]) -> Context<'a> {
    Context {
        target_stages: stages,
        target_archived: false,
        require_lost_reason: true,
        lost_reasons: reasons,
        at: Timestamp(1000),
        last_event_at: Some(Timestamp(0)),
    }
}

#[test]
fn move_to_next_stage_appends_enter() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1)];
    let plan =
        plan_move(&open_at(10), &MoveRequest { stage_id: Some(StageId(11)), ..Default::default() }, &ctx(&stages, &[]))
            .unwrap();
    assert_eq!(plan.events.len(), 1);
    assert_eq!(plan.events[0].kind, EventKind::Enter);
    assert_eq!(plan.events[0].from_stage_id, Some(StageId(10)));
    assert_eq!(plan.position.stage_id, StageId(11));
    assert_eq!(plan.position.stage_entered_at, Timestamp(1000));
}

#[test]
fn stage_of_other_pipeline_refused() {
    let stages = [stage(10, 1, 0)];
    let err =
        plan_move(&open_at(10), &MoveRequest { stage_id: Some(StageId(99)), ..Default::default() }, &ctx(&stages, &[]))
            .unwrap_err();
    assert_eq!(err.0[0].field, "stage_id");
}

#[test]
fn lost_needs_reason_and_canonicalizes() {
    let stages = [stage(10, 1, 0)];
    let reasons = vec!["No budget".to_string()];
    let lose = |r: Option<&str>| MoveRequest {
        status: Some(DealStatus::Lost),
        lost_reason: r.map(String::from),
        ..Default::default()
    };
    assert!(plan_move(&open_at(10), &lose(None), &ctx(&stages, &reasons)).is_err());
    assert!(plan_move(&open_at(10), &lose(Some("  ")), &ctx(&stages, &reasons)).is_err());
    let plan = plan_move(&open_at(10), &lose(Some("no BUDGET")), &ctx(&stages, &reasons)).unwrap();
    assert_eq!(plan.position.lost_reason.as_deref(), Some("No budget"));
    assert_eq!(plan.position.closed_at, Some(Timestamp(1000)));
    assert_eq!(plan.events[0].kind, EventKind::Lost);
    let mut relaxed = ctx(&stages, &reasons);
    relaxed.require_lost_reason = false;
    assert!(plan_move(&open_at(10), &lose(None), &relaxed).is_ok());
}

#[test]
fn closed_deal_must_be_reopened_to_move() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1)];
    let mut won = open_at(10);
    won.status = DealStatus::Won;
    won.closed_at = Some(Timestamp(500));
    let mv = MoveRequest { stage_id: Some(StageId(11)), ..Default::default() };
    assert!(plan_move(&won, &mv, &ctx(&stages, &[])).is_err());
    let reopen_and_move = MoveRequest { status: Some(DealStatus::Open), ..mv };
    let plan = plan_move(&won, &reopen_and_move, &ctx(&stages, &[])).unwrap();
    let kinds: Vec<_> = plan.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Reopen, EventKind::Enter]);
    assert_eq!(plan.position.closed_at, None);
}

#[test]
fn won_to_lost_reopens_first() {
    let stages = [stage(10, 1, 0)];
    let mut won = open_at(10);
    won.status = DealStatus::Won;
    let req = MoveRequest { status: Some(DealStatus::Lost), lost_reason: Some("Timing".into()), ..Default::default() };
    let plan = plan_move(&won, &req, &ctx(&stages, &[])).unwrap();
    let kinds: Vec<_> = plan.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Reopen, EventKind::Lost]);
}

#[test]
fn history_stays_in_order() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1)];
    let mut c = ctx(&stages, &[]);
    c.last_event_at = Some(Timestamp(5000));
    let err =
        plan_move(&open_at(10), &MoveRequest { stage_id: Some(StageId(11)), ..Default::default() }, &c).unwrap_err();
    assert_eq!(err.0[0].field, "at");
}

#[test]
fn pipeline_move_defaults_to_first_active_stage() {
    let mut first = stage(20, 2, 0);
    first.archived = true;
    let stages = [first, stage(21, 2, 1)];
    let plan = plan_move(
        &open_at(10),
        &MoveRequest { pipeline_id: Some(PipelineId(2)), ..Default::default() },
        &ctx(&stages, &[]),
    )
    .unwrap();
    assert_eq!(plan.position.pipeline_id, PipelineId(2));
    assert_eq!(plan.position.stage_id, StageId(21));
}

#[test]
fn create_as_won_has_enter_then_won() {
    let stages = [stage(10, 1, 0)];
    let plan = plan_create(
        PipelineId(1),
        StageId(10),
        &stages,
        DealStatus::Won,
        None,
        Timestamp(100),
        Some(Timestamp(200)),
        true,
        &[],
    )
    .unwrap();
    let kinds: Vec<_> = plan.events.iter().map(|e| (e.kind, e.at)).collect();
    assert_eq!(kinds, [(EventKind::Enter, Timestamp(100)), (EventKind::Won, Timestamp(200))]);
    assert!(
        plan_create(
            PipelineId(1),
            StageId(10),
            &stages,
            DealStatus::Won,
            None,
            Timestamp(300),
            Some(Timestamp(200)),
            true,
            &[]
        )
        .is_err()
    );
}
