//! Demo organizations, people, campaigns and outreach.

use super::names::*;
use super::{DAY, HISTORY_DAYS, Parties, past, pick};
use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_core::{PersonId, UserId};
use dealflow_store::{Actor, Store};
use rand::Rng;
use rand::rngs::StdRng;

pub async fn seed_parties(store: &Store, rng: &mut StdRng, now: Timestamp, reps: &[UserId]) -> anyhow::Result<Parties> {
    let mut orgs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while orgs.len() < 90 {
        let name = format!("{} {}", pick(rng, ORG_A), pick(rng, ORG_B));
        if !seen.insert(name.clone()) {
            continue;
        }
        let domain = format!("{}.example", name.to_lowercase().replace(' ', ""));
        let created = past(rng, now, HISTORY_DAYS, HISTORY_DAYS + 60);
        let actor = Actor { user_id: Some(*pick(rng, reps)), ..Actor::system() };
        let o = store
            .create_organization(
                &actor,
                NewOrganization {
                    name,
                    domain: Some(domain),
                    industry: Some(pick(rng, INDUSTRIES).to_string()),
                    employees: Some(rng.random_range(5..5000)),
                    country: Some(pick(rng, COUNTRIES).to_string()),
                    owner_id: actor.user_id,
                    custom: None,
                    created_at: Some(created),
                },
            )
            .await?;
        orgs.push(o);
    }
    let mut people = Vec::new();
    for (i, o) in orgs.iter().enumerate() {
        let n = rng.random_range(1..=3);
        for _ in 0..n {
            let first = pick(rng, FIRST);
            let last = pick(rng, LAST);
            let domain = o.domain.clone().unwrap_or_default();
            let email =
                format!("{}.{}{}@{domain}", first.to_lowercase(), last.to_lowercase().replace('ü', "ue"), people.len());
            let actor = Actor { user_id: o.owner_id, ..Actor::system() };
            let source = ["outbound", "inbound", "referral", "event"][rng.random_range(0..4)];
            let p = store
                .create_person(
                    &actor,
                    NewPerson {
                        name: format!("{first} {last}"),
                        emails: vec![email],
                        phones: vec![format!("+1 555 {:04}", rng.random_range(0..10000))],
                        job_title: Some(pick(rng, TITLES).to_string()),
                        organization_id: Some(o.id),
                        owner_id: o.owner_id,
                        source: Some(source.into()),
                        do_not_email: false,
                        custom: None,
                        created_at: Some(Timestamp(o.created_at.0 + rng.random_range(0..10) * DAY)),
                    },
                )
                .await?;
            people.push((p.id, i));
        }
    }
    Ok(Parties { orgs, people })
}

/// Four campaigns and about 1,200 messages over the history, with replies
/// (about one in six) and their sentiment.
pub async fn seed_outreach(
    store: &Store,
    rng: &mut StdRng,
    now: Timestamp,
    people: &[(PersonId, usize)],
) -> anyhow::Result<()> {
    let sys = Actor::system();
    let mut campaigns = Vec::new();
    for (name, channel) in [
        ("Outbound email: operations leaders", Channel::Email),
        ("LinkedIn: SaaS founders", Channel::Linkedin),
        ("Webinar follow-up", Channel::Email),
        ("Cold call blitz", Channel::Call),
    ] {
        let c = store
            .create_campaign(
                &sys,
                NewCampaign {
                    name: name.into(),
                    channel: Some(channel),
                    created_at: Some(past(rng, now, HISTORY_DAYS, HISTORY_DAYS)),
                },
            )
            .await?;
        campaigns.push(c);
    }
    for _ in 0..1200 {
        let (person, _) = *pick(rng, people);
        let c = pick(rng, &campaigns);
        let sent = past(rng, now, 0, HISTORY_DAYS - 1);
        let replied = rng.random_bool(0.17).then(|| Timestamp((sent.0 + rng.random_range(1..5 * DAY)).min(now.0)));
        let sentiment = replied.map(|_| match rng.random_range(0..10) {
            0..=4 => Sentiment::Positive,
            5..=7 => Sentiment::Neutral,
            _ => Sentiment::Negative,
        });
        store
            .create_outreach(
                &sys,
                NewOutreachMessage {
                    person_id: person,
                    campaign_id: Some(c.id),
                    channel: c.channel,
                    sent_at: Some(sent),
                    replied_at: replied,
                    sentiment,
                },
            )
            .await?;
    }
    Ok(())
}
