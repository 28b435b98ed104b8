//! A reference WhatsApp Business gateway with Linewall in the message path
//! (docs/11-gateway.md), and a simulator of the Graph API and Twilio for tests and demos.

pub mod config;
pub mod content;
pub mod db;
pub mod flow;
pub mod http;
pub mod judge;
pub mod rules;
pub mod send;
pub mod sim;
pub mod wire;

use std::sync::Arc;

/// Starts the gateway on `cfg.listen`; returns the bound address and the server task.
pub async fn serve(
    cfg: config::Config,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
    let addr = listener.local_addr()?;
    let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let app = Arc::new(flow::App {
        db: db::Db::open(&cfg.db_path)?,
        judge: judge::Judge::new(&cfg)?,
        http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?,
        public_url,
        cfg,
    });
    tokio::spawn(flow::worker(Arc::clone(&app)));
    let router = http::router(app);
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((addr, task))
}
