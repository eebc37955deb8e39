"""The holdout experiment report as a PDF: headline, tables per section, Kaplan–Meier curves and notes.

Drawn with fpdf2 alone (no plotting stack) in its core Helvetica font, which only encodes Latin-1: every string goes
through ``ascii_safe`` first so that a dash or an alpha in a note cannot break rendering.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from upswing.experiment.analysis import (
    BlockAnalysis,
    ExperimentAnalysis,
    ProportionComparison,
    SectionAnalysis,
    SurvivalCurve,
)

FONT = "Helvetica"
CONTROL_COLOUR = (214, 118, 30)
TREATMENT_COLOUR = (31, 104, 171)
GRID_COLOUR = (225, 225, 225)
TEXT_GREY = (90, 90, 90)
SIGNIFICANT_COLOUR = (22, 128, 60)
NOT_SIGNIFICANT_COLOUR = (150, 60, 40)

_REPLACEMENTS = {
    "–": "-", "—": "-", "−": "-", "‐": "-", "≥": ">=", "≤": "<=", "≠": "!=", "≈": "~", "±": "+/-", "×": "x",
    "α": "alpha", "β": "beta", "Φ": "Phi", "√": "sqrt", "²": "^2", "→": "->", "←": "<-", "•": "-", "·": "-",
    "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " ", "€": "EUR", "£": "GBP",
}


def ascii_safe(text: str) -> str:
    """Plain ASCII for the core fonts: known symbols spelled out, accents dropped, anything else as '?'."""
    for symbol, replacement in _REPLACEMENTS.items():
        text = text.replace(symbol, replacement)
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return without_accents.encode("ascii", errors="replace").decode("ascii")


# --- formatting -----------------------------------------------------------------------------------------------------


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _points(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f} pts"


def _lift(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _p_value(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def _days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f}"


def _with_interval(
    point: str, interval: tuple[float, float] | None, formatter: Callable[[float], str], label: str = ""
) -> str:
    if interval is None or point == "-":
        return point
    low, high = interval
    return f"{point} ({label}{formatter(low)} to {formatter(high)})"


def _counts(conversion: ProportionComparison, arm: str) -> str:
    if arm == "control":
        rate, converted, total = conversion.control_rate, conversion.control_converted, conversion.control_n
    else:
        rate, converted, total = conversion.treatment_rate, conversion.treatment_converted, conversion.treatment_n
    return f"{_rate(rate)} ({converted:,}/{total:,})"


def _section_title(section: SectionAnalysis) -> str:
    return "All signal types" if section.section == "all" else f"Signal type: {section.section}"


# --- the document ---------------------------------------------------------------------------------------------------


class _Report(FPDF):
    """A4 portrait with a page-numbered footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*TEXT_GREY)
        self.cell(0, 5, f"{self.footer_text} - page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def paragraph(self, text: str, *, size: float = 10, style: str = "", height: float = 5,
                  colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.set_font(FONT, style=style, size=size)
        self.set_text_color(*colour)
        self.multi_cell(0, height, ascii_safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, *, size: float = 13) -> None:
        self.ln(2)
        self.paragraph(text, size=size, style="B", height=7)
        self.ln(1)

    def bullets(self, lines: Sequence[str]) -> None:
        self.set_font(FONT, size=9)
        for line in lines:
            self.set_x(self.l_margin)
            self.cell(4, 4.5, "-")
            self.multi_cell(0, 4.5, ascii_safe(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, rows: Sequence[Sequence[str]], widths: Sequence[float], *, align: Sequence[str]) -> None:
        self.set_font(FONT, size=9)
        with self.table(col_widths=tuple(widths), text_align=tuple(align), line_height=5.5,
                        first_row_as_headings=True, width=sum(widths), align="LEFT") as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(ascii_safe(value))
        self.ln(2)


def _headline(pdf: _Report, analysis: ExperimentAnalysis) -> None:
    block = analysis.headline
    conversion = block.conversion
    pdf.heading("Headline: intention to treat, all signal types")
    pdf.grid([("Arm", "Leads", f"Paid within {analysis.conversion_days} days", "Rate"),
              ("Control (no alerts)", f"{conversion.control_n:,}", f"{conversion.control_converted:,}",
               _rate(conversion.control_rate)),
              ("Treatment (alerts)", f"{conversion.treatment_n:,}", f"{conversion.treatment_converted:,}",
               _rate(conversion.treatment_rate))],
             (60, 35, 50, 35), align=("LEFT", "RIGHT", "RIGHT", "RIGHT"))
    confidence = f"{1 - conversion.alpha:.0%}"
    lift = _with_interval(_lift(conversion.relative_lift), conversion.relative_lift_ci, _lift, f"{confidence} CI ")
    difference = _with_interval(_points(conversion.difference), conversion.difference_ci, _points,
                                f"{confidence} CI, Newcombe: ")
    pdf.paragraph(f"Relative lift: {lift}", style="B", size=11, height=6)
    pdf.paragraph(f"Difference in conversion: {difference}; p = {_p_value(conversion.p_value)} (score test)",
                  height=6)
    verdict = (f"Significant: p < {block.alpha_used:.4g}" if block.significant
               else f"Not significant at p < {block.alpha_used:.4g}")
    pdf.paragraph(verdict, style="B", size=11, height=7,
                  colour=SIGNIFICANT_COLOUR if block.significant else NOT_SIGNIFICANT_COLOUR)
    pdf.paragraph(analysis.significance_rule, size=9, height=4.5)
    pdf.ln(1)
    pdf.paragraph(analysis.horizon_statement, size=9, height=4.5)


def _nice_step(span: float, target_ticks: int) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return float(next(multiple * magnitude for multiple in (1, 2, 2.5, 5, 10) if multiple * magnitude >= raw))


def _km_chart(pdf: _Report, control: SurvivalCurve | None, treatment: SurvivalCurve | None, *,
              conversion_days: int, title: str) -> None:
    """Kaplan–Meier step curves, y = share not yet paid (axis trimmed to the data, which the label says)."""
    curves = [(name, curve, colour) for name, curve, colour in
              (("Control", control, CONTROL_COLOUR), ("Treatment", treatment, TREATMENT_COLOUR)) if curve is not None]
    if not curves:
        return
    width, height = 150.0, 78.0
    if pdf.will_page_break(height + 30):
        pdf.add_page()
    pdf.heading(title, size=11)
    left, top = pdf.l_margin + 18, pdf.get_y() + 2
    x_max = max(max(curve.max_days for _, curve, _ in curves), float(conversion_days))
    lowest = min((min(curve.survival) for _, curve, _ in curves if curve.survival), default=1.0)
    y_step = _nice_step(max(1.0 - lowest, 0.02), 5)
    y_min = max(0.0, math.floor((lowest - y_step / 2) / y_step) * y_step)
    x_step = _nice_step(x_max, 6)

    def x_at(days: float) -> float:
        return left + width * min(days, x_max) / x_max

    def y_at(share: float) -> float:
        return top + height * (1.0 - share) / (1.0 - y_min)

    pdf.set_font(FONT, size=7)
    pdf.set_line_width(0.15)
    pdf.set_draw_color(*GRID_COLOUR)
    tick = 0.0
    while tick <= x_max + 1e-9:
        pdf.line(x_at(tick), top, x_at(tick), top + height)
        pdf.set_xy(x_at(tick) - 8, top + height + 1)
        pdf.cell(16, 3.5, f"{tick:g}", align="C")
        tick += x_step
    share = 1.0
    while share >= y_min - 1e-9:
        pdf.line(left, y_at(share), left + width, y_at(share))
        pdf.set_xy(left - 15, y_at(share) - 1.75)
        pdf.cell(13, 3.5, f"{share:.0%}" if y_step >= 0.01 else f"{share:.1%}", align="R")
        share -= y_step
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.line(left, top, left, top + height)
    pdf.line(left, top + height, left + width, top + height)
    pdf.set_draw_color(*TEXT_GREY)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.line(x_at(conversion_days), top, x_at(conversion_days), top + height)
    pdf.set_dash_pattern()
    pdf.set_xy(x_at(conversion_days) - 30, top + 1)
    pdf.cell(29, 3.5, f"{conversion_days}-day window", align="R")

    pdf.set_line_width(0.6)
    for _, curve, colour in curves:
        points = [(x_at(0.0), y_at(1.0))]
        previous = 1.0
        for days, survival in zip(curve.times, curve.survival, strict=True):
            points += [(x_at(days), y_at(previous)), (x_at(days), y_at(survival))]
            previous = survival
        points.append((x_at(curve.max_days), y_at(previous)))
        pdf.set_draw_color(*colour)
        pdf.polyline(points)
    pdf.set_line_width(0.2)

    legend_y = top + height - 4 - 5 * len(curves)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(left + width - 60, legend_y - 1.5, 59, 5 * len(curves) + 2, style="F")
    for index, (name, curve, colour) in enumerate(curves):
        y = legend_y + 5 * index
        pdf.set_draw_color(*colour)
        pdf.set_line_width(0.8)
        pdf.line(left + width - 58, y + 1.75, left + width - 50, y + 1.75)
        pdf.set_xy(left + width - 48, y)
        pdf.set_font(FONT, size=8)
        pdf.cell(48, 3.5, f"{name} (n={curve.n:,}, {curve.events:,} paid)")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)

    pdf.set_font(FONT, size=8)
    pdf.set_xy(left, top + height + 5)
    pdf.cell(width, 4, "Days since assignment", align="C")
    pdf.set_xy(pdf.l_margin, top + height + 10)
    pdf.paragraph(f"Kaplan-Meier estimate of the share of leads that have not paid yet (y axis from {y_min:.0%}); "
                  "leads without a payment count until their last day of follow-up.", size=8, height=4,
                  colour=TEXT_GREY)


def _block_column(block: BlockAnalysis) -> list[str]:
    conversion, recovered, survival = block.conversion, block.recovered, block.time_to_payment
    return [
        f"{conversion.control_n:,}", f"{conversion.treatment_n:,}",
        _counts(conversion, "control"), _counts(conversion, "treatment"),
        _with_interval(_points(conversion.difference), conversion.difference_ci, _points),
        _with_interval(_lift(conversion.relative_lift), conversion.relative_lift_ci, _lift),
        _p_value(conversion.p_value),
        ("yes" if block.significant else "no") + f" (p < {block.alpha_used:.4g})",
        _money(recovered.control_mean), _money(recovered.treatment_mean),
        _with_interval(_money(recovered.difference), recovered.difference_ci, _money),
        "-" if survival.control is None or survival.treatment is None
        else f"{_days(survival.control_median_days)} / {_days(survival.treatment_median_days)}",
        _p_value(survival.logrank_p_value),
        f"{block.control_in_followup + block.treatment_in_followup:,}",
    ]


def _section(pdf: _Report, section: SectionAnalysis, conversion_days: int) -> None:
    pdf.heading(f"{_section_title(section)} ({section.leads:,} leads)")
    labels = ["Control leads", "Treatment leads (per protocol: alert delivered)", "Control conversion",
              "Treatment conversion", "Difference (95% CI)", "Relative lift (95% CI)", "p-value (score test)",
              "Significant", "Recovered per lead, control", "Recovered per lead, treatment",
              "Recovered difference (bootstrap CI)", "Median days to payment, control / treatment",
              "Log-rank p (time to payment)", f"Leads under {conversion_days} days, unpaid"]
    confidence = f"{1 - section.itt.conversion.alpha:.0%}"
    labels = [label.replace("95%", confidence) for label in labels]
    rows = [("", "Intention to treat (headline)", "Per protocol")]
    rows += list(zip(labels, _block_column(section.itt), _block_column(section.per_protocol), strict=True))
    pdf.grid(rows, (62, 59, 59), align=("LEFT", "RIGHT", "RIGHT"))
    if section.notes:
        pdf.bullets(section.notes)
    for block in (section.itt, section.per_protocol):
        pdf.paragraph(block.label, style="B", size=9, height=5)
        pdf.bullets(block.notes)


def render_pdf(analysis: ExperimentAnalysis, *, title: str, subtitle: str, power: str | None = None) -> bytes:
    """The report a recovery manager reads: is the lift real, how big, and under which rule was that decided."""
    pdf = _Report(footer_text=ascii_safe(title))
    pdf.set_title(ascii_safe(title))
    pdf.set_creator("Upswing")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.paragraph(title, size=18, style="B", height=9)
    pdf.paragraph(subtitle, size=11, height=6, colour=TEXT_GREY)
    pdf.ln(2)
    _headline(pdf, analysis)
    if power:
        pdf.ln(1)
        pdf.paragraph(f"Power: {power}", size=9, height=4.5)
    all_leads = analysis.sections[0].itt.time_to_payment
    _km_chart(pdf, all_leads.control, all_leads.treatment, conversion_days=analysis.conversion_days,
              title="Time to first payment, all signal types (intention to treat)")

    pdf.add_page()
    pdf.heading("Randomisation strata")
    strata_rows = [("Stratum", "Control", "Treatment", "Control share")]
    strata_rows += [(stratum.stratum, f"{stratum.control_n:,}", f"{stratum.treatment_n:,}",
                     "-" if stratum.control_share is None else f"{stratum.control_share:.1%}")
                    for stratum in analysis.strata]
    if len(strata_rows) == 1:
        strata_rows.append(("(no leads assigned)", "-", "-", "-"))
    pdf.grid(strata_rows, (90, 30, 30, 30), align=("LEFT", "RIGHT", "RIGHT", "RIGHT"))
    for index, section in enumerate(analysis.sections):
        if index:
            pdf.add_page()
        _section(pdf, section, analysis.conversion_days)
    pdf.heading("About this analysis")
    pdf.bullets([*analysis.notes, analysis.significance_rule, analysis.horizon_statement,
                 "Dollar intervals: percentile bootstrap of the difference in mean recovered per lead. Time to "
                 "payment: Kaplan-Meier per arm, log-rank test; leads not yet paid are censored at their follow-up."])
    return bytes(pdf.output())
