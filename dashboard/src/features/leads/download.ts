// The CSV export of the current filter: GET /api/v1/leads/export.csv with the bearer token (a plain link could not
// carry it), saved by the browser under the name the API gives.
import { api, ApiError, errorMessage } from "@/api/client";
import type { LeadQuery } from "./filters";

/** The file name of a Content-Disposition header, or `fallback`. */
export function attachmentName(header: string | null, fallback: string): string {
  const match = header?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  return match?.[1] ? decodeURIComponent(match[1]) : fallback;
}

/** Hand a blob to the browser as a download. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.rel = "noopener";
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Let the download start before the address is revoked.
  window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export async function downloadLeadsCsv(query: LeadQuery): Promise<string> {
  const filters = { ...query };
  delete filters.sort; // the export keeps the list's default order (most delinquent first)
  const result = await api.GET("/api/v1/leads/export.csv", { params: { query: filters }, parseAs: "blob" });
  if (!result.response.ok || !result.data) {
    throw new ApiError(errorMessage(result.error, "The export failed"), result.response.status, result.error);
  }
  const name = attachmentName(result.response.headers.get("content-disposition"), "leads.csv");
  saveBlob(result.data as Blob, name);
  return name;
}
