// Kaplan–Meier curves of days to first payment, one step line per arm (Recharts, as the Analytics page): the share
// of the arm's leads that have not paid yet, censored at each lead's follow-up so far. An image to assistive
// technology; the medians and the log-rank test next to it say the same in words.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { kaplanMeierRows, type SurvivalCurve } from "./report";

/** Arm colours: at least 4.5:1 on white, told apart by hue and by the dashed control line. */
export const ARM_COLORS = { control: "#b45309", treatment: "#1d4ed8" } as const;
const TICK = { fontSize: 12, fill: "#52606d" };

export function KaplanMeierChart({
  control,
  treatment,
  label,
}: {
  control: SurvivalCurve | null;
  treatment: SurvivalCurve | null;
  label: string;
}) {
  const rows = kaplanMeierRows(control, treatment);
  const lowest = Math.min(...rows.flatMap((row) => [row.control ?? 100, row.treatment ?? 100]));
  // Close to 100% while few have paid: show the part of the axis where the curves are, in steps of 5 points.
  const floor = Math.max(0, Math.floor((lowest - 2) / 5) * 5);
  return (
    <figure className="xp-figure" data-testid="km-chart">
      <div className="xp-chart" role="img" aria-label={label}>
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 12, left: 0, bottom: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="days"
              type="number"
              // At least a day wide: right after the start every payment is on day 0.
              domain={[0, (max: number) => Math.max(1, Math.ceil(max))]}
              tick={TICK}
              tickFormatter={(value: number) => `${Math.round(value)}`}
              label={{ value: "Days since assignment", position: "insideBottom", offset: -4, fontSize: 12, fill: "#52606d" }}
              height={40}
            />
            <YAxis domain={[floor, 100]} tick={TICK} width={44} tickFormatter={(value: number) => `${value}%`} allowDataOverflow />
            <Tooltip
              formatter={(value) => `${Number(value).toFixed(1)}% not yet paid`}
              labelFormatter={(value) => `Day ${Math.round(Number(value))}`}
            />
            <Legend verticalAlign="top" height={28} />
            <Line
              type="stepAfter"
              dataKey="control"
              name="Control (held out)"
              stroke={ARM_COLORS.control}
              strokeDasharray="6 3"
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              connectNulls={false}
            />
            <Line
              type="stepAfter"
              dataKey="treatment"
              name="Treatment (alerted)"
              stroke={ARM_COLORS.treatment}
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              connectNulls={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted">
        Share of each arm&apos;s leads not yet paid, by days since assignment (Kaplan–Meier; leads still in follow-up are
        censored). A curve that falls faster means leads pay sooner.
      </figcaption>
    </figure>
  );
}
