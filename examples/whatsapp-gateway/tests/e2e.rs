//! End to end over real HTTP and gRPC: the `linewall` binary, the simulator and the
//! gateway, each on its own 127.0.0.1 port; every business rule of docs/11-gateway.md.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Opts, Stack, eventually};
use serde_json::{Value, json};

const ANA: &str = "+16505551234";

fn texts_sent(sent: &[Value]) -> Vec<String> {
    sent.iter()
        .map(|m| {
            if m["channel"] == "sms" {
                m["body"].as_str().unwrap_or("").to_owned()
            } else {
                m["body"]["text"]["body"].as_str().unwrap_or("").to_owned()
            }
        })
        .collect()
}

#[tokio::test]
async fn verification_handshake_answers_the_challenge_only_with_the_token() {
    let s = Stack::start(Opts::default()).await;
    let ok = s
        .http
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={}",
            s.url,
            common::VERIFY
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = s
        .http
        .get(format!("{}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
}

#[tokio::test]
async fn bad_or_missing_signature_is_refused_and_nothing_is_stored() {
    let s = Stack::start(Opts::default()).await;
    let bad = s.inbound(json!({"from": ANA, "text": "hello", "signature": "bad"})).await;
    assert_eq!(bad["statuses"], json!([403]));
    let none = s.inbound(json!({"from": ANA, "text": "hello", "signature": "none"})).await;
    assert_eq!(none["statuses"], json!([403]));
    assert!(s.conversation(ANA).await.is_empty());
    assert!(s.archive().await.is_empty());
    let c = s.contact(ANA).await;
    assert_eq!(c["window_open"], false, "an unsigned message must not open the window");
    // Twilio too.
    let sms = s.sms_inbound(ANA, "hello", "bad").await;
    assert_eq!(sms["status"], 403);
    assert!(s.conversation(ANA).await.is_empty());
}

#[tokio::test]
async fn duplicate_webhook_is_stored_and_archived_once() {
    let s = Stack::start(Opts::default()).await;
    let r = s.inbound(json!({"from": ANA, "text": "Is my transfer done?", "repeat": 3})).await;
    assert_eq!(r["statuses"], json!([200, 200, 200]));
    // A redelivery a day later with the same wamid.
    s.inbound(json!({"from": ANA, "text": "Is my transfer done?", "id": r["id"]})).await;
    assert_eq!(s.conversation(ANA).await.len(), 1);
    let archive = s.archive().await;
    assert_eq!(archive.len(), 1);
    assert_eq!(archive[0]["record"]["text"], "Is my transfer done?");
    let crm = eventually("CRM post", || async {
        let c = s.crm().await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.crm().await.len(), 1, "{crm:?}");
}

#[tokio::test]
async fn opt_in_template_then_accept_button_records_consent_and_allows_free_text() {
    let s = Stack::start(Opts::default()).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "Hi Ana"})).await;
    assert_eq!(code, 422, "{a}");
    assert_eq!(a["status"], "blocked");
    assert!(a["notice"].as_str().unwrap().contains("opted in"), "{a}");
    assert!(a["rules"].as_array().unwrap().contains(&json!("whatsapp/block-not-opted-in")));
    assert!(s.sent().await.is_empty());

    let r = s.http.post(format!("{}/v1/contacts/{ANA}/opt-in", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let sent = s.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["body"]["type"], "template");
    assert_eq!(sent[0]["body"]["template"]["name"], "opt_in");
    assert_eq!(sent[0]["body"]["template"]["components"][0]["parameters"][0]["payload"], "OPT_IN_ACCEPT");
    let template_wamid = sent[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.contact(ANA).await["opted_in"], false);

    let ts = time::OffsetDateTime::now_utc().unix_timestamp() - 5;
    let reply = s
        .inbound(json!({"from": ANA, "type": "button", "payload": "OPT_IN_ACCEPT", "text": "Yes, message me", "timestamp": ts}))
        .await;
    let c = s.contact(ANA).await;
    assert_eq!(c["opted_in"], true);
    let at = whatsapp_gateway::rules::parse_rfc3339(c["opted_in_at"].as_str().unwrap()).unwrap();
    assert_eq!(at, ts, "consent time is the reply's timestamp");
    assert_eq!(c["opt_in_evidence"]["wamid"], reply["id"]);
    assert_eq!(c["opt_in_evidence"]["in_reply_to"], template_wamid.as_str());
    assert_eq!(c["opt_in_evidence"]["button_text"], "Yes, message me");
    // The button reply opened the window too: free text now goes out with the bearer token.
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "Thanks Ana!"})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["status"], "sent");
    assert!(texts_sent(&s.sent().await).contains(&"Thanks Ana!".to_owned()));
}

