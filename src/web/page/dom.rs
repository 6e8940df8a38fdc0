//! The few DOM operations the page needs, each skipped when it would change nothing: the page
//! redraws every animation frame, and a write the browser must lay out again costs far more than
//! the comparison.

use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

/// The document, and what was last written into it.
pub struct Dom {
    doc: Document,
    /// What `set_html` last wrote, per element id: a dozen ids, so a list (a `HashMap` would
    /// add its hashing to the `.wasm`).
    rendered: RefCell<Vec<(&'static str, String)>>,
    /// The progress bar's value as last written.
    progress: Cell<f64>,
}

impl Dom {
    /// The page's document.
    pub fn new(doc: Document) -> Self {
        Self {
            doc,
            rendered: RefCell::default(),
            progress: Cell::new(-1.0),
        }
    }

    /// The document itself.
    pub fn doc(&self) -> &Document {
        &self.doc
    }

    /// The element with this id.
    pub fn el(&self, id: &str) -> Option<Element> {
        self.doc.get_element_by_id(id)
    }

    /// The `<input>` with this id.
    pub fn input(&self, id: &str) -> Option<HtmlInputElement> {
        self.el(id).and_then(|e| e.dyn_into().ok())
    }

    /// The `<select>` with this id.
    pub fn select(&self, id: &str) -> Option<HtmlSelectElement> {
        self.el(id).and_then(|e| e.dyn_into().ok())
    }

    /// Every scenario checkbox of the form.
    pub fn checkboxes(&self) -> Vec<HtmlInputElement> {
        let Ok(list) = self.doc.query_selector_all("input[name=scenario]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlInputElement>().ok())
            .collect()
    }

    /// Sets an element's text.
    pub fn set_text(&self, id: &str, text: &str) {
        if let Some(e) = self.el(id) {
            if e.text_content().as_deref() != Some(text) {
                e.set_text_content(Some(text));
            }
        }
    }

    /// Replaces an element's content, unless it already shows exactly this (compared with what
    /// was last written, without reading the DOM back).
    pub fn set_html(&self, id: &'static str, html: &str) {
        let mut rendered = self.rendered.borrow_mut();
        let slot = rendered.iter().position(|(k, _)| *k == id);
        if slot.is_some_and(|i| rendered[i].1 == html) {
            return;
        }
        if let Some(e) = self.el(id) {
            e.set_inner_html(html);
            match slot {
                Some(i) => rendered[i].1 = html.to_string(),
                None => rendered.push((id, html.to_string())),
            }
        }
    }

    /// Shows or hides an element.
    pub fn show(&self, id: &str, visible: bool) {
        if let Some(e) = self.el(id).and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
            e.set_hidden(!visible);
        }
    }

    /// Enables or disables a control.
    pub fn set_disabled(&self, id: &str, disabled: bool) {
        if let Some(e) = self.el(id) {
            let _ = e.toggle_attribute_with_force("disabled", disabled);
        }
    }

    /// Sets an attribute of an element.
    pub fn set_attr(&self, id: &str, name: &str, value: &str) {
        if let Some(e) = self.el(id) {
            let _ = e.set_attribute(name, value);
        }
    }

    /// Sets an attribute of `<html>` (the page's state for scripts and CSS).
    pub fn set_root_attr(&self, name: &str, value: &str) {
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute(name, value);
        }
    }

    /// The progress bar's value, from 0 to 1, written only when it moved visibly.
    pub fn set_progress(&self, value: f64) {
        if (value - self.progress.get()).abs() < 0.002 {
            return;
        }
        self.progress.set(value);
        self.set_attr("progress", "value", &format!("{value:.3}"));
    }

    /// The document's width in CSS pixels (without a scroll bar).
    pub fn width(&self) -> f64 {
        self.doc
            .document_element()
            .map_or(0.0, |e| f64::from(e.client_width()))
    }
}
