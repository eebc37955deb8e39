import { useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { hasRole, useAuth, useUser, type Role } from "@/auth/AuthProvider";

interface NavItem {
  to: string;
  label: string;
  roles: Role[];
}

// What each role may reach mirrors the API (the API stays the authority: a hidden link is convenience only).
export const NAV: NavItem[] = [
  { to: "/", label: "Feed", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/leads", label: "Leads", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/review", label: "Review", roles: ["admin", "manager"] },
  { to: "/alerts", label: "Alerts", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/analytics", label: "Analytics", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/map", label: "Map", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/services", label: "Services", roles: ["admin", "manager", "agent", "viewer"] },
  { to: "/experiments", label: "Experiments", roles: ["admin", "manager"] },
  { to: "/discovery", label: "Discovery", roles: ["admin", "manager"] },
  { to: "/admin", label: "Admin", roles: ["admin"] },
];

export function Shell() {
  const user = useUser();
  const { logout } = useAuth();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const items = NAV.filter((item) => hasRole(user, ...item.roles));
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-button"
          aria-expanded={open}
          aria-controls="primary-nav"
          onClick={() => setOpen((value) => !value)}
        >
          Menu
        </button>
        <span className="brand">Upswing</span>
        <span className="who" title={user.role}>
          {user.full_name ?? user.username} · {user.role}
        </span>
        <button type="button" className="button button-quiet" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <nav id="primary-nav" className={open ? "nav nav-open" : "nav"} aria-label="Main">
        <ul>
          {items.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.to === "/"} onClick={() => setOpen(false)}>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="main" tabIndex={-1} key={location.pathname}>
        <Outlet />
      </main>
    </div>
  );
}
