-- Campaign membership: who is in a campaign, since when, and how they got
-- there (a user adding them, or a playbook's campaign step ticked on a
-- deal). Leaving keeps the row with `left_at` and who removed them, so the
-- person's timeline shows both; joining again makes a new row.
CREATE TABLE campaign_members (
    id BIGINT PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    joined_at BIGINT NOT NULL,
    joined_by BIGINT REFERENCES users(id),
    step_id BIGINT REFERENCES playbook_steps(id),
    deal_id BIGINT REFERENCES deals(id),
    left_at BIGINT,
    left_by BIGINT REFERENCES users(id)
);
-- One current membership per person and campaign.
CREATE UNIQUE INDEX campaign_members_current ON campaign_members(campaign_id, person_id) WHERE left_at IS NULL;
CREATE INDEX campaign_members_person ON campaign_members(person_id, joined_at);
