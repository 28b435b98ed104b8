//! `whatsapp-demo`: drives a running gateway and simulator.
//!
//! - `whatsapp-demo script GATEWAY_URL SIM_URL` plays the scripted conversation of
//!   `make demo` and prints the transcript and the archive.
//! - `whatsapp-demo load GATEWAY_URL SIM_URL [N] [CONCURRENCY] [PHONE]` sends N outbound
//!   messages through the gateway and prints messages per second.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

struct Demo {
    http: reqwest::Client,
    gw: String,
    sim: String,
}

impl Demo {
    async fn post(&self, url: String, body: Value) -> anyhow::Result<(u16, Value)> {
        let r = self.http.post(url).json(&body).send().await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }
    async fn get(&self, url: String) -> anyhow::Result<String> {
        Ok(self.http.get(url).send().await?.error_for_status()?.text().await?)
    }
    async fn inbound(&self, body: Value) -> anyhow::Result<Value> {
        let (s, v) = self.post(format!("{}/_sim/inbound", self.sim), body).await?;
        if s != 200 {
            bail!("simulator answered {s}: {v}");
        }
        Ok(v)
    }
    async fn agent(&self, body: Value) -> anyhow::Result<(u16, Value)> {
        self.post(format!("{}/v1/messages", self.gw), body).await
    }
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

fn say(who: &str, text: &str) {
    println!("  {who:<10} {text}");
}

fn outcome(status: u16, v: &Value) -> String {
    let mut s = format!(
        "→ HTTP {status} status={} channel={} action={}",
        v["status"].as_str().unwrap_or("?"),
        v["channel"].as_str().unwrap_or("?"),
        v["action"].as_str().unwrap_or("?")
    );
    if let Some(t) = v["delivered_text"].as_str() {
        s.push_str(&format!(" delivered={t:?}"));
    }
    if let Some(n) = v["notice"].as_str() {
        s.push_str(&format!("\n             notice: {n}"));
    }
    s
}

async fn script(d: &Demo) -> anyhow::Result<()> {
    let ana = "+16505551234";
    let old = "+447700900123";
    let nowa = "+15550001111";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    d.post(format!("{}/_sim/config", d.sim), json!({"no_whatsapp": [nowa]})).await?;

    println!("== 1. Opt-in: no free-form message before consent");
    say("agent", "Hi Ana, your statement is ready.");
    let (s, v) =
        d.agent(json!({"agent": "sam", "to": ana, "text": "Hi Ana, your statement is ready."})).await?;
    say("gateway", &outcome(s, &v));
    say("agent", "[sends the opt-in template]");
    let (s, v) = d.post(format!("{}/v1/contacts/{ana}/opt-in", d.gw), json!({})).await?;
    say("gateway", &outcome(s, &v));
    d.settle().await;
    say("Ana", "[taps \"Yes, message me\"]");
    d.inbound(json!({"from": ana, "name": "Ana Client", "type": "button", "payload": "OPT_IN_ACCEPT", "text": "Yes, message me"})).await?;
    let c: Value = serde_json::from_str(&d.get(format!("{}/v1/contacts/{ana}", d.gw)).await?)?;
    say(
        "gateway",
        &format!("opted_in={} at {} evidence={}", c["opted_in"], c["opted_in_at"], c["opt_in_evidence"]),
    );

    println!("\n== 2. The 24-hour window opens with Ana's message");
    say("Ana", "Hi! Can you check my last transfer?");
    d.inbound(json!({"from": ana, "name": "Ana Client", "text": "Hi! Can you check my last transfer?"}))
        .await?;
    say("agent", "Of course, one moment.");
    let (s, v) = d.agent(json!({"agent": "sam", "to": ana, "text": "Of course, one moment."})).await?;
    say("gateway", &outcome(s, &v));

    println!("\n== 3. A card number is blocked before it leaves");
    say("agent", "Your card 4111 1111 1111 1111 is active again.");
    let (s, v) = d
        .agent(json!({"agent": "sam", "to": ana, "text": "Your card 4111 1111 1111 1111 is active again."}))
        .await?;
    say("gateway", &outcome(s, &v));

    println!("\n== 4. An inbound IBAN is redacted before the agent sees it");
    say("Ana", "Please send it to GB82 WEST 1234 5698 7654 32");
    d.inbound(
        json!({"from": ana, "name": "Ana Client", "text": "Please send it to GB82 WEST 1234 5698 7654 32"}),
    )
    .await?;
    let conv: Value =
        serde_json::from_str(&d.get(format!("{}/v1/conversations/{ana}/messages", d.gw)).await?)?;
    if let Some(last) = conv.as_array().and_then(|a| a.last()) {
        say("inbox", &format!("shows {:?} (action {})", last["text"].as_str().unwrap_or(""), last["action"]));
    }

    println!("\n== 5. Window closed: 25 hours since Bo's last message");
    d.inbound(json!({"from": old, "name": "Bo", "type": "button", "payload": "OPT_IN_ACCEPT", "text": "Yes", "timestamp": now - 26 * 3600})).await?;
    d.inbound(json!({"from": old, "name": "Bo", "text": "Thanks, bye", "timestamp": now - 25 * 3600}))
        .await?;
    say("agent", "Hi Bo, any news?");
    let (s, v) = d.agent(json!({"agent": "sam", "to": old, "text": "Hi Bo, any news?"})).await?;
    say("gateway", &outcome(s, &v));
    say("agent", "[picks template appointment_reminder(\"Tuesday 10:00\")]");
    let (s, v) = d
        .agent(json!({"agent": "sam", "to": old, "template": {"name": "appointment_reminder", "language": "en", "parameters": ["Tuesday 10:00"]}}))
        .await?;
    say("gateway", &outcome(s, &v));

    println!("\n== 6. No WhatsApp: 131026 → SMS through Twilio, judged again as sms");
    say("agent", "[sends the opt-in template to +15550001111]");
    let (s, v) = d.post(format!("{}/v1/contacts/{nowa}/opt-in", d.gw), json!({})).await?;
    say("gateway", &outcome(s, &v));
    say("agent", "Your appointment is confirmed for Tuesday.");
    let (s, v) = d
        .agent(json!({"agent": "sam", "to": nowa, "text": "Your appointment is confirmed for Tuesday."}))
        .await?;
    say("gateway", &outcome(s, &v));
    say("agent", "Pay with card 4111 1111 1111 1111?");
    let (s, v) =
        d.agent(json!({"agent": "sam", "to": nowa, "text": "Pay with card 4111 1111 1111 1111?"})).await?;
    say("gateway", &outcome(s, &v));

    println!("\n== 7. STOP by SMS is recorded; the next SMS is not sent");
    say("contact", "STOP");
    d.post(format!("{}/_sim/sms", d.sim), json!({"from": nowa, "body": "STOP"})).await?;
    let c: Value = serde_json::from_str(&d.get(format!("{}/v1/contacts/{nowa}", d.gw)).await?)?;
    say("gateway", &format!("sms_opted_out={}", c["sms_opted_out"]));
    say("agent", "One more thing about Tuesday…");
    let (s, v) = d
        .agent(json!({"agent": "sam", "to": nowa, "channel": "sms", "text": "One more thing about Tuesday"}))
        .await?;
    say("gateway", &outcome(s, &v));

    d.settle().await;
    println!("\n== What reached the providers (simulator log)");
    let sent: Value = serde_json::from_str(&d.get(format!("{}/_sim/sent", d.sim)).await?)?;
    for m in sent.as_array().into_iter().flatten() {
        let body = if m["channel"] == "sms" {
            m["body"].as_str().unwrap_or("").to_owned()
        } else if m["type"] == "template" {
            format!("[template {}]", m["body"]["template"]["name"].as_str().unwrap_or(""))
        } else {
            m["body"]["text"]["body"].as_str().unwrap_or("").to_owned()
        };
        println!(
            "  {:<8} {:<14} {body}",
            m["channel"].as_str().unwrap_or(""),
            m["to"].as_str().unwrap_or("")
        );
    }
    println!("\n== Archive (GET /v1/archive, JSON Lines)");
    print!("{}", d.get(format!("{}/v1/archive", d.gw)).await?);
    Ok(())
}

async fn load(d: &Demo, n: usize, conc: usize, phone: &str) -> anyhow::Result<()> {
    d.inbound(
        json!({"from": phone, "name": "Load", "type": "button", "payload": "OPT_IN_ACCEPT", "text": "Yes"}),
    )
    .await?;
    d.inbound(json!({"from": phone, "name": "Load", "text": "hello"})).await?;
    // Warm up connections.
    for _ in 0..20 {
        let (s, v) = d.agent(json!({"agent": "load", "to": phone, "text": "warm-up"})).await?;
        if s != 200 || v["status"] != "sent" {
            bail!("warm-up send failed: HTTP {s} {v}");
        }
    }
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let next = next.clone();
        let http = d.http.clone();
        let url = format!("{}/v1/messages", d.gw);
        let phone = phone.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let r = http
                    .post(&url)
                    .json(&json!({"agent": "load", "to": phone, "text": "Your order 1234 ships on Tuesday, reference ABC-77."}))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().as_u16() == 200) {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.context("load task")?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "messages={n} sent_ok={ok} concurrency={conc} seconds={secs:.3} msgs_per_s={:.1}",
        n as f64 / secs
    );
    if ok != n {
        bail!("{} of {n} messages were not sent", n - ok);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: whatsapp-demo script GATEWAY_URL SIM_URL | load GATEWAY_URL SIM_URL [N] [CONCURRENCY] [PHONE]";
    let (Some(cmd), Some(gw), Some(sim)) = (args.get(1), args.get(2), args.get(3)) else {
        bail!(usage);
    };
    let d = Demo {
        http: reqwest::Client::new(),
        gw: gw.trim_end_matches('/').into(),
        sim: sim.trim_end_matches('/').into(),
    };
    match cmd.as_str() {
        "script" => script(&d).await,
        "load" => {
            let n = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(2000);
            let c = args.get(5).and_then(|v| v.parse().ok()).unwrap_or(16);
            let phone = args.get(6).cloned().unwrap_or_else(|| "+16505550100".into());
            load(&d, n, c, &phone).await
        }
        _ => bail!(usage),
    }
}
