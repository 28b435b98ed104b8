//! Deciding: which rules can fire for a message (scopes and metadata, before any
//! scan), which do fire given the findings, the resulting action and the notice.

use super::RawFinding;
use crate::message::{Channel, Direction, Message};
use crate::policy::PolicySet;
use crate::policy::compile::{AttachmentCond, Cond, DetectorSet, MetaCond, Requirement};
use crate::policy::model::Kind;
use crate::verdict::{Action, Alert, EvalError, Matched, Mode};

/// SMS keywords a contact uses to opt out or in; such messages are never blocked or redacted.
const OPT_OUT_KEYWORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT OUT",
    "OPT-OUT",
    "REVOKE",
    "START",
    "UNSTOP",
    "YES",
    "HELP",
    "INFO",
];

pub(super) fn kinds_of(msg: &Message) -> [bool; 8] {
    [
        !msg.text.is_empty(),
        // A message with free text is judged on that text: its template does not make it a
        // `template` message (else `unless: kinds: [template]` would wave the text through).
        msg.template.is_some() && msg.text.is_empty(),
        !msg.attachments.is_empty(),
        msg.location.is_some(),
        !msg.contacts.is_empty(),
        msg.interactive.is_some(),
        msg.reaction.is_some(),
        msg.order.is_some(),
    ]
}

fn kind_index(k: Kind) -> usize {
    match k {
        Kind::Text => 0,
        Kind::Template => 1,
        Kind::Media => 2,
        Kind::Location => 3,
        Kind::Contacts => 4,
        Kind::Interactive => 5,
        Kind::Reaction => 6,
        Kind::Order => 7,
    }
}

/// Whether the message satisfies metadata conditions `m`.
#[inline(always)]
pub(super) fn meta_matches(m: &MetaCond, msg: &Message, kinds: &[bool; 8]) -> bool {
    if m.directions_only {
        m.directions.is_empty() || m.directions.contains(&msg.direction)
    } else {
        meta_matches_set(m, msg, kinds)
    }
}

fn meta_matches_set(m: &MetaCond, msg: &Message, kinds: &[bool; 8]) -> bool {
    let sender = msg.sender.as_ref();
    let recipient = msg.recipient.as_ref();
    (m.tenants.is_empty() || m.tenants.contains(&msg.tenant))
        && (m.channels.is_empty() || m.channels.contains(&msg.channel))
        && (m.directions.is_empty() || m.directions.contains(&msg.direction))
        && (m.sender_roles.is_empty()
            || sender.and_then(|p| p.role).is_some_and(|r| m.sender_roles.contains(&r)))
        && (m.sender_groups.is_empty()
            || sender.is_some_and(|p| p.groups.iter().any(|g| m.sender_groups.contains(g))))
        && (m.recipient_roles.is_empty()
            || recipient.and_then(|p| p.role).is_some_and(|r| m.recipient_roles.contains(&r)))
        && (m.recipient_groups.is_empty()
            || recipient.is_some_and(|p| p.groups.iter().any(|g| m.recipient_groups.contains(g))))
        && (m.kinds.is_empty() || m.kinds.iter().any(|k| kinds[kind_index(*k)]))
        && m.attributes.iter().all(|(k, v)| msg.attributes.get(k).is_some_and(|got| attribute_eq(v, got)))
}

/// The boolean meaning of `true`/`yes` and `false`/`no`, any letter case.
fn boolean_like(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Whether a message attribute value satisfies a condition's value: boolean-like values by
/// meaning (so `"False"` matches `"false"`), everything else exactly.
fn attribute_eq(want: &str, got: &str) -> bool {
    match boolean_like(want) {
        Some(b) => boolean_like(got) == Some(b),
        None => want == got,
    }
}

fn attachments_match(a: &AttachmentCond, msg: &Message) -> bool {
    msg.attachments.iter().any(|att| {
        let ext_ok = a.extensions.is_empty()
            || att
                .filename
                .rsplit_once('.')
                .is_some_and(|(_, ext)| a.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)));
        let mime = att.mime_type.to_ascii_lowercase();
        let mime_ok = a.mime_types.is_empty()
            || a.mime_types.iter().any(|m| match m.strip_suffix("/*") {
                Some(prefix) => mime.split('/').next() == Some(prefix),
                None => *m == mime,
            });
        let size_ok = a.max_size_bytes.is_none_or(|max| att.size_bytes > max);
        ext_ok && mime_ok && size_ok
    })
}

fn requirement_holds(q: &Requirement, findings: &[RawFinding]) -> bool {
    let n = findings
        .iter()
        .filter(|f| f.detector == q.detector && f.confidence >= q.min_confidence && q.split.accepts(f.split))
        .count();
    n >= q.min_count as usize
}

fn cond_holds(
    c: &Cond,
    msg: &Message,
    kinds: &[bool; 8],
    findings: &[RawFinding],
    found: &DetectorSet,
) -> bool {
    meta_matches(&c.meta, msg, kinds) && cond_holds_but_meta(c, msg, findings, found)
}

