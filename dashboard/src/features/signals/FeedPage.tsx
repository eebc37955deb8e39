import { PageHeader } from "@/components/states";

export function FeedPage() {
  return <PageHeader title="Feed" />;
}
