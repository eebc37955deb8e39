import { cleanup, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, makeUser, renderPage, signedIn } from "@/features/leads/testing";
import { parseOrigins, TrackingSection } from "./TrackingSection";

vi.mock("@/api/client", async (original) => (await import("@/features/leads/testing")).apiModule(original));
vi.mock("@/auth/AuthProvider", async (original) => (await import("@/features/leads/testing")).authModule(original));

const SITE = {
  id: "11111111-1111-4111-8111-111111111111",
  name: "Borrower portal",
  site_key: "us_abcdefghijklmnop",
  allowed_origins: ["https://portal.lender.example"],
  portfolio_id: null,
  active: true,
  created_by: "user:admin",
  created_at: "2026-12-01T10:00:00Z",
};

function show() {
  return renderPage(<TrackingSection />, { path: "/admin/tracking", route: "/admin/tracking" });
}

beforeEach(() => {
  fakeApi.reset();
  signedIn.user = makeUser("admin");
});

afterEach(() => cleanup());

describe("tracking sites", { timeout: 20_000 }, () => {
  it("lists sites and shows a site's anonymous counts", async () => {
    fakeApi.on("GET /api/v1/tracking/sites", [SITE]);
    fakeApi.on("GET /api/v1/tracking/sites/{site_id}/stats", {
      site_id: SITE.id, visitors: 3, linked_visitors: 1, events: 7,
      daily_counts: [{ day: "2026-12-06", path_group: "repayment", count: 12 }],
    });
    show();
    const table = await screen.findByTestId("admin-tracking-table");
    expect(within(table).getByText("us_abcdefghijklmnop")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Show the activity of Borrower portal" }));
    const activity = await screen.findByTestId("tracking-site-activity");
    expect(activity).toHaveTextContent("3 consenting visitor(s), 1 linked to a lead, 7 event(s) kept.");
    expect(activity).toHaveTextContent("repayment12");
  });

  it("adds a site, sending the origins as a list, and shows its secret once", async () => {
    fakeApi.on("GET /api/v1/tracking/sites", []);
    fakeApi.on("POST /api/v1/tracking/sites", {
      status: 201,
      body: { ...SITE, secret: "s".repeat(64), snippet: '<script src="/t.js" data-site="us_abcdefghijklmnop" defer></script>' },
    });
    show();
    await userEvent.click(await screen.findByRole("button", { name: "Add site" }));
    await userEvent.type(screen.getByLabelText("Name"), "Borrower portal");
    await userEvent.type(screen.getByLabelText("Allowed origins"), "https://portal.lender.example");
    await userEvent.click(within(screen.getByRole("form", { name: "Add a tracking site" })).getByRole("button", { name: "Add site" }));
    expect(await screen.findByTestId("tracking-site-secret")).toHaveValue("s".repeat(64));
    expect(fakeApi.callsTo("POST /api/v1/tracking/sites")[0]?.body).toEqual({
      name: "Borrower portal", allowed_origins: ["https://portal.lender.example"], portfolio: null,
    });
  });

  it("reads origins one per line or comma-separated", () => {
    expect(parseOrigins(" https://a.example,\nhttps://b.example  ")).toEqual(["https://a.example", "https://b.example"]);
  });
});
