//! Proof that the three engines are asked the same questions.
//!
//! Bucket assignments differ by design (Pennon hashes with SHA-256, Unleash and flagd
//! with MurmurHash3, each over a different encoding), so a user's rollout outcome is not
//! comparable across engines. What is comparable, and checked here for every user:
//!
//! - case (a) serves `on`;
//! - the conditions of case (c) hold or not identically in all three engines
//!   (through [`fixtures::CONDITIONS_ONLY`], the same conditions without a rollout);
//! - within one engine, case (c) serves `on` only to users who match the conditions.
//!
//! And over all users, per engine: the share of `on` in (b) is about 50%, in (c) about 25%
//! of those who match, and each variant of (d) gets about 25%.

use pennon_core::{Matched, Snapshot};
use unleash_yggdrasil::EngineState;

use crate::fixtures::{self, User};
use crate::flagd::Flagd;
use crate::yggdrasil;

/// The three engines, loaded with the evaluation cases.
pub struct Engines {
    /// Pennon's verified, compiled snapshot.
    pub pennon: Snapshot,
    /// Yggdrasil's engine state.
    pub yggdrasil: EngineState,
    /// flagd's store and rule engine.
    pub flagd: Flagd,
}

impl Engines {
    /// Loads [`fixtures::cases_payload`] and its peer equivalents.
    pub fn load() -> Engines {
        Engines {
            pennon: fixtures::load(&fixtures::envelope(&fixtures::cases_payload())),
            yggdrasil: yggdrasil::load(&yggdrasil::cases_json()),
            flagd: Flagd::load(&crate::flagd::cases_json()),
        }
    }
}

/// One engine's outcomes over a population of users.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Users.
    pub users: usize,
    /// Users who matched the conditions of case (c).
    pub matched: usize,
    /// Users who got `on` in case (b).
    pub rollout50_on: usize,
    /// Users who got `on` in case (c).
    pub conditions_on: usize,
    /// Users per variant of case (d), in [`fixtures::VARIANT_NAMES`] order.
    pub variants: [usize; 4],
}

impl Tally {
    fn share(part: usize, whole: usize) -> f64 {
        part as f64 / whole.max(1) as f64
    }

    /// Checks the shares against the weights, within `tolerance` (absolute).
    fn check_shares(&self, engine: &str, tolerance: f64) -> Result<(), String> {
        let mut checks = vec![
            ("(b) on", Tally::share(self.rollout50_on, self.users), 0.50),
            ("(c) on among matched", Tally::share(self.conditions_on, self.matched), 0.25),
        ];
        for (name, count) in fixtures::VARIANT_NAMES.iter().zip(self.variants) {
            checks.push((name, Tally::share(count, self.users), 0.25));
        }
        for (what, share, expected) in checks {
            if (share - expected).abs() > tolerance {
                return Err(format!("{engine}: {what} is {share:.3}, expected {expected} ± {tolerance}"));
            }
        }
        Ok(())
    }
}

/// The outcome of [`check`]: one tally per engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Pennon's.
    pub pennon: Tally,
    /// Yggdrasil's.
    pub yggdrasil: Tally,
    /// flagd's.
    pub flagd: Tally,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, tally) in [("pennon", &self.pennon), ("yggdrasil", &self.yggdrasil), ("flagd", &self.flagd)] {
            let pct = |part: usize, whole: usize| 100.0 * Tally::share(part, whole);
            let [red, green, blue, yellow] = tally.variants.map(|count| pct(count, tally.users));
            writeln!(
                f,
                "{name:>9}: (c) conditions matched {}/{}; (b) on {:.1}%; (c) on {:.1}% of matched; \
                 (d) {red:.1}/{green:.1}/{blue:.1}/{yellow:.1}%",
                tally.matched,
                tally.users,
                pct(tally.rollout50_on, tally.users),
                pct(tally.conditions_on, tally.matched),
            )?;
        }
        Ok(())
    }
}

