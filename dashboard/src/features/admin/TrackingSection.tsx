// Tracking sites (consented first-party tracking, docs/tracking.md): the lender's own sites that may send page views
// and actions, each with its public key and allowed origins. Adding one shows its secret once (the portal's server
// signs logins with it) and the script tag to put on its pages; each site's anonymous daily counts and how many
// consented visitors and events are kept.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formErrors, NO_ERRORS, type FormErrors } from "@/lib/fieldErrors";
import { AdminSection, CopyField, FormProblems, Outcome, TextField, When, yesNo } from "./adminUi";

type Site = Schemas["SiteRead"];
type Created = Schemas["SiteCreated"];
const FIELDS = ["name", "allowed_origins", "portfolio"] as const;
const siteKeys = { all: ["admin", "tracking-sites"] as const, stats: (id: string) => ["admin", "tracking-sites", id] };

/** Origins typed one per line or comma-separated. */
export function parseOrigins(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((value) => value.trim())
    .filter(Boolean);
}

export function TrackingSection() {
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const sites = useQuery({
    queryKey: siteKeys.all,
    queryFn: async () => unwrap(await api.GET("/api/v1/tracking/sites")),
  });
  return (
    <AdminSection
      title="Tracking sites"
      testId="admin-tracking"
      intro="Your own sites (the borrower portal, payment pages) that may send consented page views and actions. Nothing about a visitor is kept before they consent: only an anonymous daily count. Not built, by decision: device fingerprinting, cross-site tracking, any tracking without consent."
      actions={
        !adding && (
          <button type="button" className="button" onClick={() => { setAdding(true); setCreated(null); }}>
            Add site
          </button>
        )
      }
    >
      {adding && (
        <AddSiteForm
          onCancel={() => setAdding(false)}
          onCreated={(site) => {
            setAdding(false);
            setCreated(site);
            void queryClient.invalidateQueries({ queryKey: siteKeys.all });
          }}
        />
      )}
      {created && (
        <div className="card stack" data-testid="tracking-site-created">
          <Outcome ok={`Site ${created.name} added. Its secret is shown once: give it to the portal's developers now.`} />
          <CopyField label="Site secret" value={created.secret} testId="tracking-site-secret" />
          <CopyField label="Script tag" value={created.snippet} />
        </div>
      )}
      {sites.isPending ? (
        <Loading what="Loading tracking sites" />
      ) : sites.isError ? (
        <ErrorState error={sites.error} retry={() => void sites.refetch()} />
      ) : sites.data.length === 0 ? (
        <Empty title="No tracking site yet.">Add your borrower portal to see how borrowers use it (with their consent).</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="admin-tracking-table">
            <caption className="visually-hidden">Tracking sites</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Site key</th>
                <th scope="col">Allowed origins</th>
                <th scope="col">Active</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sites.data.map((site) => (
                <tr key={site.id}>
                  <td>{site.name}</td>
                  <td className="admin-url">{site.site_key}</td>
                  <td className="admin-url">{site.allowed_origins.join(", ")}</td>
                  <td>{yesNo(site.active)}</td>
                  <td>
                    <When at={site.created_at} />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      aria-expanded={shown === site.id}
                      aria-label={`${shown === site.id ? "Hide" : "Show"} the activity of ${site.name}`}
                      onClick={() => setShown(shown === site.id ? null : site.id)}
                    >
                      {shown === site.id ? "Hide" : "Activity"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown && sites.data?.some((s) => s.id === shown) && (
        <SiteActivity site={sites.data.find((s) => s.id === shown)!} />
      )}
    </AdminSection>
  );
}

function SiteActivity({ site }: { site: Site }) {
  const stats = useQuery({
    queryKey: siteKeys.stats(site.id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/tracking/sites/{site_id}/stats", { params: { path: { site_id: site.id } } })),
  });
  if (stats.isPending) return <Loading what="Loading the site's activity" />;
  if (stats.isError) return <ErrorState error={stats.error} retry={() => void stats.refetch()} />;
  const data = stats.data;
  return (
    <div className="card stack" data-testid="tracking-site-activity">
      <h3>{site.name}: last 30 days</h3>
      <p>
        {data.visitors} consenting visitor(s), {data.linked_visitors} linked to a lead, {data.events} event(s) kept.
      </p>
      {data.daily_counts.length === 0 ? (
        <Empty title="No page view counted yet." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption>Anonymous daily counts (every visit, with or without consent)</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Pages</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>
              {data.daily_counts.map((row) => (
                <tr key={`${row.day}-${row.path_group}`}>
                  <td>{row.day}</td>
                  <td>{row.path_group}</td>
                  <td>{row.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function AddSiteForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (site: Created) => void }) {
  const [name, setName] = useState("");
  const [origins, setOrigins] = useState("");
  const [portfolio, setPortfolio] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/tracking/sites", {
          body: { name: name.trim(), allowed_origins: parseOrigins(origins), portfolio: portfolio.trim() || null },
        }),
      ),
    onSuccess: onCreated,
    onError: (error) => setErrors(formErrors(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors(NO_ERRORS);
    create.mutate();
  };
  return (
    <form className="card stack" aria-label="Add a tracking site" onSubmit={submit} noValidate>
      <TextField label="Name" name="name" errors={errors} value={name} onChange={setName} required />
      <TextField
        label="Allowed origins"
        name="allowed_origins"
        errors={errors}
        value={origins}
        onChange={setOrigins}
        multiline
        required
        hint="Your own sites only, one per line: https://portal.yourlender.example (no path)."
      />
      <TextField
        label="Portfolio (optional)"
        name="portfolio"
        errors={errors}
        value={portfolio}
        onChange={setPortfolio}
        hint="Logins on this site are matched to leads of this portfolio only."
      />
      <FormProblems errors={errors} known={FIELDS} />
      <div className="row">
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Adding…" : "Add site"}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
