//! A progress line on stderr for long imports; silent when stderr is not a
//! terminal, so scripts and CI logs stay clean.

use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar)
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl countersign::import::Progress for Bar {
    fn file(&self, origin: &str) {
        self.0.inc(1);
        self.0
            .set_message(format!("reading {origin} ({} files)", self.0.position()));
    }

    fn planned(&self, changes: usize) {
        self.0.set_message(format!("writing {changes} changes"));
    }
}
