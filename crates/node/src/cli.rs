//! The command line every node binary shares: [`NodeArgs`], the [`NodeOptions`] that
//! matter to whoever starts a node, as flags that can also come from the environment
//! (a flag wins over its variable).

use std::time::Duration;

use crate::NodeOptions;

/// The flags of a node binary; flatten it into the binary's parser
/// (`#[command(flatten)]`) and turn it into options with [`NodeArgs::options`].
/// A flag left out keeps the [`NodeOptions`] default.
///
/// ```no_run
/// use clap::Parser;
/// use sustainml_node::{ml_model_metadata, NodeArgs};
///
/// /// A node that answers every task with an empty output.
/// #[derive(Debug, Parser)]
/// #[command(name = "my-node", version)]
/// struct Cli {
///     #[command(flatten)]
///     node: NodeArgs,
/// }
///
/// let cli = Cli::parse();
/// let options = cli.node.options_or_exit::<Cli>();
/// # let _ =
/// ml_model_metadata()
///     .options(options)
///     .callback(|(_input,), _ctx, _out| Ok(()))
///     .run_blocking();
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct NodeArgs {
    /// DDS domain (0 to 232) [default: 0].
    #[arg(
        long,
        env = "SUSTAINML_DOMAIN_ID",
        value_name = "ID",
        value_parser = domain
    )]
    pub domain: Option<u16>,
    /// How many task callbacks may run at once [default: the number of cores].
    #[arg(long, env = "SUSTAINML_CONCURRENCY", value_name = "N")]
    pub concurrency: Option<usize>,
    /// Seconds a task may wait for its last input before it is evicted, naming the
    /// missing inputs; fractions allowed [default: 300].
    #[arg(
        long,
        env = "SUSTAINML_INPUT_TIMEOUT",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub input_timeout: Option<f64>,
    /// Seconds a task callback may run before its task fails; fractions allowed
    /// [default: 600].
    #[arg(
        long,
        env = "SUSTAINML_TASK_TIMEOUT",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub task_timeout: Option<f64>,
    /// How many incomplete tasks are kept at most; the oldest is evicted beyond that
    /// [default: 10000].
    #[arg(long, env = "SUSTAINML_MAX_PENDING", value_name = "N")]
    pub max_pending: Option<usize>,
    /// Seconds a configuration request's callback may take; fractions allowed
    /// [default: 30].
    #[arg(
        long,
        env = "SUSTAINML_CONFIG_TIMEOUT",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub config_timeout: Option<f64>,
}

/// A [`NodeArgs`] value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeArgsError {
    /// A domain that is not an integer from 0 to 232.
    #[error("must be an integer from 0 to 232 (given by --domain or SUSTAINML_DOMAIN_ID)")]
    Domain,
    /// A count below 1.
    #[error("--{flag} ({env}) must be at least 1, not {value}")]
    TooSmall {
        /// The flag, without its dashes.
        flag: &'static str,
        /// The environment variable that can set it instead.
        env: &'static str,
        /// The value given.
        value: usize,
    },
    /// A duration that is zero, negative, not finite or too large.
    #[error("--{flag} ({env}) must be a positive number of seconds, not {value}")]
    Seconds {
        /// The flag, without its dashes.
        flag: &'static str,
        /// The environment variable that can set it instead.
        env: &'static str,
        /// The value given.
        value: f64,
    },
}

impl NodeArgs {
    /// `options` with every flag that was given applied; fails on the first value
    /// out of range, naming its flag.
    pub fn apply(&self, mut options: NodeOptions) -> Result<NodeOptions, NodeArgsError> {
        if let Some(d) = self.domain {
            options = options.domain(d);
        }
        if let Some(n) = self.concurrency {
            options = options.concurrency(at_least_one("concurrency", "SUSTAINML_CONCURRENCY", n)?);
        }
        if let Some(s) = self.input_timeout {
            options =
                options.input_timeout(seconds("input-timeout", "SUSTAINML_INPUT_TIMEOUT", s)?);
        }
        if let Some(s) = self.task_timeout {
            options = options.task_timeout(seconds("task-timeout", "SUSTAINML_TASK_TIMEOUT", s)?);
        }
        if let Some(n) = self.max_pending {
            options = options.max_pending(at_least_one("max-pending", "SUSTAINML_MAX_PENDING", n)?);
        }
        if let Some(s) = self.config_timeout {
            options =
                options.config_timeout(seconds("config-timeout", "SUSTAINML_CONFIG_TIMEOUT", s)?);
        }
        Ok(options)
    }

