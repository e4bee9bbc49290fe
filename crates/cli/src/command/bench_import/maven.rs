//! Maven-shaped import files of any size, from a fixed seed: the accounts
//! of the shipped Maven data set (examples/maven/data/) as the organizations
//! file, and deal rows with its columns, agents, accounts and products, in
//! its proportions (48 % won, 28 % lost, 18 % engaging, 6 % prospecting;
//! products as often as there; two thirds of open rows without an account;
//! engage dates over its 14 months; won values around the list price).

use anyhow::Context;
use chrono::{Days, NaiveDate};
use std::io::{BufWriter, Write};
use std::path::Path;

/// The shipped accounts file, written unchanged as the organizations file.
const ACCOUNTS: &str = include_str!("../../../../../examples/maven/data/accounts.csv");
/// The shipped sales teams: the agents deals are owned by.
const TEAMS: &str = include_str!("../../../../../examples/maven/data/sales_teams.csv");

/// Products with the data set's counts of rows (its `GTXPro` misspelling
/// included) and list prices.
const PRODUCTS: [(&str, u64, f64); 7] = [
    ("GTX Basic", 1866, 550.0),
    ("MG Special", 1651, 55.0),
    ("GTXPro", 1480, 4821.0),
    ("MG Advanced", 1412, 3393.0),
    ("GTX Plus Basic", 1383, 1096.0),
    ("GTX Plus Pro", 968, 5482.0),
    ("GTK 500", 40, 26768.0),
];

/// The seed of every generated file: the same `rows` give the same bytes.
const SEED: u64 = 0x6d61_7665_6e00_0001;

/// A small, fast, seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The first column of every data line of a shipped CSV file (names hold no comma).
fn first_column(csv: &str) -> Vec<&str> {
    csv.lines().skip(1).filter_map(|l| l.split(',').next()).filter(|s| !s.is_empty()).collect()
}

/// An 8-character opportunity id, distinct for every `i` below 36⁸: `i`
/// times a number coprime to 36⁸, modulo 36⁸, in base 36.
fn opportunity_id(i: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut n = i.wrapping_mul(2_654_435_761) % 36u64.pow(8);
    let mut out = [b'0'; 8];
    for c in out.iter_mut().rev() {
        *c = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `accounts.csv` and a `sales_pipeline.csv` of `rows` deal rows
/// into `dir`; returns the two paths.
pub fn write_files(dir: &Path, rows: usize) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let accounts_path = dir.join("accounts.csv");
    std::fs::write(&accounts_path, ACCOUNTS).with_context(|| format!("write {}", accounts_path.display()))?;
    let accounts = first_column(ACCOUNTS);
    let agents = first_column(TEAMS);
    anyhow::ensure!(!accounts.is_empty() && !agents.is_empty(), "the shipped Maven files are empty");
    let deals_path = dir.join("sales_pipeline.csv");
    let file = std::fs::File::create(&deals_path).with_context(|| format!("create {}", deals_path.display()))?;
    let mut out = BufWriter::new(file);
    writeln!(out, "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value")?;
    let first_engage = NaiveDate::from_ymd_opt(2016, 10, 20).context("a valid date")?;
    let weight: u64 = PRODUCTS.iter().map(|p| p.1).sum();
    let mut rng = Rng(SEED);
    for i in 0..rows {
        let stage = match rng.unit() {
            x if x < 0.4816 => "Won",
            x if x < 0.7626 => "Lost",
            x if x < 0.9432 => "Engaging",
            _ => "Prospecting",
        };
        let mut pick = rng.next() % weight;
        let &(product, _, price) = PRODUCTS
            .iter()
            .find(|p| {
                let hit = pick < p.1;
                pick = pick.saturating_sub(p.1);
                hit
            })
            .unwrap_or(&PRODUCTS[0]);
        let agent = agents[rng.below(agents.len())];
        let closed = matches!(stage, "Won" | "Lost");
        let account = if closed || rng.unit() < 0.32 { accounts[rng.below(accounts.len())] } else { "" };
        let (mut engage, mut close, mut value) = (String::new(), String::new(), String::new());
        if stage != "Prospecting" {
            let day = first_engage + Days::new(rng.below(434) as u64);
            engage = day.format("%Y-%m-%d").to_string();
            if closed {
                close = (day + Days::new(1 + rng.below(95) as u64)).format("%Y-%m-%d").to_string();
                value = if stage == "Won" { format!("{:.0}", price * (0.66 + 0.68 * rng.unit())) } else { "0".into() };
            }
        }
        writeln!(out, "{},{agent},{product},{account},{stage},{engage},{close},{value}", opportunity_id(i as u64))?;
    }
    out.flush().with_context(|| format!("write {}", deals_path.display()))?;
    Ok((accounts_path, deals_path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn opportunity_ids_are_distinct_and_eight_characters() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(super::opportunity_id).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(ids.iter().all(|i| i.len() == 8));
    }

    #[test]
    fn the_same_rows_give_the_same_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).expect("a folder");
            super::write_files(d, 500).expect("files");
        }
        let read = |d: &std::path::Path| std::fs::read(d.join("sales_pipeline.csv")).expect("read");
        assert_eq!(read(&a), read(&b));
        let text = String::from_utf8(read(&a)).expect("utf-8");
        assert_eq!(text.lines().count(), 501);
        assert!(text.lines().skip(1).all(|l| l.split(',').count() == 8), "eight cells a row");
    }
}
