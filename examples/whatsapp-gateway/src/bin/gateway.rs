//! `whatsapp-gateway`: the reference gateway (configuration by environment, docs/11-gateway.md).

use whatsapp_gateway::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = Config::from_env()?;
    let (addr, task) = whatsapp_gateway::serve(cfg).await?;
    // Tests and scripts read this line to learn the port when GATEWAY_LISTEN ends in :0.
    println!("listening on http://{addr}");
    tokio::select! {
        r = task => r??,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
