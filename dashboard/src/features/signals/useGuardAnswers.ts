// The contact guard's answers for the leads on the feed: one POST /api/v1/compliance/answers per loaded page
// (≤ 100 leads each), refreshed every minute ("call after 8:00 am CT" turns into "call now" by itself).
import { useQueries } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { ANSWERS_ROOT, type FeedData } from "./feedCache";

export type GuardAnswer = Schemas["ContactAnswer"];
const MAX_LEADS = 100;

/** The lead ids to ask about, one group per page (a page that grew past 100 is split). */
export function answerGroups(data: FeedData | undefined): string[][] {
  const groups: string[][] = [];
  const seen = new Set<string>();
  for (const page of data?.pages ?? []) {
    const ids: string[] = [];
    for (const item of page.items) {
      if (!seen.has(item.lead_id)) {
        seen.add(item.lead_id);
        ids.push(item.lead_id);
      }
    }
    for (let start = 0; start < ids.length; start += MAX_LEADS) groups.push(ids.slice(start, start + MAX_LEADS));
  }
  return groups;
}

export function useGuardAnswers(data: FeedData | undefined): {
  answers: ReadonlyMap<string, GuardAnswer>;
  failed: boolean;
  loading: boolean;
} {
  const groups = answerGroups(data);
  const results = useQueries({
    queries: groups.map((ids) => ({
      queryKey: [...ANSWERS_ROOT, ids.join(",")],
      queryFn: async () => unwrap(await api.POST("/api/v1/compliance/answers", { body: { lead_ids: ids } })),
      staleTime: 60_000,
      refetchInterval: 60_000,
    })),
  });
  const stamp = results.map((result) => result.dataUpdatedAt).join(",");
  const answers = useMemo(() => {
    const map = new Map<string, GuardAnswer>();
    for (const result of results) for (const item of result.data?.items ?? []) map.set(item.lead_id, item);
    return map;
    // stamp changes whenever any group's answer does
  }, [stamp]);
  return {
    answers,
    failed: results.some((result) => result.isError),
    loading: results.some((result) => result.isPending),
  };
}
