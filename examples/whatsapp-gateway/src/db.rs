//! The embedded SQLite store: contacts, consent, messages, the archive and the CRM outbox.

use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::content::Content;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS contacts (
  phone TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  whatsapp TEXT NOT NULL DEFAULT 'unknown',
  opted_in INTEGER NOT NULL DEFAULT 0,
  opted_in_at TEXT,
  opt_in_evidence TEXT,
  opt_in_wamid TEXT,
  sms_opted_out INTEGER NOT NULL DEFAULT 0,
  last_inbound_ts INTEGER
);
CREATE TABLE IF NOT EXISTS consent_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  phone TEXT NOT NULL,
  event TEXT NOT NULL,
  channel TEXT NOT NULL,
  at TEXT NOT NULL,
  evidence TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  provider_id TEXT UNIQUE,
  phone TEXT NOT NULL,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  content TEXT NOT NULL,
  shown TEXT,
  status TEXT NOT NULL,
  action TEXT,
  notice TEXT,
  hint TEXT,
  decision_id TEXT,
  rules TEXT NOT NULL DEFAULT '[]',
  agent TEXT NOT NULL DEFAULT '',
  judged INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  sent_at TEXT,
  provider_ts INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  reply_to TEXT,
  fallback_of TEXT
);
CREATE INDEX IF NOT EXISTS messages_phone ON messages(phone, seq);
CREATE TABLE IF NOT EXISTS archive (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  conversation TEXT NOT NULL,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  record TEXT NOT NULL,
  action TEXT NOT NULL,
  rules TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  status TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  archived_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS status_events (
  provider_id TEXT NOT NULL,
  status TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (provider_id, status)
);
CREATE TABLE IF NOT EXISTS crm_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER,
  last_error TEXT
);
";

/// A contact and what the gateway knows about it.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// E.164 phone.
    pub phone: String,
    /// WhatsApp profile name.
    pub name: String,
    /// `yes`, `no` or `unknown`.
    pub whatsapp: String,
    /// Consent to WhatsApp messages.
    pub opted_in: bool,
    /// When consent was given (RFC 3339).
    pub opted_in_at: Option<String>,
    /// Evidence of consent (JSON).
    pub opt_in_evidence: Option<String>,
    /// wamid of the last opt-in template sent.
    pub opt_in_wamid: Option<String>,
    /// The contact sent STOP on SMS.
    pub sms_opted_out: bool,
    /// `timestamp` of the latest inbound WhatsApp message.
    pub last_inbound_ts: Option<i64>,
}

/// A message in either direction.
#[derive(Debug, Clone, Default)]
pub struct MessageRow {
    /// Gateway id.
    pub id: String,
    /// wamid or Twilio SID.
    pub provider_id: Option<String>,
    /// Contact phone (the conversation).
    pub phone: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `whatsapp` or `sms`.
    pub channel: String,
    /// What was written.
    pub content: Content,
    /// What was delivered / may be shown to agents (after the verdict).
    pub shown: Option<Content>,
    /// `held`, `sent`, `delivered`, `read`, `failed`, `blocked`, `received`, `unjudged`.
    pub status: String,
    /// Linewall action.
    pub action: Option<String>,
    /// Notice for the agent.
    pub notice: Option<String>,
    /// `sms_fallback_offered`, `template_required`, …
    pub hint: Option<String>,
    /// Decision id.
    pub decision_id: Option<String>,
    /// Rules that fired.
    pub rules: Vec<String>,
    /// Sending agent.
    pub agent: String,
    /// Whether Linewall judged it.
    pub judged: bool,
    /// Unix seconds when the gateway stored it.
    pub created_at: i64,
    /// RFC 3339 time it was sent / received.
    pub sent_at: Option<String>,
    /// Provider timestamp (inbound).
    pub provider_ts: Option<i64>,
    /// Send / judge attempts.
    pub attempts: i64,
    /// Unix seconds of the next attempt.
    pub next_attempt_at: i64,
    /// Why the last attempt failed (no content).
    pub last_error: Option<String>,
    /// wamid replied to.
    pub reply_to: Option<String>,
    /// The WhatsApp message this SMS replaces.
    pub fallback_of: Option<String>,
}

