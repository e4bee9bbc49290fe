-- Playbooks: an ordered checklist of steps per stage, the state of each
-- step for each deal, every tick and untick, and the override recorded on
-- a stage event that moved a deal past open required steps.

-- One step of a stage's checklist. Soft-deleted (deleted_at), so the
-- state rows and ticks of deals keep pointing at it. `value` holds the
-- JSON of a field step's condition; the template and due columns are NULL
-- for the kinds that have none.
CREATE TABLE playbook_steps (
    id BIGINT PRIMARY KEY,
    stage_id BIGINT NOT NULL REFERENCES stages(id),
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    required BIGINT NOT NULL,
    kind TEXT NOT NULL,
    send TEXT,
    template_subject TEXT,
    template_body TEXT,
    due_anchor TEXT,
    due_offset_minutes BIGINT,
    due_offset_working_days BIGINT,
    field TEXT,
    op TEXT,
    value TEXT,
    activity_kind TEXT,
    campaign_id BIGINT REFERENCES campaigns(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX playbook_steps_stage ON playbook_steps(stage_id, position);

-- The state of one step for one deal: made when the deal enters the
-- step's stage, kept when it leaves (a re-entry reopens what was not done
-- and keeps what was). `activity_id` is the task the step made, if any.
CREATE TABLE deal_steps (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    step_id BIGINT NOT NULL REFERENCES playbook_steps(id),
    status TEXT NOT NULL,
    due_at BIGINT,
    done_at BIGINT,
    done_by BIGINT REFERENCES users(id),
    activity_id BIGINT REFERENCES activities(id),
    reason TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (deal_id, step_id)
);

-- Append-only: every tick (done = 1) and untick (done = 0) of a step.
CREATE TABLE deal_step_ticks (
    id BIGINT PRIMARY KEY,
    deal_id BIGINT NOT NULL REFERENCES deals(id),
    step_id BIGINT NOT NULL REFERENCES playbook_steps(id),
    done BIGINT NOT NULL,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id)
);
CREATE INDEX deal_step_ticks_deal ON deal_step_ticks(deal_id, at);

-- A move past open required steps: the reason given, who overrode and the
-- open steps (a JSON array of {id, title}).
ALTER TABLE stage_events ADD COLUMN override_reason TEXT;
ALTER TABLE stage_events ADD COLUMN override_by BIGINT REFERENCES users(id);
ALTER TABLE stage_events ADD COLUMN override_steps TEXT;
CREATE INDEX stage_events_override ON stage_events(override_reason, at);
