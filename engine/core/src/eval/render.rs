//! Rendering: raw findings (detector indexes, byte offsets) become the verdict's
//! findings (ids, code-point and byte offsets, the rules they satisfied, a masked preview).

use super::RawFinding;
use super::decide::{RuleRef, satisfies};
use super::fields::{self, FieldPath};
use super::redact;
use crate::message::Message;
use crate::policy::PolicySet;
use crate::verdict::Finding;

/// Converts increasing byte offsets of one field to code-point offsets in one walk.
#[derive(Default)]
struct CharCursor {
    field: Option<FieldPath>,
    byte: usize,
    chars: usize,
}

impl CharCursor {
    fn chars_to(&mut self, text: &str, byte: usize) -> usize {
        if byte < self.byte {
            // Not in order (never the case for one field's findings): count from the start.
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += text.get(self.byte..byte).map_or(0, |s| s.chars().count());
        self.byte = byte;
        self.chars
    }
}

impl PolicySet {
    /// Renders the findings. Code-point offsets come from one walk per field: the
    /// findings of a field are in text order.
    pub(super) fn render(&self, msg: &Message, raw: &[RawFinding], fired: &[RuleRef]) -> Vec<Finding> {
        let mut findings = Vec::with_capacity(raw.len());
        let mut cursor = CharCursor::default();
        for f in raw {
            let text = fields::get_ref(msg, f.field).unwrap_or("");
            if cursor.field != Some(f.field) {
                cursor = CharCursor { field: Some(f.field), ..CharCursor::default() };
            }
            let start_chars = cursor.chars_to(text, f.start);
            let rules = fired
                .iter()
                .filter(|&&(pi, ri)| satisfies(&self.policies[pi].rules[ri].when, f))
                .map(|&(pi, ri)| self.policies[pi].rules[ri].qualified.clone())
                .collect();
            findings.push(Finding {
                detector: self.detectors[f.detector].id.clone(),
                field: f.field.to_string(),
                start: start_chars,
                end: start_chars + text.get(f.start..f.end).map_or(0, |v| v.chars().count()),
                byte_start: f.start,
                byte_end: f.end,
                confidence: f.confidence,
                rules,
                preview: redact::preview(text.get(f.start..f.end).unwrap_or("")),
            });
        }
        findings
    }
}