    /// [`apply`](Self::apply) to the default options.
    pub fn options(&self) -> Result<NodeOptions, NodeArgsError> {
        self.apply(NodeOptions::default())
    }

    /// [`options`](Self::options), or, for a value out of range, the error printed
    /// the way the parser `C` prints its own (with its usage line) and the process
    /// ended with exit code 2, as for any other bad command line.
    pub fn options_or_exit<C: clap::CommandFactory>(&self) -> NodeOptions {
        self.options().unwrap_or_else(|e| {
            C::command()
                .error(clap::error::ErrorKind::ValueValidation, e)
                .exit()
        })
    }
}

/// `--domain`'s value: as for `SUSTAINML_DOMAIN_ID` in sustainml-dds, an empty value
/// means domain 0.
fn domain(text: &str) -> Result<u16, NodeArgsError> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    sustainml_dds::parse_domain_id(text).map_err(|_| NodeArgsError::Domain)
}

fn at_least_one(
    flag: &'static str,
    env: &'static str,
    value: usize,
) -> Result<usize, NodeArgsError> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(NodeArgsError::TooSmall { flag, env, value })
    }
}

fn seconds(flag: &'static str, env: &'static str, value: f64) -> Result<Duration, NodeArgsError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(NodeArgsError::Seconds { flag, env, value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn parse(args: &[&str]) -> Result<NodeOptions, String> {
        let cli = Cli::try_parse_from(std::iter::once("node").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.node.options().map_err(|e| e.to_string())
    }

    #[test]
    fn flags_reach_the_options() {
        let o = parse(&[
            "--domain",
            "7",
            "--concurrency",
            "3",
            "--input-timeout",
            "1.5",
            "--task-timeout",
            "9",
            "--max-pending",
            "42",
            "--config-timeout",
            "0.25",
        ])
        .expect("valid flags");
        assert_eq!(o.domain, Some(7));
        assert_eq!(o.concurrency, 3);
        assert_eq!(o.input_timeout, Duration::from_millis(1500));
        assert_eq!(o.task_timeout, Duration::from_secs(9));
        assert_eq!(o.max_pending, 42);
        assert_eq!(o.config_timeout, Duration::from_millis(250));
    }

    #[test]
    fn absent_flags_keep_the_defaults() {
        let o = parse(&[]).expect("no flags");
        let d = NodeOptions::default();
        assert_eq!(o.concurrency, d.concurrency);
        assert_eq!(o.task_timeout, d.task_timeout);
        assert_eq!(o.max_pending, d.max_pending);
    }

    #[test]
    fn values_out_of_range_name_their_flag() {
        for (args, expected) in [
            (
                &["--concurrency", "0"][..],
                "--concurrency (SUSTAINML_CONCURRENCY) must be at least 1, not 0",
            ),
            (&["--max-pending", "0"], "--max-pending (SUSTAINML_MAX_PENDING) must be at least 1"),
            (
                &["--task-timeout", "-1"],
                "--task-timeout (SUSTAINML_TASK_TIMEOUT) must be a positive number of seconds, not -1",
            ),
            (&["--input-timeout", "0"], "--input-timeout"),
            (&["--config-timeout", "inf"], "--config-timeout"),
            (
                &["--domain", "233"],
                "invalid value '233' for '--domain <ID>': must be an integer from 0 to 232",
            ),
            (&["--task-timeout", "abc"], "--task-timeout"),
        ] {
            let err = parse(args).expect_err("a bad value");
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
