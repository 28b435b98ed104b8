//! Conversation windows in Redis (`--conversation-store redis://HOST:PORT`), shared by
//! replicas: each window is encrypted (ChaCha20-Poly1305, key derived from the hash key)
//! under a keyed hash of its scope, and expires with the joining window, so Redis holds
//! neither clear digits nor conversation ids.

use std::sync::Mutex;
use std::time::Duration;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use linewall_engine::conversation::{ConversationStore, StoreError, Window};
use sha2::{Digest, Sha256};

/// Longest wait for connecting, reading or writing before the store counts as failed.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 64;
/// Prefix of every key this store writes.
const KEY_PREFIX: &str = "linewall:conv:";
/// Nonce length of ChaCha20-Poly1305.
const NONCE_BYTES: usize = 12;

/// Windows in Redis, encrypted.
pub struct RedisStore {
    client: redis::Client,
    idle: Mutex<Vec<redis::Connection>>,
    cipher: ChaCha20Poly1305,
    scope_key: [u8; 32],
}

fn derive(label: &[u8], hash_key: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(hash_key);
    h.finalize().into()
}

/// What went wrong, without anything the command carried.
fn redis_error(e: &redis::RedisError) -> StoreError {
    StoreError(format!("redis: {:?}", e.kind()))
}

impl RedisStore {
    /// Connects to `url` (`redis://HOST:PORT[/DB]`) and checks it answers. `hash_key` is
    /// the deployment's hash key; every replica needs the same one to read the others'
    /// windows, and a restart keeps them readable.
    pub fn connect(url: &str, hash_key: &[u8]) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| redis_error(&e))?;
        let store = Self {
            client,
            idle: Mutex::new(Vec::new()),
            cipher: ChaCha20Poly1305::new(Key::from_slice(&derive(
                b"linewall-conversation-cipher\0",
                hash_key,
            ))),
            scope_key: derive(b"linewall-conversation-scope\0", hash_key),
        };
        store.with_conn(|c| redis::cmd("PING").query::<String>(c))?;
        Ok(store)
    }

    /// The Redis key of a scope: a keyed hash, so conversation ids stay private.
    fn redis_key(&self, scope: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.scope_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(scope.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{KEY_PREFIX}{}", hex::encode(&tag[..16]))
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let pooled = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut conn = match pooled {
            Some(c) => c,
            None => {
                let c = self.client.get_connection_with_timeout(IO_TIMEOUT).map_err(|e| redis_error(&e))?;
                c.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| redis_error(&e))?;
                c.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| redis_error(&e))?;
                c
            }
        };
        // A failed connection is dropped, not pooled.
        let out = f(&mut conn).map_err(|e| redis_error(&e))?;
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        Ok(out)
    }

    fn seal(&self, key: &str, w: &Window) -> Result<Vec<u8>, StoreError> {
        let plain = serde_json::to_vec(w).map_err(|_| StoreError(String::from("window not serializable")))?;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| StoreError(String::from("no randomness for a nonce")))?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: key.as_bytes() })
            .map_err(|_| StoreError(String::from("encryption failed")))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, key: &str, data: &[u8]) -> Result<Window, StoreError> {
        if data.len() < NONCE_BYTES {
            return Err(StoreError(String::from("stored window is truncated")));
        }
        let (nonce, sealed) = data.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: key.as_bytes() })
            .map_err(|_| StoreError(String::from("stored window does not decrypt (another hash key?)")))?;
        serde_json::from_slice(&plain).map_err(|_| StoreError(String::from("stored window is malformed")))
    }
}

impl ConversationStore for RedisStore {
    fn load(&self, scope: &str) -> Result<Window, StoreError> {
        let key = self.redis_key(scope);
        let data: Option<Vec<u8>> = self.with_conn(|c| redis::cmd("GET").arg(&key).query(c))?;
        match data {
            Some(d) => self.open(&key, &d),
            None => Ok(Window::default()),
        }
    }

    fn save(&self, scope: &str, window: Option<Window>, ttl: Duration) -> Result<(), StoreError> {
        let key = self.redis_key(scope);
        match window {
            Some(w) if !w.fragments.is_empty() => {
                let data = self.seal(&key, &w)?;
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                self.with_conn(|c| redis::cmd("SET").arg(&key).arg(data).arg("PX").arg(ms).query::<()>(c))
            }
            _ => self.with_conn(|c| redis::cmd("DEL").arg(&key).query::<()>(c)),
        }
    }

    fn swap(&self, scope: &str, window: Option<Window>, ttl: Duration) -> Result<Window, StoreError> {
        // One round trip: `SET … GET` (Redis 6.2+) or `GETDEL` return what they replace.
        let key = self.redis_key(scope);
        let old: Option<Vec<u8>> = match window {
            Some(w) if !w.fragments.is_empty() => {
                let data = self.seal(&key, &w)?;
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                self.with_conn(|c| {
                    redis::cmd("SET").arg(&key).arg(data).arg("PX").arg(ms).arg("GET").query(c)
                })?
            }
            _ => self.with_conn(|c| redis::cmd("GETDEL").arg(&key).query(c))?,
        };
        match old {
            Some(d) => self.open(&key, &d),
            None => Ok(Window::default()),
        }
    }

    fn is_remote(&self) -> bool {
        true
    }
}
