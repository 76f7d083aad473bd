//! Deferred SIGINT, SIGTERM and SIGHUP. While a [`Deferred`] guard lives, these signals only
//! set a flag: the work in progress (replacing files, waiting on a child in its own process
//! group) checks [`Deferred::received`], winds itself down (rolls back the files, kills the
//! child's group), and when the last guard is dropped the signal is raised again with its old
//! disposition, so the process ends the way the sender asked, with nothing half-done left.
//!
//! A signal that was ignored when the guard was taken (`nohup`, a background job's SIGINT) stays
//! ignored.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The last deferred signal, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// How many guards live, and the dispositions they replaced (kept while any guard lives).
static STATE: Mutex<(usize, Vec<(libc::c_int, libc::sigaction)>)> = Mutex::new((0, Vec::new()));

extern "C" fn on_signal(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// While it lives, SIGINT, SIGTERM and SIGHUP are deferred; see the module doc.
pub struct Deferred {
    /// In unit tests, a shared hold on [`test_seam::SIGNAL_STATE`] for the guard's life.
    #[cfg(test)]
    _shared: Option<std::sync::RwLockReadGuard<'static, ()>>,
}

/// Signal dispositions are process-wide, and unit tests run on threads of one process: the
/// test of this module changes them, and must not run while another test (a command with a
/// deadline in exec.rs, a file replacement) holds a guard. Every guard holds the lock shared;
/// that test holds it exclusively (guards it takes itself, on its own thread, skip the lock).
#[cfg(test)]
pub(crate) mod test_seam {
    use std::cell::Cell;
    use std::sync::RwLock;

    pub static SIGNAL_STATE: RwLock<()> = RwLock::new(());

    thread_local! {
        pub static EXCLUSIVE_HERE: Cell<bool> = const { Cell::new(false) };
    }

    pub fn shared() -> Option<std::sync::RwLockReadGuard<'static, ()>> {
        if EXCLUSIVE_HERE.with(Cell::get) {
            return None;
        }
        Some(SIGNAL_STATE.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Holds the signal state for the calling test alone until it returns.
    pub fn exclusive<T>(f: impl FnOnce() -> T) -> T {
        let _held = SIGNAL_STATE.write().unwrap_or_else(|e| e.into_inner());
        EXCLUSIVE_HERE.with(|c| c.set(true));
        let out = f();
        EXCLUSIVE_HERE.with(|c| c.set(false));
        out
    }
}

/// Defers SIGINT, SIGTERM and SIGHUP until the returned guard (and every other one) is dropped.
pub fn defer() -> Deferred {
    #[cfg(test)]
    let shared = test_seam::shared();
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if state.0 == 0 {
        RECEIVED.store(0, Ordering::SeqCst);
        state.1.clear();
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid "default" value; the handler only does an
            // atomic store; `old` receives the previous disposition.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) != 0 {
                    continue;
                }
                if old.sa_sigaction == libc::SIG_IGN {
                    libc::sigaction(signal, &old, std::ptr::null_mut());
                    continue;
                }
                state.1.push((signal, old));
            }
        }
    }
    state.0 += 1;
    Deferred {
        #[cfg(test)]
        _shared: shared,
    }
}

impl Deferred {
    /// The signal received since the first live guard was taken, if any.
    pub fn received(&self) -> Option<libc::c_int> {
        match RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

/// A write to a closed pipe (`cargo xtask ... | head`) ends the process quietly, as it does
/// `git` and `cat`, instead of failing the write (Rust ignores SIGPIPE, so every `print!` would
/// panic). Called first thing in `main`; children inherit the default disposition too.
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: sets SIGPIPE back to its default action before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `SIGTERM`, `SIGINT`, `SIGHUP` or `signal N`.
pub fn name(signal: libc::c_int) -> String {
    match signal {
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGHUP => "SIGHUP".into(),
        other => format!("signal {other}"),
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        if state.0 > 0 {
            return;
        }
        for (signal, old) in state.1.drain(..) {
            // SAFETY: puts back the disposition read in `defer`.
            unsafe {
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
        }
        let signal = RECEIVED.swap(0, Ordering::SeqCst);
        drop(state);
        if signal != 0 {
            // SAFETY: raising a signal at ourselves; its old disposition now applies.
            unsafe {
                libc::raise(signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RAISED_AFTER: AtomicI32 = AtomicI32::new(0);

    extern "C" fn count(signal: libc::c_int) {
        RAISED_AFTER.store(signal, Ordering::SeqCst);
    }

    #[test]
    fn a_signal_under_a_guard_is_recorded_then_raised_with_the_old_disposition() {
        test_seam::exclusive(signal_under_a_guard);
    }

    fn signal_under_a_guard() {
        // SAFETY: this test process's SIGHUP goes to `count` (an atomic store), not the default.
        unsafe {
            libc::signal(libc::SIGHUP, count as *const () as libc::sighandler_t);
        }
        let outer = defer();
        let inner = defer();
        // SAFETY: raising SIGHUP at ourselves; the guard's handler records it.
        unsafe {
            libc::raise(libc::SIGHUP);
        }
        assert_eq!(inner.received(), Some(libc::SIGHUP));
        drop(inner);
        assert_eq!(RAISED_AFTER.load(Ordering::SeqCst), 0, "still deferred");
        drop(outer);
        assert_eq!(RAISED_AFTER.load(Ordering::SeqCst), libc::SIGHUP);
        // An ignored signal stays ignored under a guard.
        // SAFETY: SIGHUP ignored for this test process from here on.
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
        }
        let guard = defer();
        // SAFETY: raising an ignored signal.
        unsafe {
            libc::raise(libc::SIGHUP);
        }
        assert_eq!(guard.received(), None);
        drop(guard);
        // SAFETY: SIGHUP back to its default for the rest of the test process.
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_DFL);
        }
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(99), "signal 99");
    }
}
