//! API tests: the real server on a loopback port, a fresh SQLite database
//! per test, and real HTTP. One binary, a module per feature.

mod helpers;

mod activities;
mod auth;
mod bad_input;
mod deals;
mod metrics;
mod openapi;
mod outage;
mod parties;
mod web;
