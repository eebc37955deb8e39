// The analytics reports and their CSV downloads through the typed client (the CSV needs the bearer token, which a
// plain link cannot carry: the link's click fetches it and hands the file to the browser).
import { api, ApiError, errorMessage, unwrap } from "@/api/client";
import type { ReportName, ReportQuery, Reports } from "./analytics";

export async function fetchReport<N extends ReportName>(name: N, query: ReportQuery): Promise<Reports[N]> {
  const init = { params: { query } };
  switch (name) {
    case "signals":
      return unwrap(await api.GET("/api/v1/analytics/signals", init)) as Reports[N];
    case "funnel":
      return unwrap(await api.GET("/api/v1/analytics/funnel", init)) as Reports[N];
    case "response-times":
      return unwrap(await api.GET("/api/v1/analytics/response-times", init)) as Reports[N];
    case "outcomes":
      return unwrap(await api.GET("/api/v1/analytics/outcomes", init)) as Reports[N];
    case "model-quality":
      return unwrap(await api.GET("/api/v1/analytics/model-quality", init)) as Reports[N];
    case "recovery":
      return unwrap(await api.GET("/api/v1/analytics/recovery", init)) as Reports[N];
    case "coverage":
      return unwrap(await api.GET("/api/v1/analytics/coverage", init)) as Reports[N];
    case "source-health": {
      const { bucket: _bucket, ...withoutBucket } = query; // a table of sources: no days
      return unwrap(await api.GET("/api/v1/analytics/source-health", { params: { query: withoutBucket } })) as Reports[N];
    }
  }
  throw new Error(`unknown report ${String(name)}`);
}

interface Fetched {
  data?: unknown;
  error?: unknown;
  response: Response;
}

async function fetchCsv(name: ReportName, query: ReportQuery): Promise<Fetched> {
  const init = { params: { query }, parseAs: "blob" as const };
  switch (name) {
    case "signals":
      return api.GET("/api/v1/analytics/signals.csv", init);
    case "funnel":
      return api.GET("/api/v1/analytics/funnel.csv", init);
    case "response-times":
      return api.GET("/api/v1/analytics/response-times.csv", init);
    case "outcomes":
      return api.GET("/api/v1/analytics/outcomes.csv", init);
    case "model-quality":
      return api.GET("/api/v1/analytics/model-quality.csv", init);
    case "recovery":
      return api.GET("/api/v1/analytics/recovery.csv", init);
    case "coverage":
      return api.GET("/api/v1/analytics/coverage.csv", init);
    case "source-health": {
      const { bucket: _bucket, ...withoutBucket } = query;
      return api.GET("/api/v1/analytics/source-health.csv", { params: { query: withoutBucket }, parseAs: "blob" as const });
    }
  }
}

/** The address of a report's CSV (what the link shows; its click downloads with the token). */
export function csvHref(name: ReportName, query: ReportQuery): string {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]);
  return `/api/v1/analytics/${name}.csv?${params.toString()}`;
}

export function csvName(name: ReportName, query: ReportQuery): string {
  return `upswing-${name}-${query.from}-to-${query.to}.csv`;
}

/** The file name of a Content-Disposition header, or `fallback`. */
export function attachmentName(header: string | null, fallback: string): string {
  const match = header?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  return match?.[1] ? decodeURIComponent(match[1]) : fallback;
}

/** Hand a blob to the browser as a download. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 30_000); // let the download start first
}

/** Download a report's CSV; returns the file name. */
export async function downloadCsv(name: ReportName, query: ReportQuery): Promise<string> {
  const result = await fetchCsv(name, query);
  if (!result.response.ok || !(result.data instanceof Blob)) {
    throw new ApiError(errorMessage(result.error, "The download failed"), result.response.status, result.error);
  }
  const file = attachmentName(result.response.headers.get("content-disposition"), csvName(name, query));
  saveBlob(result.data, file);
  return file;
}
