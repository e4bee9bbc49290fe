//! Property test (DESIGN.md: projections stay honest): after any sequence of
//! writes through the store — deals created with past times, moved, won,
//! lost, reopened, moved to another pipeline, re-owned, deleted and
//! restored, owners reassigned, stages added, reordered, re-milestoned and
//! deleted, outreach sent and replied to, messages and people deleted and
//! restored — the metric inputs the store answers in SQL from its
//! projections equal those of a fresh replay of the facts
//! (`Store::metric_facts` through `dealflow_core::metrics`), for several
//! periods and every kind of slice. The forecast at now from the projections
//! equals the replay's. A rebuild from scratch answers the same.

use dealflow_core::currency::Currency;
use dealflow_core::metrics::{
    Facts, ForecastOptions, Period, Slice, activity_inputs, forecast_from_inputs, forecast_with_fields, stage_inputs,
    stages_from,
};
use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_core::{CampaignId, PersonId, StageId, UserId};
use dealflow_store::{Actor, Store, StoreError};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Days ago a deal is created or a message sent: on and around the check
/// periods' bounds, so that ties with a bound happen often.
const DAYS_AGO: [i64; 14] = [0, 1, 29, 30, 59, 60, 61, 89, 90, 91, 150, 151, 200, 399];

#[derive(Debug, Clone)]
enum Op {
    /// Stage index, days ago, value, EUR?, owner (None = unowned), source, contract months.
    Create(usize, u8, i64, bool, Option<usize>, usize, Option<i64>),
    /// Deal, stage index (of its pipeline, or of the other one), hours later.
    Move(usize, usize, bool, u16),
    Close(usize, bool, u16),
    Reopen(usize, u16),
    Owner(usize, Option<usize>),
    Delete(usize),
    Restore(usize),
    Reassign(usize, usize),
    AddStage(usize),
    MoveStage(usize, usize),
    Milestone(usize, u8),
    DeleteStage,
    /// Person, campaign, days ago, reply after hours, sentiment.
    Message(usize, usize, u8, Option<u16>, u8),
    DeleteMessage(usize),
    RestoreMessage(usize),
    DeletePerson(usize),
    RestorePerson(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..5, 0u8..200, 0i64..1_000_000, any::<bool>(), prop::option::of(0usize..3), 0usize..3,
              prop::option::of(prop_oneof![Just(6i64), Just(12), Just(36)]))
            .prop_map(|(s, d, v, e, o, src, m)| Op::Create(s, d, v, e, o, src, m)),
        6 => (0usize..40, 0usize..6, prop::bool::weighted(0.1), 0u16..900).prop_map(|(d, s, o, h)| Op::Move(d, s, o, h)),
        4 => (0usize..40, any::<bool>(), 0u16..900).prop_map(|(d, w, h)| Op::Close(d, w, h)),
        2 => (0usize..40, 0u16..900).prop_map(|(d, h)| Op::Reopen(d, h)),
        1 => (0usize..40, prop::option::of(0usize..3)).prop_map(|(d, o)| Op::Owner(d, o)),
        1 => (0usize..40).prop_map(Op::Delete),
        1 => (0usize..40).prop_map(Op::Restore),
        1 => (0usize..3, 0usize..3).prop_map(|(a, b)| Op::Reassign(a, b)),
        1 => (0usize..6).prop_map(Op::AddStage),
        1 => (0usize..6, 0usize..6).prop_map(|(a, b)| Op::MoveStage(a, b)),
        1 => (0usize..6, 0u8..4).prop_map(|(s, m)| Op::Milestone(s, m)),
        1 => Just(Op::DeleteStage),
        5 => (0usize..6, 0usize..3, 0u8..200, prop::option::of(0u16..500), 0u8..3)
            .prop_map(|(p, c, d, r, s)| Op::Message(p, c, d, r, s)),
        1 => (0usize..40).prop_map(Op::DeleteMessage),
        1 => (0usize..40).prop_map(Op::RestoreMessage),
        1 => (0usize..6).prop_map(Op::DeletePerson),
        1 => (0usize..6).prop_map(Op::RestorePerson),
    ]
}

