//! Decision latency at 1k, 100k and 1M grants: p50, p99 and mean of single decisions.
//!
//! `cargo bench -p lintel-bench --bench decisions`

use lintel_bench::{Latencies, Model, Size};
use lintel_domain::decision::{CredentialKey, Decision};

fn main() {
    let key = CredentialKey(String::new());
    println!("grants      p50 ns   p99 ns   mean ns   granted");
    for grants in [1_000, 100_000, 1_000_000] {
        let model = Model::generate(Size::with_grants(grants), 42);
        let rules = model.rules();
        let asks = model.requests(1_000_000, 7);
        let mut granted = 0usize;
        let latencies = Latencies::measure(&asks, |ask| {
            let decision = rules.decide_member(ask.member, &ask.request(&key));
            if matches!(decision, Decision::Granted { .. }) {
                granted += 1;
            }
            std::hint::black_box(decision);
        });
        println!(
            "{:>9}   {:>6.0}   {:>6.0}   {:>7.1}   {:>5.1}%",
            rules.grant_count(),
            latencies.percentile(0.50),
            latencies.percentile(0.99),
            latencies.mean(),
            // Counted over the warm-up too; the share is what matters.
            100.0 * granted as f64 / (asks.len() + asks.len().min(10_000)) as f64
        );
    }
}
