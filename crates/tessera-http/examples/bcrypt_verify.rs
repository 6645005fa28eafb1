//! Times one password verification at a bcrypt cost, the way sign-in does it
//! (`tessera_domain::PasswordHasher::verify` against a hash it made), on one thread.
//! `make bench` uses it for the physical bound of sign-in throughput: cores ÷ this time.
//!
//! ```text
//! cargo run --release -p tessera-http --example bcrypt_verify -- 12 8
//! ```
//!
//! Arguments: the cost (default 12, Tessera's default) and the number of timed
//! verifications (default 8). Prints one JSON object with every time in milliseconds.

use std::time::Instant;

use tessera_domain::PasswordHasher;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cost: u32 = args.next().map_or(Ok(12), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(8), |a| a.parse())?;
    let hasher = PasswordHasher::try_new(cost)?;
    let password = "correct horse battery staple";
    let stored = hasher.hash_unchecked(password)?;
    // One untimed run: page faults and lazy statics are not part of a sign-in.
    if !hasher.verify(password, &stored)? {
        return Err("the hash does not verify its own password".into());
    }
    let mut millis = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let matched = hasher.verify(password, &stored)?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        if !matched {
            return Err("the hash does not verify its own password".into());
        }
    }
    let summary = serde_json::json!({ "cost": cost, "runs": runs, "ms": millis });
    println!("{summary}");
    Ok(())
}
