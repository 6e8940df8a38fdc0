//! The guided story on the page (`story=1`): the step shown, its card, the lanes it speaks of,
//! and the step in the address and in `<html data-story-step>` (from 1). The steps' sentences
//! are [`crate::web::story`]'s.

use super::super::story::{self, Known};
use super::Page;

impl Page {
    /// Moves the story `by` steps (Next is 1, Back is -1), within its steps.
    pub(super) fn story_go(&mut self, by: i64) {
        let Some(at) = self.story else { return };
        let to = (at as i64 + by).clamp(0, story::TITLES.len() as i64 - 1) as usize;
        if to != at {
            self.story = Some(to);
            self.story_shown = None;
            self.show_story();
            self.replace_address();
            // The card at the top of the window, the lanes it speaks of under it; at the last
            // step the verdict above it too.
            let top = if to + 1 == story::TITLES.len() {
                "verdict"
            } else {
                "story"
            };
            if let Some(el) = self.dom.el(top) {
                el.scroll_into_view();
            }
        }
    }

    /// Writes the step's card and, when what it speaks of changed (another step, its run
    /// started or ended), shows those lanes and points at the span it names.
    pub(super) fn show_story(&mut self) {
        let Some(n) = self.story else { return };
        let known: Vec<Known> = (0..story::RUNS.len())
            .map(|i| Known {
                timeline: self.runs.started.get(i).map(|r| &r.timeline),
                result: self.runs.results.get(i),
            })
            .collect();
        let step = story::step(n, &known, self.form.config.load);
        drop(known);
        let last = story::TITLES.len();
        self.dom
            .set_text("story-count", &format!("Step {} of {last}", n + 1));
        self.dom.set_text("story-title", story::TITLES[n]);
        self.dom.set_html("story-text", &step.html);
        self.dom.set_attr(
            "story-text",
            "data-ready",
            if step.ready { "true" } else { "false" },
        );
        self.dom
            .set_root_attr("data-story-step", &(n + 1).to_string());
        self.dom.set_disabled("story-back", n == 0);
        self.dom.set_disabled("story-next", n + 1 == last);
        let (top, under) = step.show;
        let started = self.runs.started.len();
        let key = (n, top < started, step.ready);
        if self.story_shown == Some(key) {
            return;
        }
        self.story_shown = Some(key);
        self.runs.pinned = (top < started).then_some(top);
        self.instrument.compare = under.filter(|&u| u < started);
        self.instrument.view.whole();
        self.instrument.view.resume();
        self.instrument.selected = step.point.map(|(lane, k)| (0, lane, k));
        self.instrument.view.version += 1;
        self.update_readout();
        self.sync_run_picker();
        self.redraw_timeline();
    }
}