/// A conversation in the inbox list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThreadSummary {
    /// Contact phone.
    pub phone: String,
    /// Profile name.
    pub name: String,
    /// Channel of the last message.
    pub channel: String,
    /// Last message as shown.
    pub last_text: String,
    /// Unix seconds of the last message.
    pub last_at: i64,
}

/// The store (one connection; every call is short).
pub struct Db {
    conn: Mutex<Connection>,
}

fn opt_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> Option<T> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get("id")?,
        provider_id: r.get("provider_id")?,
        phone: r.get("phone")?,
        direction: r.get("direction")?,
        channel: r.get("channel")?,
        content: opt_json(r.get("content")?).unwrap_or_default(),
        shown: opt_json(r.get("shown")?),
        status: r.get("status")?,
        action: r.get("action")?,
        notice: r.get("notice")?,
        hint: r.get("hint")?,
        decision_id: r.get("decision_id")?,
        rules: opt_json(r.get("rules")?).unwrap_or_default(),
        agent: r.get("agent")?,
        judged: r.get::<_, i64>("judged")? != 0,
        created_at: r.get("created_at")?,
        sent_at: r.get("sent_at")?,
        provider_ts: r.get("provider_ts")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.get("next_attempt_at")?,
        last_error: r.get("last_error")?,
        reply_to: r.get("reply_to")?,
        fallback_of: r.get("fallback_of")?,
    })
}

