// Data for the lead pages (TanStack Query): one hook per API read, keys shared so a change refreshes them.
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "@/api/client";
import type { LeadQuery } from "./filters";

export type Lead = Schemas["LeadRead"];
export type LeadsPageData = Schemas["LeadPage"];

/** Rows fetched per request of the lead list (the table asks for the next page as it scrolls). */
export const PAGE_SIZE = 100;

export const leadKeys = {
  all: ["leads"] as const,
  list: (query: LeadQuery) => ["leads", "list", query] as const,
  one: (id: string) => ["leads", "one", id] as const,
  timeline: (id: string) => ["leads", "timeline", id] as const,
  audit: (id: string, views: boolean) => ["leads", "audit", id, views] as const,
};

export function useLeadList(query: LeadQuery) {
  return useInfiniteQuery({
    queryKey: leadKeys.list(query),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        await api.GET("/api/v1/leads", {
          // The first page also counts the matches (capped by the API); later pages continue by cursor.
          params: { query: { ...query, limit: PAGE_SIZE, cursor: pageParam ?? undefined, count: pageParam === null } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
    placeholderData: keepPreviousData,
  });
}

export function usePortfolios() {
  return useQuery({
    queryKey: ["leads", "portfolios"],
    queryFn: async () => unwrap(await api.GET("/api/v1/leads/portfolios")),
    staleTime: 5 * 60_000,
  });
}

export function useTeams() {
  return useQuery({
    queryKey: ["teams"],
    queryFn: async () => unwrap(await api.GET("/api/v1/teams")),
    staleTime: 5 * 60_000,
  });
}

/** Whom leads can be assigned to (managers and admins only: `enabled` false for the others). */
export function useAssignees(enabled: boolean) {
  return useQuery({
    queryKey: ["leads", "assignees"],
    queryFn: async () => unwrap(await api.GET("/api/v1/leads/assignees")),
    staleTime: 5 * 60_000,
    enabled,
  });
}

export function useLead(id: string) {
  return useQuery({
    queryKey: leadKeys.one(id),
    queryFn: async () => unwrap(await api.GET("/api/v1/leads/{lead_id}", { params: { path: { lead_id: id } } })),
  });
}

/** A 404 (or a 422 for an id that is no UUID): the lead does not exist or is not the user's to see. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 422);
}
