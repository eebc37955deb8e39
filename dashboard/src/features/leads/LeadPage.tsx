import { PageHeader } from "@/components/states";

export default function LeadPage() {
  return <PageHeader title="Lead" />;
}
