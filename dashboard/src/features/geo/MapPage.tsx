// The map (/map, every role, in their scope): leads or signals per state or county as a choropleth drawn from the
// shipped us-atlas TopoJSON (no tile server, nothing fetched but our own API), the busiest lead centroids as
// points, and the market analysis of an area (City, ST / ZIP / lat,lng + radius). See docs/geo.md.
import { useQuery } from "@tanstack/react-query";
import { geoPath } from "d3-geo";
import { useMemo, useState, type FormEvent } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { api, unwrap } from "@/api/client";
import { ErrorState, Loading, PageHeader } from "@/components/states";
import {
  areaIndex,
  DAY_CHOICES,
  describeArea,
  featureCode,
  HEIGHT,
  legend,
  LEVELS,
  maxOf,
  percent,
  placePoints,
  step,
  topAreas,
  WIDTH,
  type Level,
  type MarketAnalysis,
  type Metric,
} from "./map";
import "./geo.css";

interface Shape {
  code: string;
  name: string;
  d: string;
}

async function loadShapes(level: Level): Promise<{ shapes: Shape[]; borders: string }> {
  // Pre-projected Albers USA shapes, bundled as their own chunks (loaded on this page only).
  const topology = (level === "state"
    ? (await import("us-atlas/states-albers-10m.json")).default
    : (await import("us-atlas/counties-albers-10m.json")).default) as unknown as Topology;
  const path = geoPath();
  const object = topology.objects[level === "state" ? "states" : "counties"] as GeometryCollection<{ name: string }>;
  const collection = feature(topology, object);
  const shapes = collection.features.map((f) => ({
    code: featureCode(level, f.id, f.properties?.name),
    name: f.properties?.name ?? String(f.id),
    d: path(f) ?? "",
  }));
  const nation = feature(topology, topology.objects.nation as GeometryCollection);
  return { shapes, borders: path(nation) ?? "" };
}

function useShapes(level: Level) {
  return useQuery({ queryKey: ["geo-shapes", level], queryFn: () => loadShapes(level), staleTime: Infinity });
}

function useLeadMap(level: Level, days: number) {
  return useQuery({
    queryKey: ["geo-map", level, days],
    queryFn: async () => unwrap(await api.GET("/api/v1/local/map", { params: { query: { level, days } } })),
  });
}

function Choice<T extends string | number>({ label, value, options, onChange, format }: {
  label: string;
  value: T;
  options: readonly T[];
  onChange: (value: T) => void;
  format?: (value: T) => string;
}) {
  return (
    <div className="geo-choice" role="group" aria-label={label}>
      <span className="muted">{label}</span>
      {options.map((option) => (
        <button key={String(option)} type="button" className="button" aria-pressed={option === value}
                onClick={() => onChange(option)}>
          {format ? format(option) : String(option)}
        </button>
      ))}
    </div>
  );
}

