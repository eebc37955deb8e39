import { PageHeader } from "@/components/states";

export default function ReviewPage() {
  return <PageHeader title="Review" />;
}
