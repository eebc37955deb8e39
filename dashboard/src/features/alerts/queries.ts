// Queries the alerts tabs share (and their cache keys).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { hasRole } from "@/auth/AuthProvider";

export const ruleKeys = {
  all: ["alert-rules"] as const,
  list: ["alert-rules", "list"] as const,
  options: ["alert-rules", "options"] as const,
  teams: ["teams"] as const,
};

export function useTeams() {
  return useQuery({
    queryKey: ruleKeys.teams,
    queryFn: async () => unwrap(await api.GET("/api/v1/teams")),
    staleTime: 60_000,
  });
}

/** The names a rule (or a digest filter) may use; managers and admins only. */
export function useRuleOptions(enabled = true) {
  return useQuery({
    queryKey: ruleKeys.options,
    queryFn: async () => unwrap(await api.GET("/api/v1/alert-rules/options")),
    staleTime: 60_000,
    enabled,
  });
}

/** Admins change every rule; a manager their own team's (the API decides; this hides what it would refuse). */
export function canManageRule(user: Schemas["UserRead"], rule: Schemas["RuleRead"]): boolean {
  if (hasRole(user, "admin")) return true;
  return hasRole(user, "manager") && rule.team_id !== null && rule.team_id === user.team_id;
}
