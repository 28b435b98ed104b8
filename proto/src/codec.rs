//! The protobuf codec of the generated services: `tonic_prost`'s, except that bytes which
//! do not decode as the expected message are the caller's fault (INVALID_ARGUMENT, with
//! prost's reason, which never quotes the input) rather than INTERNAL.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use tonic::Status;
use tonic::codec::DecodeBuf;

/// Messages that failed to decode in this process (the server exports it as a metric).
pub static MALFORMED: AtomicU64 = AtomicU64::new(0);

/// Encodes `T`, decodes `U` (see the module doc).
#[derive(Debug, Clone)]
pub struct Codec<T, U> {
    _pd: PhantomData<(T, U)>,
}

impl<T, U> Codec<T, U> {
    /// A new codec.
    pub fn new() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = tonic_prost::ProstEncoder<T>;
    type Decoder = Decoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        Decoder { inner: tonic_prost::ProstDecoder::default() }
    }
}

/// Decodes `U`; a decode error is INVALID_ARGUMENT.
#[derive(Debug)]
pub struct Decoder<U> {
    inner: tonic_prost::ProstDecoder<U>,
}

impl<U: prost::Message + Default> tonic::codec::Decoder for Decoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.inner.decode(buf).map_err(|s| {
            MALFORMED.fetch_add(1, Ordering::Relaxed);
            Status::invalid_argument(format!("malformed protobuf: {}", s.message()))
        })
    }

    fn buffer_settings(&self) -> tonic::codec::BufferSettings {
        self.inner.buffer_settings()
    }
}
