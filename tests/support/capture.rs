//! Captures what `tracing` logs, for the tests of the adapters.

use std::sync::{Arc, Mutex};

/// Runs `f` and returns what it returned and the events logged meanwhile on
/// this thread, one line each: the level, then `field=value` pairs.
pub fn logged<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let out = tracing::subscriber::with_default(Capture(logs.clone()), f);
    let logs = logs.lock().unwrap().clone();
    (out, logs)
}

/// Collects the events logged through `tracing`, one line each: the level,
/// then `field=value` pairs.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("{} ", event.metadata().level());
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
