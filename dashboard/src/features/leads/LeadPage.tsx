// A lead (/leads/:leadId): who the borrower is and who works the lead, what they owe, their job, the contact rules
// per channel, flags and consents, what came of the lead (outcomes), the full timeline, the signals, why profiles
// were matched, and (managers and admins) the audit trail. A lead the user may not see answers 404: "Lead not found
// or not yours".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { AssignDialog } from "./AssignDialog";
import { ContactRules } from "./ContactRules";
import { LEAD_STATUSES, STATUS_LABELS, type LeadStatus } from "./filters";
import { fieldLabel, formatDateTime, formatDays, formatMoney } from "./format";
import { actorLabel } from "./labels";
import { LeadAudit, LeadMatches, LeadSignals } from "./LeadActivity";
import { OutcomesPanel } from "./OutcomesPanel";
import { RecommendedServices, SimilarLeads } from "@/features/services/RecommendedServices";
import { isNotFound, leadKeys, useLead, type Lead } from "./queries";
import { Timeline } from "./Timeline";
import { PortalActivity } from "@/features/tracking/PortalActivity";
import "./leads.css";

export default function LeadPage() {
  const { leadId = "" } = useParams();
  const lead = useLead(leadId);
  if (lead.isPending) return <Loading what="Loading the lead" />;
  if (lead.isError) {
    if (isNotFound(lead.error)) {
      return (
        <div data-testid="lead-not-found" className="stack">
          <PageHeader title="Lead not found" />
          <Empty title="Lead not found or not yours.">
            It may have been merged or removed, or it is assigned to another team.{" "}
            <Link to="/leads">Back to the leads</Link>
          </Empty>
        </div>
      );
    }
    return (
      <div className="stack">
        <PageHeader title="Lead" />
        <ErrorState error={lead.error} retry={() => void lead.refetch()} />
      </div>
    );
  }
  return <LeadView lead={lead.data} />;
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="lead-fact">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function LeadView({ lead }: { lead: Lead }) {
  const user = useUser();
  const manages = hasRole(user, "admin", "manager");
  const works = hasRole(user, "admin", "manager", "agent");
  const [reassigning, setReassigning] = useState(false);
  const [notice, setNotice] = useState("");
  const place = [lead.city, lead.region ?? lead.state, lead.postal_code, lead.country].filter(Boolean).join(", ");
  return (
    <div className="stack lead-page">
      <PageHeader title={lead.full_name}>
        <Link to="/leads" className="button">
          All leads
        </Link>
      </PageHeader>
      <section className="card lead-header" data-testid="lead-header" aria-label="Lead and assignment">
        <dl className="lead-facts">
          <Fact term="External id">{lead.external_id}</Fact>
          <Fact term="Status">{works ? <StatusPicker lead={lead} /> : STATUS_LABELS[lead.status]}</Fact>
          <Fact term="Portfolio">{lead.portfolio_name ?? "—"}</Fact>
          <Fact term="Assignee">
            <span data-testid="lead-assignee">
              {lead.assignee_id ? (lead.assignee_id === user.id ? "You" : (lead.assignee_name ?? "Someone")) : "Unassigned"}
            </span>
            {manages && (
              <button type="button" className="button lead-inline-button" onClick={() => setReassigning(true)}>
                Reassign
              </button>
            )}
          </Fact>
          <Fact term="Team">{lead.team_name ?? "—"}</Fact>
          <Fact term="Location">{place || "—"}</Fact>
          <Fact term="Time zone">{lead.timezone ?? "unknown"}</Fact>
          <Fact term="Updated">{formatDateTime(lead.updated_at)}</Fact>
        </dl>
        <div role="status" aria-live="polite">
          {notice && <p className="ok">{notice}</p>}
        </div>
      </section>
      {manages && (
        <AssignDialog
          leadIds={[lead.id]}
          open={reassigning}
          onOpenChange={setReassigning}
          title={`Reassign ${lead.full_name}`}
          onDone={(result, assignee) =>
            setNotice(
              result.updated === 0
                ? "Nothing changed: the lead already had that assignee."
                : assignee === null
                  ? "The lead is unassigned."
                  : `Assigned to ${assignee}.`,
            )
          }
        />
      )}

      <div className="lead-grid">
        <Money lead={lead} />
        <Job lead={lead} />
        <ContactDetails lead={lead} />
        <ContactRules leadId={lead.id} leadTimezone={lead.timezone} />
        <FlagsAndConsents leadId={lead.id} />
      </div>
      <OutcomesPanel leadId={lead.id} />
      <div className="lead-grid lead-grid-wide">
        <RecommendedServices leadId={lead.id} />
        <SimilarLeads leadId={lead.id} />
      </div>
      <Timeline leadId={lead.id} />
      <PortalActivity leadId={lead.id} />
      <div className="lead-grid lead-grid-wide">
        <LeadSignals leadId={lead.id} />
        <LeadMatches leadId={lead.id} />
      </div>
      {manages && <LeadAudit leadId={lead.id} />}
    </div>
  );
}

function StatusPicker({ lead }: { lead: Lead }) {
  const id = useId();
  const queryClient = useQueryClient();
  const change = useMutation({
    mutationFn: async (status: LeadStatus) =>
      unwrap(await api.PATCH("/api/v1/leads/{lead_id}", { params: { path: { lead_id: lead.id } }, body: { status } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(leadKeys.one(lead.id), updated);
      void queryClient.invalidateQueries({ queryKey: ["leads", "list"] });
      void queryClient.invalidateQueries({ queryKey: leadKeys.audit(lead.id, true) });
    },
  });
  return (
    <>
      <label htmlFor={id} className="visually-hidden">
        Status
      </label>
      <select
        id={id}
        value={lead.status}
        disabled={change.isPending}
        onChange={(event) => change.mutate(event.target.value as LeadStatus)}
      >
        {LEAD_STATUSES.map((status) => (
          <option key={status} value={status}>
            {STATUS_LABELS[status]}
          </option>
        ))}
      </select>
      {change.isError && (
        <span className="form-error" role="alert">
          {change.error.message}
        </span>
      )}
    </>
  );
}

function Card({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  const id = useId();
  return (
    <section className="card stack lead-card" aria-labelledby={id} data-testid={testId}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Money({ lead }: { lead: Lead }) {
  return (
    <Card title="Balance and delinquency" testId="lead-money">
      <dl className="lead-facts lead-facts-big">
        <Fact term="Balance">{formatMoney(lead.balance)}</Fact>
        <Fact term="Days delinquent">{formatDays(lead.days_delinquent)}</Fact>
      </dl>
    </Card>
  );
}

/** A company domain as a link, only when it looks like a host name. */
function domainUrl(domain: string): string | null {
  const host = domain.trim().replace(/^https?:\/\//i, "").replace(/\/.*$/, "");
  return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(host) ? `https://${host}` : null;
}

function Job({ lead }: { lead: Lead }) {
  const [expanded, setExpanded] = useState(false);
  const aboutId = useId();
  const about = lead.companyAbout?.trim() ?? "";
  const long = about.length > 220;
  const link = lead.companyDomain ? domainUrl(lead.companyDomain) : null;
  return (
    <Card title="Current job and company" testId="lead-job">
      <dl className="lead-facts">
        <Fact term="Employer">{lead.employer ?? "—"}</Fact>
        <Fact term="Title">{lead.title ?? "—"}</Fact>
        <Fact term="Company domain">
          {lead.companyDomain ? (
            link ? (
              <a href={link} target="_blank" rel="noopener noreferrer">
                {lead.companyDomain}
                <span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            ) : (
              lead.companyDomain
            )
          ) : (
            "—"
          )}
        </Fact>
      </dl>
      {about ? (
        <div className="lead-about">
          <h3>About the company</h3>
          <p id={aboutId} className={long && !expanded ? "lead-about-text lead-clamped" : "lead-about-text"}>
            {about}
          </p>
          {long && (
            <button
              type="button"
              className="button lead-inline-button"
              aria-expanded={expanded}
              aria-controls={aboutId}
              onClick={() => setExpanded((value) => !value)}
            >
              {expanded ? "Show less" : "Show all"}
            </button>
          )}
        </div>
      ) : (
        <p className="muted">No company description.</p>
      )}
    </Card>
  );
}

function ContactDetails({ lead }: { lead: Lead }) {
  const linkedin = lead.linkedin_url && /^https:\/\//i.test(lead.linkedin_url) ? lead.linkedin_url : null;
  const phones = lead.phones.length > 0 ? lead.phones : lead.phone ? [{ number: lead.phone, type: null }] : [];
  return (
    <Card title="Contact details" testId="lead-contact">
      <dl className="lead-facts">
        <Fact term="E-mail">{lead.email ?? "—"}</Fact>
        <Fact term={phones.length > 1 ? "Phones" : "Phone"}>
          {phones.length === 0
            ? "—"
            : phones.map((phone, index) => (
                <span key={index} className="lead-phone">
                  {String(phone.number ?? "")}
                  {phone.type ? <span className="muted"> ({String(phone.type)})</span> : null}
                </span>
              ))}
        </Fact>
        <Fact term="Address">{lead.address ?? "—"}</Fact>
        {lead.birth_date && <Fact term="Born">{lead.birth_date}</Fact>}
        <Fact term="LinkedIn">
          {linkedin ? (
            <a href={linkedin} target="_blank" rel="noopener noreferrer">
              Profile<span className="visually-hidden"> (opens in a new tab)</span>
            </a>
          ) : (
            "—"
          )}
        </Fact>
      </dl>
    </Card>
  );
}

function FlagsAndConsents({ leadId }: { leadId: string }) {
  const flags = useQuery({
    queryKey: ["leads", "flags", leadId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/compliance/leads/{lead_id}/flags", { params: { path: { lead_id: leadId } } })),
  });
  const consents = useQuery({
    queryKey: ["leads", "consents", leadId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/compliance/leads/{lead_id}/consents", { params: { path: { lead_id: leadId } } })),
  });
  return (
    <Card title="Flags and consents" testId="lead-flags">
      {flags.isPending ? (
        <Loading what="Loading flags" />
      ) : flags.isError ? (
        <ErrorState error={flags.error} retry={() => void flags.refetch()} />
      ) : (
        <>
          <div className="row">
            <span className="muted">Active flags:</span>
            {flags.data.active.length === 0 ? (
              <span className="ok">none</span>
            ) : (
              flags.data.active.map((flag) => (
                <span key={flag} className="chip lead-flag">
                  {fieldLabel(flag)}
                </span>
              ))
            )}
          </div>
          {flags.data.history.length > 0 && (
            <details className="lead-history">
              <summary>Flag history ({flags.data.history.length})</summary>
              <ul>
                {flags.data.history.map((entry) => (
                  <li key={entry.id}>
                    <strong>{fieldLabel(entry.flag)}</strong> set {formatDateTime(entry.set_at)} by {actorLabel(entry.set_by)}
                    {entry.note ? ` — ${entry.note}` : ""}
                    {entry.cleared_at
                      ? `; cleared ${formatDateTime(entry.cleared_at)} by ${actorLabel(entry.cleared_by)}`
                      : ""}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </>
      )}
      <h3>Consents (TCPA)</h3>
      {consents.isPending ? (
        <Loading what="Loading consents" />
      ) : consents.isError ? (
        <ErrorState error={consents.error} retry={() => void consents.refetch()} />
      ) : consents.data.length === 0 ? (
        <p className="muted">No consent recorded: autodialed calls and texts to cell phones are not allowed.</p>
      ) : (
        <ul className="lead-consents">
          {consents.data.map((consent) => (
            <li key={consent.id}>
              {consent.target_hint}{" "}
              <span className={consent.valid ? "ok" : "danger"}>{consent.valid ? "valid" : "not valid"}</span>
              <span className="muted">
                {consent.granted_at ? ` · granted ${formatDateTime(consent.granted_at)}` : ""}
                {consent.revoked_at ? ` · revoked ${formatDateTime(consent.revoked_at)}` : ""}
                {consent.reassigned_at ? ` · number reassigned ${formatDateTime(consent.reassigned_at)}` : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
