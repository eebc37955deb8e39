// Admin (admins only): users and teams, sources, compliance rules, webhooks, CRM connections, API clients, privacy
// requests, tracking sites, the audit log and suppressed e-mail addresses, each a nested route under /admin.
import { Navigate, NavLink, Route, Routes } from "react-router-dom";
import { Empty, PageHeader } from "@/components/states";
import { ApiClientsSection } from "./ApiClientsSection";
import { AuditSection } from "./AuditSection";
import { ComplianceSection } from "./ComplianceSection";
import { CrmSection } from "./CrmSection";
import { PrivacySection } from "./PrivacySection";
import { SourcesSection } from "./SourcesSection";
import { SuppressionsSection } from "./SuppressionsSection";
import { TrackingSection } from "./TrackingSection";
import { UsersSection } from "./UsersSection";
import { WebhooksSection } from "./WebhooksSection";
import "./admin.css";

export const ADMIN_SECTIONS = [
  { path: "users", label: "Users", element: <UsersSection /> },
  { path: "sources", label: "Sources", element: <SourcesSection /> },
  { path: "compliance", label: "Compliance", element: <ComplianceSection /> },
  { path: "webhooks", label: "Webhooks", element: <WebhooksSection /> },
  { path: "crm", label: "CRM", element: <CrmSection /> },
  { path: "api-clients", label: "API clients", element: <ApiClientsSection /> },
  { path: "privacy", label: "Privacy", element: <PrivacySection /> },
  { path: "tracking", label: "Tracking sites", element: <TrackingSection /> },
  { path: "audit", label: "Audit", element: <AuditSection /> },
  { path: "email-suppressions", label: "E-mail suppressions", element: <SuppressionsSection /> },
] as const;

export default function AdminPage() {
  return (
    <div className="admin-page">
      <PageHeader title="Admin" />
      <div className="admin-layout">
        <nav className="admin-nav" aria-label="Admin sections">
          <ul>
            {ADMIN_SECTIONS.map((section) => (
              <li key={section.path}>
                <NavLink to={`/admin/${section.path}`}>{section.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="admin-content">
          <Routes>
            <Route index element={<Navigate to="/admin/users" replace />} />
            {ADMIN_SECTIONS.map((section) => (
              <Route key={section.path} path={section.path} element={section.element} />
            ))}
            <Route path="*" element={<Empty title="No such admin page.">Pick a section from the list.</Empty>} />
          </Routes>
        </div>
      </div>
    </div>
  );
}
