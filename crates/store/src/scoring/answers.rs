//! Answers to qualifying questions: each answer a row (who, when, the
//! answer it replaced), the latest one current. An answer moves the score
//! in its own transaction.

use super::read::DealScore;
use crate::row::*;
use crate::{Actor, Store, StoreError};
use dealflow_core::scoring::{Group, ModelBody};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId, UserId};
use serde::{Deserialize, Serialize};

/// Body of `PUT /api/v1/deals/{id}/answers/{question_id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    /// One of the question's answers (case does not matter).
    pub answer: String,
}

/// One answer given, as history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub question_id: String,
    pub answer: String,
    /// The answer it replaced, if any.
    pub previous: Option<String>,
    pub user_id: Option<UserId>,
    pub at: Timestamp,
}

/// A question of the deal's model with its current answer and history:
/// `GET /api/v1/deals/{id}/answers`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Question {
    pub question_id: String,
    pub question: String,
    /// The answers and their points.
    pub answers: std::collections::BTreeMap<String, f64>,
    /// Shown on the deal page from this stage on.
    pub from_stage_id: Option<StageId>,
    pub current: Option<String>,
    /// Every answer given, newest first.
    pub history: Vec<Answer>,
}

/// The answer to a `PUT`: the answer stored and the score it leaves.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Answered {
    pub answer: Answer,
    pub score: DealScore,
}

fn answer_from_row(r: &sqlx::any::AnyRow) -> R<Answer> {
    Ok(Answer {
        question_id: text(r, "question_id")?,
        answer: text(r, "answer")?,
        previous: opt_text(r, "previous")?,
        user_id: opt_i64(r, "user_id")?.map(UserId),
        at: ts(r, "at")?,
    })
}

impl Store {
    /// Records an answer and moves the deal's score at once. The question
    /// must be one of the published model's that scores the deal, and the
    /// answer one of its answers.
    pub async fn answer_question(
        &self,
        actor: &Actor,
        id: DealId,
        question: &str,
        n: NewAnswer,
    ) -> Result<Answered, StoreError> {
        let mut tx = self.write().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let Some(model) = super::published_for(&mut tx, deal.pipeline_id).await? else {
            return Err(StoreError::InUse(format!(
                "no published scoring model covers pipeline {}; publish one with questions first",
                deal.pipeline_id
            )));
        };
        let rule = model.body.rules.iter().find(|r| r.group == Group::Question && r.id() == question);
        let Some(rule) = rule else {
            return Err(StoreError::not_found(
                "question",
                format!("{question} (not a question of model {})", model.model_id),
            ));
        };
        let given = n.answer.trim();
        let canonical = rule.answers.as_ref().and_then(|a| a.keys().find(|k| k.eq_ignore_ascii_case(given)).cloned());
        let Some(answer) = canonical else {
            let all: Vec<&str> = rule.answers.iter().flat_map(|a| a.keys().map(String::as_str)).collect();
            return Err(StoreError::invalid(
                "answer",
                format!("`{given}` is not an answer of this question; use one of: {}", all.join(", ")),
            ));
        };
        let previous = super::facts::current_answers(&mut tx, id, None)
            .await?
            .into_iter()
            .find(|(q, _)| q == question)
            .map(|(_, a)| a);
        let at = Timestamp(actor.now.0);
        sqlx::query(
            "INSERT INTO deal_answers (id, deal_id, question_id, answer, previous, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(id.0)
        .bind(question.to_string())
        .bind(answer.clone())
        .bind(previous.clone())
        .bind(actor.user_id.map(|u| u.0))
        .bind(at.0)
        .execute(&mut *tx)
        .await?;
        super::sync::refresh_with(&mut tx, actor, &deal, &model).await?;
        let detail = serde_json::json!({"question_id": question, "answer": answer, "previous": previous});
        crate::audit::append(&mut tx, actor, crate::audit::Entry::new("deal", "answer", Some(id.0)).detail(detail))
            .await?;
        tx.commit().await?;
        self.jobs_enqueued();
        let answer = Answer { question_id: question.to_string(), answer, previous, user_id: actor.user_id, at };
        Ok(Answered { answer, score: self.deal_score(id, None).await? })
    }

    /// The questions of the model that scores the deal, each with its
    /// current answer and history.
    pub async fn deal_questions(&self, id: DealId) -> Result<Vec<Question>, StoreError> {
        let mut tx = self.snapshot().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let body: ModelBody =
            super::published_for(&mut tx, deal.pipeline_id).await?.map(|m| m.body).unwrap_or_default();
        let rows = sqlx::query("SELECT * FROM deal_answers WHERE deal_id = $1 ORDER BY at DESC, id DESC")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let history: Vec<Answer> = rows.iter().map(answer_from_row).collect::<R<_>>()?;
        Ok(body
            .rules
            .iter()
            .filter(|r| r.group == Group::Question)
            .map(|r| {
                let mine: Vec<Answer> = history.iter().filter(|a| a.question_id == r.id()).cloned().collect();
                Question {
                    question_id: r.id().to_string(),
                    question: r.question.clone().unwrap_or_default(),
                    answers: r.answers.clone().unwrap_or_default(),
                    from_stage_id: r.from_stage_id,
                    current: mine.first().map(|a| a.answer.clone()),
                    history: mine,
                }
            })
            .collect())
    }
}
