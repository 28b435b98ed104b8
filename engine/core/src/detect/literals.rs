//! The literal searcher: every literal the hot path looks for (gate literals, context
//! keywords, dictionary terms) in one Aho-Corasick automaton, searched for all
//! overlapping occurrences in one pass over a field.
//!
//! The `aho-corasick` crate builds the automaton; the table the search walks is ours. Its
//! overlapping iterator returns to the caller at every match and keeps its position in a
//! state struct in memory: about 20 instructions per byte of text, which was 80 % of the
//! time of a clean-text scan. Our table is the same DFA, renumbered so that "is this a
//! match state" is one comparison with the next state, and walked by a loop that keeps
//! its state in a register. On long texts it walks two halves at once: a DFA's steps
//! each wait for the previous one's table load, and two independent walks overlap those
//! waits.

use std::sync::Arc;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, BuildError, MatchKind};

/// "No transition" in a trie under construction.
const NONE: u32 = u32::MAX;

/// Texts shorter than this are walked in one piece (two walks cost a second warm-up).
const SPLIT_AT: usize = 1024;

/// An immutable literal automaton (ASCII case-insensitive, every occurrence reported,
/// overlapping ones included). Cloning shares it.
#[derive(Clone)]
pub struct LiteralSearcher {
    imp: Arc<Imp>,
}

enum Imp {
    Table(Table),
    Contiguous(contiguous::NFA),
    Noncontiguous(noncontiguous::NFA),
}

/// A DFA over byte classes with premultiplied state ids (`state * stride`): the non-match
/// states first, then the match states, from `first_match` on.
struct Table {
    /// Byte -> class. Class 0 holds the bytes of no pattern.
    classes: [u8; 256],
    stride: usize,
    trans: Vec<u32>,
    start: u32,
    first_match: u32,
    /// Per match state (in order), its range in `match_list`.
    match_ranges: Vec<(u32, u32)>,
    /// (pattern, length in bytes) of the matches of each match state, its own and those
    /// of its suffixes.
    match_list: Vec<(u32, u32)>,
    /// Longest pattern, in bytes.
    max_len: usize,
    patterns: usize,
}

impl std::fmt::Debug for LiteralSearcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteralSearcher")
            .field("patterns", &self.patterns_len())
            .field("dfa", &self.is_dfa())
            .finish()
    }
}

impl LiteralSearcher {
    /// Builds the automaton of `patterns` (none empty): a full DFA when `dfa` (one table
    /// lookup per byte), else the more compact contiguous NFA, whose build costs far less
    /// for large dictionaries.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P], dfa: bool) -> Result<Self, BuildError> {
        if dfa && let Some(t) = Table::new(patterns) {
            return Ok(Self { imp: Arc::new(Imp::Table(t)) });
        }
        let nfa = noncontiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            // Our loops never call a prefilter; without one the start state is not
            // special, which keeps the NFA walk's per-byte test to one comparison.
            .prefilter(false)
            .build(patterns)?;
        let imp = match contiguous::Builder::new().prefilter(false).build_from_noncontiguous(&nfa) {
            Ok(c) => Imp::Contiguous(c),
            // Too large for the contiguous layout's state ids: keep the plain NFA.
            Err(_) => Imp::Noncontiguous(nfa),
        };
        Ok(Self { imp: Arc::new(imp) })
    }

    /// Number of patterns.
    pub fn patterns_len(&self) -> usize {
        match &*self.imp {
            Imp::Table(t) => t.patterns,
            Imp::Contiguous(a) => a.patterns_len(),
            Imp::Noncontiguous(a) => a.patterns_len(),
        }
    }

    /// Whether the automaton is a full DFA.
    pub fn is_dfa(&self) -> bool {
        matches!(&*self.imp, Imp::Table(_))
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern in `hay`, in
    /// no particular order.
    pub fn for_each_match(&self, hay: &[u8], mut f: impl FnMut(u32, usize, usize)) {
        match &*self.imp {
            Imp::Table(t) => t.search(hay, &mut f),
            Imp::Contiguous(a) => overlapping(a, hay, &mut f),
            Imp::Noncontiguous(a) => overlapping(a, hay, &mut f),
        }
    }
}

