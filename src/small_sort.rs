//! A stable insertion sort for the short, nearly sorted lists of the page (events announced
//! ahead, a chart's few points): the library's sort would add about 4 KB to the page's `.wasm`
//! for each element type it sorts.

use core::cmp::Ordering;

/// Sorts `v` stably by `cmp`, in O(n²) at worst and O(n) when already sorted.
pub(crate) fn insertion_sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]).is_gt() {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let mut v = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        insertion_sort_by(&mut v, |a, b| a.0.cmp(&b.0));
        assert_eq!(v, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        let mut empty: [u8; 0] = [];
        insertion_sort_by(&mut empty, u8::cmp);
    }
}
