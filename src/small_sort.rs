//! Small sorts for the page, where the library's sort would add about 4 KB to the `.wasm` for
//! each element type it sorts: a stable insertion sort for short, nearly sorted lists (events
//! announced ahead, a chart's few points), and a heapsort for the request victims' latencies
//! (thousands of samples, in any order).

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

/// Sorts `v` ascending in O(n log n), in place (a heapsort: small code, no allocation).
pub(crate) fn heap_sort(v: &mut [u64]) {
    // Moves v[root] down the max-heap v[..end].
    fn sift_down(v: &mut [u64], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child + 1] > v[child] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
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

    #[test]
    fn heap_sort_sorts_any_order() {
        // A fixed pseudo-random sequence with repeats, and the edge cases.
        let mut x = 0x2545_f491_u64;
        let mut v: Vec<u64> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 97
            })
            .collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        heap_sort(&mut v);
        assert_eq!(v, expected);
        for mut small in [vec![], vec![5], vec![2, 1], vec![1, 1, 1], vec![3, 2, 1, 0]] {
            let mut e = small.clone();
            e.sort_unstable();
            heap_sort(&mut small);
            assert_eq!(small, e);
        }
    }
}
