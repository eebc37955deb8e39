import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Navigate, RouterProvider, useLocation } from "react-router-dom";
import { ApiError } from "@/api/client";
import { AuthProvider, hasRole, useAuth, type Role } from "@/auth/AuthProvider";
import { LoginPage } from "@/auth/LoginPage";
import { Empty, Loading } from "@/components/states";
import { Shell } from "@/layout/Shell";
import { FeedPage } from "@/features/signals/FeedPage";

// The feed is the landing page and ships in the first bundle; every other page loads when first opened.
const LeadsPage = lazy(() => import("@/features/leads/LeadsPage"));
const LeadPage = lazy(() => import("@/features/leads/LeadPage"));
const ReviewPage = lazy(() => import("@/features/review/ReviewPage"));
const AlertsPage = lazy(() => import("@/features/alerts/AlertsPage"));
const AnalyticsPage = lazy(() => import("@/features/analytics/AnalyticsPage"));
const MapPage = lazy(() => import("@/features/geo/MapPage"));
const AdminPage = lazy(() => import("@/features/admin/AdminPage"));
const ExperimentsPage = lazy(() => import("@/features/experiments/ExperimentsPage"));
const ServicesPage = lazy(() => import("@/features/services/ServicesPage"));
const ExperimentPage = lazy(() => import("@/features/experiments/ExperimentPage"));
const DiscoveryPage = lazy(() => import("@/features/discovery/DiscoveryPage"));

function RequireSignIn({ children }: { children: ReactNode }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading what="Starting" />;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user } = useAuth();
  if (!hasRole(user, ...roles)) {
    return (
      <Empty title="This page is not available to your role.">
        Ask an administrator if you need access.
      </Empty>
    );
  }
  return <>{children}</>;
}

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

const router = createBrowserRouter([
  { path: "/login", element: <LoginPage /> },
  {
    path: "/",
    element: (
      <RequireSignIn>
        <Shell />
      </RequireSignIn>
    ),
    children: [
      { index: true, element: <FeedPage /> },
      { path: "leads", element: <Page><LeadsPage /></Page> },
      { path: "leads/:leadId", element: <Page><LeadPage /></Page> },
      {
        path: "review",
        element: (
          <RequireRole roles={["admin", "manager"]}>
            <Page><ReviewPage /></Page>
          </RequireRole>
        ),
      },
      { path: "alerts", element: <Page><AlertsPage /></Page> },
      { path: "settings/digest", element: <Navigate to="/alerts?tab=digest" replace /> },
      { path: "analytics", element: <Page><AnalyticsPage /></Page> },
      { path: "map", element: <Page><MapPage /></Page> },
      { path: "services", element: <Page><ServicesPage /></Page> },
      {
        path: "discovery",
        element: (
          <RequireRole roles={["admin", "manager"]}>
            <Page><DiscoveryPage /></Page>
          </RequireRole>
        ),
      },
      {
        path: "experiments",
        element: (
          <RequireRole roles={["admin", "manager"]}>
            <Page><ExperimentsPage /></Page>
          </RequireRole>
        ),
      },
      {
        path: "experiments/:experimentId",
        element: (
          <RequireRole roles={["admin", "manager"]}>
            <Page><ExperimentPage /></Page>
          </RequireRole>
        ),
      },
      {
        path: "admin/*",
        element: (
          <RequireRole roles={["admin"]}>
            <Page><AdminPage /></Page>
          </RequireRole>
        ),
      },
      { path: "*", element: <Empty title="Nothing here.">The address does not match a page.</Empty> },
    ],
  },
]);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // 4xx answers are final (permission, not found): only retry what may pass.
      retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status < 500),
    },
  },
});

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>
  );
}