/// Evaluates every case for every user in all three engines and checks that they agree
/// where their semantics are comparable (see the module docs). `tolerance` bounds the
/// distance of each rollout share from its weight.
pub fn check(engines: &Engines, users: &[User], tolerance: f64) -> Result<Report, String> {
    let now = fixtures::now();
    let mut report = Report { pennon: Tally::default(), yggdrasil: Tally::default(), flagd: Tally::default() };
    for user in users {
        let pennon_ctx = fixtures::context(user);
        let unleash_ctx = yggdrasil::context(user);
        let flagd_ctx = crate::flagd::context(user);

        let pennon_bool = |key: &str| engines.pennon.evaluate(key, &pennon_ctx, now).variant == Some("on");
        let yggdrasil_bool = |key: &str| yggdrasil::is_enabled(&engines.yggdrasil, key, &unleash_ctx);
        let flagd_bool = |key: &str| engines.flagd.evaluate(key, &flagd_ctx).is_some_and(|s| s.variant == "on");

        let simple = [pennon_bool(fixtures::SIMPLE), yggdrasil_bool(fixtures::SIMPLE), flagd_bool(fixtures::SIMPLE)];
        if simple != [true; 3] {
            return Err(format!("(a) is not on everywhere for {user:?}: {simple:?}"));
        }

        let pennon_matched = matches!(
            engines.pennon.evaluate(fixtures::CONDITIONS, &pennon_ctx, now).explanation.matched,
            Matched::Rule { .. }
        );
        let matched = [
            pennon_bool(fixtures::CONDITIONS_ONLY),
            yggdrasil_bool(fixtures::CONDITIONS_ONLY),
            flagd_bool(fixtures::CONDITIONS_ONLY),
        ];
        if matched != [pennon_matched; 3] {
            return Err(format!(
                "the conditions of (c) disagree for {user:?}: pennon rule {pennon_matched}, \
                 [pennon, yggdrasil, flagd] {matched:?}"
            ));
        }

        let pennon_variant = engines.pennon.evaluate(fixtures::VARIANTS, &pennon_ctx, now).variant.map(str::to_owned);
        let yggdrasil_variant = Some(yggdrasil::variant(&engines.yggdrasil, fixtures::VARIANTS, &unleash_ctx));
        let flagd_variant = engines.flagd.evaluate(fixtures::VARIANTS, &flagd_ctx).map(|s| s.variant.to_owned());

        let outcomes = [
            (&mut report.pennon, pennon_bool(fixtures::ROLLOUT50), pennon_bool(fixtures::CONDITIONS), pennon_variant),
            (
                &mut report.yggdrasil,
                yggdrasil_bool(fixtures::ROLLOUT50),
                yggdrasil_bool(fixtures::CONDITIONS),
                yggdrasil_variant,
            ),
            (&mut report.flagd, flagd_bool(fixtures::ROLLOUT50), flagd_bool(fixtures::CONDITIONS), flagd_variant),
        ];
        for (tally, rollout50_on, conditions_on, variant) in outcomes {
            if conditions_on && !pennon_matched {
                return Err(format!("(c) served on without a condition match for {user:?}"));
            }
            tally.users += 1;
            tally.matched += usize::from(pennon_matched);
            tally.rollout50_on += usize::from(rollout50_on);
            tally.conditions_on += usize::from(conditions_on);
            let index = fixtures::VARIANT_NAMES
                .iter()
                .position(|name| variant.as_deref() == Some(*name))
                .ok_or_else(|| format!("(d) served {variant:?} for {user:?}"))?;
            tally.variants[index] += 1;
        }
    }
    report.pennon.check_shares("pennon", tolerance)?;
    report.yggdrasil.check_shares("yggdrasil", tolerance)?;
    report.flagd.check_shares("flagd", tolerance)?;
    Ok(report)
}