impl Table {
    /// The DFA of `patterns`, built directly: a trie over byte classes, then its failure
    /// transitions filled breadth-first, each state copying the finished row of its
    /// failure state. That is linear in states times classes; asking an NFA for every
    /// transition walks failure chains instead and made a large keyword set take hundreds
    /// of milliseconds to load. `None` for what the table does not handle (an empty
    /// pattern, more ids than it numbers): the caller keeps an NFA.
    fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Option<Self> {
        // Bytes that occur in no pattern all lead every state to the start state's own
        // transition on them: they share class 0. The others keep a class each (upper-
        // and lower-case ASCII letters share one: the search ignores ASCII case).
        let mut used = [false; 256];
        for p in patterns {
            if p.as_ref().is_empty() {
                return None;
            }
            for &b in p.as_ref() {
                used[usize::from(b.to_ascii_lowercase())] = true;
                used[usize::from(b.to_ascii_uppercase())] = true;
            }
        }
        let mut classes = [0u8; 256];
        let mut stride = usize::from(used.iter().any(|u| !u));
        for b in (0..=255u8).filter(|b| used[usize::from(*b)] && !b.is_ascii_uppercase()) {
            // At most 230 classes (26 upper-case letters share theirs): a byte holds them.
            classes[usize::from(b)] = u8::try_from(stride).ok()?;
            stride += 1;
        }
        for b in b'A'..=b'Z' {
            classes[usize::from(b)] = classes[usize::from(b.to_ascii_lowercase())];
        }
        let (trans, own) = Self::trie(patterns, &classes, stride)?;
        let states = trans.len() / stride;
        let (trans, outputs) = Self::fill(trans, &own, stride);
        // Renumber: non-match states first, match states from `first_match` on, ids
        // premultiplied by the stride.
        let mut id = vec![0u32; states];
        let mut next = 0usize;
        for pass in [false, true] {
            for (s, out) in outputs.iter().enumerate() {
                if out.is_empty() != pass {
                    id[s] = u32::try_from(next * stride).ok()?;
                    next += 1;
                }
            }
        }
        let plain = outputs.iter().filter(|o| o.is_empty()).count();
        let mut table = vec![0u32; trans.len()];
        let mut match_ranges = Vec::with_capacity(states - plain);
        let mut match_list = Vec::new();
        for (s, row) in trans.chunks_exact(stride).enumerate() {
            let at = id[s] as usize;
            for (slot, &to) in table[at..at + stride].iter_mut().zip(row) {
                *slot = id[to as usize];
            }
        }
        for out in outputs.iter().filter(|o| !o.is_empty()) {
            let from = u32::try_from(match_list.len()).ok()?;
            for &p in out {
                match_list.push((p, u32::try_from(patterns[p as usize].as_ref().len()).ok()?));
            }
            match_ranges.push((from, u32::try_from(match_list.len()).ok()?));
        }
        Some(Self {
            classes,
            stride,
            trans: table,
            start: id[0],
            first_match: u32::try_from(plain * stride).ok()?,
            match_ranges,
            match_list,
            max_len: patterns.iter().map(|p| p.as_ref().len()).max().unwrap_or(0),
            patterns: patterns.len(),
        })
    }

    /// The trie of `patterns` (state 0 is the root; `NONE` where there is no child) and
    /// each state's own patterns.
    fn trie<P: AsRef<[u8]>>(
        patterns: &[P],
        classes: &[u8; 256],
        stride: usize,
    ) -> Option<(Vec<u32>, Vec<Vec<u32>>)> {
        let mut trans = vec![NONE; stride];
        let mut own: Vec<Vec<u32>> = vec![Vec::new()];
        for (pid, p) in patterns.iter().enumerate() {
            let mut s = 0usize;
            for &b in p.as_ref() {
                let slot = s * stride + usize::from(classes[usize::from(b)]);
                if trans[slot] == NONE {
                    trans[slot] = u32::try_from(own.len()).ok()?;
                    trans.resize(trans.len() + stride, NONE);
                    own.push(Vec::new());
                }
                s = trans[slot] as usize;
            }
            own[s].push(u32::try_from(pid).ok()?);
        }
        Some((trans, own))
    }

    /// Fills the trie's missing transitions breadth-first (a state's row is finished
    /// before any deeper state reads it) and gives each state its matches: its own, then
    /// its failure state's (the patterns that are suffixes of what it has read).
    fn fill(mut trans: Vec<u32>, own: &[Vec<u32>], stride: usize) -> (Vec<u32>, Vec<Vec<u32>>) {
        let states = own.len();
        let mut fail = vec![0u32; states];
        let mut outputs: Vec<Vec<u32>> = vec![Vec::new(); states];
        outputs[0].clone_from(&own[0]);
        let mut queue = Vec::with_capacity(states);
        for slot in &mut trans[..stride] {
            match *slot {
                NONE => *slot = 0,
                child => queue.push(child),
            }
        }
        let mut i = 0;
        while i < queue.len() {
            let s = queue[i] as usize;
            i += 1;
            let f = fail[s] as usize;
            let mut out = own[s].clone();
            out.extend_from_slice(&outputs[f]);
            outputs[s] = out;
            for c in 0..stride {
                let via_fail = trans[f * stride + c];
                let slot = s * stride + c;
                match trans[slot] {
                    NONE => trans[slot] = via_fail,
                    child => {
                        fail[child as usize] = via_fail;
                        queue.push(child);
                    }
                }
            }
        }
        (trans, outputs)
    }

