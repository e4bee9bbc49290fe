//! `serve --demo`: seeds a believable workspace once, deterministically for
//! a given day: users, two pipelines, organizations, people, nine months of
//! deals with stage history (wins, losses, backwards moves, reopens),
//! activities (done, overdue, due today, later, and deals with none), notes,
//! campaigns, outreach with replies — enough for every metric — and deals
//! at every point of their checklists, one with a failed e-mail.
//!
//! Everything goes through the store's own operations with historical
//! times, exactly as an importer would, so the demo also exercises them.

mod names;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_core::{PersonId, UserId};
use dealflow_store::{Actor, Store};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo admin's sign-in.
pub const DEMO_EMAIL: &str = "demo@dealflow.local";
pub const DEMO_PASSWORD: &str = "demo-password";

const DAY: i64 = 86_400_000;
/// How far back the demo history goes.
const HISTORY_DAYS: i64 = 270;
const DEALS: usize = 340;

/// What a caller needs to sign in to the demo workspace.
pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    /// A fresh API token for the demo admin.
    pub token: String,
    /// Whether this call seeded the data (false: it was already there).
    pub seeded: bool,
}

/// Seeds the demo workspace unless it is already there (as of `today`, or
/// the real today), and issues a fresh API token for its admin.
pub async fn ensure(store: &Store, today: Option<NaiveDate>) -> anyhow::Result<DemoLogin> {
    let today = today.unwrap_or_else(|| Utc::now().date_naive());
    let (admin, seeded) = match store.user_by_email(DEMO_EMAIL).await? {
        Some((u, _)) => (u.id, false),
        None => (seed(store, today).await.context("seeding the demo workspace failed")?, true),
    };
    let token = crate::api::users::issue_token(store, &Actor::system(), admin, "demo").await.map_err(api_err)?;
    Ok(DemoLogin { email: DEMO_EMAIL, password: DEMO_PASSWORD, token: token.secret, seeded })
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn api_err(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.to_problem().detail)
}

/// Seeds the workspace as of `today`; returns the demo admin's id.
pub async fn seed(store: &Store, today: NaiveDate) -> anyhow::Result<UserId> {
    let seed = today.signed_duration_since(NaiveDate::MIN).num_days() as u64;
    let mut rng = StdRng::seed_from_u64(seed);
    // "Now" of the demo: noon of `today`, or the real now if earlier.
    let noon = today.and_hms_opt(12, 0, 0).map(|d| d.and_utc().timestamp_millis()).unwrap_or(0);
    let now = Timestamp(noon.min(Timestamp::now().0));
    let sys = Actor { user_id: None, ..Actor::system() };

    let mut users = Vec::new();
    for (email, name, role) in [
        (DEMO_EMAIL, "Dora Demo", Role::Admin),
        ("maya.manager@dealflow.local", "Maya Manager", Role::Manager),
        ("ravi.rep@dealflow.local", "Ravi Rep", Role::Rep),
        ("sofia.rep@dealflow.local", "Sofia Rep", Role::Rep),
        ("tom.rep@dealflow.local", "Tom Rep", Role::Rep),
    ] {
        let u = crate::api::users::add_user(
            store,
            &sys,
            NewUser { email: email.into(), name: name.into(), role, password: DEMO_PASSWORD.into(), locale: None },
        )
        .await
        .map_err(api_err)?;
        users.push(u.id);
    }
    let admin = users[0];
    let reps = &users[1..];

    let sales = configure_pipelines(store, &sys).await?;
    scoring::seed_model(store, &sys, &sales[0]).await?;
    let orgs = seed_parties(store, &mut rng, now, reps).await?;
    seed_outreach(store, &mut rng, now, &orgs.people).await?;
    seed_deals(store, &mut rng, now, reps, &sales, &orgs).await?;
    scoring::answer_questions(store, &mut rng, &sales[0]).await?;
    mail::seed_failed_email(store, &Actor { user_id: Some(admin), ..Actor::system() }, &sales).await?;
    audits::seed(store, &sys, reps[0], &sales[0], now).await?;
    Ok(admin)
}

/// Stage probabilities and rotting days for the default pipeline, plus a
/// self-serve pipeline. Returns the pipelines as stored.
async fn configure_pipelines(store: &Store, sys: &Actor) -> anyhow::Result<Vec<Pipeline>> {
    let sales = &store.pipelines().await?[0];
    for (stage, (prob, rot)) in sales.stages.iter().zip([(10, 14), (25, 10), (50, 7), (70, 14)]) {
        store
            .update_stage(
                sys,
                stage.id,
                StagePatch {
                    version: stage.version,
                    name: None,
                    position: None,
                    probability: Some(Some(prob)),
                    rotting_days: Some(Some(rot)),
                    milestone: None,
                    archived: None,
                },
            )
            .await?;
    }
    let stage = |name: &str, milestone| NewStage {
        name: name.into(),
        position: None,
        probability: None,
        rotting_days: Some(21),
        milestone,
    };
    store
        .create_pipeline(
            sys,
            NewPipeline {
                name: "Self-serve".into(),
                stages: vec![
                    stage("Trial started", None),
                    stage("Activated", Some(Milestone::Conversation)),
                    stage("Onboarding call", Some(Milestone::Meeting)),
                    stage("Quote sent", Some(Milestone::Proposal)),
                ],
            },
        )
        .await?;
    Ok(store.pipelines().await?)
}

mod audits;
mod deals;
mod mail;
mod parties;
mod scoring;

use deals::seed_deals;
use parties::{seed_outreach, seed_parties};

/// People and organizations created by the seeder.
pub struct Parties {
    pub orgs: Vec<dealflow_core::model::Organization>,
    /// (person, their organization index)
    pub people: Vec<(PersonId, usize)>,
}

/// A random instant between `days_ago_max` and `days_ago_min` days before `now`.
fn past(rng: &mut StdRng, now: Timestamp, days_ago_min: i64, days_ago_max: i64) -> Timestamp {
    let ms = rng.random_range(days_ago_min * DAY..=days_ago_max.max(days_ago_min) * DAY);
    Timestamp(now.0 - ms)
}
