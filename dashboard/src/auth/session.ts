// Browser sessions against /api/v1/auth/session: the refresh token stays in an HttpOnly cookie the scripts never
// see; the CSRF token (a readable cookie) is echoed in X-CSRF-Token on refresh.
import { setAccessToken } from "@/api/client";

export interface BrowserToken {
  access_token: string;
  expires_in: number;
  csrf_token: string;
}

function csrfFromCookie(): string | null {
  const match = document.cookie.split("; ").find((part) => part.startsWith("upswing_csrf="));
  return match ? decodeURIComponent(match.slice("upswing_csrf=".length)) : null;
}

export async function signIn(username: string, password: string): Promise<BrowserToken> {
  const body = new URLSearchParams({ username, password, grant_type: "password" });
  const response = await fetch("/api/v1/auth/session", { method: "POST", body, credentials: "same-origin" });
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    throw new Error(
      response.status === 429
        ? "Too many failed attempts; try again later."
        : typeof detail.detail === "string"
          ? detail.detail
          : "Sign-in failed",
    );
  }
  const token = (await response.json()) as BrowserToken;
  setAccessToken(token.access_token);
  return token;
}

/** A new access token from the refresh cookie, or null when the browser is not signed in. */
export async function refreshSession(): Promise<BrowserToken | null> {
  const csrf = csrfFromCookie();
  if (!csrf) return null;
  const response = await fetch("/api/v1/auth/session/refresh", {
    method: "POST",
    headers: { "X-CSRF-Token": csrf },
    credentials: "same-origin",
  });
  if (!response.ok) return null;
  const token = (await response.json()) as BrowserToken;
  setAccessToken(token.access_token);
  return token;
}

export async function signOut(): Promise<void> {
  await fetch("/api/v1/auth/session/logout", { method: "POST", credentials: "same-origin" }).catch(() => undefined);
  setAccessToken(null);
}
