//! The web page: everything between the browser and the experiment.
//!
//! Target-independent (tested natively):
//! - [`params`]: the URL parameters and the settings form, checked with the CLI's parsers;
//! - [`html`]: tables, counters, chart and the timeline's summary as HTML strings;
//! - [`timeline`]: the size of the log the page keeps per run (the lanes are
//!   [`crate::timeline`]'s);
//! - [`view`]: the timeline as an instrument: zoom, pause, the time-to-pixel scale, hover texts;
//! - [`story`]: the guided story's steps, written from the runs' results and lanes.
//!
//! The cooperative mode's workers, their messages and the page's end of them are the cooperative
//! executor's ([`crate::coop::worker`], [`crate::coop::wire`], [`crate::coop::page_end`]).
//!
//! In the browser only:
//! - the `#[wasm_bindgen]` surface that `www/app.js` and `www/coop-worker.js` call (below);
//! - `page`: the page's state, frame loop, form and drawing; `canvas`: the timeline;
//! - `source`: where runs come from in each mode; `shared`: a sweep's state shared with the pool.
//!
//! The JavaScript only loads the module, picks the mode from what the browser can do, starts the
//! workers, forwards clicks, form input and worker messages, and calls `Page::frame` every
//! animation frame.

pub mod html;
pub mod params;
pub mod story;
pub mod timeline;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod canvas;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
pub mod shared;
#[cfg(target_arch = "wasm32")]
pub mod source;

#[cfg(target_arch = "wasm32")]
pub use bindings::*;
