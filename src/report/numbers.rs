//! Number formatting shared by the exporters: thousands separators, trimmed decimals, and the
//! chart's abbreviated tick labels.

/// `12345678` as `12,345,678`: counts run to billions and must be readable at a glance.
pub fn with_thousands_separators(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `x` with at most `decimals` decimals and no trailing zeros: `2`, `0.5`, `0.000123`.
///
/// Rounding can leave `-0`; it is written `0`. Non-finite values keep Rust's spelling (`NaN`,
/// `inf`); callers that must not emit them check first.
pub fn trim_float(x: f64, decimals: usize) -> String {
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
    if s == "-0" {
        s.remove(0);
    }
    s
}

/// A count in short, three significant figures: `0`, `500`, `20k`, `4.56M`, `350M`, `1.2G`.
/// Tick labels, rates, and counts on a narrow screen.
pub fn abbreviate(v: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in UNITS {
        if v.abs() >= scale {
            let x = v / scale;
            // Three significant figures; `999.96k` would round to `1000k`, so it moves up a unit
            // only when the rounding says so (rare and harmless: `1000k`).
            let decimals = if x.abs() >= 100.0 {
                0
            } else if x.abs() >= 10.0 {
                1
            } else {
                2
            };
            return format!("{}{suffix}", trim_float(x, decimals));
        }
    }
    trim_float(v, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_group_digits_in_threes() {
        assert_eq!(with_thousands_separators(0), "0");
        assert_eq!(with_thousands_separators(999), "999");
        assert_eq!(with_thousands_separators(1_000), "1,000");
        assert_eq!(with_thousands_separators(12_345_678), "12,345,678");
        assert_eq!(
            with_thousands_separators(u64::MAX),
            "18,446,744,073,709,551,615"
        );
    }

    #[test]
    fn trim_float_drops_trailing_zeros_and_negative_zero() {
        assert_eq!(trim_float(2.0, 6), "2");
        assert_eq!(trim_float(0.5, 6), "0.5");
        assert_eq!(trim_float(0.1234567, 6), "0.123457");
        assert_eq!(trim_float(-0.0000001, 6), "0");
        assert_eq!(trim_float(120.0, 0), "120");
    }

    #[test]
    fn abbreviate_uses_si_suffixes_for_tick_labels() {
        assert_eq!(abbreviate(0.0), "0");
        assert_eq!(abbreviate(500.0), "500");
        assert_eq!(abbreviate(20_000.0), "20k");
        assert_eq!(abbreviate(350_000_000.0), "350M");
        assert_eq!(abbreviate(1_200_000_000.0), "1.2G");
        assert_eq!(abbreviate(4_561_234.0), "4.56M");
        assert_eq!(abbreviate(243_456_789.0), "243M");
        assert_eq!(abbreviate(0.5), "0.5");
        // Float noise from `i * step` must not leak into labels.
        assert_eq!(abbreviate(3.0 * 0.2e9), "600M");
    }
}
