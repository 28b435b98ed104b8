//! `whatsapp-sim`: Graph API + Twilio simulator (and CRM sink) for tests and the demo.

use whatsapp_gateway::sim::{Sim, SimConfig, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let listen = std::env::var("SIM_LISTEN").unwrap_or_else(|_| "127.0.0.1:9090".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let sim = Sim::new(SimConfig::from_env());
    if let Ok(url) = std::env::var("SIM_GATEWAY_URL") {
        sim.set_gateway_url(url);
    }
    println!("listening on http://{}", listener.local_addr()?);
    tokio::select! {
        r = axum::serve(listener, router(sim)) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
