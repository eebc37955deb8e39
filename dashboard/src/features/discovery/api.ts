// Discovery over the typed client (TanStack Query): start a run, follow it (polled while it works), the latest runs,
// and the prospects waiting for review with approve / reject. See docs/discovery.md.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";

export type DiscoverRequest = Schemas["DiscoverRequest"];
export type DiscoveryRun = Schemas["RunRead"];
export type Prospect = Schemas["ProspectRead"];
export type ReviewState = "pending" | "approved" | "rejected" | "all";

/** How often a queued or running run is asked for its progress. */
export const POLL_MS = 1500;

export const discoveryKeys = {
  all: ["discovery"] as const,
  runs: () => ["discovery", "runs"] as const,
  run: (id: string) => ["discovery", "run", id] as const,
  prospects: (state: ReviewState) => ["discovery", "prospects", state] as const,
};

export function isWorking(run: DiscoveryRun | undefined): boolean {
  return run?.status === "queued" || run?.status === "running";
}

export function useRun(id: string | null) {
  return useQuery({
    queryKey: discoveryKeys.run(id ?? ""),
    enabled: id !== null,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/discover/{run_id}", { params: { path: { run_id: id ?? "" } } })),
    refetchInterval: (query) => (isWorking(query.state.data) ? POLL_MS : false),
  });
}

export function useRuns() {
  return useQuery({
    queryKey: discoveryKeys.runs(),
    queryFn: async () => unwrap(await api.GET("/api/v1/discover/runs", { params: { query: { limit: 10 } } })),
  });
}

export function useStartDiscovery() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: DiscoverRequest) => unwrap(await api.POST("/api/v1/discover", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: discoveryKeys.runs() }),
  });
}

export function useProspects(state: ReviewState) {
  return useQuery({
    queryKey: discoveryKeys.prospects(state),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/discover/prospects", { params: { query: { state, limit: 100 } } })),
  });
}

export function useReview() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ leadId, decision }: { leadId: string; decision: "approve" | "reject" }) =>
      unwrap(
        await api.POST("/api/v1/discover/prospects/{lead_id}/review", {
          params: { path: { lead_id: leadId } },
          body: { decision },
        }),
      ),
    onSuccess: () => void client.invalidateQueries({ queryKey: discoveryKeys.all }),
  });
}
