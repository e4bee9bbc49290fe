//! `dealflow user add`: create an account from the command line.

use anyhow::{Context, bail};
use clap::Subcommand;
use dealflow_core::model::{NewUser, Role};
use dealflow_store::{Actor, Store};
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user. The password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager or rep.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
}

impl UserCmd {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        match self {
            UserCmd::Add { email, name, role, password_stdin } => {
                if !password_stdin {
                    bail!(
                        "pass --password-stdin and pipe the password in, e.g. `echo \"$PW\" | dealflow user add ... --password-stdin`"
                    );
                }
                let mut pw = String::new();
                std::io::stdin().read_to_string(&mut pw).context("cannot read the password from standard input")?;
                let password = pw.trim_end_matches(['\n', '\r']).to_string();
                let user = dealflow_server::api::users::add_user(
                    store,
                    &Actor::cli(),
                    NewUser { email, name, role, password, locale: None },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?;
                println!("created {} user {} ({})", user.role, user.email, user.id);
                Ok(())
            }
        }
    }
}
