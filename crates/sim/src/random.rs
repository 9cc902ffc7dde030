//! Random choices, all drawn from a caller-supplied RNG so a seeded run repeats itself: provider
//! ids in the providers' formats, customer phone numbers and names, delays.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::Rng;

use crate::config::Delays;

/// A Twilio SID: the two-letter prefix (`SM`, `MM`, `CA`, `RE`, `TR`, `ME` …) and 32 lowercase
/// hex digits.
pub fn sid<R: Rng + ?Sized>(rng: &mut R, prefix: &str) -> String {
    format!("{prefix}{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>())
}

/// A WhatsApp message id (`wamid.` + base64), in the shape Meta uses: it encodes the user's
/// number and a random message key.
pub fn wamid<R: Rng + ?Sized>(rng: &mut R, wa_id: &str) -> String {
    let mut raw = Vec::with_capacity(48);
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    raw.extend_from_slice(wa_id.as_bytes());
    raw.extend_from_slice(format!("{:016X}{:04X}", rng.gen::<u64>(), rng.gen::<u16>()).as_bytes());
    raw.push(0x00);
    format!("wamid.{}", STANDARD.encode(raw))
}

/// The demo customers' numbers: `seed-demo` hands out +447700900000 upwards, one or two per
/// customer, so the first 200 are nearly all known customers.
pub const KNOWN_CUSTOMERS: u32 = 200;

/// A UK mobile in Ofcom's drama range: mostly a demo customer, sometimes a stranger (an
/// "unknown" conversation).
pub fn customer_number<R: Rng + ?Sized>(rng: &mut R) -> String {
    let n = if rng.gen_bool(0.85) {
        rng.gen_range(0..KNOWN_CUSTOMERS)
    } else {
        rng.gen_range(KNOWN_CUSTOMERS..1000)
    };
    format!("+447700900{n:03}")
}

/// How a withheld caller shows up at Twilio (PROVIDERS §2.2).
pub const WITHHELD_CALLERS: &[&str] = &[
    "anonymous",
    "+266696687",
    "+7378742833",
    "Restricted",
    "unknown",
];

/// A WhatsApp profile name.
pub fn profile_name<R: Rng + ?Sized>(rng: &mut R) -> String {
    const FIRST: &[&str] = &[
        "Sam", "Priya", "Gareth", "Aisha", "Tom", "Chloe", "Dev", "Fiona", "Kwame", "Megan",
        "Ollie", "Zara",
    ];
    const LAST: &[&str] = &[
        "Jones", "Patel", "Evans", "Khan", "Smith", "Murphy", "O'Neill", "Taylor", "Begum",
        "Wright",
    ];
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    if rng.gen_bool(0.6) {
        format!("{first} {}", LAST[rng.gen_range(0..LAST.len())])
    } else {
        first.to_string()
    }
}

/// One of `xs` (which must not be empty; an empty slice gives "").
pub fn pick<'a, R: Rng + ?Sized>(rng: &mut R, xs: &[&'a str]) -> &'a str {
    if xs.is_empty() {
        return "";
    }
    xs[rng.gen_range(0..xs.len())]
}

/// A delay in `delays.min..=delays.max`.
pub fn delay<R: Rng + ?Sized>(rng: &mut R, delays: &Delays) -> Duration {
    if delays.max <= delays.min {
        return delays.min;
    }
    let (lo, hi) = (delays.min.as_millis() as u64, delays.max.as_millis() as u64);
    Duration::from_millis(rng.gen_range(lo..=hi))
}

/// The wait before the next customer event: exponential with mean `1 / rate`, so arrivals
/// are a Poisson process, capped at ten means.
pub fn interarrival<R: Rng + ?Sized>(rng: &mut R, rate: f64) -> Duration {
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1.0
    };
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    Duration::from_secs_f64((-u.ln() / rate).min(10.0 / rate))
}

/// A WhatsApp id (digits, no `+`) from an E.164 number.
pub fn wa_id(e164: &str) -> String {
    e164.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn ids_have_the_providers_shapes() {
        let mut rng = StdRng::seed_from_u64(1);
        let s = sid(&mut rng, "SM");
        assert_eq!(s.len(), 34);
        assert!(
            s.starts_with("SM")
                && s[2..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let w = wamid(&mut rng, "447700900001");
        assert!(w.starts_with("wamid.") && w.len() > 30, "{w}");
        assert_ne!(wamid(&mut rng, "447700900001"), w, "ids are unique");
    }

    #[test]
    fn customers_are_mostly_the_demo_ones() {
        let mut rng = StdRng::seed_from_u64(2);
        let numbers: Vec<String> = (0..1000).map(|_| customer_number(&mut rng)).collect();
        assert!(numbers
            .iter()
            .all(|n| n.len() == 13 && n.starts_with("+447700900")));
        let known = numbers
            .iter()
            .filter(|n| n[10..].parse::<u32>().unwrap() < KNOWN_CUSTOMERS)
            .count();
        assert!((780..=920).contains(&known), "{known}");
    }

    #[test]
    fn seeded_choices_repeat() {
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (
                customer_number(&mut rng),
                profile_name(&mut rng),
                sid(&mut rng, "CA"),
            )
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn delays_stay_in_range_and_arrivals_average_out() {
        let mut rng = StdRng::seed_from_u64(3);
        let d = Delays {
            min: Duration::from_millis(100),
            max: Duration::from_millis(200),
        };
        for _ in 0..100 {
            let x = delay(&mut rng, &d);
            assert!(x >= d.min && x <= d.max);
        }
        let fixed = Delays {
            min: Duration::from_millis(5),
            max: Duration::from_millis(5),
        };
        assert_eq!(delay(&mut rng, &fixed), Duration::from_millis(5));
        let mean = (0..4000)
            .map(|_| interarrival(&mut rng, 2.0).as_secs_f64())
            .sum::<f64>()
            / 4000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
        assert_eq!(wa_id("+447700900001"), "447700900001");
    }
}