function LeadMapSection() {
  const [level, setLevel] = useState<Level>("state");
  const [metric, setMetric] = useState<Metric>("leads");
  const [days, setDays] = useState<number>(90);
  const shapes = useShapes(level);
  const map = useLeadMap(level, days);
  const areas = useMemo(() => areaIndex(map.data?.areas ?? []), [map.data]);
  const max = maxOf(map.data?.areas ?? [], metric);
  const points = useMemo(() => placePoints(map.data?.points ?? []), [map.data]);

  return (
    <section className="card stack geo-map" aria-labelledby="geo-map-title">
      <h2 id="geo-map-title">Leads by {level}</h2>
      <div className="geo-controls">
        <Choice label="Areas" value={level} options={LEVELS} onChange={setLevel} />
        <Choice label="Shade by" value={metric} options={["leads", "signals"] as const} onChange={setMetric} />
        <Choice label="Signals of the last" value={days} options={DAY_CHOICES} onChange={setDays}
                format={(d) => `${d} days`} />
      </div>
      {(shapes.isPending || map.isPending) && <Loading what="Loading the map" />}
      {shapes.isError && <ErrorState error={shapes.error} retry={() => void shapes.refetch()} />}
      {map.isError && <ErrorState error={map.error} retry={() => void map.refetch()} />}
      {shapes.data && map.data && (
        <>
          <p className="muted geo-summary" data-testid="geo-map-summary">
            {map.data.located_leads.toLocaleString("en-US")} of {map.data.total_leads.toLocaleString("en-US")} leads
            located ({map.data.scope.label}). Points are ZIP, city or state centres, never addresses.
          </p>
          <svg className="geo-svg" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" data-testid="geo-map-svg"
               aria-label={`Choropleth of ${metric} per ${level}, with the busiest lead locations as points`}>
            <g>
              {shapes.data.shapes.map((shape) => {
                const area = areas.get(shape.code);
                return (
                  <path key={shape.code + shape.d.length} d={shape.d} className={`geo-area geo-step-${step(area?.[metric] ?? 0, max)}`}>
                    <title>{describeArea(shape.name, area)}</title>
                  </path>
                );
              })}
            </g>
            <path d={shapes.data.borders} className="geo-nation" />
            <g>
              {points.map((p, index) => (
                <circle key={index} cx={p.x} cy={p.y} r={p.r} className="geo-point">
                  <title>{`${p.leads} lead${p.leads === 1 ? "" : "s"}`}</title>
                </circle>
              ))}
            </g>
          </svg>
          <ol className="geo-legend" aria-label={`Legend: ${metric} per ${level}`}>
            {legend(max).map((entry) => (
              <li key={entry.step}><span className={`geo-swatch geo-step-${entry.step}`} aria-hidden="true" />
                up to {entry.upTo.toLocaleString("en-US")}</li>
            ))}
          </ol>
          {map.data.points_truncated && <p className="muted">Only the busiest locations are drawn as points.</p>}
          <table className="table geo-table">
            <caption>Busiest {level === "state" ? "states" : "counties"}</caption>
            <thead><tr><th scope="col">{level}</th><th scope="col">Leads</th><th scope="col">Signals</th></tr></thead>
            <tbody>
              {topAreas(map.data.areas, metric).map((area) => (
                <tr key={area.code}><td>{area.name}</td><td>{area.leads}</td><td>{area.signals}</td></tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Figures({ report }: { report: MarketAnalysis }) {
  const money = (value: string | null | undefined) =>
    value == null ? "—" : Number(value).toLocaleString("en-US", { style: "currency", currency: "USD" });
  return (
    <div className="stack" data-testid="geo-market-figures">
      <p className="muted">
        {report.location.label} ± {report.radius_km} km · {report.from} – {report.to} · {report.scope.label}
      </p>
      <dl className="geo-figures">
        <div><dt>Leads</dt><dd data-testid="geo-market-leads">{report.leads}</dd></div>
        <div><dt>Signals</dt><dd>{report.signals}</dd></div>
        <div><dt>Signals per lead</dt><dd>{report.signal_rate.toFixed(2)}</dd></div>
        <div><dt>Average balance</dt><dd>{money(report.average_balance)}</dd></div>
        <div><dt>Conversion</dt><dd>{percent(report.conversion_rate)}</dd></div>
        <div><dt>Payments</dt><dd>{money(report.payments_amount)}</dd></div>
      </dl>
      <div className="geo-lists">
        <table className="table"><caption>Signals by type</caption>
          <tbody>{report.signals_by_type.map((row) => (
            <tr key={row.type}><td>{row.type.replace(/_/g, " ")}</td><td>{row.signals}</td></tr>))}</tbody>
        </table>
        <table className="table"><caption>Top employers</caption>
          <tbody>{report.top_employers.map((row) => (
            <tr key={row.name}><td>{row.name}</td><td>{row.leads}</td></tr>))}</tbody>
        </table>
        <table className="table"><caption>Top industries</caption>
          <tbody>{report.top_industries.map((row) => (
            <tr key={row.name}><td>{row.name.replace(/_/g, " ")}</td><td>{row.leads}</td></tr>))}</tbody>
        </table>
      </div>
      <ul className="muted geo-notes">{report.notes.map((note) => <li key={note}>{note}</li>)}</ul>
    </div>
  );
}

function MarketSection() {
  const [location, setLocation] = useState("Austin, TX");
  const [radius, setRadius] = useState("50");
  const [asked, setAsked] = useState<{ location: string; radius_km: number } | null>(null);
  const report = useQuery({
    queryKey: ["geo-market", asked],
    enabled: asked !== null,
    retry: false,
    queryFn: async () => unwrap(await api.GET("/api/v1/local/market-analysis", {
      params: { query: { location: asked!.location, radius_km: asked!.radius_km } },
    })),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAsked({ location: location.trim(), radius_km: Number(radius) });
  };
  return (
    <section className="card stack" aria-labelledby="geo-market-title">
      <h2 id="geo-market-title">Market analysis</h2>
      <form className="geo-form" onSubmit={submit}>
        <label>Place
          <input value={location} onChange={(e) => setLocation(e.target.value)} required maxLength={120}
                 placeholder="Austin, TX · 78701 · 30.27,-97.74" />
        </label>
        <label>Radius (km)
          <input type="number" min="1" max="2000" step="any" value={radius} onChange={(e) => setRadius(e.target.value)}
                 required />
        </label>
        <button type="submit" className="button button-primary">Analyse</button>
      </form>
      {report.isFetching && <Loading what="Analysing" />}
      {report.isError && <p role="alert" className="error">{report.error.message}</p>}
      {report.data && !report.isFetching && <Figures report={report.data} />}
    </section>
  );
}

export default function MapPage() {
  return (
    <div className="stack">
      <PageHeader title="Map" />
      <p className="muted">Where the leads are, where their signals come from, and what an area looks like.</p>
      <LeadMapSection />
      <MarketSection />
    </div>
  );
}
