//! What can go wrong in the tutor itself (the terminal, the lab shell);
//! lab and progress errors come from `layerlab-labs`.

/// Why the tutor could not run or open a shell. Each message includes its
/// cause, for the status line, which does not walk error chains.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal could not be put into the tutor's mode.
    #[error("cannot set up the terminal (layerlab needs an interactive one): {source}")]
    Terminal {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading or drawing on the terminal failed.
    #[error("cannot use the terminal: {source}")]
    Io {
        /// The cause.
        #[from]
        source: std::io::Error,
    },
    /// The input thread is gone.
    #[error("terminal input stopped")]
    InputStopped,
    /// Something the tutor starts (the lab shell, its pseudo-terminal, a thread) did not start.
    #[error("{what}: {source}")]
    Start {
        /// What failed (`cannot open a pseudo-terminal`, ...).
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The tutor's result type.
pub type Result<T, E = TuiError> = std::result::Result<T, E>;
