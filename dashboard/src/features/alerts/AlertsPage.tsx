import { PageHeader } from "@/components/states";

export default function AlertsPage() {
  return <PageHeader title="Alerts" />;
}
