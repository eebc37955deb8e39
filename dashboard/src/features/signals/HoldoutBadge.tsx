// A signal on a lead in an experiment's control group (`holdout: true`): recorded, but nobody is alerted and it is
// not worked. Only administrators ever receive such signals; the badge says why the signal is there at all. The
// explanation is the tooltip (title) for a pointer and part of the badge's text for a screen reader.
import "./holdout.css";

export const HOLDOUT_LABEL = "Control group (held out)";
export const HOLDOUT_HINT = "In an experiment's control group: not alerted or worked";

export function HoldoutBadge({ holdout }: { holdout: boolean | null | undefined }) {
  if (!holdout) return null;
  return (
    <span className="holdout-badge" title={HOLDOUT_HINT} data-testid="holdout-badge">
      {HOLDOUT_LABEL}
      <span className="visually-hidden">: {HOLDOUT_HINT}</span>
    </span>
  );
}
