//! A non-negative big integer that multiplies the way CPython's `int` does, so that one `z * z`
//! of the bignum load lasts about as long as in CPython on the same machine.
//!
//! The load's lesson depends on how long one uninterruptible operation lasts: CPython's `z * z` is
//! a single bytecode that holds the GIL from start to end, and how late the controller can stop
//! the load is the length of the multiplication under way. A faster library (num-bigint, with
//! 64-bit digits and Toom-3) makes the emulated operations 6-9 times shorter than CPython's, and
//! the late stop with them. This type mirrors the algorithm of CPython's `Objects/longobject.c`
//! (written here from its description, not copied), with CPython's names:
//!
//! - digits of [`PYLONG_SHIFT`] = 30 bits, each in a `u32`, least significant first, with no
//!   leading zero digit ("normalized"); products of two digits accumulate in a `u64` ("twodigits");
//! - schoolbook multiplication (`x_mul`) while the shorter operand has at most
//!   [`KARATSUBA_CUTOFF`] = 70 digits, or [`KARATSUBA_SQUARE_CUTOFF`] = 140 when squaring; its
//!   squaring branch (CPython's `a == b` case) computes each cross product once and doubles it;
//! - Karatsuba (`k_mul`) above, splitting at half the longer operand's digits, normalizing the
//!   low halves (which matters for `10^(2^k)`, whose low third is zero digits), and assembling the
//!   result in place: the high product at `2 * shift`, the low one at 0, both subtracted at
//!   `shift`, then the product of the sums added at `shift`;
//! - when one operand is less than half the other's length, the long one is cut into slices as
//!   long as the short one (`k_lopsided_mul`). Squaring never gets there.
//!
//! A product is squaring, as in CPython, when both operands are the same object: here the same
//! slice of digits (`std::ptr::eq`), which [`PyLong::square`] and `z.mul(&z)` both are.

use num_bigint::BigUint;

/// Bits per digit (CPython's `PyLong_SHIFT` on 64-bit builds).
pub const PYLONG_SHIFT: u32 = 30;

/// The bits of one digit (CPython's `PyLong_MASK`).
pub const PYLONG_MASK: u32 = (1 << PYLONG_SHIFT) - 1;

/// Below or at this many digits in the shorter operand, a product is schoolbook (CPython's
/// `KARATSUBA_CUTOFF`).
pub const KARATSUBA_CUTOFF: usize = 70;

/// The same cutoff for a square, higher because schoolbook squaring does half the digit products
/// (CPython's `KARATSUBA_SQUARE_CUTOFF`).
pub const KARATSUBA_SQUARE_CUTOFF: usize = 2 * KARATSUBA_CUTOFF;

/// A non-negative integer in CPython's representation: 30-bit digits, least significant first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PyLong {
    /// Normalized: the last digit is never 0; zero has no digits.
    digits: Vec<u32>,
}

impl PyLong {
    /// The integer `value` (one or two digits).
    pub fn from_u32(value: u32) -> Self {
        let digits = vec![value & PYLONG_MASK, value >> PYLONG_SHIFT];
        Self::from_digits(digits)
    }

    /// The integer whose 30-bit digits, least significant first, are `digits`.
    ///
    /// # Panics
    /// If a digit has a bit set above [`PYLONG_SHIFT`].
    pub fn from_digits(mut digits: Vec<u32>) -> Self {
        assert!(
            digits.iter().all(|&d| d <= PYLONG_MASK),
            "a PyLong digit holds {PYLONG_SHIFT} bits"
        );
        normalize(&mut digits);
        Self { digits }
    }

    /// The 30-bit digits, least significant first, without leading zeros.
    pub fn digits(&self) -> &[u32] {
        &self.digits
    }

    /// Whether this is 0.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The number of bits without leading zeros (Python's `int.bit_length()`); 0 for 0.
    pub fn bits(&self) -> u64 {
        match self.digits.last() {
            None => 0,
            Some(&top) => {
                (self.digits.len() as u64 - 1) * u64::from(PYLONG_SHIFT)
                    + u64::from(u32::BITS - top.leading_zeros())
            }
        }
    }

    /// `self * self`, as CPython computes `z * z`: schoolbook squaring up to
    /// [`KARATSUBA_SQUARE_CUTOFF`] digits, Karatsuba above.
    pub fn square(&self) -> Self {
        Self {
            digits: k_mul(&self.digits, &self.digits),
        }
    }

