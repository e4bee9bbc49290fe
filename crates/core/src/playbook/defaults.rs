//! The playbook a new workspace starts with: the procedure sales teams
//! describe for a booked demo (confirm it, send a case study the working
//! day before, remind two hours before, follow up after, then move the
//! prospect into nurture). Every step is required; the e-mails are drafts
//! (a task with the filled-in text for the rep), so a workspace without a
//! mail server is never blocked by them, and an admin can switch them to
//! `auto` once SMTP works.

use super::{Due, DueAnchor, SendMode, StepKind, StepSpec, Template};
use crate::CampaignId;

/// The stage of the default pipeline that carries the default playbook.
pub const DEFAULT_PLAYBOOK_STAGE: &str = "Demo booked";

/// The campaign the nurture step enrols people in, created with it.
pub const NURTURE_CAMPAIGN: &str = "Nurture";

/// An e-mail step in draft mode.
fn email(title: &str, description: &str, subject: &str, body: &str, due: Due) -> StepSpec {
    StepSpec {
        title: title.to_string(),
        description: Some(description.to_string()),
        required: true,
        kind: StepKind::Email,
        send: Some(SendMode::Draft),
        template: Some(Template { subject: subject.to_string(), body: body.to_string() }),
        due: Some(due),
        field: None,
        op: None,
        value: None,
        activity_kind: None,
        campaign_id: None,
    }
}

fn minutes(anchor: DueAnchor, m: i64) -> Due {
    Due { anchor, offset_minutes: Some(m), offset_working_days: None }
}

/// The five steps of "Demo booked", in order, the last one enrolling the
/// deal's person in `nurture`.
pub fn demo_booked_steps(nurture: CampaignId) -> Vec<StepSpec> {
    vec![
        email(
            "Confirm the meeting",
            "Confirm the date and time of the demo as soon as it is booked.",
            "Our meeting on {{meeting.date}} at {{meeting.time}}",
            "Hello {{person.first_name}},\n\nthank you for booking a demo with us. \
             This confirms our meeting on {{meeting.date}} at {{meeting.time}}.\n\n\
             Best regards,\n{{owner.name}}",
            minutes(DueAnchor::StageEntered, 0),
        ),
        email(
            "Send a case study",
            "One working day before the demo, send a case study that fits the prospect.",
            "Before our meeting: how others use it",
            "Hello {{person.first_name}},\n\nahead of our meeting on {{meeting.date}} at {{meeting.time}}, \
             here is a short case study of a team like yours.\n\nBest regards,\n{{owner.name}}",
            Due { anchor: DueAnchor::Meeting, offset_minutes: None, offset_working_days: Some(-1) },
        ),
        email(
            "Send a reminder",
            "Two hours before the demo, remind the prospect of it.",
            "See you at {{meeting.time}}",
            "Hello {{person.first_name}},\n\na quick reminder of our meeting today, {{meeting.date}}, \
             at {{meeting.time}}. Looking forward to it.\n\nBest regards,\n{{owner.name}}",
            minutes(DueAnchor::Meeting, -120),
        ),
        email(
            "Follow up",
            "Right after the demo, send the points discussed and set the next date.",
            "Thank you for your time, {{person.first_name}}",
            "Hello {{person.name}},\n\nthank you for the meeting on {{meeting.date}}. \
             Here are the points we discussed:\n\n- \n\nShall we set our next call?\n\n\
             Best regards,\n{{owner.name}}",
            minutes(DueAnchor::Meeting, 60),
        ),
        StepSpec {
            title: "Move into nurture".to_string(),
            description: Some("Enrol the prospect in the nurture campaign.".to_string()),
            required: true,
            kind: StepKind::Campaign,
            send: None,
            template: None,
            due: None,
            field: None,
            op: None,
            value: None,
            activity_kind: None,
            campaign_id: Some(nurture),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{Refs, check_spec};

    #[test]
    fn the_default_steps_pass_their_own_validation() {
        let refs = Refs { campaign_exists: true, ..Refs::default() };
        let steps = demo_booked_steps(CampaignId(7));
        assert_eq!(steps.len(), 5);
        for s in &steps {
            let checked = check_spec(s, &refs).unwrap_or_else(|e| panic!("{}: {e:?}", s.title));
            assert_eq!(&checked, s, "already in the form validation leaves");
        }
        assert_eq!(steps[4].campaign_id, Some(CampaignId(7)));
    }
}
