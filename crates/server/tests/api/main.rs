//! API tests: the real server on a loopback port, a fresh SQLite database
//! per test, and real HTTP. One binary, a module per feature.

mod helpers;

mod activities;
mod admin_pages;
mod audit;
mod auth;
mod bad_input;
mod campaign_members;
mod compliance;
mod compression;
mod connect;
mod deal_page;
mod deals;
mod default_playbook;
mod exports;
mod forecast;
mod forms;
mod goals;
mod insights_page;
mod jobs;
mod lists;
mod mail;
mod metrics;
mod openapi;
mod outage;
mod parties;
mod permissions;
mod pipeline_audits;
mod playbook_changes;
mod playbook_pages;
mod playbook_rules;
mod playbooks;
mod receiver;
mod roles;
mod scoring;
mod security;
mod seeded_checklist;
mod sink;
mod step_preview;
mod text_input;
mod venv;
mod web;
mod webhooks;
