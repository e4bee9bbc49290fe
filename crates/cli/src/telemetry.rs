//! Tracing set-up, once per process. `RUST_LOG` overrides the default
//! level (`info` for dealflow, `warn` for libraries).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("warn,dealflow=info,dealflow_server=info,dealflow_store=info,tower_http=info")
    });
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