    /// `self * other`, as CPython's `long_mul` computes it; a square when `other` is `self`.
    pub fn mul(&self, other: &Self) -> Self {
        Self {
            digits: k_mul(&self.digits, &other.digits),
        }
    }
}

impl From<&BigUint> for PyLong {
    fn from(value: &BigUint) -> Self {
        let digits = repack(&value.to_u32_digits(), u32::BITS, PYLONG_SHIFT);
        Self::from_digits(digits)
    }
}

impl From<&PyLong> for BigUint {
    fn from(value: &PyLong) -> Self {
        BigUint::new(repack(&value.digits, PYLONG_SHIFT, u32::BITS))
    }
}

/// Re-cuts little-endian words of `from_bits` bits each into words of `to_bits` bits each.
fn repack(words: &[u32], from_bits: u32, to_bits: u32) -> Vec<u32> {
    let total_bits = words.len() as u64 * u64::from(from_bits);
    let mut out = Vec::with_capacity(total_bits.div_ceil(u64::from(to_bits)) as usize);
    let to_mask = (1u64 << to_bits) - 1;
    let (mut pending, mut pending_bits) = (0u64, 0u32);
    for &word in words {
        pending |= u64::from(word) << pending_bits;
        pending_bits += from_bits;
        while pending_bits >= to_bits {
            out.push((pending & to_mask) as u32);
            pending >>= to_bits;
            pending_bits -= to_bits;
        }
    }
    if pending_bits > 0 {
        out.push(pending as u32);
    }
    out
}

/// Drops leading zero digits (CPython's `long_normalize`).
fn normalize(digits: &mut Vec<u32>) {
    let len = normalized(digits).len();
    digits.truncate(len);
}

/// `digits` without its leading zero digits.
fn normalized(digits: &[u32]) -> &[u32] {
    let len = digits
        .iter()
        .rposition(|&d| d != 0)
        .map_or(0, |top| top + 1);
    &digits[..len]
}

/// `a * b`, normalized; a square when `a` and `b` are the same slice (CPython's `k_mul`).
fn k_mul(a: &[u32], b: &[u32]) -> Vec<u32> {
    let squaring = std::ptr::eq(a, b);
    // The shorter operand first; it decides between schoolbook and Karatsuba.
    let (a, b) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let cutoff = if squaring {
        KARATSUBA_SQUARE_CUTOFF
    } else {
        KARATSUBA_CUTOFF
    };
    if a.len() <= cutoff {
        return if a.is_empty() {
            Vec::new()
        } else {
            x_mul(a, b)
        };
    }
    // Splitting both at half of `b` would leave `a`'s high half empty or tiny: a waste.
    if 2 * a.len() <= b.len() {
        return k_lopsided_mul(a, b);
    }

    // a = ah * B^shift + al and b = bh * B^shift + bl, with B = 2^30.
    let shift = b.len() >> 1;
    let (al, ah) = a.split_at(shift);
    let al = normalized(al);
    let (bh, bl) = if squaring {
        (ah, al)
    } else {
        let (bl, bh) = b.split_at(shift);
        (bh, normalized(bl))
    };

    // a*b = ah*bh * B^(2 shift) + ((ah+al)(bh+bl) - ah*bh - al*bl) * B^shift + al*bl, built in
    // place; the middle term may wrap `ret` below zero for a while, which the last addition undoes.
    let mut ret = vec![0u32; a.len() + b.len()];
    let high = k_mul(ah, bh);
    ret[2 * shift..2 * shift + high.len()].copy_from_slice(&high);
    let low = k_mul(al, bl);
    ret[..low.len()].copy_from_slice(&low);
    v_isub(&mut ret[shift..], &low);
    v_isub(&mut ret[shift..], &high);
    drop((high, low));

    let a_sum = x_add(ah, al);
    let middle = if squaring {
        k_mul(&a_sum, &a_sum)
    } else {
        k_mul(&a_sum, &x_add(bh, bl))
    };
    v_iadd(&mut ret[shift..], &middle);
    normalize(&mut ret);
    ret
}

/// `a * b` when `b` has at least twice as many digits as `a` (CPython's `k_lopsided_mul`): the
/// sum of `a` times each slice of `b` as long as `a`, each a balanced product.
fn k_lopsided_mul(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut ret = vec![0u32; a.len() + b.len()];
    for (index, slice) in b.chunks(a.len()).enumerate() {
        let product = k_mul(a, normalized(slice));
        v_iadd(&mut ret[index * a.len()..], &product);
    }
    normalize(&mut ret);
    ret
}

