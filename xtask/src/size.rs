//! `cargo xtask size`: where the page's `.wasm` goes, by function and by crate.
//!
//! Builds the page's module as `web-build` does (nightly, `opt-level = "z"`, the flags of
//! `.cargo/config.toml`) but keeps its name section (`strip = false`, into `target/size`, so the
//! shipped build and its cache are untouched), passes it through wasm-bindgen as trunk does (which
//! drops what only described the bindings, and demangles the names), then reads the module
//! itself: the size of every function body of the code section, named from the name section,
//! summed by the crate at the start of its name. The figures are raw bytes, not gzip; they say
//! where to cut, the e2e test weighs what ships.

use crate::cmd::Cmd;
use std::collections::BTreeMap;
use std::path::Path;

/// The module's sections and functions, as read from its bytes.
#[derive(Debug, Default, PartialEq)]
pub struct Profile {
    /// Bytes of the code section (function bodies).
    pub code: usize,
    /// Bytes of the data section (strings, tables).
    pub data: usize,
    /// Each defined function: its name (or `func[i]`) and the size of its body.
    pub functions: Vec<(String, usize)>,
}

/// Builds the profiling copy of the page's module and prints its profile.
pub fn run(root: &Path, top: usize) -> Result<(), String> {
    let build = crate::tasks::on_nightly_with_build_std(Cmd::cargo(&[
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "--lib",
    ]))
    .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
    .env("CARGO_PROFILE_RELEASE_STRIP", "false")
    .env("CARGO_TARGET_DIR", "target/size");
    println!("$ {build}");
    build.run(root)?;
    let bindgen = Cmd::new("wasm-bindgen").args(&[
        "--target",
        "web",
        "--keep-debug",
        "--out-dir",
        "target/size/bindgen",
        "target/size/wasm32-unknown-unknown/release/gil_lab.wasm",
    ]);
    println!("$ {bindgen}");
    bindgen.run(root)?;
    let path = root.join("target/size/bindgen/gil_lab_bg.wasm");
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let profile = read(&bytes)?;
    print!("{}", report(&profile, top));
    Ok(())
}

/// The printed profile: section sizes, the `top` largest functions, and every crate's total.
pub fn report(p: &Profile, top: usize) -> String {
    let mut out = format!(
        "code section {} B, data section {} B, {} functions\n\nlargest functions (bytes):\n",
        p.code,
        p.data,
        p.functions.len()
    );
    let mut by_size: Vec<&(String, usize)> = p.functions.iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, size) in by_size.iter().take(top) {
        let short: String = name.chars().take(120).collect();
        out += &format!("{size:>8}  {short}\n");
    }
    let mut crates: BTreeMap<String, usize> = BTreeMap::new();
    for (name, size) in &p.functions {
        *crates.entry(crate_of(name)).or_default() += size;
    }
    let mut crates: Vec<(String, usize)> = crates.into_iter().collect();
    crates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out += "\ncode by crate (bytes):\n";
    for (name, size) in crates {
        out += &format!("{size:>8}  {name}\n");
    }
    out
}

/// The crate a function belongs to: the first `name[hash]` path segment in its demangled name
/// (`<alloc[..]::vec::Vec<T> as ..>::f` is alloc's), else `other`.
fn crate_of(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            start.get_or_insert(i);
        } else if b == b'[' {
            if let Some(s) = start {
                let hash = &name[i + 1..];
                if hash.len() > 17 && hash.as_bytes()[16] == b']' {
                    return name[s..i].to_string();
                }
            }
            start = None;
        } else {
            start = None;
        }
    }
    "other".to_string()
}

/// Reads an unsigned LEB128 number at `*at`.
fn leb(bytes: &[u8], at: &mut usize) -> Result<usize, String> {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*at).ok_or("the module ends inside a number")?;
        *at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(value);
        }
        shift += 7;
        if shift > 63 {
            return Err("a number in the module is too long".into());
        }
    }
}

