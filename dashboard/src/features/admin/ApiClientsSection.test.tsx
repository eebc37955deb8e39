import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { callsTo, renderAt, USERS, type FakeState } from "@/features/alerts/testing";
import AdminPage from "./AdminPage";
import { parseAddresses } from "./ApiClientsSection";

const fake = vi.hoisted(() => ({ routes: {}, calls: [] }) as FakeState);
const auth = vi.hoisted(() => ({ user: null as unknown }));
vi.mock("@/api/client", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/api/client")>();
  const { fakeClient } = await import("@/features/alerts/testing");
  return { ...actual, api: fakeClient(fake) };
});
vi.mock("@/auth/AuthProvider", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/auth/AuthProvider")>();
  return { ...actual, useUser: () => auth.user, useAuth: () => ({ user: auth.user, ready: true }) };
});

const LOS = {
  id: "7f9c2b4e-0000-4000-8000-000000000001",
  name: "Loan system",
  auth_method: "client_secret",
  scopes: ["leads:read", "outcomes:write"],
  allowed_ips: ["10.20.0.0/16"],
  public_key: null,
  is_active: true,
  created_at: "2026-12-01T10:00:00Z",
  created_by: "user:admin",
};
const WAREHOUSE = {
  ...LOS,
  id: "7f9c2b4e-0000-4000-8000-000000000002",
  name: "Warehouse",
  auth_method: "private_key_jwt",
  scopes: ["signals:read"],
  allowed_ips: [],
  public_key: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
  is_active: false,
};
const NEW_ID = "7f9c2b4e-0000-4000-8000-0000000000aa";

beforeEach(() => {
  fake.calls.length = 0;
  auth.user = USERS.admin;
  fake.routes = {
    "GET /api/v1/api-clients": { data: [LOS, WAREHOUSE] },
    "POST /api/v1/api-clients": ({ body }) => {
      const b = body as { name: string; scopes: string[]; allowed_ips: string[]; public_key?: string };
      return {
        status: 201,
        data: {
          ...LOS,
          ...b,
          id: NEW_ID,
          auth_method: b.public_key ? "private_key_jwt" : "client_secret",
          public_key: b.public_key ?? null,
          client_secret: b.public_key ? null : "ups_cs_once-only-secret",
        },
      };
    },
    "PATCH /api/v1/api-clients/{client_id}": ({ body, params }) => ({
      data: { ...LOS, id: params?.path?.client_id, ...(body as object) },
    }),
    "POST /api/v1/api-clients/{client_id}/rotate-secret": { data: { ...LOS, client_secret: "ups_cs_rotated" } },
    "DELETE /api/v1/api-clients/{client_id}": { status: 204 },
  };
});

const open = () => renderAt(<AdminPage />, { url: "/admin/api-clients", path: "/admin/*" });
const row = async (name: string) =>
  (await screen.findAllByTestId("admin-api-client-row")).find((r) => r.getAttribute("data-name") === name)!;

