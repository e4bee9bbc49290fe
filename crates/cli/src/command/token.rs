//! `dealflow token create`: an API token for a user, printed once.

use clap::Subcommand;
use dealflow_store::{Actor, Store};

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create an API token; the token is printed alone on the last line.
    Create {
        /// The user's e-mail.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

impl TokenCmd {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        match self {
            TokenCmd::Create { user, name } => {
                let Some((u, _)) = store.user_by_email(&user).await? else {
                    anyhow::bail!("no user with e-mail {user}; create one with `dealflow user add`");
                };
                let t = dealflow_server::api::users::issue_token(store, &Actor::cli(), u.id, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?;
                println!("API token for {} (shown once; send it as `Authorization: Bearer <token>`):", u.email);
                println!("{}", t.secret);
                Ok(())
            }
        }
    }
}
