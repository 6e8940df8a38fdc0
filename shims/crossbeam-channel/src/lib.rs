//! A bounded multi-producer multi-consumer channel: the part of crossbeam-channel's API that
//! wasm-bindgen-rayon uses (`bounded`, `Sender::send`, `Receiver::recv`), as a queue behind a
//! mutex with two condition variables. Blocking waits use std's `Condvar`, which in a Web Worker
//! of a threaded wasm build waits with `memory.atomic.wait32`.
//!
//! Semantics kept from crossbeam-channel: `send` blocks while the channel is full and fails once
//! every receiver is gone; `recv` blocks while it is empty and fails once it is empty and every
//! sender is gone. (A capacity of 0, a rendezvous channel in crossbeam, is a capacity of 1 here:
//! wasm-bindgen-rayon never asks for it.)

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receivers: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    not_empty: Condvar,
    not_full: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock without ever waiting in the kernel's (or the browser's) futex: a spin on
    /// `try_lock`. wasm-bindgen-rayon sends from the page's main thread, where a wasm atomic wait
    /// traps; a receiver holds the lock only for a few instructions (it waits on the condition
    /// variable with the lock released), so the spin is short.
    fn lock_spinning(&self) -> MutexGuard<'_, State<T>> {
        loop {
            match self.state.try_lock() {
                Ok(g) => return g,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
            }
        }
    }
}

/// A channel holding at most `cap` messages (at least one).
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receivers: 1,
        }),
        capacity: cap.max(1),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

/// The sending side.
pub struct Sender<T>(Arc<Shared<T>>);

/// The receiving side.
pub struct Receiver<T>(Arc<Shared<T>>);

/// `send` failed: every receiver is gone. Holds the message back.
pub struct SendError<T>(pub T);

/// `recv` failed: the channel is empty and every sender is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a disconnected channel")
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty and disconnected channel")
    }
}

impl<T> std::error::Error for SendError<T> {}
impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// Sends `msg`, waiting while the channel is full (never, for wasm-bindgen-rayon, whose
    /// channel holds one message per worker: it sends from the page's main thread, which must
    /// not wait; so the lock is taken spinning, see [`Shared::lock_spinning`]).
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        let mut state = self.0.lock_spinning();
        loop {
            if state.receivers == 0 {
                return Err(SendError(msg));
            }
            if state.queue.len() < self.0.capacity {
                state.queue.push_back(msg);
                self.0.not_empty.notify_one();
                return Ok(());
            }
            state = self
                .0
                .not_full
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl<T> Receiver<T> {
    /// Receives a message, waiting while the channel is empty.
    pub fn recv(&self) -> Result<T, RecvError> {
        let mut state = self.0.lock();
        loop {
            if let Some(msg) = state.queue.pop_front() {
                self.0.not_full.notify_one();
                return Ok(msg);
            }
            if state.senders == 0 {
                return Err(RecvError);
            }
            state = self
                .0
                .not_empty
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.0.lock_spinning().senders += 1;
        Sender(self.0.clone())
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.0.lock().receivers += 1;
        Receiver(self.0.clone())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.lock_spinning().senders -= 1;
        self.0.not_empty.notify_all();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.0.lock_spinning().receivers -= 1;
        self.0.not_full.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn messages_arrive_in_order_across_threads_and_a_full_channel_waits() {
        let (tx, rx) = bounded(2);
        let producer = thread::spawn(move || {
            for i in 0..1000 {
                tx.send(i).expect("a receiver is there");
            }
        });
        let got: Vec<i32> = (0..1000).map(|_| rx.recv().expect("a message")).collect();
        producer.join().expect("the producer finished");
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        // Every sender gone and nothing left: recv fails instead of waiting for ever.
        assert_eq!(rx.recv(), Err(RecvError));
    }

    #[test]
    fn each_message_goes_to_one_receiver_and_send_fails_without_receivers() {
        let (tx, rx) = bounded(4);
        let rx2 = rx.clone();
        let workers: Vec<_> = [rx, rx2]
            .into_iter()
            .map(|rx| thread::spawn(move || rx.recv().expect("one message each")))
            .collect();
        tx.send(1).expect("sent");
        tx.send(2).expect("sent");
        let mut got: Vec<i32> = workers
            .into_iter()
            .map(|w| w.join().expect("joined"))
            .collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        // Both receivers are gone now (moved into the finished threads).
        assert!(tx.send(3).is_err());
    }
}