fn contact_from_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        phone: r.get("phone")?,
        name: r.get("name")?,
        whatsapp: r.get("whatsapp")?,
        opted_in: r.get::<_, i64>("opted_in")? != 0,
        opted_in_at: r.get("opted_in_at")?,
        opt_in_evidence: r.get("opt_in_evidence")?,
        opt_in_wamid: r.get("opt_in_wamid")?,
        sms_opted_out: r.get::<_, i64>("sms_opted_out")? != 0,
        last_inbound_ts: r.get("last_inbound_ts")?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl Db {
    /// Opens (and creates) the store at `path`.
    pub fn open(path: &str) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db { conn: Mutex::new(conn) })
    }

    fn c(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each call is atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The contact (a default record when unknown).
    pub fn contact(&self, phone: &str) -> rusqlite::Result<Contact> {
        let c = self.c();
        let found =
            c.query_row("SELECT * FROM contacts WHERE phone = ?1", [phone], contact_from_row).optional()?;
        Ok(found.unwrap_or_else(|| Contact {
            phone: phone.to_owned(),
            whatsapp: "unknown".into(),
            ..Contact::default()
        }))
    }

    fn ensure(c: &Connection, phone: &str) -> rusqlite::Result<()> {
        c.execute("INSERT OR IGNORE INTO contacts(phone) VALUES (?1)", [phone]).map(|_| ())
    }

    /// Records an inbound WhatsApp message's facts: name, reachability, window start.
    pub fn saw_inbound_whatsapp(&self, phone: &str, name: &str, ts: i64) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        c.execute(
            "UPDATE contacts SET whatsapp = 'yes',
               name = CASE WHEN ?2 = '' THEN name ELSE ?2 END,
               last_inbound_ts = MAX(COALESCE(last_inbound_ts, 0), ?3)
             WHERE phone = ?1",
            params![phone, name, ts],
        )?;
        Ok(())
    }

    /// Sets whether the contact is on WhatsApp.
    pub fn set_whatsapp(&self, phone: &str, state: &str) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        c.execute("UPDATE contacts SET whatsapp = ?2 WHERE phone = ?1", params![phone, state])?;
        Ok(())
    }

    /// Records consent (or its withdrawal) with time and evidence.
    pub fn set_opt_in(
        &self,
        phone: &str,
        opted_in: bool,
        at: &str,
        evidence: &serde_json::Value,
    ) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        let ev = to_json(evidence);
        if opted_in {
            c.execute(
                "UPDATE contacts SET opted_in = 1, opted_in_at = ?2, opt_in_evidence = ?3 WHERE phone = ?1",
                params![phone, at, ev],
            )?;
        } else {
            c.execute("UPDATE contacts SET opted_in = 0 WHERE phone = ?1", params![phone])?;
        }
        let event = if opted_in { "opt_in" } else { "opt_out" };
        c.execute(
            "INSERT INTO consent_events(phone, event, channel, at, evidence) VALUES (?1, ?2, 'whatsapp', ?3, ?4)",
            params![phone, event, at, ev],
        )?;
        Ok(())
    }

    /// Records the SMS opt-out state after a keyword.
    pub fn set_sms_opt_out(
        &self,
        phone: &str,
        out: bool,
        event: &str,
        at: &str,
        evidence: &serde_json::Value,
    ) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        c.execute("UPDATE contacts SET sms_opted_out = ?2 WHERE phone = ?1", params![phone, out as i64])?;
        c.execute(
            "INSERT INTO consent_events(phone, event, channel, at, evidence) VALUES (?1, ?2, 'sms', ?3, ?4)",
            params![phone, event, at, to_json(evidence)],
        )?;
        Ok(())
    }

    /// Records a consent-related event without changing state (HELP, opt-in request).
    pub fn consent_event(
        &self,
        phone: &str,
        event: &str,
        channel: &str,
        at: &str,
        evidence: &serde_json::Value,
    ) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        c.execute(
            "INSERT INTO consent_events(phone, event, channel, at, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![phone, event, channel, at, to_json(evidence)],
        )?;
        Ok(())
    }

    /// Remembers the wamid of the opt-in template sent to a contact.
    pub fn set_opt_in_wamid(&self, phone: &str, wamid: &str) -> rusqlite::Result<()> {
        let c = self.c();
        Self::ensure(&c, phone)?;
        c.execute("UPDATE contacts SET opt_in_wamid = ?2 WHERE phone = ?1", params![phone, wamid])?;
        Ok(())
    }

    /// Consent history of a contact: `(event, channel, at, evidence)`.
    pub fn consent_history(&self, phone: &str) -> rusqlite::Result<Vec<serde_json::Value>> {
        let c = self.c();
        let mut st = c.prepare(
            "SELECT event, channel, at, evidence FROM consent_events WHERE phone = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([phone], |r| {
            Ok(serde_json::json!({
                "event": r.get::<_, String>(0)?,
                "channel": r.get::<_, String>(1)?,
                "at": r.get::<_, String>(2)?,
                "evidence": serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(3)?).unwrap_or_default(),
            }))
        })?;
        rows.collect()
    }

    /// Stores a new message; `false` when its provider id was already stored (a retry).
    pub fn insert_message(&self, m: &MessageRow) -> rusqlite::Result<bool> {
        let c = self.c();
        Self::ensure(&c, &m.phone)?;
        let n = c.execute(
            "INSERT OR IGNORE INTO messages(id, provider_id, phone, direction, channel, content, status, agent,
               judged, created_at, sent_at, provider_ts, reply_to, fallback_of, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                m.id,
                m.provider_id,
                m.phone,
                m.direction,
                m.channel,
                to_json(&m.content),
                m.status,
                m.agent,
                m.created_at,
                m.sent_at,
                m.provider_ts,
                m.reply_to,
                m.fallback_of,
                m.next_attempt_at
            ],
        )?;
        Ok(n == 1)
    }

    /// Writes back every mutable field of a message.
    pub fn update_message(&self, m: &MessageRow) -> rusqlite::Result<()> {
        let c = self.c();
        c.execute(
            "UPDATE messages SET provider_id = ?2, channel = ?3, shown = ?4, status = ?5, action = ?6,
               notice = ?7, hint = ?8, decision_id = ?9, rules = ?10, judged = ?11, sent_at = ?12,
               attempts = ?13, next_attempt_at = ?14, last_error = ?15
             WHERE id = ?1",
            params![
                m.id,
                m.provider_id,
                m.channel,
                m.shown.as_ref().map(to_json),
                m.status,
                m.action,
                m.notice,
                m.hint,
                m.decision_id,
                to_json(&m.rules),
                m.judged as i64,
                m.sent_at,
                m.attempts,
                m.next_attempt_at,
                m.last_error
            ],
        )?;
        Ok(())
    }

    /// One message by gateway id.
    pub fn message(&self, id: &str) -> rusqlite::Result<Option<MessageRow>> {
        self.c().query_row("SELECT * FROM messages WHERE id = ?1", [id], message_from_row).optional()
    }

    /// One message by wamid / SID.
    pub fn message_by_provider(&self, pid: &str) -> rusqlite::Result<Option<MessageRow>> {
        self.c()
            .query_row("SELECT * FROM messages WHERE provider_id = ?1", [pid], message_from_row)
            .optional()
    }

    fn ids(&self, sql: &str, now: i64) -> rusqlite::Result<Vec<String>> {
        let c = self.c();
        let mut st = c.prepare(sql)?;
        let rows = st.query_map([now], |r| r.get(0))?;
        rows.collect()
    }

    /// Outbound messages waiting for Linewall or a rate-limit retry, due by `now`.
    pub fn due_held(&self, now: i64) -> rusqlite::Result<Vec<String>> {
        self.ids(
            "SELECT id FROM messages WHERE direction = 'outbound' AND status = 'held' AND next_attempt_at <= ?1 ORDER BY seq LIMIT 100",
            now,
        )
    }

    /// Inbound messages stored while Linewall was unreachable.
    pub fn unjudged_inbound(&self, now: i64) -> rusqlite::Result<Vec<String>> {
        self.ids(
            "SELECT id FROM messages WHERE direction = 'inbound' AND judged = 0 AND next_attempt_at <= ?1 ORDER BY seq LIMIT 100",
            now,
        )
    }

    /// A conversation as agents may see it: unjudged inbound messages are hidden.
    pub fn conversation(&self, phone: &str) -> rusqlite::Result<Vec<MessageRow>> {
        let c = self.c();
        let mut st = c.prepare(
            "SELECT * FROM messages WHERE phone = ?1 AND NOT (direction = 'inbound' AND judged = 0) ORDER BY seq",
        )?;
        let rows = st.query_map([phone], message_from_row)?;
        rows.collect()
    }

    /// Every conversation with at least one visible message, latest first.
    pub fn threads(&self) -> rusqlite::Result<Vec<ThreadSummary>> {
        let c = self.c();
        let mut st = c.prepare(
            "SELECT m.phone, COALESCE(ct.name, ''), m.channel, m.shown, m.content, m.direction, m.action, m.created_at
             FROM messages m LEFT JOIN contacts ct ON ct.phone = m.phone
             WHERE m.seq IN (SELECT MAX(seq) FROM messages WHERE NOT (direction = 'inbound' AND judged = 0) GROUP BY phone)
             ORDER BY m.seq DESC",
        )?;
        let rows = st.query_map([], |r| {
            let shown: Option<Content> = opt_json(r.get(3)?);
            let direction: String = r.get(5)?;
            let action: Option<String> = r.get(6)?;
            let last_text = match (shown, direction.as_str(), action.as_deref()) {
                (_, "inbound", Some("block")) => "(withheld by policy)".to_owned(),
                (_, _, Some("block")) => "(not sent: blocked by policy)".to_owned(),
                (Some(s), _, _) => s.display(),
                _ => String::new(),
            };
            Ok(ThreadSummary {
                phone: r.get(0)?,
                name: r.get(1)?,
                channel: r.get(2)?,
                last_text,
                last_at: r.get(7)?,
            })
        })?;
        rows.collect()
    }

    /// Stores (or refreshes) the archive record of a message and queues it for the CRM
    /// the first time.
    pub fn archive(
        &self,
        m: &MessageRow,
        record: &serde_json::Value,
        crm: bool,
        now: i64,
    ) -> rusqlite::Result<()> {
        let mut c = self.c();
        let tx = c.transaction()?;
        let sent_at = m.sent_at.clone().unwrap_or_else(|| crate::rules::rfc3339(m.created_at));
        let action = m.action.clone().unwrap_or_default();
        let decision = m.decision_id.clone().unwrap_or_default();
        let fresh = tx.execute(
            "INSERT INTO archive(id, conversation, direction, channel, record, action, rules, decision_id, status, sent_at, archived_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(id) DO NOTHING",
            params![m.id, m.phone, m.direction, m.channel, to_json(record), action, to_json(&m.rules), decision, m.status, sent_at, now],
        )? == 1;
        if !fresh {
            tx.execute(
                "UPDATE archive SET channel = ?2, record = ?3, action = ?4, rules = ?5, decision_id = ?6, status = ?7, sent_at = ?8 WHERE id = ?1",
                params![m.id, m.channel, to_json(record), action, to_json(&m.rules), decision, m.status, sent_at],
            )?;
        }
        if fresh && crm {
            let payload = serde_json::json!({
                "event": "message.archived",
                "id": m.id,
                "conversation": m.phone,
                "direction": m.direction,
                "channel": m.channel,
                "record": record,
                "action": action,
                "rules": m.rules,
                "decision_id": decision,
                "status": m.status,
                "sent_at": sent_at,
            });
            tx.execute(
                "INSERT INTO crm_outbox(message_id, payload) VALUES (?1, ?2)",
                params![m.id, to_json(&payload)],
            )?;
        }
        tx.commit()
    }

    /// Updates the delivery status in the archive.
    pub fn archive_status(&self, id: &str, status: &str) -> rusqlite::Result<()> {
        self.c().execute("UPDATE archive SET status = ?2 WHERE id = ?1", params![id, status])?;
        Ok(())
    }

    /// Archive records sent at or after `since` (Unix seconds), oldest first.
    pub fn archive_since(&self, since: i64) -> rusqlite::Result<Vec<serde_json::Value>> {
        let c = self.c();
        let mut st = c.prepare(
            "SELECT id, conversation, direction, channel, record, action, rules, decision_id, status, sent_at FROM archive ORDER BY seq",
        )?;
        let rows = st.query_map([], |r| {
            let sent_at: String = r.get(9)?;
            Ok((
                crate::rules::parse_rfc3339(&sent_at).unwrap_or(0),
                serde_json::json!({
                    "id": r.get::<_, String>(0)?,
                    "conversation": r.get::<_, String>(1)?,
                    "direction": r.get::<_, String>(2)?,
                    "channel": r.get::<_, String>(3)?,
                    "record": serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(4)?).unwrap_or_default(),
                    "action": r.get::<_, String>(5)?,
                    "rules": serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(6)?).unwrap_or_default(),
                    "decision_id": r.get::<_, String>(7)?,
                    "status": r.get::<_, String>(8)?,
                    "sent_at": sent_at,
                }),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (t, v) = row?;
            if t >= since {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Records a status event; `false` if this (message, status) was already seen.
    pub fn status_seen(&self, pid: &str, status: &str, at: &str) -> rusqlite::Result<bool> {
        let n = self.c().execute(
            "INSERT OR IGNORE INTO status_events(provider_id, status, at) VALUES (?1, ?2, ?3)",
            params![pid, status, at],
        )?;
        Ok(n == 0)
    }

    /// CRM posts due by `now`: `(seq, payload, attempts)`.
    pub fn crm_due(&self, now: i64) -> rusqlite::Result<Vec<(i64, String, i64)>> {
        let c = self.c();
        let mut st = c.prepare(
            "SELECT seq, payload, attempts FROM crm_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?1 ORDER BY seq LIMIT 50",
        )?;
        let rows = st.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    }

    /// Marks a CRM post delivered.
    pub fn crm_delivered(&self, seq: i64, now: i64) -> rusqlite::Result<()> {
        self.c().execute("UPDATE crm_outbox SET delivered_at = ?2 WHERE seq = ?1", params![seq, now])?;
        Ok(())
    }

    /// Records a failed CRM post and when to try again.
    pub fn crm_failed(&self, seq: i64, next: i64, error: &str) -> rusqlite::Result<()> {
        self.c().execute(
            "UPDATE crm_outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE seq = ?1",
            params![seq, next, error],
        )?;
        Ok(())
    }

    /// `(pending, delivered)` counts of the CRM outbox.
    pub fn crm_counts(&self) -> rusqlite::Result<(i64, i64)> {
        self.c().query_row(
            "SELECT COALESCE(SUM(delivered_at IS NULL), 0), COALESCE(SUM(delivered_at IS NOT NULL), 0) FROM crm_outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}
