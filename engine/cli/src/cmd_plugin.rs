//! `linewall plugin`: scaffold, build and package detector plugins.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Subcommand;
use sha2::{Digest, Sha256};

/// The target plugins compile to: its std imports nothing, unlike `wasm32-wasip2`.
const TARGET: &str = "wasm32-unknown-unknown";

/// Plugin subcommands.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a plugin crate that builds and passes its tests out of the box.
    New {
        /// Crate name ([a-z][a-z0-9-]*); also the directory created.
        name: String,
        /// Directory to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Use this plugin SDK crate (a path dependency) instead of writing the SDK this
        /// binary embeds into the new crate.
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin crate for wasm32 and wrap it into a component.
    Build {
        /// The plugin crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output file (default: `<dir>/<crate>.wasm`).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Pass `--locked` to cargo (use the crate's Cargo.lock as is).
        #[arg(long)]
        locked: bool,
    },
    /// Wrap a core WebAssembly module (e.g. built from C) into a plugin component.
    Componentize {
        /// The core module.
        module: PathBuf,
        /// Output file.
        #[arg(long, short)]
        out: PathBuf,
    },
}

/// Runs a plugin subcommand; returns the exit code.
pub fn run(cmd: PluginCommand) -> u8 {
    let result = match cmd {
        PluginCommand::New { name, dir, sdk } => new(&name, &dir, sdk),
        PluginCommand::Build { dir, out, locked } => build(&dir, out, locked),
        PluginCommand::Componentize { module, out } => std::fs::read(&module)
            .map_err(|e| format!("cannot read {}: {e}", module.display()))
            .and_then(|core| write_component(&core, &out)),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn write_component(core: &[u8], out: &Path) -> Result<(), String> {
    let component = linewall_plugin_host::componentize::componentize(core).map_err(|e| e.to_string())?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(out, &component).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "built {} ({} bytes, sha256 {})",
        out.display(),
        component.len(),
        hex::encode(Sha256::digest(&component))
    );
    Ok(())
}

fn build(dir: &Path, out: Option<PathBuf>, locked: bool) -> Result<(), String> {
    let manifest = dir.join("Cargo.toml");
    let manifest =
        manifest.canonicalize().map_err(|e| format!("no plugin crate at {}: {e}", manifest.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .current_dir(manifest.parent().unwrap_or(dir))
        .args(["build", "--release", "--target", TARGET, "--message-format=json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(locked.then_some("--locked"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut artifact = None;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let ours = msg["reason"] == "compiler-artifact"
                && msg["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path())
                && msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib"));
            if ours {
                artifact = msg["filenames"]
                    .as_array()
                    .and_then(|f| f.iter().filter_map(|f| f.as_str()).find(|f| f.ends_with(".wasm")))
                    .map(PathBuf::from);
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo failed: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build failed ({status}); is the {TARGET} target installed?"));
    }
    let artifact = artifact
        .ok_or("cargo built no cdylib; set `crate-type = [\"cdylib\"]` in the plugin's [lib] section")?;
    let core = std::fs::read(&artifact).map_err(|e| format!("cannot read {}: {e}", artifact.display()))?;
    let out = out.unwrap_or_else(|| {
        let stem = artifact.file_stem().map_or("plugin".into(), |s| s.to_string_lossy().replace('_', "-"));
        dir.join(format!("{stem}.wasm"))
    });
    write_component(&core, &out)
}

fn new(name: &str, parent: &Path, sdk: Option<PathBuf>) -> Result<(), String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(format!("`{name}` is not a valid plugin name: use [a-z][a-z0-9-]*"));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let embedded = sdk.is_none();
    let sdk_path = match sdk {
        Some(p) => {
            let p = p
                .canonicalize()
                .map_err(|e| format!("cannot find the plugin SDK at {} ({e})", p.display()))?;
            p.to_string_lossy().replace('\\', "/")
        }
        None => String::from(crate::plugin_sdk::DIR),
    };
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = [
        ("Cargo.toml", scaffold::CARGO.replace("{name}", name).replace("{sdk}", &sdk_path)),
        ("Cargo.lock", crate::plugin_sdk::lock_for(name)?),
        ("rust-toolchain.toml", scaffold::TOOLCHAIN.to_string()),
        ("src/lib.rs", scaffold::LIB.to_string()),
        ("policy.yaml", scaffold::POLICY.replace("{name}", name)),
        (".gitignore", "/target\n*.wasm\n".to_string()),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if embedded {
        crate::plugin_sdk::write(&dir.join(crate::plugin_sdk::DIR))?;
    }
    println!("created {}", dir.display());
    println!("next:");
    println!("  (cd {} && cargo test)              # unit tests, natively", dir.display());
    println!("  linewall plugin build {}           # -> {name}.wasm", dir.display());
    println!("  linewall test {}/policy.yaml       # the policy's tests, through the plugin", dir.display());
    Ok(())
}

/// Files of a new plugin crate.
mod scaffold {
    pub const CARGO: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
linewall-plugin-sdk = { path = "{sdk}" }

# Small and fast; a panic becomes a trap, after which Linewall recycles the instance.
[profile.release]
opt-level = 3
lto = true
codegen-units = 1
panic = "abort"
strip = true

# A standalone crate, not part of an enclosing workspace (the SDK beside it is a member).
[workspace]
"#;

    pub const TOOLCHAIN: &str = r#"[toolchain]
channel = "1.95.0"
targets = ["wasm32-unknown-unknown"]
"#;

    pub const LIB: &str = r##"//! A Linewall detector plugin: finds a configured code word.

use linewall_plugin_sdk::{Confidence, Config, Detector, Finding, Message};

/// Finds every whole-word occurrence of the code word, case-insensitively.
struct CodeWord {
    word: String,
}

impl Default for CodeWord {
    fn default() -> Self {
        CodeWord { word: "project-x".to_string() }
    }
}

impl Detector for CodeWord {
    fn init(config: &Config) -> Result<Self, String> {
        match config.get_str("word") {
            Some(w) if !w.trim().is_empty() => Ok(CodeWord { word: w.trim().to_lowercase() }),
            Some(_) => Err("`word` must not be empty".to_string()),
            None => Ok(CodeWord::default()),
        }
    }

    fn detect(&self, msg: &Message) -> Vec<Finding> {
        let text = msg.text.to_lowercase();
        if text.len() != msg.text.len() {
            // Lower-casing changed byte lengths (rare scripts): offsets would not line up.
            return Vec::new();
        }
        let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
        text.match_indices(&self.word)
            .filter(|(i, w)| {
                let before = text[..*i].chars().next_back().is_none_or(|c| !is_word(c));
                let after = text[i + w.len()..].chars().next().is_none_or(|c| !is_word(c));
                before && after
            })
            .map(|(i, w)| Finding::new(i..i + w.len(), Confidence::High))
            .collect()
    }
}

linewall_plugin_sdk::export_detector!(CodeWord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_word_as_a_whole_word_only() {
        let d = CodeWord::init(&Config::parse(r#"{"word": "Falcon"}"#).unwrap()).unwrap();
        let found = d.detect(&Message::from_text("Update on FALCON: falconry is unrelated"));
        assert_eq!(found.iter().map(Finding::span).collect::<Vec<_>>(), vec![10..16]);
    }

    #[test]
    fn an_empty_word_is_a_config_error() {
        assert!(CodeWord::init(&Config::parse(r#"{"word": " "}"#).unwrap()).is_err());
    }
}
"##;

    pub const POLICY: &str = r#"apiVersion: linewall/v1
kind: Policy
metadata:
  name: {name}
  description: Block messages that name the code word (example policy of the {name} plugin).
spec:
  detectors:
    - id: code-word
      plugin:
        module: {name}.wasm
        config: {word: falcon}
        timeout_ms: 1000   # a backstop: fuel is the limit that stops a runaway call
        on_error: block
      examples: ["the falcon deal"]
      negative_examples: ["falconry club"]
  rules:
    - id: block-code-word
      when:
        detectors: {any: [{id: code-word}]}
      action: block
      notice: "Project code names can't be sent over messaging."
  tests:
    - name: the code word is blocked
      message: {text: "Falcon closes Friday"}
      expect: {action: block, rules: [block-code-word]}
    - name: other text passes
      message: {text: "See you Friday"}
      expect: {action: allow}
"#;
}
