//! Sign-in throttling (issue 13). Per account: five wrong passwords are free, then the account
//! waits 1 s, 2 s, 4 s … (at most 15 minutes) between tries, answered `429` with `Retry-After`;
//! signing in resets it. Per client address only behind configured trusted proxies
//! (`INBOX_TRUSTED_PROXIES`), since a whole garage shares one public address and without them
//! every client of a reverse proxy looks like the proxy: 100 failures free, then the same
//! back-off. Password hashing (argon2, ~19 MiB and tens of milliseconds each) runs in a bounded
//! number of slots, so a flood of sign-ins cannot take every blocking thread the SQLite store
//! needs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;
use crate::limit::{retry_after_secs, Backoff};

/// Wrong passwords an account may try before it is made to wait.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failed sign-ins one client address may make before it is made to wait.
pub const ADDRESS_FREE_FAILURES: u32 = 100;
/// The longest wait, and how long after its last failure a key is forgotten.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How long a sign-in waits for a hashing slot before it is answered 503.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// A network in CIDR form (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has a bad prefix length"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u32) {
            match a {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v6), 128),
                },
            }
        };
        let ((net, width), (ip, ip_width)) = (bits(self.addr), bits(ip));
        if width != ip_width {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        host_bits >= width || (net >> host_bits) == (ip >> host_bits)
    }
}

/// Parses `INBOX_TRUSTED_PROXIES`: CIDR networks separated by commas.
pub fn parse_trusted_proxies(list: &str) -> Result<Vec<Cidr>, String> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not one (read from the right, as each proxy appends).
pub fn client_address(trusted: &[Cidr], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .or_else(|| forwarded.first().copied())
        .unwrap_or(peer)
}

pub struct LoginThrottle {
    accounts: Backoff,
    addresses: Backoff,
    /// Empty: no per-address limit.
    pub trusted_proxies: Vec<Cidr>,
    hashing: Arc<Semaphore>,
    pub hash_slots: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let slots = std::thread::available_parallelism().map_or(1, usize::from);
        LoginThrottle::new(slots, Vec::new())
    }
}

/// What a sign-in is throttled by: the account's key and, behind trusted proxies, the address.
pub struct Attempt {
    account: String,
    address: Option<String>,
}

impl LoginThrottle {
    pub fn new(hash_slots: usize, trusted_proxies: Vec<Cidr>) -> LoginThrottle {
        let hash_slots = hash_slots.max(1);
        LoginThrottle {
            accounts: Backoff::new(
                ACCOUNT_FREE_FAILURES,
                Duration::from_secs(1),
                MAX_BACKOFF,
                MAX_BACKOFF,
            ),
            addresses: Backoff::new(
                ADDRESS_FREE_FAILURES,
                Duration::from_secs(1),
                MAX_BACKOFF,
                MAX_BACKOFF,
            ),
            trusted_proxies,
            hashing: Arc::new(Semaphore::new(hash_slots)),
            hash_slots,
        }
    }

    /// Changes the per-address allowance (tests use a small one).
    pub fn address_free_failures(mut self, free: u32) -> LoginThrottle {
        self.addresses.free = free;
        self
    }

    /// 429 if the account or the address must still wait; otherwise the attempt to report on.
    pub fn check(
        &self,
        email: &str,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Result<Attempt, AppError> {
        let attempt = Attempt {
            account: email.trim().to_lowercase(),
            address: match (self.trusted_proxies.is_empty(), peer) {
                (false, Some(peer)) => {
                    Some(client_address(&self.trusted_proxies, peer.ip(), headers).to_string())
                }
                _ => None,
            },
        };
        let now = Instant::now();
        let wait = [
            self.accounts.blocked(&attempt.account, now),
            attempt
                .address
                .as_deref()
                .and_then(|a| self.addresses.blocked(a, now)),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => Err(AppError::RateLimited {
                message: "too many failed sign-ins; wait before trying again".into(),
                retry_after: retry_after_secs(wait),
            }),
            None => Ok(attempt),
        }
    }

    pub fn failed(&self, attempt: &Attempt) {
        let now = Instant::now();
        self.accounts.fail(&attempt.account, now);
        if let Some(a) = &attempt.address {
            self.addresses.fail(a, now);
        }
    }

    /// A successful sign-in clears its account (not its address: others may share it).
    pub fn succeeded(&self, attempt: &Attempt) {
        self.accounts.succeed(&attempt.account);
    }

    /// A slot to hash in, or 503 when none frees up within `HASH_QUEUE_WAIT`.
    pub async fn hashing_slot(&self) -> Result<OwnedSemaphorePermit, AppError> {
        let busy = || AppError::Busy {
            message: "the server is busy signing people in; try again shortly".into(),
            retry_after: 1,
        };
        tokio::time::timeout(HASH_QUEUE_WAIT, Arc::clone(&self.hashing).acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())
    }

    /// Slots in use right now (for tests and the benchmark).
    pub fn hashing_in_use(&self) -> usize {
        self.hash_slots - self.hashing.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_matches_networks_of_both_families() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("192.0.2.1")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!(parse_trusted_proxies("nonsense").is_err());
        assert_eq!(parse_trusted_proxies(" ").unwrap(), vec![]);
    }

    #[test]
    fn the_client_address_comes_from_forwarded_for_only_through_trusted_proxies() {
        let trusted = parse_trusted_proxies("127.0.0.1/32, 10.0.0.0/8").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.2".parse().unwrap(),
        );
        // Through two trusted hops: the nearest untrusted address, not the spoofable leftmost.
        assert_eq!(
            client_address(&trusted, ip("127.0.0.1"), &h),
            ip("198.51.100.7")
        );
        // A direct client cannot claim an address.
        assert_eq!(
            client_address(&trusted, ip("192.0.2.50"), &h),
            ip("192.0.2.50")
        );
        assert_eq!(
            client_address(&trusted, ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }
}
