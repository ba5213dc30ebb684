//! Logging: `tracing` for our code, with rustdds's `log` records bridged in.
//!
//! `RUST_LOG` selects what is shown (default `info`). rustdds is noisy at `info` and
//! warns about every fragment it reassembles, so its records are shown only from
//! `error` unless `RUST_LOG` names `rustdds` explicitly.

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,rustdds=error,cdr_encoding=error";

/// Installs a stderr logger; `node` (if any) prefixes every line. Calling it twice is
/// harmless (the first logger stays).
pub fn init(node: Option<&str>) {
    let mut filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned());
    if !filter.contains("rustdds") {
        filter.push_str(",rustdds=error");
    }
    let _ = tracing_log::LogTracer::init();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let result = match node {
        Some(name) => {
            let name = name.to_owned();
            builder.event_format(NodeFormat(name)).try_init()
        }
        None => builder.try_init(),
    };
    let _ = result;
}

/// A compact format with the node name in front of every line.
struct NodeFormat(String);

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for NodeFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        write!(writer, "[{}] {:>5} ", self.0, meta.level())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
