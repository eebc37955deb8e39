// Alert rules (managers and admins): the list, and the form editor (?tab=rules&rule=new|<id>).
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "@/api/client";
import { hasRole, useUser } from "@/auth/AuthProvider";
import { Empty, ErrorState, Loading } from "@/components/states";
import { ALERT_CHANNEL_LABELS, PRIORITY_LABELS, RULE_TYPE_LABELS, signalTypeLabel } from "./labels";
import { canManageRule, ruleKeys, useTeams } from "./queries";
import { RuleEditor } from "./RuleEditor";
import { describeConditions } from "./ruleForm";

function recipientsText(recipients: Record<string, unknown>): string {
  const to = recipients.to;
  if (to === "manager") return "The team's manager";
  if (to === "named") {
    const names = [...((recipients.users as string[]) ?? []), ...((recipients.teams as string[]) ?? []).map((t) => `team ${t}`)];
    return names.join(", ") || "Named";
  }
  return "The lead's owner";
}

export function RulesTab() {
  const user = useUser();
  const [params] = useSearchParams();
  const headingId = useId();
  const editing = params.get("rule");
  const allowed = hasRole(user, "admin", "manager");
  const rules = useQuery({
    queryKey: ruleKeys.list,
    queryFn: async () => unwrap(await api.GET("/api/v1/alert-rules")),
    enabled: allowed,
  });
  const teams = useTeams();

  if (!allowed) {
    return (
      <Empty title="Alert rules are set by managers and administrators.">
        Your alerts follow your team&apos;s rules. Ask your manager if you need an alert that does not reach you; your
        digest settings are yours to change on the Digest tab.
      </Empty>
    );
  }
  if (editing) return <RuleEditor ruleId={editing === "new" ? null : editing} />;

  const teamName = (id: string | null) =>
    id === null ? "All teams" : (teams.data?.find((t) => t.id === id)?.name ?? "A team");
  return (
    <section className="stack" aria-labelledby={headingId}>
      <div className="alerts-section-head">
        <h2 id={headingId}>Alert rules</h2>
        <Link className="button button-primary" to="?tab=rules&rule=new">
          New rule
        </Link>
      </div>
      <p className="muted alerts-intro">
        A signal alerts the people a rule names when every condition of the rule holds.{" "}
        {hasRole(user, "manager") && "You manage your own team's rules; rules for all teams are the administrators'."}
      </p>
      {rules.isPending ? (
        <Loading what="Loading rules" />
      ) : rules.isError ? (
        <ErrorState error={rules.error} retry={() => void rules.refetch()} />
      ) : rules.data.length === 0 ? (
        <Empty title="No rules yet.">Create one to route signals to the right people.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table alerts-rules-table" data-testid="rules-table">
            <caption className="visually-hidden">Alert rules</caption>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Conditions</th>
                <th scope="col">Channels</th>
                <th scope="col">Recipients</th>
                <th scope="col">Priority</th>
                <th scope="col">Team</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.data.map((rule) => (
                <tr key={rule.id} data-testid="rule-row" data-rule-id={rule.id}>
                  <td>
                    <strong>{rule.name}</strong>
                    <div className="muted">
                      {RULE_TYPE_LABELS[rule.rule_type as Schemas["RuleType"]] ?? rule.rule_type}
                      {rule.is_default && " · shipped default"}
                    </div>
                  </td>
                  <td>{describeConditions(rule.conditions, signalTypeLabel)}</td>
                  <td>{rule.channels.map((c) => ALERT_CHANNEL_LABELS[c] ?? c).join(", ")}</td>
                  <td>{recipientsText(rule.recipients)}</td>
                  <td>{rule.priority ? PRIORITY_LABELS[rule.priority as Schemas["Priority"]] : "The signal's"}</td>
                  <td>{teamName(rule.team_id)}</td>
                  <td>{rule.enabled ? <span className="ok">On</span> : <span className="muted">Off</span>}</td>
                  <td>
                    {canManageRule(user, rule) ? (
                      <Link to={`?tab=rules&rule=${rule.id}`} aria-label={`Edit ${rule.name}`}>
                        Edit
                      </Link>
                    ) : (
                      <span className="muted">Admins only</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
