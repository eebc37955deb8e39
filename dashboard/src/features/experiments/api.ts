// Holdout experiments over the typed client (TanStack Query): the list, one experiment, its report (JSON, read by
// report.ts), the power calculator, and the CSV/PDF downloads (they need the bearer token, which a plain link
// cannot carry: fetched, then handed to the browser as the leads export does).
import { useQuery } from "@tanstack/react-query";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "@/api/client";
import { attachmentName, saveBlob } from "@/features/leads/download";
import { parseReport, type ExperimentReport } from "./report";

export type Experiment = Schemas["ExperimentRead"];
export type ExperimentCreate = Schemas["ExperimentCreate"];
export type ExperimentStart = Schemas["ExperimentStart"];
export type PowerAnswer = Schemas["PowerAnswer"];

export const experimentKeys = {
  all: ["experiments"] as const,
  list: () => ["experiments", "list"] as const,
  one: (id: string) => ["experiments", "one", id] as const,
  report: (id: string) => ["experiments", "report", id] as const,
  power: (query: PowerQuery) => ["experiments", "power", query] as const,
};

export function useExperiments() {
  return useQuery({
    queryKey: experimentKeys.list(),
    queryFn: async () => unwrap(await api.GET("/api/v1/experiments")),
  });
}

export function useExperiment(id: string) {
  return useQuery({
    queryKey: experimentKeys.one(id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/experiments/{experiment_id}", { params: { path: { experiment_id: id } } })),
  });
}

export async function fetchReport(id: string): Promise<ExperimentReport> {
  const raw = unwrap(
    await api.GET("/api/v1/experiments/{experiment_id}/report", {
      params: { path: { experiment_id: id }, query: { format: "json" } },
    }),
  );
  return parseReport(raw);
}

export function useReport(id: string) {
  return useQuery({
    queryKey: experimentKeys.report(id),
    queryFn: () => fetchReport(id),
    // Each report runs the statistics (and a bootstrap) on the server: no background refetching.
    staleTime: 60_000,
  });
}

export interface PowerQuery {
  base_rate: number;
  relative_lift: number;
  power: number;
  control_share: number;
}

export async function fetchPower(query: PowerQuery): Promise<PowerAnswer> {
  return unwrap(await api.GET("/api/v1/experiments/power", { params: { query } }));
}

export type ReportFile = "csv" | "pdf";

/** Download the report as CSV or PDF with the bearer token; returns the file name. */
export async function downloadReport(id: string, name: string, format: ReportFile): Promise<string> {
  const result = await api.GET("/api/v1/experiments/{experiment_id}/report", {
    params: { path: { experiment_id: id }, query: { format } },
    parseAs: "blob",
  });
  if (!result.response.ok || !(result.data instanceof Blob)) {
    throw new ApiError(errorMessage(result.error, "The download failed"), result.response.status, result.error);
  }
  const fallback = `experiment-${name.replace(/\s+/g, "-")}.${format}`;
  const file = attachmentName(result.response.headers.get("content-disposition"), fallback);
  saveBlob(result.data, file);
  return file;
}
