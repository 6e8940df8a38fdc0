//! Text helpers shared by everything that writes HTML or SVG (the exporters and the web page).

/// Escapes text for HTML or SVG element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` with its first letter in upper case. Every sentence the project writes starts with an
/// ASCII letter (or a digit, left as it is); ASCII only, because `char::to_uppercase` links
/// Unicode's case table into the page's `.wasm` (about 4 KB gzip of a 150 KB budget).
pub fn capitalise(s: &str) -> String {
    let mut out = s.to_string();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}

/// `s` as a sentence: capitalised, ending in a full stop (unless it ends in one already).
pub fn sentence(s: &str) -> String {
    let s = capitalise(s.trim());
    if s.is_empty() || s.ends_with(['.', '!', '?']) {
        s
    } else {
        s + "."
    }
}

/// A round step (1, 2 or 5 times a power of ten) giving at most `max_ticks` steps over
/// `[0, span]`: the step of every axis the project draws.
pub fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let span = if span.is_finite() && span > 0.0 {
        span
    } else {
        1.0
    };
    let raw = span / max_ticks.max(1) as f64;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(
            escape(r#"a<b & "c">'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&#39;"
        );
        assert_eq!(escape("thread+load"), "thread+load");
    }

    #[test]
    fn sentences_start_upper_case_and_end_with_a_stop() {
        assert_eq!(capitalise("ünïcode"), "ünïcode", "ASCII only");
        assert_eq!(capitalise(""), "");
        assert_eq!(sentence("choose a scenario"), "Choose a scenario.");
        assert_eq!(sentence("Already done."), "Already done.");
        assert_eq!(sentence("  "), "");
    }

    #[test]
    fn nice_steps_are_round_and_fit_the_ticks() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(1e9, 5), 2e8);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(3.0, 10), 0.5);
        assert_eq!(nice_step(0.0, 5), 0.2, "an empty range still gets a step");
        assert!(nice_step(f64::NAN, 5) > 0.0);
    }
}
