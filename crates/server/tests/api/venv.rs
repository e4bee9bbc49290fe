//! The Python of the test tools' environment (`target/test-venv`, made by
//! `scripts/lib/venv.sh`), for the tests that run a Python helper (the SMTP
//! sink, the webhook receiver). A crate root that includes those helpers by
//! path includes this one too, as `crate::venv`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment's `python`, after checking that it can import `module`;
/// a missing environment fails the test and says how to make it.
pub fn python_with(module: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv =
        std::env::var_os("DEALFLOW_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| root.join("target/test-venv"));
    let exe = venv.join("bin/python");
    let has_it = exe.is_file()
        && Command::new(&exe).args(["-c", &format!("import {module}")]).status().is_ok_and(|s| s.success());
    assert!(
        has_it,
        "{module} is not installed in {}; run scripts/test, or scripts/lib/venv.sh to make the environment",
        venv.display()
    );
    exe
}
