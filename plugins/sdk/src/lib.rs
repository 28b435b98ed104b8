//! Write a Linewall detector plugin in Rust.
//!
//! A plugin is a type implementing [`Detector`]: `detect` finds spans in one field of a
//! message, and the optional `init` reads the policy's `config` block. The
//! [`export_detector!`] macro turns it into the WIT world `linewall:detector/plugin`
//! (`wit/detector.wit`, shipped inside this crate); `linewall plugin build` compiles it for
//! `wasm32-unknown-unknown` and wraps it into a component that imports nothing.
//!
//! ```ignore
//! use linewall_plugin_sdk::{Confidence, Detector, Finding, Message};
//!
//! #[derive(Default)]
//! struct Shouting;
//!
//! impl Detector for Shouting {
//!     fn detect(&self, msg: &Message) -> Vec<Finding> {
//!         msg.text.find("URGENT").map(|i| Finding::new(i..i + 6, Confidence::Low)).into_iter().collect()
//!     }
//! }
//!
//! linewall_plugin_sdk::export_detector!(Shouting);
//! ```

use std::ops::Range;

/// Bindings generated from the plugin WIT world (used by [`export_detector!`]).
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "linewall_plugin_sdk::bindings",
    });
}

pub use bindings::linewall::detector::types::{
    Confidence, Direction, Finding, Message, PluginError, PluginInfo,
};

/// A detector plugin.
pub trait Detector: Sized + 'static {
    /// Builds the detector from the policy's `config` block; an `Err` is shown to the
    /// policy author as a load error. The default ignores the config.
    fn init(config: &Config) -> Result<Self, String>
    where
        Self: Default,
    {
        let _ = config;
        Ok(Self::default())
    }

    /// Finds matches in one field. Spans are UTF-8 byte ranges of `msg.text`.
    fn detect(&self, msg: &Message) -> Vec<Finding>;
}

impl Finding {
    /// A finding over the byte range `span` of the message text.
    pub fn new(span: Range<usize>, confidence: Confidence) -> Self {
        Finding { start: span.start as u32, end: span.end as u32, confidence }
    }

    /// The finding's byte range.
    pub fn span(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl Message {
    /// A message with this text and defaults elsewhere (field `text`, WhatsApp,
    /// outbound), for tests.
    pub fn from_text(text: &str) -> Self {
        Message {
            text: text.to_string(),
            field: "text".to_string(),
            channel: "whatsapp".to_string(),
            direction: Direction::Outbound,
            attributes: Vec::new(),
        }
    }

    /// The value of a caller attribute.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The policy's `config` block.
#[derive(Debug, Clone, Default)]
pub struct Config(pub serde_json::Value);

impl Config {
    /// Parses the JSON the host passes to `init`.
    pub fn parse(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map(Config).map_err(|e| format!("config is not JSON: {e}"))
    }

    /// Deserializes the whole block into `T` (`null` becomes `{}` so defaults apply).
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let v = if self.0.is_null() { serde_json::Value::Object(Default::default()) } else { self.0.clone() };
        serde_json::from_value(v).map_err(|e| format!("invalid config: {e}"))
    }

    /// A string value.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.as_str()
    }
}

/// Exports a [`Detector`] type as the plugin's implementation of the WIT world.
#[macro_export]
macro_rules! export_detector {
    ($ty:ty) => {
        struct __LinewallGuest;

        ::std::thread_local! {
            static __LINEWALL_STATE: ::std::cell::RefCell<::std::option::Option<$ty>> =
                const { ::std::cell::RefCell::new(::std::option::Option::None) };
        }

        impl $crate::bindings::exports::linewall::detector::detector::Guest for __LinewallGuest {
            fn init(config: ::std::string::String) -> ::std::result::Result<$crate::PluginInfo, $crate::PluginError> {
                let config = $crate::Config::parse(&config).map_err($crate::PluginError::InvalidConfig)?;
                let detector = <$ty as $crate::Detector>::init(&config).map_err($crate::PluginError::InvalidConfig)?;
                __LINEWALL_STATE.with(|s| *s.borrow_mut() = ::std::option::Option::Some(detector));
                ::std::result::Result::Ok($crate::PluginInfo {
                    name: ::std::string::String::from(env!("CARGO_PKG_NAME")),
                    version: ::std::string::String::from(env!("CARGO_PKG_VERSION")),
                })
            }

            fn detect(
                msg: $crate::Message,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, $crate::PluginError> {
                __LINEWALL_STATE.with(|s| match &*s.borrow() {
                    ::std::option::Option::Some(d) => ::std::result::Result::Ok($crate::Detector::detect(d, &msg)),
                    ::std::option::Option::None => ::std::result::Result::Err($crate::PluginError::Internal(
                        ::std::string::String::from("detect called before init"),
                    )),
                })
            }

            fn detect_batch(
                msgs: ::std::vec::Vec<$crate::Message>,
            ) -> ::std::vec::Vec<::std::result::Result<::std::vec::Vec<$crate::Finding>, $crate::PluginError>> {
                msgs.into_iter().map(<Self as $crate::bindings::exports::linewall::detector::detector::Guest>::detect).collect()
            }
        }

        $crate::bindings::export!(__LinewallGuest with_types_in $crate::bindings);
    };
}