    /// Every match in `hay`. A long text is walked as two halves at once; the second
    /// walk starts one pattern length early (an automaton finds exactly the occurrences
    /// that lie entirely in what it reads) and reports only matches ending in its half.
    fn search(&self, hay: &[u8], f: &mut impl FnMut(u32, usize, usize)) {
        let (t, cls, first) = (&self.trans[..], &self.classes, self.first_match);
        if hay.len() < SPLIT_AT.max(4 * self.max_len) {
            let mut s = self.start;
            for (i, &b) in hay.iter().enumerate() {
                s = t[s as usize + usize::from(cls[usize::from(b)])];
                if s >= first {
                    self.report(s, i + 1, 0, f);
                }
            }
            return;
        }
        let mid = hay.len() / 2;
        let warm = mid - (self.max_len - 1);
        let (a, b) = (&hay[..mid], &hay[warm..]);
        let (mut sa, mut sb) = (self.start, self.start);
        // Both walks take `a.len()` steps; the second's remaining tail follows alone.
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            sa = t[sa as usize + usize::from(cls[usize::from(x)])];
            sb = t[sb as usize + usize::from(cls[usize::from(y)])];
            if sa >= first {
                self.report(sa, i + 1, 0, f);
            }
            if sb >= first {
                self.report(sb, warm + i + 1, mid, f);
            }
        }
        for (i, &y) in b.iter().enumerate().skip(a.len()) {
            sb = t[sb as usize + usize::from(cls[usize::from(y)])];
            if sb >= first {
                self.report(sb, warm + i + 1, mid, f);
            }
        }
    }

    /// Reports the matches of match state `s` ending at `end`, if `end` is beyond `after`.
    #[cold]
    fn report(&self, s: u32, end: usize, after: usize, f: &mut impl FnMut(u32, usize, usize)) {
        if end <= after {
            return;
        }
        let (from, to) = self.match_ranges[((s - self.first_match) as usize) / self.stride];
        for &(p, len) in &self.match_list[from as usize..to as usize] {
            f(p, end - len as usize, end);
        }
    }
}

/// The overlapping search over an NFA: one transition per byte (following failure links
/// as needed), and the state's matches (its own and those of its suffixes, which the
/// automaton merged at build) where it is a match state.
fn overlapping<A: Automaton>(aut: &A, hay: &[u8], f: &mut impl FnMut(u32, usize, usize)) {
    let Ok(mut sid) = aut.start_state(Anchored::No) else { return };
    for (i, &b) in hay.iter().enumerate() {
        sid = aut.next_state(Anchored::No, sid, b);
        if aut.is_special(sid) {
            // Without a prefilter the special states are the dead state (unreachable in an
            // unanchored standard search) and the match states.
            if aut.is_dead(sid) {
                return;
            }
            for k in 0..aut.match_len(sid) {
                let p = aut.match_pattern(sid, k);
                f(p.as_u32(), i + 1 - aut.pattern_len(p), i + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiteralSearcher;

    fn all(s: &LiteralSearcher, hay: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        s.for_each_match(hay.as_bytes(), |p, a, b| out.push((p, a, b)));
        out.sort_unstable();
        out
    }

    #[test]
    fn every_kind_reports_every_overlapping_occurrence_case_insensitively() {
        let pats = ["key", "api_key", "pi", "número", "身份证"];
        let hay = "My API_KEY, a pi, NÚMERO número 身份证号码";
        let expected = vec![(0, 7, 10), (1, 3, 10), (2, 4, 6), (2, 14, 16), (3, 26, 33), (4, 34, 43)];
        let dfa = LiteralSearcher::new(&pats, true).expect("dfa");
        assert!(dfa.is_dfa());
        assert_eq!(all(&dfa, hay), expected, "`NÚMERO` differs from `número` beyond ASCII case");
        let nfa = LiteralSearcher::new(&pats, false).expect("nfa");
        assert!(!nfa.is_dfa());
        assert_eq!(all(&nfa, hay), expected);
        assert_eq!(nfa.patterns_len(), 5);
        assert!(all(&dfa, "nothing to see").is_empty());
    }

    /// The `aho-corasick` crate's own overlapping search: what ours must find.
    fn oracle(pats: &[String], hay: &[u8]) -> Vec<(u32, usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(pats)
            .expect("oracle automaton");
        let mut out: Vec<_> =
            ac.find_overlapping_iter(hay).map(|m| (m.pattern().as_u32(), m.start(), m.end())).collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn long_texts_walked_in_two_halves_miss_nothing_at_the_seam() {
        let pats: Vec<String> = ["account number", "number", "acc", "ber a", "é"].map(String::from).to_vec();
        let dfa = LiteralSearcher::new(&pats, true).expect("dfa");
        // Every alignment of a match across the middle of a text long enough to be split.
        for pad in 1000..1040 {
            let hay = format!("{}ACCOUNT NUMBER acc é{}", "x".repeat(pad), "y".repeat(1010));
            assert_eq!(all(&dfa, &hay), oracle(&pats, hay.as_bytes()), "pad {pad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn finds_what_the_crate_finds(
            pats in proptest::collection::vec("[abAB é-]{1,6}", 1..12),
            hay in "[abcAB é-]{0,3000}",
            dfa: bool,
        ) {
            let ours = LiteralSearcher::new(&pats, dfa).expect("automaton");
            proptest::prop_assert_eq!(all(&ours, &hay), oracle(&pats, hay.as_bytes()));
        }
    }
}