/// [`cond_holds`] for a condition whose metadata is known to match; `found` holds the
/// detectors of `findings`.
fn cond_holds_but_meta(c: &Cond, msg: &Message, findings: &[RawFinding], found: &DetectorSet) -> bool {
    // Most rules' detectors found nothing in most messages: no need to count findings.
    if c.needs_finding && !c.detector_set.may_intersect(found) {
        return false;
    }
    c.attachments.as_ref().is_none_or(|a| attachments_match(a, msg))
        && (c.any.is_empty() || c.any.iter().any(|q| requirement_holds(q, findings)))
        && c.all.iter().all(|q| requirement_holds(q, findings))
}

/// True when a finding satisfies one of the requirements of a rule's `when`.
pub(super) fn satisfies(c: &Cond, f: &RawFinding) -> bool {
    c.any
        .iter()
        .chain(&c.all)
        .any(|q| q.detector == f.detector && f.confidence >= q.min_confidence && q.split.accepts(f.split))
}

pub(super) fn is_opt_out(msg: &Message) -> bool {
    if msg.channel != Channel::Sms || msg.direction != Direction::Inbound {
        return false;
    }
    let t = msg.text.trim().trim_end_matches(['.', '!']);
    OPT_OUT_KEYWORDS.iter().any(|k| t.eq_ignore_ascii_case(k))
}

/// A rule by its indexes: (policy, rule).
pub(super) type RuleRef = (usize, usize);

/// The outcome of deciding the rules of one message.
pub(super) struct Decision {
    pub action: Action,
    pub matched: Vec<Matched>,
    pub alerts: Vec<Alert>,
    /// Rules that fired, in policy and rule order.
    pub fired: Vec<RuleRef>,
}

impl PolicySet {
    /// Rules whose policy scope and metadata conditions hold; flags in `needed` the
    /// detectors they reference.
    pub(super) fn candidate_rules(
        &self,
        msg: &Message,
        kinds: &[bool; 8],
        needed: &mut [bool],
    ) -> Vec<RuleRef> {
        let mut candidates = Vec::with_capacity(16);
        for (pi, p) in self.policies.iter().enumerate() {
            if !meta_matches(&p.scope, msg, kinds) {
                continue;
            }
            for (ri, r) in p.rules.iter().enumerate() {
                if meta_matches(&r.when.meta, msg, kinds) {
                    candidates.push((pi, ri));
                    for &d in &r.detectors {
                        needed[d] = true;
                    }
                }
            }
        }
        candidates
    }

    /// Decides the candidate rules (from [`PolicySet::candidate_rules`]: their scope and
    /// `when` metadata hold) given the findings. A failed detector applies its fail mode.
    pub(super) fn decide(
        &self,
        msg: &Message,
        kinds: &[bool; 8],
        candidates: &[RuleRef],
        raw: &[RawFinding],
        errors: &[EvalError],
    ) -> Decision {
        let mut d =
            Decision { action: Action::Allow, matched: Vec::new(), alerts: Vec::new(), fired: Vec::new() };
        let mut found = DetectorSet::default();
        for f in raw {
            found.insert(f.detector);
        }
        for &(pi, ri) in candidates {
            let p = &self.policies[pi];
            let r = &p.rules[ri];
            // `candidate_rules` checked the metadata of `when` already.
            if !cond_holds_but_meta(&r.when, msg, raw, &found) {
                continue;
            }
            if let Some(u) = &r.unless
                && cond_holds(u, msg, kinds, raw, &found)
            {
                continue;
            }
            d.fired.push((pi, ri));
            d.matched.push(Matched {
                policy: p.name.clone(),
                rule: r.id.clone(),
                action: r.action,
                mode: r.mode,
            });
            if let Some(severity) = r.alert {
                let split = raw.iter().any(|f| f.split && satisfies(&r.when, f));
                d.alerts.push(Alert { policy: p.name.clone(), rule: r.id.clone(), severity, split });
            }
            if r.mode == Mode::Enforce {
                d.action = d.action.max(r.action);
            }
        }
        for e in errors {
            d.action = d.action.max(e.on_error);
        }
        d
    }

    /// Whether rule `r` is enforced (not monitor-only).
    pub(super) fn enforced(&self, &(pi, ri): &RuleRef) -> bool {
        self.policies[pi].rules[ri].mode == Mode::Enforce
    }

    /// The notices of the enforced fired rules whose action is the verdict's, joined.
    pub(super) fn notice(&self, fired: &[RuleRef], action: Action) -> Option<String> {
        if action == Action::Allow {
            return None;
        }
        let mut notices: Vec<&str> = Vec::new();
        for &(pi, ri) in fired.iter().filter(|x| self.enforced(x)) {
            let r = &self.policies[pi].rules[ri];
            if r.action == action
                && let Some(n) = r.notice.as_deref()
                && !notices.contains(&n)
            {
                notices.push(n);
            }
        }
        (!notices.is_empty()).then(|| notices.join(" "))
    }
}
