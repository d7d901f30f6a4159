//! A progress indicator for long imports, on stderr and only when stderr is
//! a terminal: scripts and logs see nothing extra.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Rows read so far, with their rate. Hidden when stderr is not a terminal.
pub struct RowProgress(ProgressBar);

impl RowProgress {
    pub fn on_stderr(what: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return RowProgress(ProgressBar::hidden());
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
        RowProgress(bar)
    }

    pub fn row(&self) {
        self.0.inc(1);
    }

    /// Clears the line, so the result or the error is what stays on screen.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for RowProgress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
