// Test helpers for the lead and review pages: a fake API (answers by "METHOD /path" template), the signed-in
// user, and a router + query client around the page under test. Imported by *.test.tsx files only.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { vi } from "vitest";
import type { CurrentUser } from "@/auth/AuthProvider";

export interface Call {
  method: string;
  path: string;
  params: { path?: Record<string, string>; query?: Record<string, unknown>; header?: Record<string, unknown> };
  body: unknown;
  /** The request's headers, lower-cased: `headers` of the call and its typed `params.header` together. */
  headers: Record<string, string>;
}

interface Reply {
  status?: number;
  body: unknown;
  /** Response headers (an ETag). */
  headers?: Record<string, string>;
}

export type Answer = Reply | ((call: Call) => Reply);

/** The fake API's state: answers by "GET /api/v1/leads" (the template, as the client names it), and every call. */
export const fakeApi = {
  answers: new Map<string, Answer>(),
  calls: [] as Call[],
  reset() {
    this.answers.clear();
    this.calls = [];
  },
  /** Answer `route` with this body (status 200), `{status, body}`, or a function of the call giving either. */
  on(route: string, answer: ((call: Call) => Reply) | object | null) {
    this.answers.set(
      route,
      typeof answer === "function" || (answer && typeof answer === "object" && "body" in answer)
        ? (answer as Answer)
        : { body: answer },
    );
  },
  callsTo(route: string): Call[] {
    const [method, path] = route.split(" ");
    return this.calls.filter((call) => call.method === method && call.path === path);
  },
};

function headersOf(init: { params?: Call["params"]; headers?: unknown }): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (name: string, value: unknown) => {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  };
  for (const [name, value] of Object.entries(init.params?.header ?? {})) add(name, value);
  if (init.headers instanceof Headers) init.headers.forEach((value, name) => add(name, value));
  else for (const [name, value] of Object.entries((init.headers as Record<string, unknown> | undefined) ?? {})) add(name, value);
  return headers;
}

function respond(method: string) {
  return async (path: string, init: { params?: Call["params"]; body?: unknown; headers?: unknown } = {}) => {
    const call: Call = { method, path, params: init.params ?? {}, body: init.body, headers: headersOf(init) };
    fakeApi.calls.push(call);
    const answer = fakeApi.answers.get(`${method} ${path}`);
    if (!answer) throw new Error(`no fake answer for ${method} ${path}`);
    const { status = 200, body, headers } = typeof answer === "function" ? answer(call) : answer;
    const response = new Response(null, { status: status === 204 ? 204 : status, headers });
    return status >= 400 ? { error: body, response } : { data: body, response };
  };
}

/** The module mock of "@/api/client" (use: vi.mock("@/api/client", apiModule)). */
export async function apiModule(importOriginal: () => Promise<unknown>) {
  const original = (await importOriginal()) as Record<string, unknown>;
  return {
    ...original,
    api: {
      GET: vi.fn(respond("GET")),
      POST: vi.fn(respond("POST")),
      PATCH: vi.fn(respond("PATCH")),
      PUT: vi.fn(respond("PUT")),
      DELETE: vi.fn(respond("DELETE")),
    },
  };
}

export const signedIn: { user: CurrentUser } = { user: makeUser("manager") };

export function makeUser(role: "admin" | "manager" | "agent" | "viewer"): CurrentUser {
  return {
    id: `00000000-0000-4000-8000-00000000000${["admin", "manager", "agent", "viewer"].indexOf(role) + 1}`,
    username: role,
    full_name: null,
    role,
    team_id: null,
    is_active: true,
  } as unknown as CurrentUser;
}

/** The module mock of "@/auth/AuthProvider": `signedIn.user` is the user. */
export async function authModule(importOriginal: () => Promise<unknown>) {
  const original = (await importOriginal()) as Record<string, unknown>;
  return {
    ...original,
    useUser: () => signedIn.user,
    useAuth: () => ({ user: signedIn.user, ready: true, login: vi.fn(), logout: vi.fn() }),
  };
}

/** Render `element` at `path` (matched by `route`), with a fresh query client; returns the router too. */
export function renderPage(element: ReactNode, { path, route }: { path: string; route: string }) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const router = createMemoryRouter([{ path: route, element }], { initialEntries: [path] });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...view, router, queryClient };
}

export function lead(overrides: Record<string, unknown> = {}) {
  return {
    id: "11111111-1111-4111-8111-111111111111",
    portfolio_id: "22222222-2222-4222-8222-222222222222",
    external_id: "BRW-1",
    first_name: "Ada",
    middle_name: null,
    last_name: "Lovelace",
    full_name: "Ada Lovelace",
    email: "ada@example.com",
    phone: "+15125550100",
    phones: [{ number: "+15125550100", type: "cell" }],
    address: "1 Main St",
    birth_date: null,
    city: "Austin",
    state: "TX",
    region: "TX",
    region_code: "US-TX",
    postal_code: "78701",
    country: "US",
    timezone: "America/Chicago",
    linkedin_url: "https://www.linkedin.com/in/ada",
    employer: "Acme",
    title: "Analyst",
    companyDomain: "acme.example",
    companyAbout: "Acme makes everything. ".repeat(20),
    balance: "1234.50",
    days_delinquent: 120,
    status: "new",
    assignee_id: null,
    team_id: null,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-02T10:00:00Z",
    portfolio_name: "Spring",
    assignee_name: null,
    team_name: null,
    ...overrides,
  };
}