#[tokio::test]
async fn last_inbound_25_hours_ago_closes_the_window_and_only_templates_go_out() {
    let s = Stack::start(Opts::default()).await;
    s.opted_in_contact(ANA, 25 * 3600).await;
    let c = s.contact(ANA).await;
    assert_eq!(c["opted_in"], true);
    assert_eq!(c["window_open"], false);
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "Are you free tomorrow?"})).await;
    assert_eq!(code, 422, "{a}");
    assert!(a["rules"].as_array().unwrap().contains(&json!("whatsapp/block-closed-session-free-text")));
    assert!(a["notice"].as_str().unwrap().contains("template"));
    let (code, a) = s
        .send(json!({"agent": "sam", "to": ANA, "template": {"name": "appointment_reminder", "language": "en", "parameters": ["Tuesday 10:00"]}}))
        .await;
    assert_eq!(code, 200, "{a}");
    let sent = s.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["body"]["template"]["components"][0]["parameters"][0]["text"], "Tuesday 10:00");
    // 23 hours: open.
    s.opted_in_contact("+16505559999", 23 * 3600).await;
    let (code, _) =
        s.send(json!({"agent": "sam", "to": "+16505559999", "text": "Are you free tomorrow?"})).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn outbound_card_is_blocked_never_reaches_the_simulator_and_is_archived_masked() {
    let s = Stack::start(Opts::default()).await;
    s.opted_in_contact(ANA, 60).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "card 4111 1111 1111 1111"})).await;
    assert_eq!(code, 422, "{a}");
    assert_eq!(a["action"], "block");
    assert!(a["notice"].as_str().unwrap().contains("Card numbers"));
    assert!(!a["decision_id"].as_str().unwrap().is_empty());
    assert!(s.sent().await.is_empty(), "nothing may reach the provider");
    let archive = s.archive().await;
    let rec = archive.iter().find(|r| r["id"] == a["id"]).unwrap();
    assert_eq!(rec["status"], "blocked");
    assert_eq!(rec["channel"], "whatsapp");
    assert_eq!(rec["direction"], "outbound");
    assert_eq!(rec["record"]["text"], "card ***************1111");
    assert_eq!(rec["decision_id"], a["decision_id"]);
    let conv = s.conversation(ANA).await;
    assert!(!conv.iter().any(|m| m["text"].as_str().unwrap().contains("4111 1111")), "{conv:?}");
}

