//! `cars serve`: parses the flags, reads the token, and hands over to the service
//! front end (`crate::serve::api`).

use super::Outcome;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
export CARS_TOKEN=$(openssl rand -hex 32)\n  \
cars serve --listen 127.0.0.1:8003 --allow-root /srv/repos --webhook http://ci.local/hook\n  \
curl -X POST localhost:8003/api/automation/start -H \"Authorization: Bearer $CARS_TOKEN\" \\\n    \
-d '{\"project_path\": \"/srv/repos/app\", \"auto_fix\": true, \"max_concurrent_repairs\": 2}'\n  \
curl localhost:8003/api/automation/active-orchestrators\n  \
curl localhost:8003/metrics\n\n\
Every write route needs `Authorization: Bearer <token>` (the token from CARS_TOKEN or \
--token-file); without a token the service is read-only. Beyond loopback every route but \
/health needs it, and cars refuses to start without one. Projects must lie under an \
--allow-root (symlinks are resolved first). A project's own .cars.toml stays untrusted \
until `cars trust`. Routes: docs/openapi.json; the status page is at /.")]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed on start)
    #[arg(long, default_value = "127.0.0.1:8003", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,

    /// Redis URL, for the queue figures in /metrics (redis://127.0.0.1:6379)
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,

    /// Read the bearer token from this file [default: the CARS_TOKEN variable]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Projects must lie under this directory (repeatable)
    #[arg(long = "allow-root", value_name = "DIR")]
    pub allow_root: Vec<PathBuf>,

    /// Post each repair outcome as JSON to this URL (repeatable)
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,

    /// Post each repair outcome to this Slack incoming webhook
    #[arg(long, value_name = "URL")]
    pub slack_webhook: Option<String>,
}

fn read_token(file: Option<&Path>) -> anyhow::Result<Option<String>> {
    let token = match file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?,
        ),
        None => std::env::var("CARS_TOKEN").ok(),
    };
    let token = token
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &token {
        if t.len() < 16 {
            anyhow::bail!("the token is {} characters; use at least 16", t.len());
        }
    }
    Ok(token)
}

pub fn run(args: ServeArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let token = read_token(args.token_file.as_deref())?;
    for url in args.webhook.iter().chain(&args.slack_webhook) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("webhook {url}: give an http:// or https:// URL");
        }
    }
    if args.allow_root.is_empty() {
        eprintln!("cars serve: no --allow-root given: every request naming a project is refused");
    }
    if token.is_none() {
        eprintln!("cars serve: no token (CARS_TOKEN or --token-file): the API is read-only");
    }
    let cfg = crate::serve::api::ServeConfig {
        listen: args.listen,
        redis: args.redis,
        token,
        allow_roots: args.allow_root,
        webhooks: args.webhook,
        slack_webhook: args.slack_webhook,
        store_dir: store_dir.map(Path::to_path_buf),
    };
    crate::serve::api::serve(cfg, |addr| {
        eprintln!("cars serve: listening on http://{addr}");
    })?;
    Ok(Outcome::Clean)
}
