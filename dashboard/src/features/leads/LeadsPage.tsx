import { PageHeader } from "@/components/states";

export default function LeadsPage() {
  return <PageHeader title="Leads" />;
}
