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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, BuildError, MatchKind};

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
        let nfa = noncontiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            // Our loops never call a prefilter; without one the start state is not
            // special, which keeps the NFA walk's per-byte test to one comparison.
            .prefilter(false)
            .build(patterns)?;
        let table = if dfa { Table::new(&nfa, patterns) } else { None };
        let imp = match table {
            Some(t) => Imp::Table(t),
            None => match contiguous::Builder::new().prefilter(false).build_from_noncontiguous(&nfa) {
                Ok(c) => Imp::Contiguous(c),
                // Too large for the contiguous layout's state ids: keep the plain NFA.
                Err(_) => Imp::Noncontiguous(nfa),
            },
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
    /// The DFA of `nfa`: every state reachable from the start, each byte class's
    /// transition resolved through the failure links once, here.
    fn new<P: AsRef<[u8]>>(nfa: &noncontiguous::NFA, patterns: &[P]) -> Option<Self> {
        // Bytes that occur in no pattern all lead every state to the start state's own
        // transition on them: they share class 0. The others keep a class each (upper-
        // and lower-case ASCII letters share one: the search ignores ASCII case).
        let mut used = [false; 256];
        for p in patterns {
            for &b in p.as_ref() {
                used[usize::from(b.to_ascii_lowercase())] = true;
                used[usize::from(b.to_ascii_uppercase())] = true;
            }
        }
        let mut reps: Vec<u8> = (0..=255u8).find(|&b| !used[usize::from(b)]).into_iter().collect();
        let mut classes = [0u8; 256];
        for b in (0..=255u8).filter(|b| used[usize::from(*b)] && !b.is_ascii_uppercase()) {
            // At most 230 classes (26 upper-case letters share theirs): a byte holds them.
            classes[usize::from(b)] = u8::try_from(reps.len()).ok()?;
            reps.push(b);
        }
        for b in b'A'..=b'Z' {
            classes[usize::from(b)] = classes[usize::from(b.to_ascii_lowercase())];
        }
        let stride = reps.len();
        let start = nfa.start_state(Anchored::No).ok()?;
        // Discover the states breadth-first, then number the match states last.
        let mut order = vec![start];
        let mut seen: HashMap<aho_corasick::automaton::StateID, u32> = HashMap::from([(start, 0)]);
        let mut i = 0;
        while i < order.len() {
            let sid = order[i];
            for &b in &reps {
                let next = nfa.next_state(Anchored::No, sid, b);
                if let Entry::Vacant(e) = seen.entry(next) {
                    e.insert(0);
                    order.push(next);
                }
            }
            i += 1;
        }
        let (plain, matching): (Vec<_>, Vec<_>) = order.into_iter().partition(|&s| !nfa.is_match(s));
        let ids: Vec<_> = plain.iter().chain(&matching).copied().collect();
        for (n, sid) in ids.iter().enumerate() {
            seen.insert(*sid, (n * stride) as u32);
        }
        let mut trans = vec![0u32; ids.len() * stride];
        for (n, &sid) in ids.iter().enumerate() {
            for (c, &b) in reps.iter().enumerate() {
                trans[n * stride + c] = seen[&nfa.next_state(Anchored::No, sid, b)];
            }
        }
        let mut match_ranges = Vec::with_capacity(matching.len());
        let mut match_list = Vec::new();
        for &sid in &matching {
            let from = match_list.len() as u32;
            for k in 0..nfa.match_len(sid) {
                let p = nfa.match_pattern(sid, k);
                match_list.push((p.as_u32(), nfa.pattern_len(p) as u32));
            }
            match_ranges.push((from, match_list.len() as u32));
        }
        Some(Self {
            classes,
            stride,
            trans,
            start: seen[&start],
            first_match: (plain.len() * stride) as u32,
            match_ranges,
            match_list,
            max_len: nfa.max_pattern_len(),
            patterns: nfa.patterns_len(),
        })
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