#[tokio::test]
async fn inbound_card_and_iban_are_redacted_for_agents_and_archived_per_policy() {
    let s = Stack::start(Opts::default()).await;
    s.inbound(json!({"from": ANA, "text": "here: 4111-1111-1111-1111 thx"})).await;
    s.inbound(json!({"from": ANA, "type": "image", "caption": "my IBAN GB82 WEST 1234 5698 7654 32"})).await;
    let conv = s.conversation(ANA).await;
    assert_eq!(conv.len(), 2);
    assert_eq!(conv[0]["text"], "here: ***************1111 thx");
    assert_eq!(conv[0]["action"], "redact");
    assert!(!conv[1]["text"].as_str().unwrap().contains("5698 7654"), "{}", conv[1]["text"]);
    assert!(conv[1]["text"].as_str().unwrap().starts_with("[image] my IBAN"));
    let archive = s.archive().await;
    // pci: record: redacted -> the archive keeps only the last four.
    assert_eq!(archive[0]["record"]["text"], "here: ***************1111 thx");
    // pii-intl: IBANs are masked for delivery but the archive keeps the original.
    assert_eq!(archive[1]["record"]["caption"], "my IBAN GB82 WEST 1234 5698 7654 32");
    assert_eq!(archive[1]["action"], "redact");
    assert!(!archive[1]["decision_id"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn no_whatsapp_131026_falls_back_to_sms_judged_again_as_sms() {
    let s = Stack::start(Opts { sms_fallback: "auto", ..Opts::default() }).await;
    s.opted_in_contact(ANA, 60).await;
    s.sim_config(json!({"no_whatsapp": [ANA]})).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "See you Tuesday"})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["channel"], "sms");
    assert_eq!(a["status"], "sent");
    assert!(a["fallback_of"].is_string());
    let sent = s.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["channel"], "sms");
    assert_eq!(sent[0]["body"], "See you Tuesday");
    assert_eq!(sent[0]["from"], "+15005550006");
    assert_eq!(s.contact(ANA).await["whatsapp"], false);
    let archive = s.archive().await;
    let wa = archive.iter().find(|r| r["id"] == a["fallback_of"]).unwrap();
    assert_eq!(wa["status"], "failed");
    let sms = archive.iter().find(|r| r["id"] == a["id"]).unwrap();
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["record"]["channel"], "sms");
    // A card in an SMS is judged for SMS too and blocked.
    let (code, _) = s.send(json!({"agent": "sam", "to": ANA, "text": "card 4111 1111 1111 1111"})).await;
    assert_eq!(code, 422);
    assert_eq!(s.sent().await.len(), 1);
}

#[tokio::test]
async fn offered_sms_fallback_waits_for_the_agent() {
    let s = Stack::start(Opts { sms_fallback: "offer", ..Opts::default() }).await;
    s.opted_in_contact(ANA, 60).await;
    s.sim_config(json!({"no_whatsapp": [ANA]})).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "See you Tuesday"})).await;
    assert_eq!(code, 200);
    assert_eq!(a["status"], "failed");
    assert_eq!(a["hint"], "sms_fallback_offered");
    assert!(s.sent().await.is_empty());
    let (code, a) =
        s.send(json!({"agent": "sam", "to": ANA, "text": "See you Tuesday", "channel": "sms"})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(s.sent().await[0]["channel"], "sms");
}

#[tokio::test]
async fn asynchronous_131026_status_triggers_the_fallback_and_statuses_are_idempotent() {
    let s = Stack::start(Opts::default()).await;
    s.opted_in_contact(ANA, 60).await;
    let (_, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "first"})).await;
    // The simulator reports sent then delivered by signed webhooks.
    eventually("delivered status", || async {
        let conv = s.conversation(ANA).await;
        conv.iter().any(|m| m["id"] == a["id"] && m["status"] == "delivered").then_some(())
    })
    .await;
    let wamid = s.sent().await[0]["id"].as_str().unwrap().to_owned();
    // Meta retries: the same status again, then an older one, change nothing.
    let r: Value = s
        .http
        .post(format!("{}/_sim/status", s.sim_url))
        .json(&json!({"id": wamid, "status": "sent", "to": ANA, "repeat": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["statuses"], json!([200, 200]));
    let archive = s.archive().await;
    assert_eq!(archive.iter().find(|r| r["id"] == a["id"]).unwrap()["status"], "delivered");

    s.sim_config(json!({"no_whatsapp": [ANA], "async_errors": true})).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "second"})).await;
    assert_eq!(code, 200);
    assert_eq!(a["status"], "sent", "accepted synchronously");
    let sms = eventually("SMS fallback after the failed status", || async {
        s.sent().await.into_iter().find(|m| m["channel"] == "sms")
    })
    .await;
    assert_eq!(sms["body"], "second");
}

