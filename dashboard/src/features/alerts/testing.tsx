// Test helpers for the alerts and admin pages: a fake of the typed API client (routes by "METHOD /path" answering
// data or an API error, every call recorded) and a render with a query client and a router.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach } from "vitest";

// Vitest runs without globals, so Testing Library does not unmount between tests by itself.
afterEach(() => cleanup());

export interface FakeAnswer {
  status?: number;
  data?: unknown;
  error?: unknown;
  headers?: Record<string, string>;
}
export interface FakeCall {
  method: string;
  path: string;
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown> };
  body?: unknown;
}
export type FakeRoute = (call: FakeCall) => FakeAnswer | Promise<FakeAnswer>;
export interface FakeState {
  routes: Record<string, FakeRoute | FakeAnswer>;
  calls: FakeCall[];
}

function respond(method: string, state: FakeState) {
  return async (path: string, init: { params?: FakeCall["params"]; body?: unknown } = {}) => {
    const call: FakeCall = { method, path, params: init.params, body: init.body };
    state.calls.push(call);
    const route = state.routes[`${method} ${path}`];
    if (!route) throw new Error(`fake api: no route for ${method} ${path}`);
    const answer = typeof route === "function" ? await route(call) : route;
    const status = answer.status ?? (answer.error ? 422 : 200);
    const response = new Response(null, { status, headers: answer.headers });
    return status >= 400 ? { error: answer.error ?? { detail: "error" }, response } : { data: answer.data, response };
  };
}

/** Stands in for `api` from @/api/client (use inside vi.mock with a vi.hoisted state). */
export function fakeClient(state: FakeState) {
  return {
    GET: respond("GET", state),
    POST: respond("POST", state),
    PUT: respond("PUT", state),
    PATCH: respond("PATCH", state),
    DELETE: respond("DELETE", state),
    use: () => undefined,
  };
}

export function callsTo(state: FakeState, method: string, path: string): FakeCall[] {
  return state.calls.filter((c) => c.method === method && c.path === path);
}

/** The router location as text, to assert navigation. */
function Where() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

export function renderAt(ui: ReactElement, { url, path = "*" }: { url: string; path?: string }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path={path} element={ui} />
        </Routes>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

export const USERS = {
  admin: { id: "u-admin", username: "admin", role: "admin", team_id: null, full_name: "Avery Admin", email: null, is_active: true, created_at: "2026-12-01T10:00:00Z" },
  manager: { id: "u-manager", username: "manager", role: "manager", team_id: "t-east", full_name: "Morgan Manager", email: null, is_active: true, created_at: "2026-12-01T10:00:00Z" },
  agent: { id: "u-agent", username: "agent.alvarez", role: "agent", team_id: "t-east", full_name: "Luis Alvarez", email: null, is_active: true, created_at: "2026-12-01T10:00:00Z" },
} as const;
