//! Progress of long commands, the one way the command line shows it: a bar on a terminal
//! ([`progress`]), and for loops that run long in scripts and logs too, a line every 5% when
//! stderr is not a terminal ([`Progress`]).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr (hidden when stderr is not a terminal): `what`, a bar, the
/// position of `len`, time spent and left.
pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed}, {eta} left)",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_owned());
    pb
}

/// Progress of a long loop on stderr: a bar on a terminal, otherwise a line every 5% (so that
/// a log file or a pipe also shows how far a run is and how long it has taken).
pub(crate) struct Progress {
    bar: ProgressBar,
    lines: bool,
    what: String,
    len: usize,
    done: AtomicUsize,
    last_step: Mutex<usize>,
    start: Instant,
}

impl Progress {
    /// Starts a progress report for `len` steps.
    pub(crate) fn new(len: usize, what: &str) -> Self {
        let lines = !std::io::stderr().is_terminal();
        let bar = if lines {
            ProgressBar::hidden()
        } else {
            progress(len as u64, what)
        };
        Progress {
            bar,
            lines,
            what: what.to_string(),
            len,
            done: AtomicUsize::new(0),
            last_step: Mutex::new(0),
            start: Instant::now(),
        }
    }

    /// One more step done (callable from several threads).
    pub(crate) fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.inc(1);
        if self.lines && self.len > 0 {
            let step = done * 20 / self.len;
            if let Ok(mut last) = self.last_step.lock() {
                if step > *last {
                    *last = step;
                    eprintln!(
                        "{}: {done}/{} ({}%) {:.1}s",
                        self.what,
                        self.len,
                        step * 5,
                        self.start.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }

    /// Ends the report.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}
