//! Where the tests find the Maven data set: the unchanged copy shipped in
//! `examples/maven/data/`. A missing or altered file fails the test with a
//! message saying what is wrong; it never skips.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The published SHA-256 of `sales_pipeline.csv` (see examples/maven/data/README.md).
const SALES_PIPELINE_SHA256: &str = "02f44c2ccd46a1c7d7c1d2e568a7504c15560e11b3cdb330a0a8229a1a365421";

/// The folder holding the four Maven CSV files, checked.
pub fn maven_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maven/data");
    let file = dir.join("sales_pipeline.csv");
    let bytes = std::fs::read(&file).unwrap_or_else(|e| {
        panic!("the Maven data set is missing: cannot read {} ({e}); it ships in examples/maven/data/", file.display())
    });
    let sum = hex::encode(Sha256::digest(&bytes));
    assert_eq!(
        sum,
        SALES_PIPELINE_SHA256,
        "{} differs from the published data set (SHA-256 {sum}); restore the original file",
        file.display()
    );
    for f in ["accounts.csv", "products.csv", "sales_teams.csv"] {
        assert!(dir.join(f).is_file(), "the Maven data set is incomplete: {} is missing", dir.join(f).display());
    }
    dir
}
