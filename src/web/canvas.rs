//! Paints a [`Timeline`] on a canvas: one lane per worker, coloured by lock state, a time axis,
//! the controller's wake-up (`delay`) and the moment it really cleared the flag (the late stop).

use super::timeline::{lane_titles, LaneState, Timeline};
use crate::report::markup::nice_step;
use crate::scenario::{RunConfig, RunResult};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, Window};

/// The colours, read from the page's CSS custom properties so light and dark schemes agree.
#[derive(Clone, Debug, Default)]
pub struct Palette {
    hold: String,
    wait: String,
    ask: String,
    no_lock: String,
    runs_released: String,
    released: String,
    ink: String,
    muted: String,
    grid: String,
    op: String,
}

impl Palette {
    /// Reads `--tl-*` properties from the canvas's computed style.
    pub fn read(window: &Window, canvas: &HtmlCanvasElement) -> Self {
        let style = window.get_computed_style(canvas).ok().flatten();
        let get = |name: &str, fallback: &str| {
            style
                .as_ref()
                .and_then(|s| s.get_property_value(name).ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| fallback.to_string())
        };
        Self {
            hold: get("--tl-hold", "#2f9e61"),
            wait: get("--tl-wait", "#e8a33d"),
            ask: get("--tl-ask", "#d6453d"),
            no_lock: get("--tl-free", "#3f7fd6"),
            runs_released: get("--tl-c", "#9c36b5"),
            released: get("--tl-released", "#c9ccd1"),
            ink: get("--ink", "#1b1e23"),
            muted: get("--muted", "#5f6670"),
            grid: get("--grid", "#e3e5e8"),
            op: get("--tl-op", "#ffffff"),
        }
    }
}

const LANE_LABEL: f64 = 16.0;
const LANE_BAR: f64 = 22.0;
const LANE_GAP: f64 = 10.0;
const AXIS: f64 = 26.0;
const TOP: f64 = 4.0;

/// The canvas height in CSS pixels.
pub fn css_height() -> f64 {
    TOP + 3.0 * (LANE_LABEL + LANE_BAR + LANE_GAP) + AXIS
}

