import { PageHeader } from "@/components/states";

export default function AnalyticsPage() {
  return <PageHeader title="Analytics" />;
}
