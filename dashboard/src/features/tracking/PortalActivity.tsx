// The lead page's "Portal activity" panel (GET /api/v1/tracking/profiles?lead_id=…, then each profile's timeline):
// what the borrower did on the lender's own portal after consenting and being identified (a signed link or the
// portal's login), newest first, with the engagement that can raise a portal_engagement signal. Nothing is shown
// for a borrower who did not consent: nothing about them is kept.
import { useQueries, useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";

type TimelineEvent = Schemas["TimelineEvent"];

export const GROUP_LABELS: Record<string, string> = {
  repayment: "Repayment pages",
  hardship: "Hardship help",
  calculator: "Calculator",
  account: "Account",
  other: "Other pages",
};

const ENGAGEMENT_LABELS: Record<string, string> = {
  repayment_view: "Repayment page views",
  hardship_view: "Hardship page views",
  calculator_use: "Calculator uses",
  return_visit: "Return visits",
};

export function describeEvent(event: TimelineEvent): string {
  if (event.type === "page") return `Viewed ${event.path ?? "a page"} (${GROUP_LABELS[event.path_group] ?? event.path_group})`;
  const properties = Object.entries(event.properties ?? {})
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(", ");
  return `${event.name.replace(/_/g, " ")}${properties ? ` (${properties})` : ""}`;
}

export function PortalActivity({ leadId }: { leadId: string }) {
  const headingId = useId();
  const profiles = useQuery({
    queryKey: ["tracking", "profiles", leadId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/tracking/profiles", { params: { query: { lead_id: leadId, limit: 20 } } })),
  });
  const details = useQueries({
    queries: (profiles.data?.items ?? []).map((profile) => ({
      queryKey: ["tracking", "profile", profile.id],
      queryFn: async () =>
        unwrap(await api.GET("/api/v1/tracking/profiles/{profile_id}", { params: { path: { profile_id: profile.id } } })),
    })),
  });
  const loaded = details.map((d) => d.data).filter((d): d is Schemas["ProfileDetail"] => d !== undefined);
  const events = loaded
    .flatMap((profile) => profile.timeline.map((event) => ({ event, site: profile.site_name })))
    .sort((a, b) => b.event.occurred_at.localeCompare(a.event.occurred_at))
    .slice(0, 100);
  const engagement = loaded[0];
  return (
    <section className="card stack" aria-labelledby={headingId} data-testid="lead-portal-activity">
      <h2 id={headingId}>Portal activity</h2>
      {profiles.isPending ? (
        <Loading what="Loading portal activity" />
      ) : profiles.isError ? (
        <ErrorState error={profiles.error} retry={() => void profiles.refetch()} />
      ) : profiles.data.items.length === 0 ? (
        <Empty title="No portal activity.">
          Shown once the borrower has consented on your portal and signed in (or followed a signed link).
        </Empty>
      ) : details.some((d) => d.isPending) ? (
        <Loading what="Loading the timeline" />
      ) : (
        <>
          {engagement && (
            <dl className="lead-facts" data-testid="portal-engagement">
              <div className="lead-fact">
                <dt>Engagement</dt>
                <dd>{Math.round(engagement.engagement_strength * 100)}%</dd>
              </div>
              {Object.entries(engagement.engagement_counts).map(([key, count]) => (
                <div className="lead-fact" key={key}>
                  <dt>{ENGAGEMENT_LABELS[key] ?? key}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
          )}
          {events.length === 0 ? (
            <Empty title="No page view or action kept." />
          ) : (
            <ol className="lead-signal-list" aria-label="Portal timeline, newest first">
              {events.map(({ event, site }) => (
                <li key={event.id} className="lead-signal">
                  <time dateTime={event.occurred_at}>{formatDateTime(event.occurred_at)}</time>{" "}
                  <span>{describeEvent(event)}</span> <span className="muted">on {site}</span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