describe("the API clients section", { timeout: 20_000 }, () => {
  it("is in the admin navigation and lists the clients", async () => {
    open();
    const nav = screen.getByRole("navigation", { name: "Admin sections" });
    expect(within(nav).getByRole("link", { name: "API clients" })).toHaveAttribute("href", "/admin/api-clients");
    const table = await screen.findByTestId("admin-api-clients-table");
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    const los = await row("Loan system");
    expect(los).toHaveTextContent(LOS.id);
    expect(los).toHaveTextContent("Client secret");
    expect(within(los).getByRole("list", { name: "Scopes of Loan system" })).toHaveTextContent("leads:readoutcomes:write");
    expect(los).toHaveTextContent("10.20.0.0/16");
    expect(los).toHaveTextContent("On");
    const warehouse = await row("Warehouse");
    expect(warehouse).toHaveTextContent("Private key JWT");
    expect(warehouse).toHaveTextContent("any");
    expect(warehouse).toHaveTextContent("Off");
    // A key-signing client has no secret to rotate.
    expect(within(warehouse).queryByRole("button", { name: /Rotate/ })).not.toBeInTheDocument();
  });

  it("creates a client and shows its id and secret once, with a copy button", async () => {
    const user = userEvent.setup();
    open();
    await user.click(await screen.findByRole("button", { name: "New API client" }));
    const form = await screen.findByTestId("admin-api-client-form");
    await user.type(within(form).getByLabelText("Name"), "Data warehouse");
    await user.click(within(form).getByRole("checkbox", { name: "Read leads (leads:read)" }));
    await user.click(within(form).getByRole("checkbox", { name: "Record outcomes (outcomes:write)" }));
    await user.type(within(form).getByLabelText("Allowed addresses"), "203.0.113.10, 10.0.0.0/8{Enter}192.0.2.1");
    await user.click(within(form).getByRole("button", { name: "Create client" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/api-clients")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/api-clients")[0]?.body).toEqual({
      name: "Data warehouse",
      scopes: ["leads:read", "outcomes:write"],
      allowed_ips: ["203.0.113.10", "10.0.0.0/8", "192.0.2.1"],
    });
    const dialog = await screen.findByRole("dialog", { name: "Data warehouse is ready" });
    expect(within(dialog).getByTestId("api-client-id")).toHaveValue(NEW_ID);
    expect(within(dialog).getByTestId("api-client-secret")).toHaveValue("ups_cs_once-only-secret");
    expect(within(dialog).getByRole("note")).toHaveTextContent("The secret will not be shown again");
    await user.click(within(dialog).getByRole("button", { name: "Copy client secret" }));
    expect(await navigator.clipboard.readText()).toBe("ups_cs_once-only-secret");
    expect(within(dialog).getByRole("button", { name: "Copy client secret" })).toHaveTextContent("Copied");
    await user.click(within(dialog).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(document.body.innerHTML).not.toContain("ups_cs_once-only-secret");
  });

  it("creates a private_key_jwt client with its public key", async () => {
    open();
    await userEvent.click(await screen.findByRole("button", { name: "New API client" }));
    const form = await screen.findByTestId("admin-api-client-form");
    await userEvent.type(within(form).getByLabelText("Name"), "Signer");
    await userEvent.click(within(form).getByRole("checkbox", { name: "Read signals (signals:read)" }));
    await userEvent.click(within(form).getByRole("radio", { name: /Private key JWT/ }));
    await userEvent.type(within(form).getByLabelText("Public key"), '{{"kty":"EC"}');
    await userEvent.click(within(form).getByRole("button", { name: "Create client" }));
    await waitFor(() => expect(callsTo(fake, "POST", "/api/v1/api-clients")).toHaveLength(1));
    expect(callsTo(fake, "POST", "/api/v1/api-clients")[0]?.body).toEqual({
      name: "Signer",
      scopes: ["signals:read"],
      allowed_ips: [],
      public_key: '{"kty":"EC"}',
    });
    const dialog = await screen.findByRole("dialog", { name: "Signer is ready" });
    expect(within(dialog).getByTestId("api-client-id")).toHaveValue(NEW_ID);
    expect(within(dialog).queryByTestId("api-client-secret")).not.toBeInTheDocument();
    expect(dialog).toHaveTextContent("there is no secret");
  });

  it("shows the API's 422 field errors next to their fields", async () => {
    fake.routes["POST /api/v1/api-clients"] = {
      status: 422,
      error: {
        detail: "2 problems",
        errors: [
          { row: null, field: "body.allowed_ips.1", message: "Value error, 10.0.0.300 is not an IP address or network" },
          { row: null, field: "body.scopes", message: "List should have at least 1 item after validation, not 0" },
        ],
      },
    };
    open();
    await userEvent.click(await screen.findByRole("button", { name: "New API client" }));
    const form = await screen.findByTestId("admin-api-client-form");
    await userEvent.type(within(form).getByLabelText("Name"), "Bad");
    await userEvent.type(within(form).getByLabelText("Allowed addresses"), "10.0.0.1, 10.0.0.300");
    await userEvent.click(within(form).getByRole("button", { name: "Create client" }));
    const ips = within(form).getByLabelText("Allowed addresses");
    await waitFor(() => expect(ips).toHaveAttribute("aria-invalid", "true"));
    const described = ips.getAttribute("aria-describedby")!.split(" ").map((id) => document.getElementById(id)?.textContent);
    expect(described).toContain("10.0.0.300 is not an IP address or network");
    expect(within(form).getByRole("group", { name: "Scopes (what it may do)" })).toHaveTextContent("at least 1 item");
    expect(screen.queryByTestId("api-client-secret")).not.toBeInTheDocument();
  });

  it("rotates a secret once confirmed and shows the new one once", async () => {
    open();
    const los = await row("Loan system");
    await userEvent.click(within(los).getByRole("button", { name: "Rotate the secret of Loan system" }));
    const confirm = await screen.findByRole("dialog", { name: "Rotate the secret of Loan system?" });
    expect(callsTo(fake, "POST", "/api/v1/api-clients/{client_id}/rotate-secret")).toHaveLength(0);
    await userEvent.click(within(confirm).getByRole("button", { name: "Rotate secret" }));
    const dialog = await screen.findByRole("dialog", { name: "New secret for Loan system" });
    expect(within(dialog).getByTestId("api-client-secret")).toHaveValue("ups_cs_rotated");
    expect(within(dialog).getByTestId("api-client-id")).toHaveValue(LOS.id);
    expect(callsTo(fake, "POST", "/api/v1/api-clients/{client_id}/rotate-secret")[0]?.params?.path).toEqual({ client_id: LOS.id });
  });

  it("revokes a client only once confirmed", async () => {
    open();
    const los = await row("Loan system");
    await userEvent.click(within(los).getByRole("button", { name: "Revoke Loan system" }));
    let dialog = await screen.findByRole("dialog", { name: "Revoke Loan system?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(callsTo(fake, "DELETE", "/api/v1/api-clients/{client_id}")).toHaveLength(0);

    await userEvent.click(within(los).getByRole("button", { name: "Revoke Loan system" }));
    dialog = await screen.findByRole("dialog", { name: "Revoke Loan system?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Revoke client" }));
    await waitFor(() => expect(callsTo(fake, "DELETE", "/api/v1/api-clients/{client_id}")).toHaveLength(1));
    expect(callsTo(fake, "DELETE", "/api/v1/api-clients/{client_id}")[0]?.params?.path).toEqual({ client_id: LOS.id });
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("disables and enables a client", async () => {
    open();
    await userEvent.click(within(await row("Loan system")).getByRole("button", { name: "Disable Loan system" }));
    await waitFor(() => expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")).toHaveLength(1));
    expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")[0]?.body).toEqual({ is_active: false });
    expect(await within(await row("Loan system")).findByText(/Disabled: its tokens stop working/)).toBeInTheDocument();
    await userEvent.click(within(await row("Warehouse")).getByRole("button", { name: "Enable Warehouse" }));
    await waitFor(() => expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")).toHaveLength(2));
    expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")[1]).toMatchObject({
      params: { path: { client_id: WAREHOUSE.id } },
      body: { is_active: true },
    });
  });

  it("edits a client, sending only what changed", async () => {
    open();
    await userEvent.click(within(await row("Loan system")).getByRole("button", { name: "Edit Loan system" }));
    const form = await screen.findByTestId("admin-api-client-form");
    expect(within(form).getByLabelText("Allowed addresses")).toHaveValue("10.20.0.0/16");
    expect(within(form).queryByRole("radio")).not.toBeInTheDocument();
    await userEvent.click(within(form).getByRole("checkbox", { name: "Write leads (leads:write)" }));
    await userEvent.click(within(form).getByRole("button", { name: "Save client" }));
    await waitFor(() => expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")).toHaveLength(1));
    expect(callsTo(fake, "PATCH", "/api/v1/api-clients/{client_id}")[0]?.body).toEqual({
      scopes: ["leads:read", "leads:write", "outcomes:write"],
    });
  });
});

describe("allowed addresses", () => {
  it("splits on commas, spaces and new lines", () => {
    expect(parseAddresses(" 10.0.0.0/8,192.0.2.1\n\n2001:db8::/32 ; 203.0.113.9 ")).toEqual([
      "10.0.0.0/8",
      "192.0.2.1",
      "2001:db8::/32",
      "203.0.113.9",
    ]);
    expect(parseAddresses("   ")).toEqual([]);
  });
});
