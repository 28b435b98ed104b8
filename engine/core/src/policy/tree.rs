//! A policy file as YAML nodes with byte spans, read before any typed parsing so that
//! validation can report every mistake of every document, not the first one only.

use std::ops::Range;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as YamlSpan, StructureStyle};

/// Deepest nesting accepted (the policy language needs about ten levels).
pub(crate) const MAX_DEPTH: usize = 64;

/// What a node holds.
#[derive(Debug)]
pub(crate) enum Value {
    /// A scalar; `plain` when unquoted (so `123`, `true` and `~` are typed by YAML).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`): validated where its anchor is.
    Alias,
}

/// A YAML node and where it is in the file.
#[derive(Debug)]
pub(crate) struct Node {
    /// The content.
    pub value: Value,
    /// Byte range in the file (for a block collection: from its first to its last child).
    pub bytes: Range<usize>,
    /// Whether it is a flow collection (`[...]`, `{...}`).
    pub flow: bool,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// A YAML error that stops the reading of the file.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    /// Where (byte offset).
    pub at: usize,
    /// The parser's message.
    pub message: String,
}

/// One document of the file: its root node.
#[derive(Debug)]
pub(crate) struct Document {
    /// The root.
    pub root: Node,
}

fn start_of(span: &YamlSpan) -> usize {
    span.start.byte_offset().unwrap_or(0)
}

fn end_of(span: &YamlSpan) -> usize {
    span.end.byte_offset().unwrap_or(0)
}

/// An open collection while reading events.
struct Open {
    node: Node,
    /// For a mapping: a key waiting for its value.
    key: Option<Node>,
}

/// Reads every document of `text`; documents before a syntax error are kept.
pub(crate) fn parse(text: &str) -> (Vec<Document>, Option<SyntaxError>) {
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(ev) = parser.next_event() {
        let (event, span) = match ev {
            Ok(e) => e,
            Err(e) => {
                let at = e.marker().byte_offset().unwrap_or(0);
                return (docs, Some(SyntaxError { at, message: e.info() }));
            }
        };
        let node = match event {
            Event::Scalar(v, style, _, _) => Node {
                value: Value::Scalar { text: v.into_owned(), plain: style == ScalarStyle::Plain },
                bytes: start_of(&span)..end_of(&span),
                flow: false,
            },
            Event::Alias(_) => {
                Node { value: Value::Alias, bytes: start_of(&span)..end_of(&span), flow: false }
            }
            Event::SequenceStart(style, _, _) | Event::MappingStart(style, _, _) => {
                if stack.len() >= MAX_DEPTH {
                    let message = format!("nested deeper than {MAX_DEPTH} levels");
                    return (docs, Some(SyntaxError { at: start_of(&span), message }));
                }
                let value = if matches!(event, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                let flow = style == StructureStyle::Flow;
                let s = start_of(&span);
                stack.push(Open { node: Node { value, bytes: s..s, flow }, key: None });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(mut open) = stack.pop() else { continue };
                if open.node.flow {
                    open.node.bytes.end = end_of(&span).max(open.node.bytes.start);
                }
                open.node
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => docs.push(Document { root: node }),
            Some(parent) => attach(parent, node),
        }
    }
    (docs, None)
}

/// Adds a finished child node to its parent collection.
fn attach(parent: &mut Open, node: Node) {
    if !parent.node.flow || parent.node.bytes.end < node.bytes.end {
        parent.node.bytes.end = parent.node.bytes.end.max(node.bytes.end);
    }
    match &mut parent.node.value {
        Value::Seq(items) => {
            if items.is_empty() && !parent.node.flow {
                parent.node.bytes.start = parent.node.bytes.start.min(node.bytes.start);
            }
            items.push(node);
        }
        Value::Map(entries) => match parent.key.take() {
            None => parent.key = Some(node),
            Some(key) => {
                if entries.is_empty() && !parent.node.flow {
                    parent.node.bytes.start = parent.node.bytes.start.min(key.bytes.start);
                }
                entries.push((key, node));
            }
        },
        Value::Scalar { .. } | Value::Alias => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_byte_spans_in_every_document() {
        let text = "a: 1\nb:\n  - x\n  - {c: 'd'}\n---\ne: [f, g]\n";
        let (docs, err) = parse(text);
        assert!(err.is_none());
        assert_eq!(docs.len(), 2);
        let Value::Map(m) = &docs[0].root.value else { panic!("map") };
        assert_eq!(&text[m[1].1.bytes.clone()], "- x\n  - {c: 'd'}");
        let Value::Seq(items) = &m[1].1.value else { panic!("seq") };
        assert_eq!(&text[items[1].bytes.clone()], "{c: 'd'}");
        let Value::Map(m2) = &docs[1].root.value else { panic!("map") };
        assert_eq!(&text[m2[0].1.bytes.clone()], "[f, g]");
        let (_, err) = parse("a: [1\n");
        assert!(err.is_some());
    }
}
