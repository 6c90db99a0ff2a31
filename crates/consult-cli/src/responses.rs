//! Responses collected elsewhere, population baselines, and monitoring schemes.

use crate::{CliError, Format, Result, parse_id, print_json, print_rows};
use clap::Subcommand;
use consult_app::{App, Baseline};
use consult_core::{Actor, AreaCode, ColumnMapping, ImportMode, SchemeInput};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum ResponsesCommand {
    /// Import a survey tool's CSV export into an activity (all rows or none, unless
    /// --skip-invalid), with a progress bar.
    Import {
        /// Consultation id.
        id: String,
        /// The CSV export.
        file: PathBuf,
        /// JSON column mapping: `{ "comments": "column", "channel": "online",
        /// "columns": { "sex": "column", ... } }`.
        #[arg(long)]
        mapping: PathBuf,
        /// Store the valid rows and report the others by line.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// List an activity's responses (answers, comments, channel, date; never the monitoring
    /// answers), optionally only those whose comments or text answers contain --q. Audited.
    List {
        /// Consultation id.
        id: String,
        /// Only responses containing this text (case-insensitive).
        #[arg(long)]
        q: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print one response as JSON. Audited.
    Show {
        /// Consultation id.
        id: String,
        /// Response id.
        response_id: String,
    },
    /// Export every response of an activity, one row per response and one column per part of
    /// a question (never the monitoring answers): CSV (UTF-8 with a byte order mark) or an
    /// Excel workbook with a sheet per grid question. Audited.
    Export {
        /// Consultation id.
        id: String,
        /// File format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormatArg,
        /// Write to this file (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// `consult responses export --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ExportFormatArg {
    /// CSV, RFC 4180, UTF-8 with a byte order mark.
    Csv,
    /// An Excel workbook (.xlsx).
    Xlsx,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BaselineCommand {
    /// Import an ONS/Nomis Census 2021 bulk CSV (TS007A, TS008, TS021, TS030 or TS038), all
    /// areas in one transaction.
    Import {
        /// The CSV file, e.g. census2021-ts021-ltla.csv.
        file: PathBuf,
        /// Only these areas (GSS codes; repeat). Default: every area of the file in the register.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// Source to record.
        #[arg(long, default_value = "ONS Census 2021 (Nomis), Open Government Licence v3")]
        source: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SchemeCommand {
    /// List every scheme and version.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print one scheme as JSON: `key@version`, or `key` for the newest version.
    Show {
        /// Scheme id.
        id: String,
    },
    /// Add an organisation's own scheme (or a new version of it) from a JSON file: key, name,
    /// source and characteristics, each category saying which Census 2021 categories it covers.
    Add {
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Ask an organisation's future respondents a scheme (`census2021` returns to the default).
    Adopt {
        /// Organisation slug.
        slug: String,
        /// Scheme id: `key@version`, or `key` for the newest version.
        id: String,
    },
}

/// `consult responses import ID FILE --mapping M [--skip-invalid]`.
pub(crate) async fn responses(app: &App, cmd: ResponsesCommand, actor: &Actor) -> Result<()> {
    let (id, file, mapping, skip_invalid) = match cmd {
        ResponsesCommand::Import {
            id,
            file,
            mapping,
            skip_invalid,
        } => (id, file, mapping, skip_invalid),
        ResponsesCommand::List { id, q, format } => return list_responses(app, actor, &id, q.as_deref(), format).await,
        ResponsesCommand::Show { id, response_id } => {
            let id = parse_id(&id)?;
            let response_id = uuid::Uuid::parse_str(&response_id)
                .map_err(|_| CliError::Input(format!("`{response_id}` is not a response id (a UUID)")))?;
            return print_json(&app.response(actor, id, response_id).await?);
        }
        ResponsesCommand::Export { id, format, output } => {
            return export_responses(app, actor, &id, format, output.as_deref()).await;
        }
    };
    let id = parse_id(&id)?;
    // Whether the activity takes imports now, before a large file is read.
    let c = app.writable_consultation(actor, id).await?;
    c.check_takes_imported_responses(app.today())
        .map_err(|e| CliError::Input(e.0))?;
    let mapping: ColumnMapping = crate::json_file(&mapping)?;
    let bytes = std::fs::read(&file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    if let Some(line) = consult_core::spreadsheet::unclosed_quote(&bytes) {
        return Err(CliError::Input(format!(
            "{}: line {line}: a quoted field opens here and never closes (an unbalanced `\"`); nothing imported",
            file.display()
        )));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?
        .iter()
        .map(str::to_owned)
        .collect();
    let size = bytes.len() as u64;
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:40} {bytes}/{total_bytes} {eta}") {
        bar.set_style(style);
    }
    bar.set_message("reading");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
        if let Some(p) = record.position() {
            bar.set_position(p.byte());
        }
        rows.push(record.iter().map(str::to_owned).collect());
    }
    bar.set_message("checking");
    let mode = if skip_invalid {
        ImportMode::GoodRows
    } else {
        ImportMode::AllOrNothing
    };
    let imported = app
        .import_responses(actor, id, &mapping, &header, &rows, mode, |n| {
            bar.set_message("storing");
            if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                // No terminal for the bar: say so in the log of a long import.
                eprintln!("consult: checked; storing {n} responses in one transaction");
            }
        })
        .await
        .map_err(|e| match e {
            consult_app::AppError::Invalid(v) => CliError::Input(format!("nothing imported: {v}")),
            other => other.into(),
        });
    bar.finish_and_clear();
    let (count, skipped) = imported?;
    if skipped.is_empty() {
        eprintln!("consult: imported {count} responses");
    } else {
        eprintln!("consult: imported {count} responses; skipped: {skipped}");
    }
    Ok(())
}

/// `consult responses export ID [--format csv|xlsx] [--output FILE]`: written a page of
/// responses at a time (an xlsx to standard output goes through a temporary file first).
async fn export_responses(
    app: &App,
    actor: &Actor,
    id: &str,
    format: ExportFormatArg,
    output: Option<&std::path::Path>,
) -> Result<()> {
    let id = parse_id(id)?;
    let format = match format {
        ExportFormatArg::Csv => consult_app::ExportFormat::Csv,
        ExportFormatArg::Xlsx => consult_app::ExportFormat::Xlsx,
    };
    let export = app.export_responses(actor, id, format).await?;
    let failed = |what: &str, e: std::io::Error| CliError::Failed(format!("{what}: {e}"));
    let create = |path: &std::path::Path| {
        std::fs::File::create(path).map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
    };
    let count = match (format, output) {
        (consult_app::ExportFormat::Csv, Some(path)) => {
            let mut out = std::io::BufWriter::new(create(path)?);
            export.write_csv(&mut out).await?
        }
        (consult_app::ExportFormat::Csv, None) => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            export.write_csv(&mut out).await?
        }
        (consult_app::ExportFormat::Xlsx, Some(path)) => export.write_xlsx(create(path)?).await?.1,
        (consult_app::ExportFormat::Xlsx, None) => {
            use std::io::Seek as _;
            let temp = tempfile::tempfile().map_err(|e| failed("temporary file", e))?;
            let (mut file, count) = export.write_xlsx(temp).await?;
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| failed("temporary file", e))?;
            std::io::copy(&mut file, &mut std::io::stdout().lock()).map_err(|e| failed("standard output", e))?;
            count
        }
    };
    match output {
        Some(path) => eprintln!("consult: exported {count} responses to {}", path.display()),
        None => eprintln!("consult: exported {count} responses"),
    }
    Ok(())
}

/// `consult baseline import FILE [--area CODE ...]`: a Nomis bulk CSV.
pub(crate) async fn baseline(app: &App, cmd: BaselineCommand, actor: &Actor) -> Result<()> {
    let BaselineCommand::Import { file, areas, source } = cmd;
    let mut reader =
        csv::Reader::from_path(&file).map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
    let parsed = consult_core::nomis_baselines(&header, &rows, &areas)
        .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
    let known = app.area_hierarchy().await?;
    let mut baselines = Vec::new();
    for (code, (name, counts)) in parsed {
        let area = AreaCode::parse(&code).map_err(CliError::Input)?;
        if !known.contains(&area) {
            if areas.is_empty() {
                continue;
            }
            return Err(CliError::Input(format!(
                "area {area} is not in the register; add it first"
            )));
        }
        baselines.push(Baseline {
            area,
            name,
            source: source.clone(),
            counts,
        });
    }
    for wanted in &areas {
        if !baselines.iter().any(|b| b.area.as_str().eq_ignore_ascii_case(wanted)) {
            return Err(CliError::Input(format!("area {wanted} is not in {}", file.display())));
        }
    }
    if baselines.is_empty() {
        return Err(CliError::Input(format!(
            "no area of {} is in the register",
            file.display()
        )));
    }
    app.import_baselines(actor, &baselines).await?;
    eprintln!("consult: imported baselines for {} area(s)", baselines.len());
    Ok(())
}

/// `consult scheme ...`.
pub(crate) async fn scheme(app: &App, cmd: SchemeCommand, actor: &Actor) -> Result<()> {
    let named = |id: &str| format!("no monitoring scheme `{id}`; `consult scheme list` shows them");
    match cmd {
        SchemeCommand::List { format } => {
            let rows: Vec<Vec<String>> = app
                .monitoring_schemes()
                .await?
                .iter()
                .map(|s| {
                    vec![
                        s.id(),
                        s.characteristics.len().to_string(),
                        s.characteristics
                            .iter()
                            .map(|c| c.categories.len())
                            .sum::<usize>()
                            .to_string(),
                        s.name.clone(),
                    ]
                })
                .collect();
            print_rows(format, &["id", "characteristics", "categories", "name"], &rows)
        }
        SchemeCommand::Show { id } => match app.monitoring_scheme(&id).await {
            Ok(s) => print_json(&s),
            Err(consult_app::AppError::NotFound(_)) => Err(CliError::Input(named(&id))),
            Err(e) => Err(e.into()),
        },
        SchemeCommand::Add { file } => {
            let input: SchemeInput = crate::json_file(&file)?;
            let stored = app.add_monitoring_scheme(actor, input).await?;
            eprintln!("consult: stored monitoring scheme {}", stored.id());
            Ok(())
        }
        SchemeCommand::Adopt { slug, id } => {
            let scheme = app.adopt_monitoring_scheme(actor, &slug, Some(&id)).await?;
            eprintln!("consult: {slug} now asks {}", scheme.id());
            Ok(())
        }
    }
}

/// Every response of an activity, read a page at a time.
async fn list_responses(app: &App, actor: &Actor, id: &str, q: Option<&str>, format: Format) -> Result<()> {
    let id = parse_id(id)?;
    let mut page = consult_app::PageRequest {
        limit: 500,
        cursor: None,
    };
    let mut all = Vec::new();
    loop {
        let found = app.responses(actor, id, q, &page).await?;
        all.extend(found.items);
        match found.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    if format == Format::Json {
        return print_json(&all);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.received_at.to_rfc3339(),
                r.channel.as_str().to_owned(),
                r.entered_by.clone().unwrap_or_default(),
                r.comments.clone().unwrap_or_default(),
                serde_json::to_string(&r.answers).unwrap_or_default(),
            ]
        })
        .collect();
    print_rows(
        format,
        &["id", "received_at", "channel", "entered_by", "comments", "answers"],
        &rows,
    )
}
