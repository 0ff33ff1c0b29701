//! `layerlab workshop export|backup`: an instructor's tools on a workshop's
//! gradebook file (`DATA/workshop.db`). They read the file directly, with
//! or without a server running (SQLite's WAL lets both read at once).

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use layerlab_core::lab::{ExportFormat, Lab};
use layerlab_server::gradebook::Gradebook;
use std::io::Write;
use std::path::PathBuf;

/// `layerlab workshop …`
#[derive(Subcommand)]
pub enum WorkshopCommand {
    /// Export the class's results (every learner × lab step) from the
    /// workshop's gradebook; works offline, from the file alone.
    Export {
        /// The workshop's data folder (holds workshop.db).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// csv: a row per learner × step; summary-csv: a row per learner;
        /// json: everything with the latest evidence; junit: a test suite
        /// per learner × lab.
        #[arg(long, value_enum)]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only these labs (repeatable); default: every lab anyone checked.
        #[arg(long = "lab", value_name = "ID")]
        labs: Vec<String>,
    },
    /// Write a consistent copy of the gradebook (safe while the server runs;
    /// never overwrites FILE).
    Backup {
        /// The workshop's data folder (holds workshop.db).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The new file.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// Export formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One row per learner × step.
    Csv,
    /// One row per learner.
    SummaryCsv,
    /// The whole report, with each step's latest result.
    Json,
    /// JUnit XML.
    Junit,
}

/// Runs a `workshop` command.
pub fn run(cmd: WorkshopCommand) -> Result<bool> {
    match cmd {
        WorkshopCommand::Export {
            data,
            format,
            out,
            labs,
        } => {
            let book = Gradebook::open_existing(&Gradebook::in_data_dir(&data))?;
            let labs = chosen_labs(&book, &labs)?;
            let report = book.class_report(&labs)?;
            let text = report.export(match format {
                Format::Csv => ExportFormat::Csv,
                Format::SummaryCsv => ExportFormat::SummaryCsv,
                Format::Json => ExportFormat::Json,
                Format::Junit => ExportFormat::Junit,
            });
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout()
                    .lock()
                    .write_all(text.as_bytes())
                    .context("cannot write to standard output")?,
            }
            Ok(true)
        }
        WorkshopCommand::Backup { data, to } => {
            let book = Gradebook::open_existing(&Gradebook::in_data_dir(&data))?;
            book.backup(&to)?;
            eprintln!("gradebook copied to {}", to.display());
            Ok(true)
        }
    }
}

/// The labs named (each must exist in this build), or every lab with a
/// recorded check, in the course's order.
fn chosen_labs(book: &Gradebook, named: &[String]) -> Result<Vec<Lab>> {
    if !named.is_empty() {
        return named
            .iter()
            .map(|id| Ok(layerlab_labs::find(id)?.clone()))
            .collect();
    }
    let checked = book.labs_checked()?;
    for id in &checked {
        if layerlab_labs::find(id).is_err() {
            // Its results stay in the file; this build cannot name its steps.
            eprintln!("layerlab: lab `{id}` has results but is not in this build; left out");
        }
    }
    Ok(layerlab_labs::labs()
        .iter()
        .filter(|l| checked.contains(&l.id))
        .cloned()
        .collect())
}
