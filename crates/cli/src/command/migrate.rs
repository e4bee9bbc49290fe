//! `dealflow migrate`: opening the store applies pending migrations.

use dealflow_store::Store;

pub async fn run(_store: &Store) -> anyhow::Result<()> {
    println!("database schema is up to date");
    Ok(())
}
