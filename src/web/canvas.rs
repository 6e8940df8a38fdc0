//! Paints a [`Timeline`] on a canvas: one lane per worker, coloured by lock state, a time axis,
//! the controller's wake-up (`delay`) and the moment it really cleared the flag (the late stop),
//! each lane's figures beside it. One or more runs share one time axis, mapped to pixels by a
//! [`Scale`]. What goes where comes from [`RunLayout`], as for the SVG timeline: this only
//! paints it, and a new kind of span only needs its colour here.

use super::timeline::{lane_titles, Timeline};
use super::view::Figures;
use crate::report::lanes::{LaneColours, RunLayout, Scale, LANE_BAR, LANE_LABEL};
use crate::scenario::RunConfig;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, Window};

/// The colours, read from the page's CSS custom properties so light and dark schemes agree.
#[derive(Clone, Debug, Default)]
pub struct Palette {
    lanes: LaneColours<String>,
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
            lanes: LaneColours {
                hold: get("--tl-hold", "#2f9e61"),
                ask: get("--tl-ask", "#d6453d"),
                wait: get("--tl-wait", "#e8a33d"),
                no_lock: get("--tl-free", "#3f7fd6"),
                runs_released: get("--tl-c", "#9c36b5"),
            },
            released: get("--tl-released", "#c9ccd1"),
            ink: get("--ink", "#1b1e23"),
            muted: get("--muted", "#5f6670"),
            grid: get("--grid", "#e3e5e8"),
            op: get("--tl-op", "#ffffff"),
        }
    }
}

const LANE_GAP: f64 = 10.0;
const LANE: f64 = LANE_LABEL + LANE_BAR + LANE_GAP;
const AXIS: f64 = 26.0;
const TOP: f64 = 4.0;
const SIDE: f64 = 6.0;

/// The canvas height in CSS pixels for runs stacked on one time axis, with `lanes[r]` lanes in
/// run `r` (three for the empty canvas).
pub fn css_height(lanes: &[usize]) -> f64 {
    let n: usize = if lanes.is_empty() {
        3
    } else {
        lanes.iter().sum()
    };
    TOP + n as f64 * LANE + AXIS
}

/// The run and lane drawn at height `y` (CSS pixels from the canvas's top), if any, for runs of
/// `lanes[r]` lanes each.
pub fn lane_at(y: f64, lanes: &[usize]) -> Option<(usize, usize)> {
    if y < TOP {
        return None;
    }
    let mut k = ((y - TOP) / LANE) as usize;
    for (row, &n) in lanes.iter().enumerate() {
        if k < n {
            return Some((row, k));
        }
        k -= n;
    }
    None
}

/// One run on the canvas.
pub struct Row<'a> {
    /// Its lanes.
    pub timeline: &'a Timeline,
    /// Its settings.
    pub run: &'a RunConfig,
    /// The figures written beside each lane.
    pub figures: Vec<Figures>,
}

/// What to draw: the runs, stacked on one time axis, the range of it shown, the latest moment
/// drawn (a paused view stops there), and the span the reader picked, as (row, lane, span).
pub struct Picture<'a> {
    /// The runs, top to bottom.
    pub rows: &'a [Row<'a>],
    /// The time range shown, in seconds.
    pub range: (f64, f64),
    /// Nothing after this is drawn.
    pub clip_us: u64,
    /// The span outlined.
    pub selected: Option<(usize, usize, usize)>,
}

/// What a drawing laid out: the time-to-pixel scale and each run's lanes, for pointing at spans.
pub struct Drawn {
    /// The scale of the time axis.
    pub scale: Scale,
    /// One layout per run, top to bottom.
    pub rows: Vec<RunLayout>,
}

/// Draws `picture` on a canvas `css_width` CSS pixels wide; returns what it laid out.
pub fn draw(
    window: &Window,
    canvas: &HtmlCanvasElement,
    css_width: i32,
    palette: &Palette,
    picture: &Picture,
) -> Option<Drawn> {
    let ctx = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())?;
    let dpr = window.device_pixel_ratio().max(1.0);
    let css_w = f64::from(css_width.max(200));
    let lanes: Vec<usize> = picture
        .rows
        .iter()
        .map(|r| r.timeline.lanes.len())
        .collect();
    let css_h = css_height(&lanes);
    let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
        let _ = canvas.style().set_property("height", &format!("{css_h}px"));
    }
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, css_w, css_h);
    ctx.set_font("12px system-ui, -apple-system, 'Segoe UI', sans-serif");
    ctx.set_text_baseline("alphabetic");

    let scale = Scale {
        start_s: picture.range.0,
        end_s: picture.range.1,
        left: SIDE,
        width: css_w - 2.0 * SIDE,
    };
    if picture.rows.is_empty() {
        ctx.set_fill_style_str(&palette.muted);
        ctx.set_text_align("center");
        let _ = ctx.fill_text(
            "The timeline of the running scenario appears here.",
            css_w / 2.0,
            css_h / 2.0,
        );
        return None;
    }
    let stacked = picture.rows.len() > 1;
    let mut layouts = Vec::with_capacity(picture.rows.len());
    let mut top = TOP;
    for (r, row) in picture.rows.iter().enumerate() {
        if r > 0 {
            ctx.set_fill_style_str(&palette.grid);
            ctx.fill_rect(0.0, top - LANE_GAP / 2.0, css_w, 1.0);
        }
        let clip = picture.clip_us.min(row.timeline.now_us);
        let layout = RunLayout::new(row.timeline, &scale, clip);
        let selected = picture
            .selected
            .filter(|&(sr, _, _)| sr == r)
            .and_then(|(_, lane, k)| {
                let span = row.timeline.lanes.get(lane)?.spans.get(k)?;
                Some((lane, scale.span(span, clip)))
            });
        draw_row(&ctx, palette, &scale, &layout, row, top, stacked, selected);
        top += lanes[r] as f64 * LANE;
        layouts.push(layout);
    }
    let axis_y = top;
    draw_axis(&ctx, palette, &scale, axis_y);
    Some(Drawn {
        scale,
        rows: layouts,
    })
}

