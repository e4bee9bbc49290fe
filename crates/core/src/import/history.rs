//! A deal's stage history from the dates a file gives: which stage it was
//! created in and when, the later stages it entered, and when it closed.
//! Only known dates make events; nothing is invented except "now" for a
//! deal with no date at all (its creation time is unknown).

use crate::model::DealStatus;
use crate::time::Timestamp;

/// The events to write for a new deal.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPlan {
    pub created_at: Timestamp,
    /// The stage the deal is created in.
    pub first_stage: String,
    /// Later stages it entered, in order, and when.
    pub moves: Vec<(String, Timestamp)>,
    /// The outcome of a won or lost deal, and when.
    pub close: Option<(DealStatus, Timestamp)>,
}

/// A problem with one input: (field, message). Fields are `stage`,
/// `created_at`, `closed_at` or `stage_dates.<stage>`.
pub type HistoryError = (String, String);

fn fail<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, HistoryError> {
    Err((field.into(), message.into()))
}

/// Plans the history of a deal now in `current` (one of `stages`, in
/// pipeline order) with `status`. `dates` are the known stage entry times;
/// the earliest is the creation time unless `created_at` is given.
pub fn plan_history(
    stages: &[String],
    current: &str,
    status: DealStatus,
    dates: &[(String, Timestamp)],
    created_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<HistoryPlan, HistoryError> {
    let pos = |s: &str| stages.iter().position(|x| x == s);
    let Some(cur) = pos(current) else {
        return fail("stage", format!("`{current}` is not a stage of the pipeline; it has: {}", stages.join(", ")));
    };
    let mut dated = Vec::with_capacity(dates.len());
    for (stage, t) in dates {
        let field = format!("stage_dates.{stage}");
        match pos(stage) {
            None => return fail(field, format!("`{stage}` is not a stage of the pipeline")),
            Some(p) if p > cur => {
                return fail(field, format!("the deal entered {stage}, which comes after its current stage {current}"));
            }
            Some(p) => dated.push((p, stage.clone(), *t)),
        }
    }
    dated.sort_by_key(|d| d.0);
    for w in dated.windows(2) {
        if w[1].2 < w[0].2 {
            return fail(
                format!("stage_dates.{}", w[1].1),
                format!("lies before the date of the earlier stage {}", w[0].1),
            );
        }
    }
    let close = match (status, closed_at) {
        (DealStatus::Open, Some(_)) => return fail("closed_at", "is only accepted for a won or lost deal"),
        (DealStatus::Open, None) => None,
        (s, None) => return fail("closed_at", format!("a {s} deal needs the time it closed, and it is empty")),
        (s, Some(c)) => Some((s, c)),
    };
    if let (Some((_, c)), Some(last)) = (close, dated.last())
        && c < last.2
    {
        return fail("closed_at", format!("lies before the deal entered {}", last.1));
    }
    let (first_stage, created, mut moves): (String, Timestamp, Vec<(String, Timestamp)>) = match dated.first() {
        None => (current.to_string(), created_at.or(close.map(|c| c.1)).unwrap_or(now), Vec::new()),
        Some(first) => match created_at {
            Some(c) if c > first.2 => return fail("created_at", format!("lies after the deal entered {}", first.1)),
            Some(c) if c < first.2 && first.0 > 0 => {
                (stages[0].clone(), c, dated.iter().map(|d| (d.1.clone(), d.2)).collect())
            }
            Some(c) if c < first.2 => {
                return fail("created_at", format!("lies before the deal entered its first stage {}", first.1));
            }
            _ => (first.1.clone(), first.2, dated[1..].iter().map(|d| (d.1.clone(), d.2)).collect()),
        },
    };
    if let Some((_, c)) = close
        && c < created
    {
        return fail("closed_at", "lies before the deal was created");
    }
    let reached = moves.last().map_or(first_stage.as_str(), |m| m.0.as_str());
    if reached != current {
        // The deal is known to be in `current` but not since when: it got
        // there by the time it closed, or by now.
        moves.push((current.to_string(), close.map_or(now, |c| c.1).max(created)));
    }
    Ok(HistoryPlan { created_at: created, first_stage, moves, close })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        vec!["Prospecting".into(), "Engaging".into()]
    }
    const NOW: Timestamp = Timestamp(10_000);

    #[test]
    fn maven_shapes() {
        let eng = vec![("Engaging".to_string(), Timestamp(100))];
        let won = plan_history(&stages(), "Engaging", DealStatus::Won, &eng, None, Some(Timestamp(500)), NOW).unwrap();
        assert_eq!(won.first_stage, "Engaging");
        assert_eq!(won.created_at, Timestamp(100));
        assert!(won.moves.is_empty());
        assert_eq!(won.close, Some((DealStatus::Won, Timestamp(500))));
        let open = plan_history(&stages(), "Engaging", DealStatus::Open, &eng, None, None, NOW).unwrap();
        assert_eq!((open.created_at, open.close), (Timestamp(100), None));
        let prospect = plan_history(&stages(), "Prospecting", DealStatus::Open, &[], None, None, NOW).unwrap();
        assert_eq!((prospect.first_stage.as_str(), prospect.created_at), ("Prospecting", NOW));
    }

    #[test]
    fn earlier_creation_and_undated_current_stage() {
        let eng = vec![("Engaging".to_string(), Timestamp(100))];
        let p = plan_history(&stages(), "Engaging", DealStatus::Open, &eng, Some(Timestamp(50)), None, NOW).unwrap();
        assert_eq!(p.first_stage, "Prospecting");
        assert_eq!(p.moves, vec![("Engaging".to_string(), Timestamp(100))]);
        let pro = vec![("Prospecting".to_string(), Timestamp(100))];
        let p = plan_history(&stages(), "Engaging", DealStatus::Lost, &pro, None, Some(Timestamp(300)), NOW).unwrap();
        assert_eq!(p.moves, vec![("Engaging".to_string(), Timestamp(300))]);
    }

    #[test]
    fn contradictions_are_refused() {
        let eng = vec![("Engaging".to_string(), Timestamp(100))];
        let f = |r: Result<HistoryPlan, HistoryError>| r.unwrap_err().0;
        assert_eq!(
            f(plan_history(&stages(), "Prospecting", DealStatus::Open, &eng, None, None, NOW)),
            "stage_dates.Engaging"
        );
        assert_eq!(f(plan_history(&stages(), "Engaging", DealStatus::Won, &eng, None, None, NOW)), "closed_at");
        assert_eq!(
            f(plan_history(&stages(), "Engaging", DealStatus::Won, &eng, None, Some(Timestamp(5)), NOW)),
            "closed_at"
        );
        assert_eq!(
            f(plan_history(&stages(), "Engaging", DealStatus::Open, &eng, None, Some(Timestamp(500)), NOW)),
            "closed_at"
        );
        assert_eq!(f(plan_history(&stages(), "Nope", DealStatus::Open, &[], None, None, NOW)), "stage");
        assert_eq!(
            f(plan_history(&stages(), "Engaging", DealStatus::Open, &eng, Some(Timestamp(200)), None, NOW)),
            "created_at"
        );
    }
}
