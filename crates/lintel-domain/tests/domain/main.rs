//! The domain's integration tests: the decision engine against a naive reference, and
//! property tests of schedule arithmetic.

mod decisions;
mod reference;
mod schedules;
