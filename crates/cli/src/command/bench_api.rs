//! `dealflow bench api`: the REST API over loopback on a generated
//! workspace, driven by wrk, next to a floor measured in the same run: the
//! same reads as plain SQL, with no HTTP, no token check and no decoding
//! into records. On SQLite the floor is a tight loop of the list's and the
//! single deal's prepared statements from as many tasks as wrk has
//! connections; on PostgreSQL it is that loop and pgbench with a script of
//! the same statement. Figures, never a pass or fail.

use super::bench_api_load::{Load, Op, floor_loop, pgbench, wrk, wrk_installed};
use super::bench_metrics::kept_workspace;
use anyhow::Context;
use clap::Args;
use dealflow_store::generate::{GenOptions, generate};
use dealflow_store::{Actor, DealFilter, Page, PoolSettings, Store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct ApiBench {
    /// Deals in the generated workspace.
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep the SQLite workspace in this folder and reuse it (the same
    /// file as `bench metrics --keep`).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Seconds each operation is measured, after a warm-up of a fifth of it.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

/// The three operations of the issue's table, with their connections.
const OPS: [Op; 3] = [
    Op { name: "GET /api/v1/deals?limit=50", connections: 32, floor: Some(LIST_SQL) },
    Op { name: "GET /api/v1/deals/{id}", connections: 32, floor: Some(ONE_SQL) },
    Op { name: "POST /api/v1/deals", connections: 16, floor: None },
];

/// What `GET /api/v1/deals?limit=50` asks the database, with `$1` bound to
/// 51 (a page of 50 and one more to know whether a next page exists). The
/// limit stays a parameter as in the API: PostgreSQL plans a literal limit
/// differently.
const LIST_SQL: &str = "SELECT * FROM deals WHERE deleted_at IS NULL ORDER BY id DESC LIMIT $1";
/// What `GET /api/v1/deals/{id}` asks it; `$1` is the deal's id.
const ONE_SQL: &str = "SELECT * FROM deals WHERE id = $1 AND deleted_at IS NULL";

impl ApiBench {
    /// `database` is the global `--database`: a PostgreSQL URL (an empty
    /// database) runs the bench there; anything else runs it on SQLite.
    pub async fn run(self, database: &str) -> anyhow::Result<()> {
        wrk_installed()?;
        let postgres = database.starts_with("postgres://") || database.starts_with("postgresql://");
        let keep = self.keep.clone();
        super::bench::in_bench_dir(keep.as_deref(), |dir| async move {
            let url = if postgres {
                let store = Store::open(database, &PoolSettings::default()).await.context("open the bench database")?;
                let any = store.list_deals(&DealFilter::default(), Page { limit: 1, before: None }).await?;
                anyhow::ensure!(any.items.is_empty(), "the bench database holds deals; give an empty one");
                let t = Instant::now();
                generate(&store, &GenOptions { seed: self.seed, ..GenOptions::new(self.deals) }).await?;
                eprintln!("generated {} deals in {:.1} s", self.deals, t.elapsed().as_secs_f64());
                store.close().await;
                database.to_string()
            } else {
                let (file, _, _) = kept_workspace(&dir, self.deals, self.seed).await?;
                format!("sqlite:{}", file.display())
            };
            self.measure(&url, &dir, if postgres { "PostgreSQL" } else { "SQLite" }).await
        })
        .await
    }

    async fn measure(&self, url: &str, dir: &Path, engine: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let token = api_token(&store).await?;
        let newest = store.list_deals(&DealFilter::default(), Page { limit: 1, before: None }).await?;
        let deal = newest.items.first().context("the workspace has no deals")?.id;
        let pipeline = store.pipelines().await?.first().context("the workspace has no pipeline")?.id;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("listen on loopback")?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = dealflow_server::AppState::new(store.clone(), Default::default());
        let server = tokio::spawn(dealflow_server::serve(listener, state, async {
            let _ = stopped.await;
        }));

        let seconds = Duration::from_secs(self.seconds);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let build = if cfg!(debug_assertions) { "debug" } else { "release" };
        println!(
            "REST API on {} deals, {engine}, {build} build, {cores} cores, {} s per figure",
            self.deals, self.seconds
        );
        println!(
            "{:<28} {:>5} {:>9} {:>9} {:>9}   {:>9} {:>9} {:>9}  {:>6}",
            "", "conns", "req/s", "p50", "p99", "floor/s", "p50", "p99", "ratio"
        );
        for op in OPS {
            let path = match op.name {
                "GET /api/v1/deals/{id}" => format!("/api/v1/deals/{deal}"),
                "GET /api/v1/deals?limit=50" => "/api/v1/deals?limit=50".into(),
                _ => "/api/v1/deals".into(),
            };
            let post = op
                .floor
                .is_none()
                .then(|| format!(r#"{{"title":"Bench deal","value":125000,"pipeline_id":"{pipeline}"}}"#));
            let api = wrk(dir, &base, &path, &token, post.as_deref(), op.connections, seconds).await?;
            // The floor's one parameter: the page size plus one, or the deal.
            let bind = if op.floor == Some(LIST_SQL) { 51 } else { deal.0 };
            let floor = match op.floor {
                Some(sql) => Some(floor_loop(&store, sql, bind, op.connections, seconds).await?),
                None => None,
            };
            print_row(op, &api, floor.as_ref());
            if let (Some(sql), true) = (op.floor, engine == "PostgreSQL") {
                match tokio::task::block_in_place(|| pgbench(dir, url, sql, bind, op.connections, seconds)) {
                    Ok(Some(tps)) => {
                        println!("{:<28} {:>5} {:>9} {:>9} {:>9}   {tps:>9.0}  (pgbench, prepared)", "", "", "", "", "")
                    }
                    Ok(None) => println!("{:<28} pgbench not found beside PostgreSQL; only the loop above", ""),
                    Err(e) => println!("{:<28} pgbench failed: {e:#}", ""),
                }
            }
        }
        let _ = stop.send(());
        server.await.context("join the server")?.context("the server stopped with an error")?;
        store.close().await;
        Ok(())
    }
}

fn print_row(op: Op, api: &Load, floor: Option<&Load>) {
    let ms = |v: f64| format!("{v:.2} ms");
    let (f, f50, f99, ratio) = match floor {
        Some(f) => (
            format!("{:.0}", f.per_sec),
            ms(f.p50_ms),
            ms(f.p99_ms),
            format!("{:.2}×", f.per_sec / api.per_sec.max(1e-9)),
        ),
        None => ("—".into(), "—".into(), "—".into(), "".into()),
    };
    println!(
        "{:<28} {:>5} {:>9.0} {:>9} {:>9}   {f:>9} {f50:>9} {f99:>9}  {ratio:>6}",
        op.name,
        op.connections,
        api.per_sec,
        ms(api.p50_ms),
        ms(api.p99_ms)
    );
}

/// A new API token of the bench user.
async fn api_token(store: &Store) -> anyhow::Result<String> {
    let user = super::bench::bench_user(store).await?;
    let t = dealflow_server::api::users::issue_token(store, &Actor::system(), user.id, "bench api")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?;
    Ok(t.secret)
}
