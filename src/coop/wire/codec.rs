//! The text format of the wire ([`super`]): words separated by spaces, written by [`Writer`] and
//! read by [`Reader`], and the [`Wire`] impls of the types every message is made of.

/// A message as text ([the format](super)).
pub fn to_text<T: Wire>(message: &T) -> String {
    let mut w = Writer::default();
    message.put(&mut w);
    w.0
}

/// A message read back from text, or a sentence saying why it cannot be read.
pub fn from_text<T: Wire>(text: &str, what: &str) -> Result<T, String> {
    let mut r = Reader { rest: text };
    T::take(&mut r)
        .and_then(|m| match r.rest {
            "" => Ok(m),
            _ => Err("it goes on past its end".into()),
        })
        .map_err(|e| format!("a {what} message cannot be read ({e})"))
}

/// A message being written: words separated by spaces.
#[derive(Debug, Default)]
pub struct Writer(String);

impl Writer {
    /// Appends one word (which holds no space).
    pub fn word(&mut self, word: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(word);
    }
}

/// A message being read, word by word.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    /// The next word.
    pub fn word(&mut self) -> Result<&'a str, String> {
        let rest = self.rest.strip_prefix(' ').unwrap_or(self.rest);
        let end = rest.find(' ').unwrap_or(rest.len());
        let (word, rest) = rest.split_at(end);
        self.rest = rest;
        if word.is_empty() {
            return Err("it ends too early".into());
        }
        Ok(word)
    }

    /// The next word as a number.
    fn number(&mut self) -> Result<u64, String> {
        let w = self.word()?;
        w.parse().map_err(|_| format!("'{w}' is not a number"))
    }
}

/// A value that can be written as words and read back ([the format](self)).
pub trait Wire: Sized {
    /// Appends the value.
    fn put(&self, w: &mut Writer);
    /// Reads the value back.
    fn take(r: &mut Reader<'_>) -> Result<Self, String>;
}

impl Wire for u64 {
    fn put(&self, w: &mut Writer) {
        w.word(&self.to_string());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()
    }
}

impl Wire for usize {
    fn put(&self, w: &mut Writer) {
        (*self as u64).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()?
            .try_into()
            .map_err(|_| "a number is too large".into())
    }
}

impl Wire for u8 {
    fn put(&self, w: &mut Writer) {
        u64::from(*self).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()?
            .try_into()
            .map_err(|_| "a number is too large".into())
    }
}

impl Wire for bool {
    fn put(&self, w: &mut Writer) {
        u8::from(*self).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        match u8::take(r)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("a flag is neither 0 nor 1".into()),
        }
    }
}

impl Wire for f64 {
    fn put(&self, w: &mut Writer) {
        self.to_bits().put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number().map(f64::from_bits)
    }
}

impl Wire for String {
    fn put(&self, w: &mut Writer) {
        self.len().put(w);
        w.0.push(' ');
        w.0.push_str(self);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let len = usize::take(r)?;
        let text = r.rest.strip_prefix(' ').unwrap_or_default();
        let s = text.get(..len).ok_or("a string is cut short")?;
        r.rest = &text[len..];
        Ok(s.to_string())
    }
}

/// A `Duration` as its nanoseconds (a run's settings are far shorter than 584 years).
impl Wire for std::time::Duration {
    fn put(&self, w: &mut Writer) {
        (self.as_nanos().min(u64::MAX as u128) as u64).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number().map(std::time::Duration::from_nanos)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, w: &mut Writer) {
        match self {
            None => w.word("-"),
            Some(v) => {
                w.word("+");
                v.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        match r.word()? {
            "-" => Ok(None),
            "+" => T::take(r).map(Some),
            w => Err(format!("'{w}' is neither - nor +")),
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, w: &mut Writer) {
        self.len().put(w);
        for v in self {
            v.put(w);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let len = usize::take(r)?;
        // Never trust a length for the allocation: each item takes at least two bytes.
        let mut items = Vec::with_capacity(len.min(r.rest.len() / 2));
        for _ in 0..len {
            items.push(T::take(r)?);
        }
        Ok(items)
    }
}

/// A struct as its fields in order: adding a field to the struct means adding it here too.
macro_rules! wire_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl Wire for $name {
            fn put(&self, w: &mut Writer) {
                $(self.$field.put(w);)*
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, String> {
                Ok(Self { $($field: Wire::take(r)?),* })
            }
        }
    };
}
