//! The in-process conversation store: bounded LRU over conversation scopes, entries
//! expiring with the window.

use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::store::{ConversationStore, StoreError, Window};

/// Independent locks, so concurrent requests of different conversations rarely wait.
const SHARDS: usize = 16;
/// Expired entries dropped from a shard's cold end per window stored (keeps memory close to the
/// live set without a sweeper thread).
const PURGE_PER_SAVE: usize = 2;

type Shard = Mutex<LruCache<String, (Instant, Window)>>;

/// Windows kept in this process; at most `capacity` conversation scopes.
pub struct MemoryStore {
    shards: Vec<Shard>,
    /// The LRU maps' own (fast, seeded) hasher, also picking the shard: SipHash cost a
    /// measurable share of a message's added cost.
    hasher: lru::DefaultHasher,
}

impl MemoryStore {
    /// A store remembering at most `capacity` scopes (least recently used go first).
    pub fn new(capacity: usize) -> Self {
        let per = NonZeroUsize::new(capacity.div_ceil(SHARDS).max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(LruCache::new(per))).collect(),
            hasher: lru::DefaultHasher::default(),
        }
    }

    fn shard(&self, key: &str) -> &Shard {
        // The top bits pick the shard: the maps index their buckets by the low ones.
        &self.shards[(self.hasher.hash_one(key) >> 60) as usize % SHARDS]
    }

    /// Number of scopes held (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map_or(0, |g| g.len())).sum()
    }

    /// True when no scope is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError(String::from("in-process store lock poisoned"))
}

impl ConversationStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Window, StoreError> {
        let mut shard = self.shard(key).lock().map_err(poisoned)?;
        match shard.get(key) {
            Some((expires, w)) if *expires > Instant::now() => Ok(w.clone()),
            Some(_) => {
                shard.pop(key);
                Ok(Window::default())
            }
            None => Ok(Window::default()),
        }
    }

    fn save(&self, key: &str, window: Option<Window>, ttl: Duration) -> Result<(), StoreError> {
        match window {
            Some(w) if !w.fragments.is_empty() => self.swap(key, Some(w), ttl).map(drop),
            // Forgetting (most messages, which end no chain): no clock read, and nothing to
            // purge, since the shard does not grow.
            _ => {
                self.shard(key).lock().map_err(poisoned)?.pop(key);
                Ok(())
            }
        }
    }

    fn swap(&self, key: &str, window: Option<Window>, ttl: Duration) -> Result<Window, StoreError> {
        let mut shard = self.shard(key).lock().map_err(poisoned)?;
        let now = Instant::now();
        let old = match window {
            Some(w) if !w.fragments.is_empty() => match shard.get_mut(key) {
                Some(entry) => Some(std::mem::replace(entry, (now + ttl, w))),
                None => {
                    shard.put(key.to_owned(), (now + ttl, w));
                    None
                }
            },
            _ => shard.pop(key),
        };
        for _ in 0..PURGE_PER_SAVE {
            match shard.peek_lru() {
                Some((_, (expires, _))) if *expires <= now => {
                    shard.pop_lru();
                }
                _ => break,
            }
        }
        Ok(old.filter(|(expires, _)| *expires > now).map(|(_, w)| w).unwrap_or_default())
    }
}
