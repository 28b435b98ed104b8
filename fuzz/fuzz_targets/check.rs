// Shared by the targets (included): what every verdict must satisfy.

/// Every finding of the text field lies inside it, on character boundaries.
pub fn findings_are_well_formed(msg: &linewall_engine::Message, v: &linewall_engine::Verdict) {
    for f in &v.findings {
        if f.field != "text" {
            continue;
        }
        let t = &msg.text;
        assert!(f.byte_start < f.byte_end && f.byte_end <= t.len(), "finding outside the field");
        assert!(t.is_char_boundary(f.byte_start) && t.is_char_boundary(f.byte_end), "not on char boundaries");
    }
}
