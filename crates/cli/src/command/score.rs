//! `dealflow score explain DEAL_ID [--as-of T]`: a deal's score as its
//! ledger makes it, line by line, with decay shown as arithmetic — the
//! same answer as `GET /api/v1/deals/{id}/score`.

use super::metrics::emit;
use clap::{Args, Subcommand};
use dealflow_core::DealId;
use dealflow_core::time::Timestamp;
use dealflow_store::Store;
use dealflow_store::scoring::DealScore;

#[derive(Debug, Subcommand)]
pub enum ScoreCmd {
    /// Explain a deal's lead score: every ledger entry, decay and caps.
    Explain(Explain),
}

#[derive(Debug, Args)]
pub struct Explain {
    /// The deal's id.
    pub deal_id: i64,
    /// The score as of this moment (RFC 3339); default now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Print the API's JSON instead of the explanation.
    #[arg(long)]
    pub json: bool,
}

impl ScoreCmd {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        match self {
            ScoreCmd::Explain(e) => e.run(store).await,
        }
    }
}

impl Explain {
    async fn run(self, store: &Store) -> anyhow::Result<()> {
        let as_of = match &self.as_of {
            Some(t) => Some(Timestamp::parse(t).map_err(|e| anyhow::anyhow!("--as-of: {e}"))?),
            None => None,
        };
        let s = store.deal_score(DealId(self.deal_id), as_of).await?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&s)?));
        }
        emit(&explain(&s))
    }
}

/// The score in words: one line per contribution, then the groups and
/// the total.
pub fn explain(s: &DealScore) -> String {
    let mut out = format!(
        "Deal {} — score {} (band {}), model {} version {}, as of {}\n",
        s.deal_id,
        s.total,
        s.band.as_deref().unwrap_or("none"),
        s.model_id,
        s.model_version,
        s.as_of.to_rfc3339()
    );
    if s.disqualified {
        out.push_str("Disqualified by its score.\n");
    }
    for c in &s.contributions {
        let how = match c.half_life_days {
            Some(h) if (c.points - c.points_now).abs() >= 0.005 => {
                let days = (s.as_of.0 - c.at.0) as f64 / 86_400_000.0;
                format!("{} × 0.5^({days:.1} d / {h} d) = {}", c.points, c.points_now)
            }
            _ => format!("{}", c.points_now),
        };
        let sign = if c.points_now >= 0.0 { "+" } else { "" };
        out.push_str(&format!("  {sign}{how:<32} {:<10} {:<12} {}\n", c.group.as_str(), c.rule_id, c.fact));
    }
    out.push_str(&format!(
        "fit {} + engagement {} + questions {} = {}\n",
        s.groups.fit, s.groups.engagement, s.groups.questions, s.total
    ));
    for f in &s.firings {
        out.push_str(&format!("{} {} at score {}\n", f.at.to_rfc3339(), f.kind, f.total));
    }
    out
}