/// Draws `timeline` for `run` (and its result once finished) on a canvas `css_width` CSS pixels
/// wide.
pub fn draw(
    window: &Window,
    canvas: &HtmlCanvasElement,
    css_width: i32,
    palette: &Palette,
    timeline: Option<(&Timeline, &RunConfig)>,
    result: Option<&RunResult>,
) {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let dpr = window.device_pixel_ratio().max(1.0);
    let css_w = f64::from(css_width.max(200));
    let css_h = css_height();
    let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, css_w, css_h);
    ctx.set_font("12px system-ui, -apple-system, 'Segoe UI', sans-serif");
    ctx.set_text_baseline("alphabetic");

    let Some((tl, run)) = timeline else {
        ctx.set_fill_style_str(&palette.muted);
        ctx.set_text_align("center");
        let _ = ctx.fill_text(
            "The timeline of the running scenario appears here.",
            css_w / 2.0,
            css_h / 2.0,
        );
        return;
    };

    let left = 6.0;
    let right = css_w - 6.0;
    let width = right - left;
    let delay_s = run.delay.as_secs_f64();
    let now_s = tl.now_us as f64 / 1e6;
    // The window: the whole run, at least the delay plus a margin for the late stop.
    let span_s = (delay_s * 1.15).max(now_s).max(0.2);
    let x = |t_us: u64| left + (t_us as f64 / 1e6) / span_s * width;

    let titles = lane_titles(run);
    for (i, lane) in tl.lanes.iter().enumerate() {
        let top = TOP + i as f64 * (LANE_LABEL + LANE_BAR + LANE_GAP);
        let bar = top + LANE_LABEL;
        ctx.set_fill_style_str(&palette.ink);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&titles[i], left, top + 12.0);
        // The lane's track: "released" unless a span says otherwise.
        ctx.set_fill_style_str(&palette.released);
        ctx.fill_rect(left, bar + LANE_BAR / 2.0 - 1.0, width, 2.0);
        // Each pixel column takes the first span that reaches it, so a lane that switched
        // thousands of times costs at most a few rectangles per pixel, not one per switch.
        let mut next_px = f64::NEG_INFINITY;
        for span in &lane.spans {
            let (x0, x1) = (x(span.start_us).max(next_px), x(span.end_us));
            if x1 < next_px {
                continue;
            }
            let (colour, h) = match span.state {
                LaneState::Released => {
                    next_px = x1.max(x0 + 0.75);
                    continue;
                }
                LaneState::Holding => (&palette.hold, LANE_BAR),
                LaneState::AskedToDrop => (&palette.ask, LANE_BAR),
                LaneState::Waiting => (&palette.wait, LANE_BAR * 0.5),
                LaneState::NoLock => (&palette.no_lock, LANE_BAR),
                LaneState::RunsReleased => (&palette.runs_released, LANE_BAR),
            };
            let w = (x1 - x0).max(0.75);
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(x0, bar + (LANE_BAR - h) / 2.0, w, h);
            next_px = x0 + w;
        }
        if let Some(c) = lane.capped_at_us {
            // Past the cap: too many switches to keep; say so rather than draw a wrong state.
            let x0 = x(c);
            ctx.set_fill_style_str(&palette.muted);
            ctx.fill_rect(x0, bar + LANE_BAR / 2.0 - 3.0, (right - x0).max(0.0), 6.0);
        }
        // Where each uninterruptible operation began, unless they are too dense to tell apart.
        ctx.set_fill_style_str(&palette.op);
        let mut last_x = f64::NEG_INFINITY;
        for &t in &lane.op_starts {
            let ox = x(t);
            if ox - last_x >= 3.0 {
                ctx.fill_rect(ox - 0.5, bar, 1.0, LANE_BAR);
                last_x = ox;
            }
        }
    }

    // Time axis.
    let axis_y = TOP + 3.0 * (LANE_LABEL + LANE_BAR + LANE_GAP);
    ctx.set_fill_style_str(&palette.grid);
    ctx.fill_rect(left, axis_y, width, 1.0);
    let step = nice_step(span_s, ((width / 70.0) as usize).clamp(2, 10));
    ctx.set_fill_style_str(&palette.muted);
    let mut t = 0.0;
    while t <= span_s + 1e-9 {
        let tx = left + t / span_s * width;
        ctx.fill_rect(tx, axis_y, 1.0, 4.0);
        ctx.set_text_align(if t == 0.0 { "left" } else { "center" });
        let _ = ctx.fill_text(
            &format!("{} s", super::html::short_number(t)),
            tx.min(right - 12.0),
            axis_y + 17.0,
        );
        t += step;
    }

    // The controller's wake-up, and, once known, the moment it cleared the flag.
    let lanes_h = axis_y - TOP;
    marker(
        &ctx,
        x((delay_s * 1e6) as u64),
        TOP,
        lanes_h,
        &palette.ink,
        &[4.0, 3.0],
    );
    if let Some(r) = result {
        let stop = x(((delay_s + r.stop_lag_s) * 1e6) as u64);
        if stop - x((delay_s * 1e6) as u64) >= 2.0 {
            marker(&ctx, stop, TOP, lanes_h, &palette.ask, &[2.0, 2.0]);
        }
    }
}

fn marker(ctx: &CanvasRenderingContext2d, x: f64, top: f64, h: f64, colour: &str, dash: &[f64]) {
    let pattern = js_sys::Array::new();
    for d in dash {
        pattern.push(&(*d).into());
    }
    let _ = ctx.set_line_dash(&pattern);
    ctx.set_stroke_style_str(colour);
    ctx.set_line_width(1.5);
    ctx.begin_path();
    ctx.move_to(x, top);
    ctx.line_to(x, top + h);
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
}