/// Reads a module: section sizes, function body sizes, and their names.
pub fn read(bytes: &[u8]) -> Result<Profile, String> {
    if bytes.get(..4) != Some(b"\0asm") {
        return Err("not a WebAssembly module".into());
    }
    let mut p = Profile::default();
    let mut imported_functions = 0;
    let mut bodies = Vec::new();
    let mut names = BTreeMap::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let size = leb(bytes, &mut at)?;
        let end = at + size;
        let section = bytes.get(at..end).ok_or("a section runs past the end")?;
        let mut i = 0;
        match id {
            // Imports: only functions shift the indices of the code section's bodies.
            2 => {
                for _ in 0..leb(section, &mut i)? {
                    for _ in 0..2 {
                        let len = leb(section, &mut i)?;
                        i += len;
                    }
                    let kind = *section.get(i).ok_or("an import is cut short")?;
                    i += 1;
                    match kind {
                        0 => {
                            leb(section, &mut i)?;
                            imported_functions += 1;
                        }
                        1 | 2 => {
                            if kind == 1 {
                                i += 1; // the table's element type
                            }
                            let flags = leb(section, &mut i)?;
                            leb(section, &mut i)?;
                            if flags & 1 != 0 {
                                leb(section, &mut i)?;
                            }
                        }
                        3 => i += 2,
                        _ => {
                            leb(section, &mut i)?;
                        }
                    }
                }
            }
            10 => {
                p.code = size;
                for _ in 0..leb(section, &mut i)? {
                    let body = leb(section, &mut i)?;
                    bodies.push(body);
                    i += body;
                }
            }
            11 => p.data = size,
            0 => {
                let len = leb(section, &mut i)?;
                let name = section.get(i..i + len).unwrap_or_default();
                i += len;
                if name == b"name" {
                    read_function_names(&section[i..], &mut names)?;
                }
            }
            _ => {}
        }
        at = end;
    }
    p.functions = bodies
        .into_iter()
        .enumerate()
        .map(|(k, size)| {
            let index = imported_functions + k;
            let name = names
                .remove(&index)
                .unwrap_or_else(|| format!("func[{index}]"));
            (name, size)
        })
        .collect();
    Ok(p)
}

/// The function names subsection (id 1) of a name section.
fn read_function_names(section: &[u8], names: &mut BTreeMap<usize, String>) -> Result<(), String> {
    let mut i = 0;
    while i < section.len() {
        let id = section[i];
        i += 1;
        let size = leb(section, &mut i)?;
        let end = i + size;
        if id == 1 {
            let mut j = i;
            for _ in 0..leb(section, &mut j)? {
                let index = leb(section, &mut j)?;
                let len = leb(section, &mut j)?;
                let name = section.get(j..j + len).ok_or("a name runs past the end")?;
                names.insert(index, String::from_utf8_lossy(name).into_owned());
                j += len;
            }
        }
        i = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one imported function and two defined ones, the second named.
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // Types: one `() -> ()`.
        m.extend([1, 4, 1, 0x60, 0, 0]);
        // Imports: "m"."f", a function of type 0.
        m.extend([2, 7, 1, 1, b'm', 1, b'f', 0, 0]);
        // Functions: two of type 0.
        m.extend([3, 3, 2, 0, 0]);
        // Code: bodies of 2 and 4 bytes.
        m.extend([10, 9, 2, 2, 0, 0x0b, 4, 0, 0x01, 0x01, 0x0b]);
        // Data: one passive segment of 3 bytes.
        m.extend([11, 6, 1, 1, 3, b'a', b'b', b'c']);
        // Names: function 2 is `gil_lab[0123456789abcdef]::f`.
        let name = b"gil_lab[0123456789abcdef]::f";
        let mut sub = vec![1, 2, name.len() as u8];
        sub.extend(name);
        let mut custom = vec![4];
        custom.extend(b"name");
        custom.extend([1, sub.len() as u8]);
        custom.extend(sub);
        m.extend([0, custom.len() as u8]);
        m.extend(custom);
        m
    }

    #[test]
    fn bodies_are_sized_and_named_past_the_imports() {
        let p = read(&module()).expect("a valid module");
        assert_eq!(p.code, 9);
        assert_eq!(p.data, 6);
        assert_eq!(
            p.functions,
            [
                ("func[1]".to_string(), 2),
                ("gil_lab[0123456789abcdef]::f".to_string(), 4)
            ]
        );
        let text = report(&p, 1);
        assert!(
            text.contains("       4  gil_lab[0123456789abcdef]::f\n"),
            "{text}"
        );
        assert!(!text.contains("func[1]\n"), "only the top one: {text}");
        assert!(text.contains("code by crate (bytes):\n       4  gil_lab\n       2  other\n"));
    }

    #[test]
    fn a_function_belongs_to_the_first_crate_in_its_name() {
        assert_eq!(
            crate_of(
                "<alloc[1b4812329c82bc45]::vec::Vec<u8> as core[31deb17f81c9a426]::Clone>::clone"
            ),
            "alloc"
        );
        assert_eq!(crate_of("<u128>::_fmt_inner"), "other");
        assert!(read(b"nope").is_err());
        assert!(read(&module()[..20]).is_err());
    }
}