/// The world the ops act on: what exists, by creation order.
struct World {
    store: Store,
    actor: Actor,
    now: i64,
    pipelines: [dealflow_core::PipelineId; 2],
    users: Vec<UserId>,
    people: Vec<PersonId>,
    campaigns: Vec<CampaignId>,
    /// Deal id and the time of its latest event (new events come later).
    deals: Vec<(dealflow_core::DealId, i64)>,
    messages: Vec<dealflow_core::OutreachId>,
}

/// A refusal the rules make (a closed deal cannot move, …) writes nothing
/// and is part of what the test exercises; anything else is a failure.
fn allowed<T>(r: Result<T, StoreError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(StoreError::Invalid(_) | StoreError::NotFound { .. } | StoreError::InUse(_)) => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

impl World {
    async fn new() -> (Self, dealflow_store::testing::TestDb) {
        let db = dealflow_store::testing::test_database().await.unwrap();
        let store = db.open().await.unwrap();
        let actor = Actor::system();
        let now = actor.now.0;
        let first = store.pipelines().await.unwrap()[0].id;
        let stage = |n: &str, m: Option<Milestone>| NewStage {
            name: n.into(),
            position: None,
            probability: None,
            rotting_days: None,
            milestone: m,
        };
        let second = store
            .create_pipeline(
                &actor,
                NewPipeline {
                    name: "Renewals".into(),
                    stages: vec![stage("Due", None), stage("Call", Some(Milestone::Meeting)), stage("Quote", None)],
                },
            )
            .await
            .unwrap()
            .id;
        let mut users = Vec::new();
        for i in 0..3 {
            let u = store.create_user(&actor, &format!("u{i}@example.com"), "U", Role::Rep, "x", None).await.unwrap();
            users.push(u.id);
        }
        let mut people = Vec::new();
        for i in 0..6 {
            let p = NewPerson { name: format!("P{i}"), ..Default::default() };
            people.push(store.create_person(&actor, p).await.unwrap().id);
        }
        let mut campaigns = Vec::new();
        for i in 0..3 {
            let c = NewCampaign { name: format!("C{i}"), ..Default::default() };
            campaigns.push(store.create_campaign(&actor, c).await.unwrap().id);
        }
        let w = World {
            store,
            actor,
            now,
            pipelines: [first, second],
            users,
            people,
            campaigns,
            deals: Vec::new(),
            messages: Vec::new(),
        };
        (w, db)
    }

    /// Some days ago: at the time of day of now, or (odd `k`) at a UTC
    /// midnight, where the rollups' days begin.
    fn time(&self, k: u8) -> i64 {
        let base = if k % 2 == 1 { self.now - self.now.rem_euclid(DAY) } else { self.now };
        base - DAYS_AGO[(k / 2) as usize % DAYS_AGO.len()] * DAY
    }

    async fn stages(&self, pipeline: usize) -> Vec<Stage> {
        self.store.pipeline(self.pipelines[pipeline]).await.unwrap().stages
    }

    async fn stage_at(&self, pipeline: usize, i: usize) -> StageId {
        let st = self.stages(pipeline).await;
        st[i % st.len()].id
    }

    /// A PATCH at a time after the deal's latest event (capped at now).
    async fn patch(&mut self, d: usize, hours: u16, f: impl FnOnce(&mut DealPatch)) {
        let Some(&(id, last)) = self.deals.get(d % self.deals.len().max(1)) else { return };
        let Some(cur) = allowed(self.store.deal(id).await) else { return };
        let at = (last + hours as i64 * HOUR).min(self.now);
        let mut p = DealPatch { version: cur.version, at: Some(Timestamp(at)), ..Default::default() };
        f(&mut p);
        if allowed(self.store.update_deal(&self.actor, id, p).await).is_some() {
            let i = d % self.deals.len();
            self.deals[i].1 = at;
        }
    }

    async fn apply(&mut self, op: Op) {
        let a = self.actor;
        match op {
            Op::Create(stage, days, value, eur, owner, source, months) => {
                let created = self.time(days);
                let n = NewDeal {
                    title: "D".into(),
                    value,
                    currency: eur.then(|| Currency::parse("EUR").unwrap()),
                    contract_months: months,
                    stage_id: Some(self.stage_at(0, stage).await),
                    owner_id: owner.map(|o| self.users[o]),
                    source: Some(["outbound", "inbound", "referral"][source].into()),
                    created_at: Some(Timestamp(created)),
                    ..Default::default()
                };
                if let Some(d) = allowed(self.store.create_deal(&a, n).await) {
                    self.deals.push((d.id, created));
                }
            }
            Op::Move(d, stage, other, hours) => {
                let s = self.stage_at(usize::from(other), stage).await;
                self.patch(d, hours, |p| p.stage_id = Some(s)).await;
            }
            Op::Close(d, won, hours) => {
                self.patch(d, hours, |p| {
                    p.status = Some(if won { DealStatus::Won } else { DealStatus::Lost });
                    p.lost_reason = (!won).then(|| "Timing".into());
                })
                .await;
            }
            Op::Reopen(d, hours) => self.patch(d, hours, |p| p.status = Some(DealStatus::Open)).await,
            Op::Owner(d, o) => {
                let owner = o.map(|o| self.users[o]);
                self.patch(d, 0, |p| p.owner_id = Some(owner)).await;
            }
            Op::Delete(d) => {
                if let Some(&(id, _)) = self.deals.get(d % self.deals.len().max(1)) {
                    allowed(self.store.delete_deal(&a, id).await);
                }
            }
            Op::Restore(d) => {
                if let Some(&(id, _)) = self.deals.get(d % self.deals.len().max(1)) {
                    allowed(self.store.restore_deal(&a, id).await);
                }
            }
            Op::Reassign(from, to) => {
                allowed(self.store.reassign(&a, self.users[from], self.users[to]).await);
            }
            Op::AddStage(at) => {
                let s = NewStage {
                    name: "New".into(),
                    position: Some(at as i64),
                    probability: None,
                    rotting_days: None,
                    milestone: None,
                };
                allowed(self.store.add_stage(&a, self.pipelines[0], s).await);
            }
            Op::MoveStage(from, to) => {
                let st = self.stages(0).await;
                let s = &st[from % st.len()];
                allowed(self.store.update_stage(&a, s.id, stage_patch(s.version, Some(to as i64), None)).await);
            }
            Op::Milestone(i, m) => {
                let st = self.stages(0).await;
                let s = &st[i % st.len()];
                let m = [None, Some(Milestone::Conversation), Some(Milestone::Meeting), Some(Milestone::Proposal)]
                    [m as usize];
                allowed(self.store.update_stage(&a, s.id, stage_patch(s.version, None, Some(m))).await);
            }
            Op::DeleteStage => {
                // Only a stage no deal has been in can go: the newest one, if unused.
                if let Some(s) = self.stages(0).await.iter().max_by_key(|s| s.id.0) {
                    allowed(self.store.delete_stage(&self.actor, s.id).await);
                }
            }
            Op::Message(person, campaign, days, reply, sentiment) => {
                let sent = self.time(days);
                let replied = reply.map(|h| (sent + h as i64 * HOUR).min(self.now));
                let m = NewOutreachMessage {
                    person_id: self.people[person],
                    campaign_id: Some(self.campaigns[campaign]),
                    channel: Some([Channel::Email, Channel::Linkedin, Channel::Call][campaign]),
                    sent_at: Some(Timestamp(sent)),
                    replied_at: replied.map(Timestamp),
                    sentiment: replied
                        .map(|_| [Sentiment::Positive, Sentiment::Neutral, Sentiment::Negative][sentiment as usize]),
                };
                if let Some(m) = allowed(self.store.create_outreach(&a, m).await) {
                    self.messages.push(m.id);
                }
            }
            Op::DeleteMessage(i) => {
                if let Some(&id) = self.messages.get(i % self.messages.len().max(1)) {
                    allowed(self.store.delete_outreach(&a, id).await);
                }
            }
            Op::RestoreMessage(i) => {
                if let Some(&id) = self.messages.get(i % self.messages.len().max(1)) {
                    allowed(self.store.restore_outreach(&a, id).await);
                }
            }
            Op::DeletePerson(i) => {
                allowed(self.store.delete_person(&a, self.people[i]).await);
            }
            Op::RestorePerson(i) => {
                allowed(self.store.restore_person(&a, self.people[i]).await);
            }
        }
    }

    /// The SQL answers equal the replay for these periods and slices.
    async fn check(&self) {
        let facts = self.store.metric_facts().await.unwrap();
        let now = self.now;
        let midnight = now - now.rem_euclid(DAY);
        // Whole UTC days (rollups alone), partial days at one end or both
        // (rollups and rows), and less than a day (rows alone).
        let periods = [
            Period::new(now - 400 * DAY, now + DAY),
            Period::new(now - 90 * DAY, now),
            Period::new(now - 150 * DAY, now - 60 * DAY),
            Period::new(now - 30 * DAY - 7 * HOUR, now - 29 * DAY),
            Period::new(midnight - 60 * DAY, midnight),
            Period::new(midnight - 90 * DAY, now),
            Period::new(midnight - 45 * DAY + 3 * HOUR, midnight - 2 * DAY),
            Period::new(midnight - DAY, midnight),
        ];
        let mut slices = vec![
            Slice::default(),
            Slice { pipeline: Some(self.pipelines[1]), ..Default::default() },
            Slice { owner: Some(self.users[0]), ..Default::default() },
            Slice { source: Some("inbound".into()), ..Default::default() },
            Slice { campaign: Some(self.campaigns[1]), ..Default::default() },
            Slice { channel: Some(Channel::Email), ..Default::default() },
        ];
        slices.push(Slice { pipeline: Some(self.pipelines[0]), ..slices[2].clone() });
        for p in periods {
            for s in &slices {
                let sql = self.store.activity_inputs(s, p).await.unwrap();
                assert_eq!(sql, activity_inputs(&facts, s, p), "activity inputs, {p:?}, {s:?}");
                let sql = self.store.stage_inputs(s, p).await.unwrap();
                assert_eq!(sql, stage_inputs(&facts, s, p), "stage inputs, {p:?}, {s:?}");
            }
        }
        self.check_forecast(&facts, &slices).await;
    }

    /// The forecast at now from the projections equals the replay's, for
    /// the deal slices; a moment before the latest fact is left to the replay.
    async fn check_forecast(&self, facts: &Facts, slices: &[Slice]) {
        let now = self.now;
        let inputs = self.store.forecast_inputs(now).await.unwrap().expect("nothing is dated after now");
        let history = self.store.stage_inputs(&Slice::default(), Period::year_before(now)).await.unwrap();
        let history = stages_from(&history, &inputs.pipelines, &Slice::default());
        let fields = self.store.deal_field_history_all().await.unwrap();
        let fields_at = |d: &_, t| fields.fields_at(d, t);
        for slice in slices.iter().filter(|s| !s.deals_ignore_slice()) {
            let opts = ForecastOptions {
                slice: slice.clone(),
                period: Some(Period::new(now, now + 90 * DAY)),
                runs: 10_000,
                seed: 7,
                model: Default::default(),
            };
            let replayed = forecast_with_fields(facts, now, &fields_at, &opts);
            assert_eq!(forecast_from_inputs(&inputs, &history, now, &opts), replayed, "forecast, {slice:?}");
        }
        let latest = facts.deals.iter().flat_map(|d| d.events.iter().map(|e| e.at)).max();
        if let Some(t) = latest {
            assert!(self.store.forecast_inputs(t - 1).await.unwrap().is_none(), "an event lies after the moment");
        }
    }
}

async fn rollups(store: &Store) -> Vec<String> {
    let sql = "SELECT kind, day, pipeline_id, k1, k2, k3, n, s1, s2 FROM metric_rollup ORDER BY 1, 2, 3, 4, 5, 6";
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|r| {
            use sqlx::Row;
            let n = |i: usize| r.try_get::<i64, _>(i).unwrap().to_string();
            [n(0), n(1), n(2), n(3), n(4), r.try_get::<String, _>(5).unwrap(), n(6), n(7), n(8)].join(" ")
        })
        .collect()
}

fn stage_patch(version: i64, position: Option<i64>, milestone: Option<Option<Milestone>>) -> StagePatch {
    StagePatch { version, name: None, position, probability: None, rotting_days: None, milestone, archived: None }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn projections_answer_like_a_replay(ops in prop::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let (mut w, _db) = World::new().await;
            for op in ops {
                w.apply(op).await;
            }
            w.check().await;
            // A rebuild from the source tables gives the same daily sums
            // (the ones kept up by adding and subtracting on every write)
            // and the same answers.
            let before = rollups(&w.store).await;
            w.store.rebuild_projections().await.unwrap();
            assert_eq!(rollups(&w.store).await, before, "rollups kept on write differ from a rebuild");
            w.check().await;
            w.store.close().await;
        });
    }
}
