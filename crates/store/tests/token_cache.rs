//! API tokens answer from a short cache: a change made through this
//! process (a revoke, a role change) holds for the next request at once,
//! and one made by another process (here a second store on the same
//! database, as a second `serve` or the CLI would be) within the cache's
//! lifetime.

use dealflow_core::model::Role;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, Store, TOKEN_CACHE_TTL, UserChange};

async fn token_of(store: &Store, email: &str) -> (dealflow_core::model::User, dealflow_core::TokenId, String) {
    let actor = Actor::system();
    let user = store.create_user(&actor, email, "Tess", Role::Rep, "not a real hash", None).await.expect("user");
    let digest = format!("digest-of-{email}");
    let token = store.create_token(&actor, user.id, "script", &digest).await.expect("token");
    (user, token.id, digest)
}

#[tokio::test]
async fn changes_here_hold_at_once_and_changes_elsewhere_within_the_cache_lifetime() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let here = db.open().await.expect("open");
    let elsewhere = db.open().await.expect("open a second store");
    let now = Timestamp::now;

    // A role change made here: the next lookup sees the new role.
    let (user, _, digest) = token_of(&here, "tess@example.com").await;
    let seen = here.token_user(&digest, now()).await.expect("lookup").expect("a valid token");
    assert_eq!(seen.user.role, Role::Rep);
    let change = UserChange { role: Some(Role::Manager), ..Default::default() };
    here.update_user(&Actor::system(), user.id, user.version, change).await.expect("promote");
    let seen = here.token_user(&digest, now()).await.expect("lookup").expect("still valid");
    assert_eq!(seen.user.role, Role::Manager, "a cached token must not keep the old role");

    // A revoke made here: refused at once.
    let (_, id, digest) = token_of(&here, "rev@example.com").await;
    assert!(here.token_user(&digest, now()).await.expect("lookup").is_some());
    here.revoke_token(&Actor::system(), id).await.expect("revoke");
    assert!(here.token_user(&digest, now()).await.expect("lookup").is_none(), "a revoked token must stop at once");

    // A revoke made by another process: this one's cache still answers
    // for at most its lifetime, then the token is read again and refused.
    let (_, id, digest) = token_of(&here, "far@example.com").await;
    assert!(here.token_user(&digest, now()).await.expect("lookup").is_some());
    elsewhere.revoke_token(&Actor::system(), id).await.expect("revoke elsewhere");
    assert!(elsewhere.token_user(&digest, now()).await.expect("lookup").is_none());
    tokio::time::sleep(TOKEN_CACHE_TTL + std::time::Duration::from_millis(100)).await;
    assert!(
        here.token_user(&digest, now()).await.expect("lookup").is_none(),
        "a token revoked elsewhere must stop within the cache's lifetime"
    );
}
