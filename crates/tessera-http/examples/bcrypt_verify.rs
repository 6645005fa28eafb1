//! Times password verification at a bcrypt cost, the way sign-in does it
//! (`tessera_domain::PasswordHasher::verify` against a hash it made). `make bench` uses
//! it for the physical bound of sign-in throughput: cores ÷ the time of one verification
//! on one thread. With more threads it also reports what the machine really sustains
//! when every core hashes at once (shared caches, turbo limits and virtual CPUs make
//! that less than the cores alone suggest).
//!
//! ```text
//! cargo run --release -p tessera-http --example bcrypt_verify -- 12 8      # one thread
//! cargo run --release -p tessera-http --example bcrypt_verify -- 12 4 2    # two at once
//! ```
//!
//! Arguments: the cost (default 12, Tessera's default), the number of timed
//! verifications per thread (default 8) and the number of threads (default 1). Prints one
//! JSON object: every time in milliseconds, and verifications per second over all threads.

use std::time::Instant;

use tessera_domain::PasswordHasher;

const PASSWORD: &str = "correct horse battery staple";

/// Times `runs` verifications of `PASSWORD` against `stored`, in milliseconds.
fn time_verifications(
    hasher: &PasswordHasher,
    stored: &str,
    runs: usize,
) -> Result<Vec<f64>, String> {
    let mut millis = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let matched = hasher.verify(PASSWORD, stored).map_err(|e| e.to_string())?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        if !matched {
            return Err("the hash does not verify its own password".into());
        }
    }
    Ok(millis)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cost: u32 = args.next().map_or(Ok(12), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(8), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let hasher = PasswordHasher::try_new(cost)?;
    let stored = hasher.hash_unchecked(PASSWORD)?;
    // One untimed run: page faults and lazy statics are not part of a sign-in.
    time_verifications(&hasher, &stored, 1)?;

    let started = Instant::now();
    let results: Vec<Result<Vec<f64>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| scope.spawn(|| time_verifications(&hasher, &stored, runs)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a thread panicked".into()))
            })
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let mut millis = Vec::new();
    for result in results {
        millis.extend(result?);
    }
    let per_second = millis.len() as f64 / wall;
    let summary = serde_json::json!({
        "cost": cost, "runs": runs, "threads": threads.max(1), "ms": millis, "per_second": per_second,
    });
    println!("{summary}");
    Ok(())
}
