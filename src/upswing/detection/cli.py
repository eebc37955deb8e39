"""``upswing model …`` and ``upswing classify`` (thin: detection and training modules hold the logic)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

from upswing.core.cli_support import err_console, fail, progress_bar
from upswing.core.errors import ValidationFailedError

model_app = typer.Typer(help="Text classifiers: train, evaluate, list versions.", no_args_is_help=True)


class TextKindOption(StrEnum):
    PERSON = "person"
    COMPANY = "company"


def classify_command(
    input_path: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False, readable=True,
                                    help='JSONL, one {"id": …, "text": …} per line'),
    output_path: Path = typer.Option(..., "--output", "-o", dir_okay=False, writable=True,
                                     help="JSONL: id, label, confidence, title, organization, sentiment"),
    kind: TextKindOption = typer.Option(TextKindOption.PERSON, "--kind",
                                        help="person: career signals; company: business intents"),
    reference_date: str | None = typer.Option(None, help="YYYY-MM-DD that relative dates count from "
                                                         "(default: today)"),
) -> None:
    """Classify texts in a JSONL file (the batch contract; no database needed)."""
    from upswing.detection.batch import classify_file, count_lines

    reference = None
    if reference_date is not None:
        try:
            reference = date.fromisoformat(reference_date)
        except ValueError:
            fail(f"--reference-date is not a YYYY-MM-DD date: {reference_date!r}")
    total = count_lines(input_path)
    try:
        if total >= PROGRESS_FROM:
            with progress_bar(f"Classifying {input_path.name}", total) as advance:
                done = classify_file(input_path, output_path, kind=kind.value, reference_date=reference,
                                     progress=advance)
        else:
            done = classify_file(input_path, output_path, kind=kind.value, reference_date=reference)
    except ValidationFailedError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        for error in exc.errors:
            field = f", field '{error['field']}'" if error.get("field") else ""
            err_console.print(f"  line {error['line']}{field}: {error['message']}")
        raise typer.Exit(code=1) from None
    err_console.print(f"{done} text(s) classified → {output_path}")


#: Files with at least this many lines get a progress bar (on stderr).
PROGRESS_FROM = 1000


# --------------------------------------------------------------------------------------------------
# upswing model … (train / evaluate / list / promote)
# --------------------------------------------------------------------------------------------------


def _load_feedback(kind: str) -> list[tuple[str, str]]:
    """User corrections stored as labelled examples (needs a migrated database)."""
    from upswing.core import migrate
    from upswing.core.db import get_engine, transaction
    from upswing.signal.feedback import load_labelled_examples

    engine = get_engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        fail(f"--include-feedback reads the database at {engine.url.render_as_string(hide_password=True)}, which "
             "is not at the latest migration: run `upswing db upgrade` first")
    with transaction() as session:
        return list(load_labelled_examples(session, kind))


@model_app.command("train")
def train_command(
    kind: TextKindOption = typer.Option(TextKindOption.PERSON, "--kind", help="person or company model"),
    include_feedback: bool = typer.Option(False, "--include-feedback",
                                          help="also train on user corrections stored in the database"),
    output: Path | None = typer.Option(None, "--output", file_okay=False,
                                       help="registry directory (default: <UPSWING_DATA_DIR>/models)"),
    data_dir: Path = typer.Option(Path("data"), "--data-dir", file_okay=False,
                                  help="folder with signals/train_*.jsonl and intent/train_*.jsonl"),
    validation: list[Path] | None = typer.Option(None, "--validation", dir_okay=False,
                                                 help="labelled JSONL, repeatable (default: person → "
                                                      "../shared/data/signals-dev/signals_dev.jsonl and "
                                                      "../shared/data/signals-train/signals_train.jsonl, "
                                                      "company → <data-dir>/intent/validation.jsonl)"),
    folds: int = typer.Option(5, "--cv", min=2, max=20, help="folds for the person model's validation CV"),
) -> None:
    """Train a new model version, validate it, and promote it only if it does not lose macro-F1."""
    from upswing.detection.training import (
        DataError,
        default_validation_files,
        format_metrics,
        format_thresholds,
        train_model,
    )

    validation_paths = validation or default_validation_files(kind.value, data_dir)
    feedback = _load_feedback(kind.value) if include_feedback else []
    if include_feedback:
        err_console.print(f"{len(feedback)} labelled example(s) from user feedback")
    try:
        with progress_bar(f"Training the {kind.value} model", folds) as advance:
            result = train_model(kind.value, data_dir=data_dir, validation_paths=validation_paths,
                                 feedback=feedback, root=output, folds=folds, progress=advance)
    except DataError as exc:
        fail(str(exc))
    typer.echo(f"version {result.version} ({result.counts['own']} own, {result.counts['feedback']} feedback, "
               f"{result.counts['validation']} validation examples) → {result.path}")
    names = " + ".join(path.name for path in validation_paths)
    typer.echo(format_metrics(result.metrics, f"validation: {result.protocol} ({names})"))
    if result.thresholds is not None:
        typer.echo(format_thresholds(result.thresholds))
    typer.echo(result.reason)


@model_app.command("evaluate")
def evaluate_command(
    data: list[Path] | None = typer.Option(None, "--data", dir_okay=False,
                                           help="labelled JSONL (text and label per line), repeatable; default "
                                                "for the person model: the dev and train sets"),
    kind: TextKindOption = typer.Option(TextKindOption.PERSON, "--kind", help="person or company model"),
    cv: int | None = typer.Option(None, "--cv", min=2, max=20,
                                  help="k-fold cross-validate over the files (for data the model was trained on): "
                                       "each item is predicted by a model trained on our own data and the "
                                       "other folds; also reports the thresholds' precision and extraction"),
    model_path: Path | None = typer.Option(None, "--model", dir_okay=False,
                                           help="a model .npz (default: the current model of the kind)"),
    data_dir: Path = typer.Option(Path("data"), "--data-dir", file_okay=False,
                                  help="own training data for --cv"),
    registry_dir: Path | None = typer.Option(None, "--registry", file_okay=False,
                                             help="registry directory (default: <UPSWING_DATA_DIR>/models)"),
) -> None:
    """Per-class precision, recall, F1, macro-F1, calibration and the confusion matrix on labelled files."""
    import numpy as np

    from upswing.detection.classifier import ModelIntegrityError, TextClassifier
    from upswing.detection.registry import current_model_path
    from upswing.detection.training import (
        LABELS_BY_KIND,
        DataError,
        Hyperparameters,
        compute_metrics,
        cross_validate,
        decide,
        default_validation_files,
        format_metrics,
        format_thresholds,
        own_data_files,
        read_examples,
        read_real_sets,
        threshold_report,
    )

    labels = LABELS_BY_KIND[kind.value]
    paths = data or default_validation_files(kind.value, data_dir)
    names = " + ".join(path.name for path in paths)
    try:
        examples = read_real_sets(paths, labels)
        if cv is not None:
            own = [e for path in own_data_files(kind.value, data_dir) for e in read_examples(path, labels)]
            with progress_bar(f"{cv}-fold cross-validation", cv) as advance:
                result = cross_validate(own, examples, labels, Hyperparameters(), folds=cv, progress=advance)
            metrics = compute_metrics(labels, result.y_true, result.probabilities.argmax(axis=1),
                                      result.probabilities)
            title = (f"{names}: stratified {cv}-fold cross-validation ({len(own)} own examples in every "
                     "training fold; confidences calibrated with cross-fitted temperatures); top guess")
            typer.echo(format_metrics(metrics, title))
            if kind == TextKindOption.PERSON:
                typer.echo(format_thresholds(threshold_report(result)))
                _echo_extraction_cv(cv)
            return
        path = model_path or current_model_path(kind.value, registry_dir)
        model = TextClassifier.load(path)
        probabilities = model.predict_proba([e.text for e in examples])
        y = np.array([labels.index(e.label) for e in examples])
        metrics = compute_metrics(labels, y, probabilities.argmax(axis=1), probabilities)
        title = f"{names}: model {model.metadata.get('version', path.name)} ({path}); top guess"
        typer.echo(format_metrics(metrics, title))
        if model.thresholds:
            decided = compute_metrics(labels, y, decide(probabilities, labels, model.thresholds))
            typer.echo(format_metrics(decided, "decisions at the model's thresholds (label)"))
    except (DataError, ModelIntegrityError) as exc:
        fail(str(exc))


def _echo_extraction_cv(folds: int) -> None:
    """Title/organization extraction: the learned extractor's nested K-fold CV over the labelled spans (minutes)."""
    from upswing.detection.span_tagger import cross_validate_extraction

    with progress_bar(f"extraction: {folds}-fold nested cross-validation", 1) as advance:
        report = cross_validate_extraction(folds=folds)
        advance(1)
    typer.echo(f"extraction ({folds}-fold CV over the labelled titles and organizations): fields "
               f"{report['fields_match']:.3f}, titles {report['title_match']:.3f}, organizations "
               f"{report['organization_match']:.3f}")


