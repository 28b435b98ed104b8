//! `linewall check`: one verdict for one text, human readable or JSON.

use std::io::IsTerminal;
use std::path::PathBuf;

use linewall_engine::message::{Attachment, Channel, Direction, Party, Role, Template};
use linewall_engine::{Message, Verdict};

/// Arguments of `linewall check`.
#[derive(clap::Args)]
pub struct Args {
    /// Policy file or directory (default: the built-in packs).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Message direction.
    #[arg(long, value_enum, default_value = "outbound")]
    direction: DirectionArg,
    /// Channel.
    #[arg(long, value_enum, default_value = "whatsapp")]
    channel: ChannelArg,
    /// Tenant.
    #[arg(long, default_value = "")]
    tenant: String,
    /// Message attribute `key=value` (repeatable).
    #[arg(long = "attr", value_parser = parse_attr)]
    attributes: Vec<(String, String)>,
    /// Sender role.
    #[arg(long, value_enum)]
    sender_role: Option<RoleArg>,
    /// Sender group (repeatable).
    #[arg(long = "sender-group")]
    sender_groups: Vec<String>,
    /// Sender ISO 3166 country code.
    #[arg(long, default_value = "")]
    sender_country: String,
    /// Recipient role.
    #[arg(long, value_enum)]
    recipient_role: Option<RoleArg>,
    /// Recipient group (repeatable).
    #[arg(long = "recipient-group")]
    recipient_groups: Vec<String>,
    /// Recipient ISO 3166 country code.
    #[arg(long, default_value = "")]
    recipient_country: String,
    /// Template name: the message carries a WhatsApp template.
    #[arg(long)]
    template: Option<String>,
    /// Template language code (with `--template`).
    #[arg(long, default_value = "", requires = "template")]
    template_language: String,
    /// Template parameter, in order (repeatable, with `--template`).
    #[arg(long = "template-param", requires = "template")]
    template_params: Vec<String>,
    /// Attachment `FILENAME=EXTRACTED TEXT` (repeatable): the message carries a file.
    #[arg(long = "attachment", value_parser = parse_attachment)]
    attachments: Vec<Attachment>,
    /// Print the JSON verdict.
    #[arg(long)]
    json: bool,
    /// The message's free text (may be empty, e.g. for a template alone).
    #[arg(default_value = "")]
    text: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Internal,
    External,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Internal => Role::Internal,
            RoleArg::External => Role::External,
        }
    }
}

fn parse_attachment(s: &str) -> Result<Attachment, String> {
    let (filename, text) = s.split_once('=').ok_or_else(|| String::from("expected FILENAME=TEXT"))?;
    if filename.is_empty() {
        return Err(String::from("expected FILENAME=TEXT with a non-empty file name"));
    }
    Ok(Attachment {
        filename: filename.to_owned(),
        size_bytes: text.len() as u64,
        text: text.to_owned(),
        ..Attachment::default()
    })
}

/// A party from its flags, or none when no flag describes it.
fn party(role: Option<RoleArg>, groups: &[String], country: &str) -> Option<Party> {
    (role.is_some() || !groups.is_empty() || !country.is_empty()).then(|| Party {
        role: role.map(Role::from),
        groups: groups.to_vec(),
        country: country.to_owned(),
        ..Party::default()
    })
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DirectionArg {
    Inbound,
    Outbound,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ChannelArg {
    Whatsapp,
    Sms,
    VoiceTranscript,
    Other,
}

fn parse_attr(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, got `{s}`"))
}

/// Runs the command; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let Some(set) = crate::load::policies_or_report(args.policies.as_deref()) else {
        return 2;
    };
    let msg = Message {
        text: args.text.clone(),
        tenant: args.tenant.clone(),
        direction: match args.direction {
            DirectionArg::Inbound => Direction::Inbound,
            DirectionArg::Outbound => Direction::Outbound,
        },
        channel: match args.channel {
            ChannelArg::Whatsapp => Channel::Whatsapp,
            ChannelArg::Sms => Channel::Sms,
            ChannelArg::VoiceTranscript => Channel::VoiceTranscript,
            ChannelArg::Other => Channel::Other,
        },
        attributes: args.attributes.iter().cloned().collect(),
        sender: party(args.sender_role, &args.sender_groups, &args.sender_country),
        recipient: party(args.recipient_role, &args.recipient_groups, &args.recipient_country),
        template: args.template.as_ref().map(|name| Template {
            name: name.clone(),
            language: args.template_language.clone(),
            parameters: args.template_params.clone(),
        }),
        attachments: args.attachments.clone(),
        ..Message::default()
    };
    let verdict = set.evaluate(&msg);
    if args.json {
        match serde_json::to_string_pretty(&verdict) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    } else {
        print_human(&msg, &verdict, std::io::stdout().is_terminal());
    }
    0
}

fn print_human(msg: &Message, v: &Verdict, color: bool) {
    let (bold, red, yellow, green, reset) =
        if color { ("\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[0m") } else { ("", "", "", "", "") };
    let action_color = match v.action {
        linewall_engine::verdict::Action::Block => red,
        linewall_engine::verdict::Action::Redact => yellow,
        linewall_engine::verdict::Action::Allow => green,
    };
    println!(
        "{bold}{action_color}{}{reset}  policy_version {}",
        v.action.as_str().to_uppercase(),
        v.policy_version
    );
    // The text with findings marked; this is the user's own input, shown back to them.
    let mut marked = String::new();
    let mut pos = 0;
    let mut spans: Vec<(usize, usize)> =
        v.findings.iter().filter(|f| f.field == "text").map(|f| (f.byte_start, f.byte_end)).collect();
    spans.sort_unstable();
    for (s, e) in spans {
        if s < pos || e > msg.text.len() {
            continue;
        }
        marked.push_str(&msg.text[pos..s]);
        if color {
            marked.push_str(&format!("{bold}{red}{}{reset}", &msg.text[s..e]));
        } else {
            marked.push_str(&format!("[{}]", &msg.text[s..e]));
        }
        pos = e;
    }
    marked.push_str(&msg.text[pos..]);
    println!("  text:      {marked}");
    if let Some(d) = &v.delivered
        && d.text != msg.text
    {
        println!("  delivered: {}", d.text);
    }
    if v.record.text != msg.text {
        println!("  record:    {}", v.record.text);
    }
    for f in &v.findings {
        let rules = if f.rules.is_empty() { String::from("-") } else { f.rules.join(", ") };
        println!(
            "  finding   {} {}[{}..{}] confidence {} rules {}",
            f.detector,
            f.field,
            f.start,
            f.end,
            f.confidence.as_str(),
            rules
        );
    }
    for m in &v.matched {
        println!(
            "  matched   {}/{} -> {} ({})",
            m.policy,
            m.rule,
            m.action.as_str(),
            if m.mode == linewall_engine::verdict::Mode::Monitor { "monitor" } else { "enforce" }
        );
    }
    for a in &v.alerts {
        println!("  alert     {}/{} severity {:?}", a.policy, a.rule, a.severity);
    }
    if let Some(n) = &v.notice {
        println!("  notice    {n}");
    }
    for e in &v.errors {
        println!("  error     {}: {} (on_error {})", e.detector, e.error, e.on_error.as_str());
    }
}
