// The services catalog (/services): every service with who it is for and the needs it meets; managers and admins
// add and edit services (POST /api/v1/services, PUT /api/v1/services/{id}), switch them off, delete them, and
// import a catalog file (POST /api/v1/services/import: every row checked first; a bad row names its row and
// field and nothing is written; a re-import changes nothing). A service's best-matched leads:
// GET /api/v1/services/{id}/leads.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { FieldMessages, Modal } from "@/components/formFields";
import { Empty, ErrorState, Loading, PageHeader } from "@/components/states";
import { formErrors, messagesFor, NO_ERRORS, unclaimed, type FormErrors } from "@/lib/fieldErrors";
import "./services.css";

type Service = Schemas["ServiceRead"];
type Category = Service["category"];

const CATEGORIES: Category[] = [
  "repayment_plan",
  "rehabilitation",
  "settlement",
  "hardship_forbearance",
  "refinancing",
  "consolidation",
  "business_loan",
];
const keys = { list: ["services"] as const, leads: (id: string) => ["services", id, "leads"] as const };

const label = (value: string) => value.replace(/_/g, " ");
const list = (text: string) =>
  text
    .split(/[,;|]/)
    .map((part) => part.trim())
    .filter(Boolean);

/** "hardship:1, restart:0.5" → {hardship: 1, restart: 0.5} (a part without a number is sent as is: the API says). */
export function parseNeeds(text: string): Record<string, number> {
  const needs: Record<string, number> = {};
  for (const part of list(text)) {
    const [need, weight] = part.split(":").map((s) => s.trim());
    if (need) needs[need] = weight === undefined || weight === "" ? 1 : Number(weight);
  }
  return needs;
}

interface Form {
  name: string;
  category: Category;
  description: string;
  states: string;
  regionCodes: string;
  radius: string;
  lat: string;
  lng: string;
  balanceMin: string;
  balanceMax: string;
  daysMin: string;
  daysMax: string;
  employment: string;
  signalTypes: string;
  industries: string;
  needs: string;
  activeFrom: string;
  activeTo: string;
  active: boolean;
}

function formOf(service: Service | null): Form {
  const text = (value: unknown) => (value === null || value === undefined ? "" : String(value));
  return {
    name: service?.name ?? "",
    category: service?.category ?? "repayment_plan",
    description: text(service?.description),
    states: service?.states.join(", ") ?? "",
    regionCodes: service?.region_codes.join(", ") ?? "",
    radius: text(service?.local_radius_km),
    lat: text(service?.center_latitude),
    lng: text(service?.center_longitude),
    balanceMin: text(service?.balance_min),
    balanceMax: text(service?.balance_max),
    daysMin: text(service?.days_delinquent_min),
    daysMax: text(service?.days_delinquent_max),
    employment: service?.employment_states.join(", ") ?? "",
    signalTypes: service?.signal_types.join(", ") ?? "",
    industries: service?.industries.join(", ") ?? "",
    needs: Object.entries(service?.need_profile ?? {})
      .map(([need, weight]) => `${need}:${weight}`)
      .join(", "),
    activeFrom: text(service?.active_from),
    activeTo: text(service?.active_to),
    active: service?.active ?? true,
  };
}

export function serviceBody(form: Form): Schemas["ServiceCreate"] {
  const number = (value: string) => (value.trim() === "" ? null : Number(value));
  return {
    name: form.name.trim(),
    category: form.category,
    description: form.description.trim() || null,
    states: list(form.states),
    region_codes: list(form.regionCodes),
    local_radius_km: number(form.radius),
    center_latitude: number(form.lat),
    center_longitude: number(form.lng),
    balance_min: form.balanceMin.trim() || null,
    balance_max: form.balanceMax.trim() || null,
    days_delinquent_min: number(form.daysMin),
    days_delinquent_max: number(form.daysMax),
    employment_states: list(form.employment) as Schemas["ServiceCreate"]["employment_states"],
    signal_types: list(form.signalTypes),
    industries: list(form.industries),
    need_profile: parseNeeds(form.needs),
    active_from: form.activeFrom || null,
    active_to: form.activeTo || null,
    active: form.active,
  } as Schemas["ServiceCreate"];
}

