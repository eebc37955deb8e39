import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, setUnauthorizedHandler, unwrap, type Schemas } from "@/api/client";
import { refreshSession, signIn, signOut } from "./session";

export type Role = "admin" | "manager" | "agent" | "viewer";
export type CurrentUser = Schemas["UserRead"];

interface AuthState {
  user: CurrentUser | null;
  ready: boolean; // false until the first refresh attempt answered
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<CurrentUser | null>(null);
  const [ready, setReady] = useState(false);
  const queryClient = useQueryClient();
  const refreshing = useRef<Promise<string | null> | null>(null);

  const loadMe = useCallback(async () => {
    setUser(unwrap(await api.GET("/api/v1/users/me")));
  }, []);

  // One refresh at a time, however many calls answered 401 together.
  const refresh = useCallback(async (): Promise<string | null> => {
    refreshing.current ??= refreshSession()
      .then((token) => token?.access_token ?? null)
      .finally(() => {
        refreshing.current = null;
      });
    const token = await refreshing.current;
    if (!token) setUser(null);
    return token;
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(refresh);
    let cancelled = false;
    refresh()
      .then(async (token) => {
        if (token && !cancelled) await loadMe();
      })
      .catch(() => undefined)
      .finally(() => !cancelled && setReady(true));
    return () => {
      cancelled = true;
      setUnauthorizedHandler(null);
    };
  }, [refresh, loadMe]);

  // Renew the access token before it expires while the tab is open.
  useEffect(() => {
    if (!user) return;
    const timer = window.setInterval(() => void refresh(), 20 * 60 * 1000);
    return () => window.clearInterval(timer);
  }, [user, refresh]);

  const value = useMemo<AuthState>(
    () => ({
      user,
      ready,
      login: async (username, password) => {
        await signIn(username, password);
        await loadMe();
      },
      logout: async () => {
        await signOut();
        queryClient.clear();
        setUser(null);
      },
    }),
    [user, ready, loadMe, queryClient],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}

/** The signed-in user (inside the authenticated part of the app). */
export function useUser(): CurrentUser {
  const { user } = useAuth();
  if (!user) throw new Error("useUser without a signed-in user");
  return user;
}

export function hasRole(user: CurrentUser | null, ...roles: Role[]): boolean {
  return !!user && roles.includes(user.role as Role);
}
