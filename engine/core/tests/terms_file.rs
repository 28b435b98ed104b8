//! Term lists from files (`terms_file:`): one term a line with `#` comments, relative to
//! the policy file, case-sensitive on request, whole-word by default, hashed into
//! `policy_version`, refused when not a readable regular file.

use std::path::{Path, PathBuf};

use linewall_engine::Message;
use linewall_engine::policy::{Code, LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::Action;

const POLICY: &str = r#"apiVersion: linewall/v1
kind: Policy
metadata: {name: tickers}
spec:
  detectors:
    - id: watched-tickers
      terms_file: lists/tickers.txt
      case_sensitive: true
    - id: codewords
      terms_file: lists/codewords.txt
      whole_word: false
  rules:
    - id: block-tickers
      when: {detectors: {any: [{id: watched-tickers}]}}
      action: block
    - id: block-codewords
      when: {detectors: {any: [{id: codewords}]}}
      action: block
"#;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str, tickers: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("linewall-terms-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("lists")).expect("dir");
    std::fs::write(d.join("policy.yaml"), POLICY).expect("policy");
    std::fs::write(d.join("lists/tickers.txt"), tickers).expect("tickers");
    std::fs::write(d.join("lists/codewords.txt"), "# project names\nbluebird\n").expect("codewords");
    Dir(d)
}

fn load(d: &Path) -> PolicySet {
    PolicySet::load_path(d, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn action(set: &PolicySet, text: &str) -> Action {
    set.evaluate(&Message::text(text)).action
}

#[test]
fn terms_files_match_as_written_whole_words_and_case_on_request() {
    let d = dir("match", "# watched tickers\nAAPL\n\n  MSFT  \nBRK.B\n");
    let set = load(&d.0);
    assert_eq!(set.term_files(), [d.0.join("lists/tickers.txt"), d.0.join("lists/codewords.txt")]);
    for text in ["buy AAPL now", "sell MSFT", "BRK.B is up"] {
        assert_eq!(action(&set, text), Action::Block, "{text}");
    }
    // Case-sensitive list: other cases do not match; whole words: no match inside words.
    for text in ["buy aapl now", "Msft", "AAPLX", "# watched tickers", "brk.b"] {
        assert_eq!(action(&set, text), Action::Allow, "{text}");
    }
    // `whole_word: false`, case-insensitive by default: found inside longer words.
    assert_eq!(action(&set, "the BLUEBIRDS file"), Action::Block);
}

#[test]
fn the_list_content_is_part_of_the_policy_version() {
    let d = dir("version", "AAPL\n");
    let a = load(&d.0);
    let again = load(&d.0);
    assert_eq!(a.version(), again.version());
    std::fs::write(d.0.join("lists/tickers.txt"), "AAPL\nTSLA\n").expect("write");
    let b = load(&d.0);
    assert_ne!(a.version(), b.version());
    assert_eq!(action(&b, "TSLA"), Action::Block);
}

#[test]
fn unreadable_lists_are_load_errors_at_the_terms_file_key() {
    let d = dir("errors", "AAPL\n");
    std::fs::remove_file(d.0.join("lists/tickers.txt")).expect("rm");
    std::fs::create_dir(d.0.join("lists/tickers.txt")).expect("a directory in its place");
    let err = PolicySet::load_path(&d.0, &LoadOptions::default()).expect_err("a directory");
    assert_eq!(err.errors.len(), 1, "{err}");
    let e = &err.errors[0];
    assert_eq!(e.code, Code::TermsFile);
    assert_eq!((e.line(), e.column()), (7, 19));
    let shown = err.to_string().replace(&d.0.display().to_string(), "[DIR]");
    insta::assert_snapshot!("terms_file_is_a_directory", shown);

    // A policy with no directory (uploaded, built in) cannot name a file.
    let src = PolicySource { name: "up.yaml".into(), text: POLICY.into(), base_dir: None };
    let err = PolicySet::load_sources(vec![src], &LoadOptions::default()).expect_err("no directory");
    assert!(err.errors.iter().all(|e| e.code == Code::TermsFile), "{err}");
    assert_eq!(err.errors.len(), 2, "{err}");
}
