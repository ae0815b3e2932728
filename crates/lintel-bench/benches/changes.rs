//! What a change to the rules costs the engine: building the whole index (what a node did
//! on every change before it applied changes piecemeal), against replacing one access or one
//! member in place. The store's reads come on top of both.
//!
//! `cargo bench -p lintel-bench --bench changes`

use std::time::Instant;

use lintel_bench::{Latencies, Model, Size};
use lintel_domain::decision::MemberRule;

fn main() {
    println!("grants      build ms   access p50 µs   p99 µs   member p50 µs   p99 µs");
    for grants in [1_000, 100_000, 1_000_000] {
        let model = Model::generate(Size::with_grants(grants), 42);
        let started = Instant::now();
        let mut rules = model.rules();
        let build = started.elapsed();
        // Each access replaced by itself with its doors' types changed: a typical edit.
        let edits: Vec<_> = model
            .accesses
            .iter()
            .take(10_000)
            .map(|a| {
                let mut edited = a.clone();
                for d in &mut edited.doors {
                    std::mem::swap(&mut d.in_types, &mut d.out_types);
                }
                edited
            })
            .collect();
        let access = Latencies::measure(&edits, |a| rules.upsert_access(a.clone()));
        let members: Vec<_> = model.members.iter().take(10_000).collect();
        let member = Latencies::measure(&members, |(id, active, groups)| {
            rules.upsert_member(MemberRule {
                id: *id,
                active: !*active,
                groups: groups.clone(),
            })
        });
        println!(
            "{:>9}   {:>8.1}   {:>13.2}   {:>6.2}   {:>13.2}   {:>6.2}",
            rules.grant_count(),
            build.as_secs_f64() * 1e3,
            access.percentile(0.50) / 1e3,
            access.percentile(0.99) / 1e3,
            member.percentile(0.50) / 1e3,
            member.percentile(0.99) / 1e3,
        );
    }
}
