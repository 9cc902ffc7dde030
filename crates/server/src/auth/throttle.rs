//! Sign-in throttling (issue 13). Per account and client address: five wrong passwords are free,
//! then that pair waits 1 s, 2 s, 4 s … (at most 15 minutes) between tries, answered `429` with
//! `Retry-After`; signing in resets it. Keying on the pair means a stranger guessing from
//! elsewhere cannot lock the garage's own desks out of an account. Per account alone, a much
//! larger allowance (50) with waits of at most a minute slows a guesser that spreads over many
//! addresses without ever locking the account for long. Per client address only behind
//! configured trusted proxies
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

/// Wrong passwords one client address may try for an account before it is made to wait.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Wrong passwords for an account from all addresses together before every try waits.
pub const ACCOUNT_TOTAL_FREE_FAILURES: u32 = 50;
/// The longest wait the account-wide allowance imposes: it slows, it never locks out.
pub const ACCOUNT_TOTAL_MAX_BACKOFF: Duration = Duration::from_secs(60);
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
        // An IPv4-mapped network (`::ffff:10.0.0.0/104`, as dual-stack listeners log peers) is
        // the IPv4 network it maps: peers are compared as IPv4 too.
        match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => {
                    let prefix = prefix.checked_sub(96).ok_or_else(|| {
                        format!("{s:?} is an IPv4-mapped network shorter than /96")
                    })?;
                    Ok(Cidr {
                        addr: IpAddr::V4(v4),
                        prefix,
                    })
                }
                None => Ok(Cidr { addr, prefix }),
            },
            IpAddr::V4(_) => Ok(Cidr { addr, prefix }),
        }
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
        match width.checked_sub(u32::from(self.prefix)) {
            Some(host_bits) if host_bits < width => (net >> host_bits) == (ip >> host_bits),
            Some(_) => true,
            None => false,
        }
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
/// `X-Forwarded-For` that is not one (read from the right, as each proxy appends). `None` when a
/// trusted proxy forwarded no readable address (a proxy set up without the header): the caller
/// must not then count every client of that proxy as one.
pub fn client_address(trusted: &[Cidr], peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(forwarded_ip)
        .collect();
    forwarded
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .or_else(|| forwarded.first().copied())
}

/// One `X-Forwarded-For` entry: `203.0.113.9`, `203.0.113.9:5123`, `2001:db8::1` or
/// `[2001:db8::1]:5123`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

pub struct LoginThrottle {
    /// Keyed by account and client address.
    accounts: Backoff,
    /// Keyed by account alone: the generous allowance against spread-out guessing.
    account_totals: Backoff,
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

/// What a sign-in is throttled by: the account, the account from this client, and, behind
/// trusted proxies, the client's address.
pub struct Attempt {
    account: String,
    account_from_client: String,
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
            account_totals: Backoff::new(
                ACCOUNT_TOTAL_FREE_FAILURES,
                Duration::from_secs(1),
                ACCOUNT_TOTAL_MAX_BACKOFF,
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
        let account = email.trim().to_lowercase();
        let client = peer.and_then(|p| client_address(&self.trusted_proxies, p.ip(), headers));
        let attempt = Attempt {
            account_from_client: match client {
                Some(ip) => format!("{account} {ip}"),
                None => account.clone(),
            },
            address: client
                .filter(|_| !self.trusted_proxies.is_empty())
                .map(|ip| ip.to_string()),
            account,
        };
        let now = Instant::now();
        let wait = [
            self.accounts.blocked(&attempt.account_from_client, now),
            self.account_totals.blocked(&attempt.account, now),
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
        self.accounts.fail(&attempt.account_from_client, now);
        self.account_totals.fail(&attempt.account, now);
        if let Some(a) = &attempt.address {
            self.addresses.fail(a, now);
        }
    }

    /// A successful sign-in clears its account from this client, and the account-wide count
    /// (not the address: others may share it).
    pub fn succeeded(&self, attempt: &Attempt) {
        self.accounts.succeed(&attempt.account_from_client);
        self.account_totals.succeed(&attempt.account);
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
        // An IPv4-mapped entry is its IPv4 network, not "every IPv4 address".
        let mapped: Cidr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(mapped.contains(ip("127.0.0.1")));
        assert!(!mapped.contains(ip("192.0.2.1")));
        let mapped_net: Cidr = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped_net.contains(ip("10.9.9.9")) && !mapped_net.contains(ip("11.0.0.1")));
        assert!("::ffff:10.0.0.0/90".parse::<Cidr>().is_err());
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
            Some(ip("198.51.100.7"))
        );
        // A direct client cannot claim an address.
        assert_eq!(
            client_address(&trusted, ip("192.0.2.50"), &h),
            Some(ip("192.0.2.50"))
        );
        // A trusted proxy that forwards nothing names no client: not the proxy itself.
        assert_eq!(
            client_address(&trusted, ip("127.0.0.1"), &HeaderMap::new()),
            None
        );
        // Ports and brackets, as some proxies write them.
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9:5123".parse().unwrap());
        assert_eq!(
            client_address(&trusted, ip("127.0.0.1"), &h),
            Some(ip("203.0.113.9"))
        );
        h.insert("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(
            client_address(&trusted, ip("127.0.0.1"), &h),
            Some(ip("2001:db8::1"))
        );
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip(s), 40_000))
    }

    #[test]
    fn a_stranger_guessing_cannot_lock_the_garage_out_of_an_account() {
        let throttle = LoginThrottle::new(1, Vec::new());
        let h = HeaderMap::new();
        for _ in 0..ACCOUNT_FREE_FAILURES {
            let a = throttle
                .check("Frontdesk@x.test", peer("198.51.100.66"), &h)
                .unwrap();
            throttle.failed(&a);
        }
        assert!(throttle
            .check("frontdesk@x.test", peer("198.51.100.66"), &h)
            .is_err());
        // The garage's own desk, at another address, is not held back.
        assert!(throttle
            .check("frontdesk@x.test", peer("203.0.113.9"), &h)
            .is_ok());
    }

    #[test]
    fn guessing_spread_over_many_addresses_is_slowed_account_wide() {
        let throttle = LoginThrottle::new(1, Vec::new());
        let h = HeaderMap::new();
        for i in 0..ACCOUNT_TOTAL_FREE_FAILURES {
            let a = throttle
                .check(
                    "owner@x.test",
                    peer(&format!("198.51.{}.{}", i / 200, i % 200 + 1)),
                    &h,
                )
                .unwrap();
            throttle.failed(&a);
        }
        match throttle.check("owner@x.test", peer("203.0.113.9"), &h) {
            Err(AppError::RateLimited { retry_after, .. }) => {
                assert!(retry_after <= ACCOUNT_TOTAL_MAX_BACKOFF.as_secs())
            }
            _ => panic!("the account-wide allowance is spent: every try waits"),
        }
    }
}