/// Schoolbook `a * b`, normalized, with both non-empty (CPython's `x_mul`).
fn x_mul(a: &[u32], b: &[u32]) -> Vec<u32> {
    if std::ptr::eq(a, b) {
        return x_square(a);
    }
    let mut z = vec![0u32; a.len() + b.len()];
    for (i, &a_digit) in a.iter().enumerate() {
        let f = u64::from(a_digit);
        let mut carry = 0u64;
        let row = &mut z[i..];
        for (z_digit, &b_digit) in row.iter_mut().zip(b) {
            carry += u64::from(*z_digit) + u64::from(b_digit) * f;
            *z_digit = carry as u32 & PYLONG_MASK;
            carry >>= PYLONG_SHIFT;
        }
        // (2^30 - 1)^2 + 2 (2^30 - 1) < 2^60: the carry is one digit, and this digit of `z` is
        // still 0.
        row[b.len()] = carry as u32;
    }
    normalize(&mut z);
    z
}

/// Schoolbook `a * a`, normalized (the `a == b` branch of CPython's `x_mul`): row `i` adds
/// `a[i]^2` at digit `2i` and `2 a[i] a[j]` for each `j > i` at digit `i + j`, so each cross
/// product is computed once.
fn x_square(a: &[u32]) -> Vec<u32> {
    let mut z = vec![0u32; 2 * a.len()];
    for (i, &a_digit) in a.iter().enumerate() {
        let f = u64::from(a_digit);
        let row = &mut z[2 * i..];
        let mut carry = u64::from(row[0]) + f * f;
        row[0] = carry as u32 & PYLONG_MASK;
        carry >>= PYLONG_SHIFT;
        // Doubled, `f` has 31 bits: 2^31 * 2^30 plus two digits still fits in 64 bits.
        let f = f << 1;
        let above = &a[i + 1..];
        for (z_digit, &a_digit) in row[1..].iter_mut().zip(above) {
            carry += u64::from(*z_digit) + u64::from(a_digit) * f;
            *z_digit = carry as u32 & PYLONG_MASK;
            carry >>= PYLONG_SHIFT;
        }
        // The carry is at most two digits; the square fits in `z`, so it never runs off its end.
        let mut k = 1 + above.len();
        while carry != 0 {
            carry += u64::from(row[k]);
            row[k] = carry as u32 & PYLONG_MASK;
            carry >>= PYLONG_SHIFT;
            k += 1;
        }
    }
    normalize(&mut z);
    z
}

/// `a + b`, normalized (CPython's `x_add` for non-negative operands).
fn x_add(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut sum = Vec::with_capacity(long.len() + 1);
    sum.extend_from_slice(long);
    sum.push(0);
    v_iadd(&mut sum, short);
    normalize(&mut sum);
    sum
}

/// Adds `y` into `x` in place, carrying as far as needed into `x`; returns the carry out of `x`'s
/// top, which Karatsuba's assembly lets wrap (CPython's `v_iadd`).
fn v_iadd(x: &mut [u32], y: &[u32]) -> u32 {
    let mut carry = 0u32;
    for (x_digit, &y_digit) in x.iter_mut().zip(y) {
        carry += *x_digit + y_digit;
        *x_digit = carry & PYLONG_MASK;
        carry >>= PYLONG_SHIFT;
    }
    for x_digit in &mut x[y.len()..] {
        if carry == 0 {
            break;
        }
        carry += *x_digit;
        *x_digit = carry & PYLONG_MASK;
        carry >>= PYLONG_SHIFT;
    }
    carry
}

/// Subtracts `y` from `x` in place, borrowing as far as needed; returns the borrow out of `x`'s
/// top (CPython's `v_isub`), which Karatsuba's assembly lets wrap.
fn v_isub(x: &mut [u32], y: &[u32]) -> u32 {
    let mut borrow = 0u32;
    for (x_digit, &y_digit) in x.iter_mut().zip(y) {
        borrow = x_digit.wrapping_sub(y_digit).wrapping_sub(borrow);
        *x_digit = borrow & PYLONG_MASK;
        borrow = (borrow >> PYLONG_SHIFT) & 1;
    }
    for x_digit in &mut x[y.len()..] {
        if borrow == 0 {
            break;
        }
        borrow = x_digit.wrapping_sub(borrow);
        *x_digit = borrow & PYLONG_MASK;
        borrow = (borrow >> PYLONG_SHIFT) & 1;
    }
    borrow
}
