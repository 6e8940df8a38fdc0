//! Decimal numbers from the command line and the page's address: delays and switch intervals.

/// A number as `f64::from_str` reads it (`2`, `-0.5`, `.5`, `1e3`, `inf`, `NaN`), without
/// linking its general algorithm into the page's `.wasm`, whose power-of-five table alone is
/// 10 KB: the numbers people write here (up to 15 significant digits, small exponents) are
/// computed exactly with one rounding, as `from_str` does. Others, rare, go to `from_str`
/// natively and to the browser's own `parseFloat` on the page: exact both ways.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let special = match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Some(if negative { -v } else { v });
    }
    let (number, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = || int.bytes().chain(frac.bytes());
    if int.is_empty() && frac.is_empty() || !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut exp10: i64 = match exp {
        None => 0,
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Beyond any double's range either way; keeps the sum below from overflowing.
            e.parse::<i64>()
                .unwrap_or(if e.starts_with('-') { -99_999 } else { 99_999 })
        }
    };
    exp10 -= frac.len() as i64;
    // The significant digits as an integer, while they fit exactly in a double.
    let mut mantissa: u64 = 0;
    let mut exact = true;
    for d in digits().map(|b| u64::from(b - b'0')) {
        match mantissa.checked_mul(10).and_then(|m| m.checked_add(d)) {
            Some(m) if m <= 1 << 53 => mantissa = m,
            _ => {
                exact = false;
                break;
            }
        }
    }
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let m = mantissa as f64;
    let v = match usize::try_from(exp10.unsigned_abs()) {
        // Both factors are exact doubles, so one product or quotient is correctly rounded.
        _ if exact && mantissa == 0 => 0.0,
        Ok(e) if exact && e < POW10.len() && exp10 >= 0 => m * POW10[e],
        Ok(e) if exact && e < POW10.len() => m / POW10[e],
        _ => slow_number(body)?,
    };
    Some(if negative { -v } else { v })
}

/// A valid number `parse_number` cannot compute exactly: `from_str` natively.
#[cfg(not(target_arch = "wasm32"))]
fn slow_number(body: &str) -> Option<f64> {
    body.parse().ok()
}

/// A valid number `parse_number` cannot compute exactly: the browser's own `parseFloat`, which
/// rounds correctly as `from_str` does (ECMAScript requires it up to 20 significant digits;
/// V8, SpiderMonkey and JavaScriptCore do it for every length). `body` is a number's whole text,
/// already checked, so `parseFloat` reads all of it.
#[cfg(target_arch = "wasm32")]
fn slow_number(body: &str) -> Option<f64> {
    Some(js_sys::Number::parse_float(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_from_str_reads_them() {
        let mut inputs: Vec<String> = [
            "0",
            "-0",
            "+2",
            "2.",
            ".5",
            "0.1",
            "0.01",
            "5",
            "3600",
            "3600.0001",
            "1e3",
            "1E-2",
            "2.5e+1",
            "1e22",
            "1e23",
            "123456789012345",
            "9007199254740993",
            "0.30000000000000004",
            "1e-400",
            "1e400",
            "1e99999999999999999999",
            "inf",
            "-Infinity",
            "NaN",
            "",
            ".",
            "-",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "1,5",
            "0x10",
            "1_0",
            " 1",
            "++1",
            "١",
        ]
        .map(String::from)
        .to_vec();
        // Decimals as people write them, at many scales (xorshift for the digits).
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 10_u64.pow((x >> 40) as u32 % 16 + 1)).to_string();
            let point = (x >> 50) as usize % (digits.len() + 1);
            inputs.push(format!("{}.{}", &digits[..point], &digits[point..]));
            inputs.push(format!("{digits}e-{}", (x >> 56) % 30));
        }
        for s in inputs {
            let ours = parse_number(&s);
            let std = s.parse::<f64>().ok();
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{s:?}");
        }
    }
}
