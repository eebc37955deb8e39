// The lead page's "Recommended services" (GET /api/v1/leads/{id}/recommendations): the top active services of the
// catalog for the lead, each with its score out of 100, the points per factor and the reasons in words; rejected
// ones are left out. Workers (agents, managers, admins) score the lead now (POST /api/v1/leads/{id}/match) and
// accept or reject a recommendation (PUT /api/v1/matches/{id}/status). "Similar leads" lists the nearest leads
// by the documented feature vector (GET /api/v1/leads/{id}/similar).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading } from "@/components/states";
import "./services.css";

type Match = Schemas["ServiceMatchRead"];
type MatchStatus = Match["status"];

export const matchKeys = {
  recommendations: (leadId: string) => ["leads", "recommendations", leadId] as const,
  similar: (leadId: string) => ["leads", "similar", leadId] as const,
};

export const FACTOR_LABELS: Record<string, string> = {
  geographic: "Area",
  industry: "Industry",
  need: "Need",
  profile: "Profile",
  behaviour: "Engagement",
};

const STATUS_LABELS: Record<MatchStatus, string> = {
  proposed: "Proposed",
  accepted: "Accepted",
  rejected: "Rejected",
  converted: "Converted",
};

export function RecommendedServices({ leadId }: { leadId: string }) {
  const headingId = useId();
  const user = useUser();
  const works = hasRole(user, "admin", "manager", "agent");
  const queryClient = useQueryClient();
  const recommendations = useQuery({
    queryKey: matchKeys.recommendations(leadId),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/leads/{lead_id}/recommendations", { params: { path: { lead_id: leadId } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: matchKeys.recommendations(leadId) });
  const compute = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/leads/{lead_id}/match", { params: { path: { lead_id: leadId } } })),
    onSuccess: () => void refresh(),
  });
  const setStatus = useMutation({
    mutationFn: async ({ id, status }: { id: string; status: MatchStatus }) =>
      unwrap(
        await api.PUT("/api/v1/matches/{match_id}/status", { params: { path: { match_id: id } }, body: { status } }),
      ),
    onSuccess: () => void refresh(),
  });
  const error = compute.error ?? setStatus.error;
  return (
    <section className="card stack lead-services" aria-labelledby={headingId} data-testid="recommended-services">
      <div className="lead-services-head">
        <h2 id={headingId}>Recommended services</h2>
        {works && (
          <button type="button" className="button" onClick={() => compute.mutate()} disabled={compute.isPending}>
            {compute.isPending ? "Matching…" : "Match now"}
          </button>
        )}
      </div>
      <div aria-live="polite">
        {error ? (
          <p className="form-error" role="alert">
            {error.message}
          </p>
        ) : setStatus.isSuccess ? (
          <p className="ok">{`${setStatus.data.service_name}: ${STATUS_LABELS[setStatus.data.status].toLowerCase()}.`}</p>
        ) : null}
      </div>
      {recommendations.isPending ? (
        <Loading what="Loading recommendations" />
      ) : recommendations.isError ? (
        <ErrorState error={recommendations.error} retry={() => void recommendations.refetch()} />
      ) : recommendations.data.items.length === 0 ? (
        <Empty title="No service fits this lead yet.">Services appear here when the catalog has one it is eligible for.</Empty>
      ) : (
        <ol className="lead-services-list">
          {recommendations.data.items.map((match) => (
            <li key={match.service_id} className="lead-service" data-testid="recommendation">
              <div className="lead-service-head">
                <strong>{match.service_name}</strong>
                <span className="muted">{match.category.replace(/_/g, " ")}</span>
                <span className="lead-service-score" aria-label={`Score ${match.score} of 100`}>
                  {match.score}
                  <span className="muted">/100</span>
                </span>
                <span className={`lead-service-status lead-service-${match.status}`}>{STATUS_LABELS[match.status]}</span>
              </div>
              <ul className="lead-service-factors" aria-label="Points per factor">
                {Object.entries(match.breakdown).map(([factor, points]) => (
                  <li key={factor}>
                    {FACTOR_LABELS[factor] ?? factor} <strong>{points.toFixed(1)}</strong>
                  </li>
                ))}
              </ul>
              <ul className="lead-service-reasons">
                {match.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
              {works && match.id && (
                <div className="row">
                  <button
                    type="button"
                    className="button button-primary"
                    disabled={setStatus.isPending || match.status === "accepted"}
                    onClick={() => setStatus.mutate({ id: match.id!, status: "accepted" })}
                    aria-label={`Accept ${match.service_name}`}
                  >
                    Accept
                  </button>
                  <button
                    type="button"
                    className="button"
                    disabled={setStatus.isPending}
                    onClick={() => setStatus.mutate({ id: match.id!, status: "rejected" })}
                    aria-label={`Reject ${match.service_name}`}
                  >
                    Reject
                  </button>
                </div>
              )}
              {works && !match.id && <p className="muted">Scored now: use "Match now" to keep it and accept it.</p>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function SimilarLeads({ leadId }: { leadId: string }) {
  const headingId = useId();
  const similar = useQuery({
    queryKey: matchKeys.similar(leadId),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/leads/{lead_id}/similar", { params: { path: { lead_id: leadId }, query: { k: 5 } } }),
      ),
  });
  return (
    <section className="card stack lead-similar" aria-labelledby={headingId} data-testid="similar-leads">
      <h2 id={headingId}>Similar leads</h2>
      {similar.isPending ? (
        <Loading what="Loading similar leads" />
      ) : similar.isError ? (
        <ErrorState error={similar.error} retry={() => void similar.refetch()} />
      ) : similar.data.items.length === 0 ? (
        <Empty title="No similar leads." />
      ) : (
        <ol className="lead-similar-list">
          {similar.data.items.map((item) => (
            <li key={item.lead_id} data-testid="similar-lead">
              <Link to={`/leads/${item.lead_id}`}>{item.name}</Link>{" "}
              <span className="muted">
                {item.external_id}
                {item.state ? ` · ${item.state}` : ""} · distance {item.distance.toFixed(3)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
