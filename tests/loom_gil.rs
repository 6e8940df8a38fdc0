//! Model checks of the lock protocol for the interleavings of 2 and 3 threads (loom), up to three
//! preemptions each.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_gil`
//! (what `cargo xtask test` does). Time is replaced by a step-count policy (see `src/sync.rs`):
//! every timed wait "times out" after the others had a chance to run, so the drop-request path is
//! explored.
#![cfg(loom)]

use gil_lab::gil::{Gil, ThreadState};
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use std::time::Duration;

/// Each thread takes the lock, then passes `rounds` checkpoints, recording who held it when.
#[allow(clippy::type_complexity)]
fn model(threads: u8, rounds: usize) {
    loom::model(move || {
        let gil = Arc::new(Gil::new(Duration::from_millis(5)));
        let inside = Arc::new(AtomicUsize::new(0));
        // (worker, requests it had answered so far), in lock order.
        let order = Arc::new(Mutex::new(Vec::new()));
        let body = move |gil: Arc<Gil>,
                         inside: Arc<AtomicUsize>,
                         order: Arc<Mutex<Vec<(u8, u64)>>>,
                         id: u8| {
            let mut t = gil.attach(id);
            for _ in 0..rounds {
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                order.lock().unwrap().push((id, t.requests_answered()));
                inside.fetch_sub(1, SeqCst);
                t.checkpoint();
            }
            // Every hold leaves an entry, including the one a last checkpoint may have begun.
            order.lock().unwrap().push((id, t.requests_answered()));
            t.detach();
        };
        let handles: Vec<_> = (2..=threads)
            .map(|id| {
                let (gil, inside, order) = (gil.clone(), inside.clone(), order.clone());
                loom::thread::spawn(move || body(gil, inside, order, id))
            })
            .collect();
        body(gil.clone(), inside.clone(), order.clone(), 1);
        for h in handles {
            h.join().unwrap();
        }
        // Forced switching: a holder that answered a request between two of its entries must
        // have seen another thread hold the lock in between.
        let order = order.lock().unwrap();
        for (i, &(id, answered)) in order.iter().enumerate() {
            let prev = order[..i].iter().rposition(|&(w, _)| w == id);
            if let Some(p) = prev {
                if answered > order[p].1 {
                    assert!(
                        order[p + 1..i].iter().any(|&(w, _)| w != id),
                        "worker {id} answered a drop request but took the lock straight back: {order:?}"
                    );
                }
            }
        }
    });
}

#[test]
fn two_threads_exclusion_and_forced_switch() {
    model(2, 2);
}

#[test]
fn three_threads_exclusion_and_forced_switch() {
    model(3, 1);
}
