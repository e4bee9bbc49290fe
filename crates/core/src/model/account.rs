//! Users and API tokens.

use crate::text_enum;
use crate::time::Timestamp;
use crate::{TokenId, UserId};
use serde::{Deserialize, Serialize};

text_enum!(
    /// What a user may do: admins change settings and users; managers run
    /// audits and goals; reps work their deals.
    Role { Admin = "admin", Manager = "manager", Rep = "rep" }
);

/// A user account. The password hash never leaves the store.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// A deactivated user cannot sign in; its sessions and tokens stop working.
    pub active: bool,
    /// Preferred UI language (`en`, `zh-CN`); none means the browser's.
    pub locale: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// An API token as listed: the secret itself is shown once, at creation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
    pub locale: Option<String>,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub version: i64,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// A new password. It ends the user's other sessions and revokes their
    /// other API tokens; only the session or token making the change stays.
    pub password: Option<String>,
    /// Required with `password` when changing your own: the password now in
    /// use. An admin resetting someone else's password sends none.
    pub current_password: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
}

/// Minimum password length; long passphrases beat complexity rules.
pub const MIN_PASSWORD_LEN: usize = 10;