export default function ServicesPage() {
  const user = useUser();
  const manages = hasRole(user, "admin", "manager");
  const services = useQuery({
    queryKey: keys.list,
    queryFn: async () => unwrap(await api.GET("/api/v1/services", { params: { query: { limit: 1000 } } })),
  });
  const [editing, setEditing] = useState<Service | "new" | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div className="stack services-page">
      <PageHeader title="Services" />
      <p className="muted">
        The team's programs and offers. Each lead is scored against every active service (out of 100: area, industry,
        need, profile, engagement); see a lead's page for its recommendations.
      </p>
      {manages && (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New service
          </button>
          <ImportCatalog />
        </div>
      )}
      {services.isPending ? (
        <Loading what="Loading services" />
      ) : services.isError ? (
        <ErrorState error={services.error} retry={() => void services.refetch()} />
      ) : services.data.items.length === 0 ? (
        <Empty title="No services yet.">Add one, or import the catalog file.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="services-table">
            <caption className="visually-hidden">Services</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Category</th>
                <th scope="col">Where</th>
                <th scope="col">Needs</th>
                <th scope="col">Active</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {services.data.items.map((service) => (
                <tr key={service.id} data-testid="service-row">
                  <td>
                    <strong>{service.name}</strong>
                    {service.description && <div className="muted">{service.description}</div>}
                  </td>
                  <td>{label(service.category)}</td>
                  <td>
                    {[...service.states, ...service.region_codes].join(", ") ||
                      (service.local_radius_km ? `within ${service.local_radius_km} km` : "anywhere")}
                  </td>
                  <td>
                    {Object.entries(service.need_profile)
                      .map(([need, weight]) => `${need} ${weight}`)
                      .join(", ")}
                  </td>
                  <td>{service.active ? "Yes" : "No"}</td>
                  <td>
                    <div className="row">
                      <button type="button" className="button" onClick={() => setOpen(open === service.id ? null : service.id)} aria-expanded={open === service.id}>
                        Leads
                      </button>
                      {manages && (
                        <button type="button" className="button" onClick={() => setEditing(service)} aria-label={`Edit ${service.name}`}>
                          Edit
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && <ServiceLeads serviceId={open} />}
      {editing && <ServiceDialog service={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </div>
  );
}

function ServiceLeads({ serviceId }: { serviceId: string }) {
  const leads = useQuery({
    queryKey: keys.leads(serviceId),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/services/{service_id}/leads", {
          params: { path: { service_id: serviceId }, query: { limit: 20 } },
        }),
      ),
  });
  return (
    <section className="card stack" data-testid="service-leads">
      <h2>Best-matched leads</h2>
      {leads.isPending ? (
        <Loading what="Loading leads" />
      ) : leads.isError ? (
        <ErrorState error={leads.error} retry={() => void leads.refetch()} />
      ) : leads.data.items.length === 0 ? (
        <Empty title="No matched leads yet." />
      ) : (
        <ol>
          {leads.data.items.map((item) => (
            <li key={item.match_id}>
              <Link to={`/leads/${item.lead_id}`}>{item.name}</Link> <span className="muted">{item.external_id}</span>{" "}
              <strong>{item.score}</strong> · {item.status}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const FIELDS = [
  ["name", "Name", "name"],
  ["description", "Description", "description"],
  ["states", "States (USPS codes, comma-separated)", "states"],
  ["regionCodes", "Region codes (ISO 3166-2)", "region_codes"],
  ["radius", "Local radius (km)", "local_radius_km"],
  ["lat", "Centre latitude", "center_latitude"],
  ["lng", "Centre longitude", "center_longitude"],
  ["balanceMin", "Balance from ($)", "balance_min"],
  ["balanceMax", "Balance to ($)", "balance_max"],
  ["daysMin", "Days delinquent from", "days_delinquent_min"],
  ["daysMax", "Days delinquent to", "days_delinquent_max"],
  ["employment", "Employment states", "employment_states"],
  ["signalTypes", "Signal types", "signal_types"],
  ["industries", "Industries", "industries"],
  ["needs", "Needs (need:weight, e.g. hardship:1, restart:0.5)", "need_profile"],
  ["activeFrom", "Active from (YYYY-MM-DD)", "active_from"],
  ["activeTo", "Active to (YYYY-MM-DD)", "active_to"],
] as const;
const API_FIELDS = ["category", "active", ...FIELDS.map((f) => f[2])];

function ServiceDialog({ service, onClose }: { service: Service | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const formId = useId();
  const [form, setForm] = useState<Form>(() => formOf(service));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const save = useMutation({
    mutationFn: async () => {
      const body = serviceBody(form);
      return service
        ? unwrap(await api.PUT("/api/v1/services/{service_id}", { params: { path: { service_id: service.id } }, body }))
        : unwrap(await api.POST("/api/v1/services", { body }));
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.list });
      onClose();
    },
    onError: (error) => setErrors(formErrors(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors(NO_ERRORS);
    save.mutate();
  };
  const other = [...unclaimed(errors, API_FIELDS), ...(errors.general ? [errors.general] : [])];
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={service ? `Edit ${service.name}` : "New service"} wide>
      <form className="services-form" onSubmit={submit} data-testid="service-form" noValidate>
        <label className="field">
          <span>Category</span>
          <select value={form.category} onChange={(e) => setForm({ ...form, category: e.target.value as Category })}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {label(c)}
              </option>
            ))}
          </select>
        </label>
        {FIELDS.map(([key, text, apiField]) => {
          const id = `${formId}-${key}`;
          const messages = messagesFor(errors, apiField);
          return (
            <label key={key} className={key === "description" || key === "needs" ? "field services-wide" : "field"} htmlFor={id}>
              <span>{text}</span>
              <input
                id={id}
                value={form[key]}
                onChange={(e) => setForm({ ...form, [key]: e.target.value })}
                aria-invalid={messages.length > 0}
                aria-describedby={messages.length ? `${id}-msg` : undefined}
              />
              <FieldMessages id={`${id}-msg`} messages={messages} />
            </label>
          );
        })}
        <label className="field">
          <span>
            <input type="checkbox" checked={form.active} onChange={(e) => setForm({ ...form, active: e.target.checked })} /> Active
          </span>
        </label>
        {other.length > 0 && (
          <p className="form-error services-wide" role="alert">
            {other.join(" ")}
          </p>
        )}
        <div className="row services-wide">
          <button type="submit" className="button button-primary" disabled={save.isPending}>
            Save service
          </button>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

function ImportCatalog() {
  const queryClient = useQueryClient();
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const upload = useMutation({
    mutationFn: async () => {
      const form = new FormData();
      form.append("file", file!);
      // openapi-fetch sends FormData as it is (multipart, the browser sets the boundary).
      return unwrap(await api.POST("/api/v1/services/import", { body: form as never }));
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.list }),
  });
  const rowErrors = (() => {
    const body = (upload.error as { body?: { errors?: { row: number | null; field: string | null; message: string }[] } } | null)?.body;
    return body?.errors ?? [];
  })();
  return (
    <div className="row" data-testid="services-import">
      <label htmlFor={inputId}>Import catalog (CSV, XLSX, JSON)</label>
      <input id={inputId} type="file" accept=".csv,.xlsx,.json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      <button type="button" className="button" disabled={!file || upload.isPending} onClick={() => upload.mutate()}>
        Import
      </button>
      <div aria-live="polite">
        {upload.isSuccess && (
          <p className="ok">
            {upload.data.total} row(s): {upload.data.created} created, {upload.data.updated} updated, {upload.data.unchanged} unchanged.
          </p>
        )}
        {upload.isError && (
          <div className="form-error" role="alert">
            <p>{upload.error.message}</p>
            <ul>
              {rowErrors.map((e) => (
                <li key={`${e.row}-${e.field}-${e.message}`}>
                  Row {e.row ?? "?"}, {e.field ?? "file"}: {e.message}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}