@model_app.command("list")
def list_command(
    kind: TextKindOption | None = typer.Option(None, "--kind", help="only this kind"),
    registry_dir: Path | None = typer.Option(None, "--registry", file_okay=False,
                                             help="registry directory (default: <UPSWING_DATA_DIR>/models)"),
) -> None:
    """Model versions: current marker, date, validation macro-F1, training-data hash."""
    from rich.table import Table

    from upswing.core.cli_support import console
    from upswing.detection.registry import list_models

    table = Table("kind", "version", "current", "created", "macro-F1", "validation", "training data")
    for entry in list_models(kind.value if kind else None, registry_dir):
        validation = entry.metadata.get("validation") or {}
        f1 = validation.get("macro_f1")
        shown = f"shipped ({entry.metadata.get('version', '?')})" if entry.shipped else entry.version
        table.add_row(entry.kind, shown, "*" if entry.current else "",
                      str(entry.metadata.get("created_at", "")), f"{f1:.4f}" if isinstance(f1, float) else "",
                      str(validation.get("file", "")),
                      str(entry.metadata.get("training_data_sha256", ""))[:12])
    console.print(table)


@model_app.command("promote")
def promote_command(
    version: str = typer.Argument(..., help='a version from `upswing model list`, or "shipped"'),
    kind: TextKindOption = typer.Option(TextKindOption.PERSON, "--kind", help="person or company model"),
    registry_dir: Path | None = typer.Option(None, "--registry", file_okay=False,
                                             help="registry directory (default: <UPSWING_DATA_DIR>/models)"),
) -> None:
    """Make a version current by hand (for example after changing the validation set)."""
    from upswing.detection.classifier import ModelIntegrityError
    from upswing.detection.registry import RegistryError, promote

    try:
        promote(kind.value, version, registry_dir)
    except (RegistryError, ModelIntegrityError) as exc:
        fail(str(exc))
    typer.echo(f"{kind.value} model {version} is now current")