#[allow(clippy::too_many_arguments)]
fn draw_row(
    ctx: &CanvasRenderingContext2d,
    palette: &Palette,
    scale: &Scale,
    layout: &RunLayout,
    row: &Row,
    top: f64,
    stacked: bool,
    selected: Option<(usize, (f64, f64))>,
) {
    let (left, right) = (scale.left, scale.right());
    let mut titles = lane_titles(row.run);
    if stacked {
        titles[0] = format!(
            "{} · {} s · {}",
            row.run.scenario,
            super::html::short_number(row.run.delay.as_secs_f64()),
            titles[0]
        );
    }
    for (i, lane) in layout.lanes.iter().enumerate() {
        let top = top + i as f64 * LANE;
        let bar = top + LANE_LABEL;
        ctx.set_fill_style_str(&palette.ink);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&titles[i], left, top + 12.0);
        let label_w = ctx.measure_text(&titles[i]).map_or(0.0, |m| m.width());
        figures(
            ctx,
            palette,
            &row.figures.get(i).copied().unwrap_or_default(),
            left + label_w + 12.0,
            right,
            top + 12.0,
        );
        // The lane's track: "released" unless a bar says otherwise.
        ctx.set_fill_style_str(&palette.released);
        ctx.fill_rect(
            left,
            bar + LANE_BAR / 2.0 - 1.0,
            (lane.track_end - left).max(0.0),
            2.0,
        );
        for rect in lane.bars() {
            let Some(colour) = palette.lanes.of(rect.state) else {
                continue;
            };
            let (y, h) = rect.bar(bar);
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(rect.x0, y, rect.x1 - rect.x0, h);
        }
        if let Some(x0) = lane.capped_from {
            // Past the cap: too many switches to keep; say so rather than draw a wrong state.
            ctx.set_fill_style_str(&palette.muted);
            ctx.fill_rect(
                x0,
                bar + LANE_BAR / 2.0 - 3.0,
                (lane.track_end - x0).max(0.0),
                6.0,
            );
        }
        // Where each uninterruptible operation began, unless they are too dense to tell apart.
        ctx.set_fill_style_str(&palette.op);
        for &ox in &lane.ops {
            ctx.fill_rect(ox - 0.5, bar, 1.0, LANE_BAR);
        }
        if let Some((_, (x0, x1))) = selected.filter(|&(sl, _)| sl == i) {
            ctx.set_stroke_style_str(&palette.ink);
            ctx.set_line_width(2.0);
            ctx.stroke_rect(
                x0 - 1.0,
                bar - 2.0,
                (x1 - x0).max(1.0) + 2.0,
                LANE_BAR + 4.0,
            );
        }
    }
    // The controller's wake-up, and, once known, the moment it cleared the flag.
    let lanes_h = layout.lanes.len() as f64 * LANE - LANE_GAP;
    if let Some(x) = layout.woke {
        marker(ctx, x, top, lanes_h, &palette.ink, &[4.0, 3.0]);
    }
    if let Some(x) = layout.cleared {
        marker(ctx, x, top, lanes_h, &palette.lanes.ask, &[2.0, 2.0]);
    }
}

/// The lane's figures, right-aligned on its label line; shorter, or left out, when the label
/// leaves too little room.
fn figures(
    ctx: &CanvasRenderingContext2d,
    palette: &Palette,
    f: &Figures,
    from: f64,
    right: f64,
    y: f64,
) {
    if f.is_empty() {
        return;
    }
    ctx.set_fill_style_str(&palette.muted);
    ctx.set_text_align("right");
    for compact in [false, true] {
        let text = f.text(compact);
        let w = ctx.measure_text(&text).map_or(f64::MAX, |m| m.width());
        if from + w <= right {
            let _ = ctx.fill_text(&text, right, y);
            return;
        }
    }
}

/// The time axis under the lanes, its ticks as fine as the zoom.
fn draw_axis(ctx: &CanvasRenderingContext2d, palette: &Palette, scale: &Scale, axis_y: f64) {
    let (left, right) = (scale.left, scale.right());
    ctx.set_fill_style_str(&palette.grid);
    ctx.fill_rect(left, axis_y, scale.width, 1.0);
    let (step, ticks) = scale.ticks(((scale.width / 70.0) as usize).clamp(2, 10));
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    ctx.set_fill_style_str(&palette.muted);
    for (t, tx) in ticks {
        ctx.fill_rect(tx, axis_y, 1.0, 4.0);
        ctx.set_text_align(if tx - left < 12.0 { "left" } else { "center" });
        let _ = ctx.fill_text(
            &format!("{t:.decimals$} s"),
            tx.min(right - 16.0),
            axis_y + 17.0,
        );
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
