// Alerts: the user's inbox, the alert rules (managers and admins) and the digest preferences, as tabs kept in the
// URL (?tab=inbox|rules|digest) so a link, a reload and the back button land on the same tab.
import * as Tabs from "@radix-ui/react-tabs";
import { useSearchParams } from "react-router-dom";
import { PageHeader } from "@/components/states";
import { DigestTab } from "./DigestTab";
import { InboxTab } from "./InboxTab";
import { RulesTab } from "./RulesTab";
import "./alerts.css";

const TABS = ["inbox", "rules", "digest"] as const;
type Tab = (typeof TABS)[number];

export default function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const requested = params.get("tab");
  const tab: Tab = (TABS as readonly string[]).includes(requested ?? "") ? (requested as Tab) : "inbox";
  const select = (next: string) =>
    // Each tab's own parameters (filters, the rule being edited) do not carry over to another tab.
    setParams(next === "inbox" ? {} : { tab: next });
  return (
    <div className="alerts-page">
      <PageHeader title="Alerts" />
      <Tabs.Root value={tab} onValueChange={select} className="alerts-tabs">
        <Tabs.List className="alerts-tablist" aria-label="Alerts sections">
          <Tabs.Trigger value="inbox" className="alerts-tab">
            Inbox
          </Tabs.Trigger>
          <Tabs.Trigger value="rules" className="alerts-tab">
            Rules
          </Tabs.Trigger>
          <Tabs.Trigger value="digest" className="alerts-tab">
            Digest
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="inbox" className="alerts-panel">
          {tab === "inbox" && <InboxTab />}
        </Tabs.Content>
        <Tabs.Content value="rules" className="alerts-panel">
          {tab === "rules" && <RulesTab />}
        </Tabs.Content>
        <Tabs.Content value="digest" className="alerts-panel">
          {tab === "digest" && <DigestTab />}
        </Tabs.Content>
      </Tabs.Root>
    </div>
  );
}
