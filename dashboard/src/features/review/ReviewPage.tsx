// Review (/review, managers and admins): the match review queue (a profile next to the lead it may be, agreed and
// disagreed fields marked; Approve or Reject) and duplicate leads (Merge, or not the same person; recent merges with
// Undo), and low-confidence texts (the classifier's unsure guesses, labelled by a person). The tab is kept in the
// URL (?tab=matches|duplicates|low-confidence).
import * as Tabs from "@radix-ui/react-tabs";
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { api, unwrap } from "@/api/client";
import { PageHeader } from "@/components/states";
import { DuplicatesTab } from "./DuplicatesTab";
import { LowConfidenceTab } from "./LowConfidenceTab";
import { MatchesTab, reviewKeys } from "./MatchesTab";
import "./review.css";

const TABS = ["matches", "duplicates", "low-confidence"] as const;
type Tab = (typeof TABS)[number];

export default function ReviewPage() {
  const [params, setParams] = useSearchParams();
  const requested = params.get("tab");
  const tab: Tab = (TABS as readonly string[]).includes(requested ?? "") ? (requested as Tab) : "matches";
  // The queue's size for the tab label (the same query the tab uses: one request).
  const queue = useQuery({
    queryKey: reviewKeys.matches,
    queryFn: async () => unwrap(await api.GET("/api/v1/matches/review", { params: { query: { limit: 50 } } })),
  });
  return (
    <div className="stack review-page">
      <PageHeader title="Review" />
      <Tabs.Root
        value={tab}
        onValueChange={(value) =>
          setParams(
            (current) => {
              const next = new URLSearchParams(current);
              if (value === "matches") next.delete("tab");
              else next.set("tab", value);
              return next;
            },
            { replace: true },
          )
        }
        className="stack"
      >
        <Tabs.List className="review-tabs" aria-label="What to review">
          <Tabs.Trigger value="matches" className="review-tab">
            Matches
            {queue.data ? <span className="review-tab-count">{queue.data.total}</span> : null}
          </Tabs.Trigger>
          <Tabs.Trigger value="duplicates" className="review-tab">
            Duplicates
          </Tabs.Trigger>
          <Tabs.Trigger value="low-confidence" className="review-tab">
            Low confidence
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="matches" className="review-panel">
          <MatchesTab />
        </Tabs.Content>
        <Tabs.Content value="duplicates" className="review-panel">
          <DuplicatesTab />
        </Tabs.Content>
        <Tabs.Content value="low-confidence" className="review-panel">
          <LowConfidenceTab />
        </Tabs.Content>
      </Tabs.Root>
    </div>
  );
}