#[tokio::test]
async fn rate_limits_are_retried_with_backoff() {
    let s = Stack::start(Opts::default()).await;
    s.opted_in_contact(ANA, 60).await;
    s.sim_config(json!({"rate_limits": [130429, 131056]})).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "hello after a pause"})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["status"], "sent");
    assert_eq!(texts_sent(&s.sent().await), vec!["hello after a pause".to_owned()]);
    // More limits than inline retries: queued, then sent by the worker.
    s.sim_config(json!({"rate_limits": [130429, 130429, 130429, 130429, 130429]})).await;
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "queued one"})).await;
    assert_eq!(code, 202, "{a}");
    assert_eq!(a["status"], "held");
    eventually("queued message sent", || async {
        texts_sent(&s.sent().await).contains(&"queued one".to_owned()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn linewall_down_holds_outbound_hides_inbound_then_both_proceed_when_it_returns() {
    let mut s = Stack::start(Opts { own_linewall: true, ..Opts::default() }).await;
    s.opted_in_contact(ANA, 60).await;
    s.stop_linewall();
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "held while Linewall is down"})).await;
    assert_eq!(code, 202, "{a}");
    assert_eq!(a["status"], "held");
    assert!(a["notice"].as_str().unwrap().contains("held"));
    s.inbound(json!({"from": ANA, "text": "my card is 4111 1111 1111 1111"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(s.sent().await.is_empty(), "nothing leaves unjudged");
    let conv = s.conversation(ANA).await;
    let held = conv.iter().find(|m| m["id"] == a["id"]).unwrap();
    assert_eq!(held["status"], "held", "the agent sees it held");
    assert!(!conv.iter().any(|m| m["text"].as_str().unwrap().contains("4111")), "unjudged inbound is hidden");
    assert_eq!(conv.iter().filter(|m| m["direction"] == "inbound").count(), 2);

    s.restart_linewall();
    eventually("held message sent", || async {
        texts_sent(&s.sent().await).contains(&"held while Linewall is down".to_owned()).then_some(())
    })
    .await;
    let conv = eventually("inbound judged", || async {
        let conv = s.conversation(ANA).await;
        (conv.iter().filter(|m| m["direction"] == "inbound").count() == 3).then_some(conv)
    })
    .await;
    let card = conv.iter().find(|m| m["text"].as_str().unwrap().starts_with("my card")).unwrap();
    assert_eq!(card["text"], "my card is ***************1111");
    let archive = s.archive().await;
    assert!(archive.iter().any(|r| r["id"] == a["id"] && r["status"] != "held"));
}

#[tokio::test]
async fn crm_down_then_every_archived_message_is_delivered_later() {
    let s = Stack::start(Opts::default()).await;
    s.sim_config(json!({"crm_down": true})).await;
    s.opted_in_contact(ANA, 60).await;
    let (_, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "logged later"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(s.crm().await.is_empty());
    s.sim_config(json!({"crm_down": false})).await;
    let crm = eventually("CRM catches up", || async {
        let c = s.crm().await;
        (c.len() == 3).then_some(c)
    })
    .await;
    let posted = crm.iter().find(|p| p["id"] == a["id"]).unwrap();
    assert_eq!(posted["record"]["text"], "logged later");
    assert_eq!(posted["decision_id"], a["decision_id"]);
    assert_eq!(posted["channel"], "whatsapp");
}

#[tokio::test]
async fn stop_start_help_keywords_are_recorded_per_contact() {
    let s = Stack::start(Opts::default()).await;
    let r = s.sms_inbound(ANA, "STOP", "valid").await;
    assert_eq!(r["status"], 200);
    let c = s.contact(ANA).await;
    assert_eq!(c["sms_opted_out"], true);
    assert!(c["consent_history"].as_array().unwrap().iter().any(|e| e["event"] == "sms_opt_out"));
    let (code, a) =
        s.send(json!({"agent": "sam", "to": ANA, "text": "one more thing", "channel": "sms"})).await;
    assert_eq!(code, 422, "{a}");
    assert!(a["rules"].as_array().unwrap().contains(&json!("whatsapp/block-sms-opted-out")));
    assert!(s.sent().await.is_empty());
    s.sms_inbound(ANA, "start", "valid").await;
    assert_eq!(s.contact(ANA).await["sms_opted_out"], false);
    let (code, _) =
        s.send(json!({"agent": "sam", "to": ANA, "text": "welcome back", "channel": "sms"})).await;
    assert_eq!(code, 200);
    s.sms_inbound(ANA, "HELP", "valid").await;
    let c = s.contact(ANA).await;
    let events: Vec<&str> =
        c["consent_history"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["sms_opt_out", "sms_opt_in", "help"]);
    // The keyword messages themselves are archived unredacted.
    let archive = s.archive().await;
    assert!(archive.iter().any(|r| r["record"]["text"] == "STOP" && r["action"] == "allow"));
    // STOP on WhatsApp withdraws WhatsApp consent.
    s.opted_in_contact("+16505557777", 60).await;
    s.inbound(json!({"from": "+16505557777", "text": "Stop"})).await;
    assert_eq!(s.contact("+16505557777").await["opted_in"], false);
    let (code, _) = s.send(json!({"agent": "sam", "to": "+16505557777", "text": "hello?"})).await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn agent_api_rejects_bad_input_with_clear_errors() {
    let s = Stack::start(Opts::default()).await;
    let (code, a) = s.send(json!({"to": "not a phone", "text": "x"})).await;
    assert_eq!(code, 400);
    assert!(a["error"].as_str().unwrap().contains("phone"));
    let (code, _) = s.send(json!({"to": ANA})).await;
    assert_eq!(code, 400);
    let (code, _) = s.send(json!({"to": ANA, "text": "x".repeat(4097)})).await;
    assert_eq!(code, 400);
    let r = s.http.get(format!("{}/v1/archive?since=yesterday", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn provider_131047_asks_for_a_template_and_replies_carry_context() {
    let s = Stack::start(Opts::default()).await;
    // An interactive button reply, through the simulator: judged, shown, opens the window.
    let r = s
        .inbound(json!({"from": ANA, "type": "interactive", "payload": "slot-2", "text": "Tuesday 10:00"}))
        .await;
    assert_eq!(r["statuses"], json!([200]));
    s.inbound(json!({"from": ANA, "type": "button", "payload": "OPT_IN_ACCEPT", "text": "Yes"})).await;
    let conv = s.conversation(ANA).await;
    assert_eq!(conv[0]["text"], "[button] Tuesday 10:00");
    // A reply quoting the contact's message carries the context id.
    let wamid = r["id"].as_str().unwrap();
    let (code, a) = s.send(json!({"agent": "sam", "to": ANA, "text": "Booked.", "reply_to": wamid})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(s.sent().await[0]["body"]["context"]["message_id"], wamid);

    // A contact whose message reached the gateway but not the provider's window (Meta's
    // known issue): the gateway thinks the window is open, the Graph API answers 131047.
    let bo = "+447700900555";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (id, body) in [
        ("wamid.direct1", json!({"type": "button", "button": {"payload": "OPT_IN_ACCEPT", "text": "Yes"}})),
        ("wamid.direct2", json!({"type": "text", "text": {"body": "hi"}})),
    ] {
        let mut msg = json!({"from": "447700900555", "id": id, "timestamp": now.to_string()});
        for (k, v) in body.as_object().unwrap() {
            msg[k] = v.clone();
        }
        let env = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "contacts": [{"wa_id": "447700900555", "profile": {"name": "Bo"}}], "messages": [msg]}}]}]});
        let raw = serde_json::to_vec(&env).unwrap();
        let r = s
            .http
            .post(format!("{}/webhooks/whatsapp", s.url))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", whatsapp_gateway::wire::hub_signature(common::APP_SECRET, &raw))
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(s.contact(bo).await["window_open"], true);
    let (code, a) = s.send(json!({"agent": "sam", "to": bo, "text": "Any news?"})).await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["status"], "failed");
    assert_eq!(a["hint"], "template_required");
    assert!(a["notice"].as_str().unwrap().contains("template"));
}
