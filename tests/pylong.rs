//! `PyLong`'s products against num-bigint's, around CPython's Karatsuba cutoffs and at the bignum
//! load's own values.

use gil_lab::pylong::{PyLong, KARATSUBA_CUTOFF, KARATSUBA_SQUARE_CUTOFF, PYLONG_MASK};
use num_bigint::BigUint;

/// Digit counts on both sides of each cutoff, plus a few sizes that recurse more than once.
const SIZES: [usize; 14] = [
    1,
    2,
    KARATSUBA_CUTOFF - 1,
    KARATSUBA_CUTOFF,
    KARATSUBA_CUTOFF + 1,
    KARATSUBA_SQUARE_CUTOFF - 1,
    KARATSUBA_SQUARE_CUTOFF,
    KARATSUBA_SQUARE_CUTOFF + 1,
    2 * KARATSUBA_SQUARE_CUTOFF + 1,
    283,
    561,
    1000,
    2047,
    4099,
];

/// Deterministic 30-bit digits (xorshift64), so a failure reproduces.
struct Digits(u64);

impl Digits {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 20) as u32 & PYLONG_MASK
    }

    /// `len` digits, the top one non-zero so the value has exactly `len` digits.
    fn number(&mut self, len: usize) -> PyLong {
        let mut digits: Vec<u32> = (0..len).map(|_| self.next()).collect();
        if let Some(top) = digits.last_mut() {
            *top |= 1;
        }
        PyLong::from_digits(digits)
    }
}

fn big(value: &PyLong) -> BigUint {
    BigUint::from(value)
}

#[test]
fn smoke() {
    let ten = PyLong::from_u32(10);
    assert_eq!(big(&ten.square()), BigUint::from(100u32));
    assert_eq!(ten.square().bits(), 7);
}

#[test]
fn square_matches_num_bigint_around_the_cutoffs() {
    let mut digits = Digits(0x9e37_79b9_7f4a_7c15);
    for len in SIZES {
        let a = digits.number(len);
        assert_eq!(a.digits().len(), len);
        let expected = big(&a) * big(&a);
        assert_eq!(big(&a.square()), expected, "square of {len} digits");
        assert_eq!(big(&a.mul(&a)), expected, "a.mul(&a) of {len} digits");
        // An equal value that is not the same object takes the general path, like in CPython.
        assert_eq!(
            big(&a.mul(&a.clone())),
            expected,
            "a * copy of {len} digits"
        );
    }
}

#[test]
fn product_matches_num_bigint_for_unequal_operands() {
    let mut digits = Digits(0x2545_f491_4f6c_dd1d);
    for len_a in SIZES {
        for len_b in [len_a, len_a + 1, 2 * len_a, 2 * len_a + 3, 5 * len_a + 1] {
            let (a, b) = (digits.number(len_a), digits.number(len_b));
            let expected = big(&a) * big(&b);
            assert_eq!(big(&a.mul(&b)), expected, "{len_a} x {len_b} digits");
            assert_eq!(big(&b.mul(&a)), expected, "{len_b} x {len_a} digits");
        }
    }
}

#[test]
fn all_ones_digits_carry_through_every_path() {
    for len in SIZES {
        let a = PyLong::from_digits(vec![PYLONG_MASK; len]);
        let expected = (BigUint::from(1u32) << (30 * len)) - 1u32;
        assert_eq!(big(&a), expected);
        assert_eq!(big(&a.square()), &expected * &expected, "{len} digits");
        let b = PyLong::from_digits(vec![PYLONG_MASK; len + 3]);
        assert_eq!(
            big(&a.mul(&b)),
            &expected * big(&b),
            "{len} x {} digits",
            len + 3
        );
    }
}

#[test]
fn zero_low_halves_are_normalized_away() {
    // Karatsuba's low half is all zeros, or its top digits are: both must still square right.
    for (zeros, ones) in [(150, 150), (200, 100), (100, 200), (141, 1)] {
        let mut digits = vec![0u32; zeros];
        digits.extend(std::iter::repeat_n(PYLONG_MASK, ones));
        let a = PyLong::from_digits(digits);
        assert_eq!(
            big(&a.square()),
            big(&a) * big(&a),
            "{zeros} zeros, {ones} ones"
        );
    }
}

#[test]
fn squaring_ten_repeatedly_matches_num_bigint() {
    let (mut z, mut expected) = (PyLong::from_u32(10), BigUint::from(10u32));
    for step in 1..=18 {
        z = z.square();
        expected = &expected * &expected;
        assert_eq!(big(&z), expected, "10^(2^{step})");
        assert_eq!(z.bits(), expected.bits(), "bits of 10^(2^{step})");
    }
    assert!(z.digits().len() > 20 * KARATSUBA_SQUARE_CUTOFF);
}

#[test]
fn products_of_powers_of_ten_match_num_bigint() {
    let mut powers = vec![PyLong::from_u32(10)];
    for _ in 0..14 {
        let next = powers[powers.len() - 1].square();
        powers.push(next);
    }
    for pair in powers.windows(3) {
        let (a, c) = (&pair[0], &pair[2]);
        assert_eq!(big(&a.mul(c)), big(a) * big(c));
        assert_eq!(big(&pair[1].mul(c)), big(&pair[1]) * big(c));
    }
}

#[test]
fn zero_times_anything_is_zero() {
    let zero = PyLong::default();
    let a = Digits(7).number(300);
    assert!(zero.is_zero());
    assert_eq!(zero.bits(), 0);
    assert!(zero.square().is_zero());
    assert!(zero.mul(&a).is_zero());
    assert!(a.mul(&zero).is_zero());
    assert_eq!(PyLong::from_u32(0), zero);
    assert_eq!(big(&zero), BigUint::default());
}

#[test]
fn bits_counts_to_the_top_set_bit() {
    for (value, bits) in [
        (0u32, 0u64),
        (1, 1),
        (10, 4),
        (PYLONG_MASK, 30),
        (PYLONG_MASK + 1, 31),
        (u32::MAX, 32),
    ] {
        let long = PyLong::from_u32(value);
        assert_eq!(long.bits(), bits, "bits of {value}");
        assert_eq!(big(&long), BigUint::from(value));
    }
}

#[test]
fn converts_to_and_from_num_bigint() {
    let mut digits = Digits(42);
    for len in SIZES {
        let a = digits.number(len);
        let there = big(&a);
        assert_eq!(PyLong::from(&there), a, "{len} digits");
        assert_eq!(a.bits(), there.bits());
    }
    let odd = BigUint::from(3u32).pow(1001);
    assert_eq!(big(&PyLong::from(&odd)), odd);
}

#[test]
fn from_digits_drops_leading_zeros() {
    let a = PyLong::from_digits(vec![5, 0, 0]);
    assert_eq!(a.digits(), &[5]);
    assert_eq!(a, PyLong::from_u32(5));
}

#[test]
#[should_panic(expected = "30 bits")]
fn from_digits_rejects_a_digit_over_30_bits() {
    let _ = PyLong::from_digits(vec![PYLONG_MASK + 1]);
}
