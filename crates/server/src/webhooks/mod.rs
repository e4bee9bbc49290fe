//! Outgoing webhooks, the server's half: signing (`sign.rs`), the guard on
//! where deliveries may go (`target.rs`) and the HTTP post (`post.rs`).
//! The store keeps subscriptions, messages and the delivery log; the job
//! handlers in `jobs/webhooks.rs` tie them together.

pub mod post;
pub mod sign;
pub mod target;
