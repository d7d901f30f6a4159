//! A progress indicator for long imports, on stderr and only when stderr is
//! a terminal: scripts and logs see nothing extra.

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Rows read so far, with their rate. Hidden when stderr is not a terminal.
///
/// Rows are counted here and handed to the bar a batch at a time: the bar
/// takes a clock reading and a lock on every update, which at a few hundred
/// thousand rows a second cost more than a tenth of an import. The spinner's
/// own tick redraws the line, so a batch is invisible on screen.
pub struct RowProgress {
    bar: ProgressBar,
    unreported: Cell<u64>,
}

/// Rows per update of the bar: a few milliseconds of import.
const BATCH: u64 = 1024;

impl RowProgress {
    pub fn on_stderr(what: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return RowProgress::new(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg}: {human_pos} rows ({per_sec}, {elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        RowProgress::new(bar)
    }

    fn new(bar: ProgressBar) -> Self {
        RowProgress {
            bar,
            unreported: Cell::new(0),
        }
    }

    pub fn row(&self) {
        let unreported = self.unreported.get() + 1;
        if unreported < BATCH {
            self.unreported.set(unreported);
        } else {
            self.unreported.set(0);
            self.bar.inc(unreported);
        }
    }

    /// Clears the line, so the result or the error is what stays on screen.
    pub fn finish(&self) {
        self.bar.inc(self.unreported.replace(0));
        self.bar.finish_and_clear();
    }
}

impl Drop for RowProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
