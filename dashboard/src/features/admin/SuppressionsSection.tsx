// E-mail suppressions: addresses no e-mail goes to (hard bounce, spam complaint, unsubscribe, block), with the
// users who have them; lift one when its owner fixed the mailbox.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { api, unwrap, type Schemas } from "@/api/client";
import { ConfirmDialog } from "@/components/formFields";
import { Empty, ErrorState, Loading } from "@/components/states";
import { formatDateTime } from "@/lib/datetime";
import { AdminSection, Outcome, Pager } from "./adminUi";

type Suppression = Schemas["upswing__digest__mail__SuppressionRead"];
type Reason = Schemas["SuppressionReason"];
const REASONS: Record<Reason, string> = {
  hard_bounce: "Hard bounce",
  spam: "Spam complaint",
  unsubscribed: "Unsubscribed",
  blocked: "Blocked",
  manual: "Added by hand",
};
const PAGE = 100;

export function SuppressionsSection() {
  const [reason, setReason] = useState("");
  const [offset, setOffset] = useState(0);
  const [lifting, setLifting] = useState<Suppression | null>(null);
  const queryClient = useQueryClient();
  const reasonId = useId();
  const list = useQuery({
    queryKey: ["admin", "email-suppressions", reason, offset],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/email-suppressions", {
          params: { query: { limit: PAGE, offset, ...(reason ? { reason: reason as Reason } : {}) } },
        }),
      ),
  });
  const lift = useMutation({
    mutationFn: async (address: string) =>
      unwrap(await api.DELETE("/api/v1/email-suppressions/{address}", { params: { path: { address } } })),
    onSuccess: () => {
      setLifting(null);
      void queryClient.invalidateQueries({ queryKey: ["admin", "email-suppressions"] });
    },
  });
  return (
    <AdminSection
      title="E-mail suppressions"
      intro="No alert or digest e-mail goes to these addresses. Lifting one lets e-mail go again; a later bounce or complaint suppresses it again."
    >
      <form className="admin-filters" aria-label="Filter suppressions" onSubmit={(e) => e.preventDefault()}>
        <div className="admin-field">
          <label htmlFor={reasonId}>Reason</label>
          <select
            id={reasonId}
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">Any</option>
            {Object.entries(REASONS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </form>
      <Outcome ok={lift.isSuccess && `E-mail goes to ${lift.variables} again.`} />
      {list.isPending ? (
        <Loading what="Loading suppressions" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <Empty title={reason ? "No address is suppressed for this reason." : "No address is suppressed."}>
          Every user&apos;s e-mail can be delivered.
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="admin-suppressions-table">
              <caption className="visually-hidden">Suppressed addresses</caption>
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Users</th>
                  <th scope="col">When</th>
                  <th scope="col">Detail</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((row) => (
                  <tr key={row.id}>
                    <td className="admin-url">{row.address}</td>
                    <td>
                      {REASONS[row.reason as Reason] ?? row.reason}
                      <div className="muted admin-small">via {row.source}</div>
                    </td>
                    <td>{row.users?.length ? row.users.join(", ") : <span className="muted">none</span>}</td>
                    <td>{formatDateTime(row.event_at)}</td>
                    <td className="admin-error-cell">{row.detail ?? <span className="muted">—</span>}</td>
                    <td>
                      {row.lifted_at ? (
                        <span className="muted">
                          Lifted {formatDateTime(row.lifted_at)}
                          {row.lifted_by && ` by ${row.lifted_by}`}
                        </span>
                      ) : (
                        <button type="button" className="button" onClick={() => setLifting(row)} aria-label={`Lift the suppression of ${row.address}`}>
                          Lift
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager label="Suppressions" offset={offset} limit={PAGE} count={list.data.length} onOffset={setOffset} />
        </>
      )}
      <ConfirmDialog
        open={lifting !== null}
        onOpenChange={(o) => !o && setLifting(null)}
        title="Lift this suppression?"
        confirmLabel="Lift"
        danger={false}
        onConfirm={() => lifting && lift.mutate(lifting.address)}
        busy={lift.isPending}
        error={lift.isError ? lift.error.message : null}
      >
        <p>
          E-mail goes to <strong>{lifting?.address}</strong> again. Do this once its owner has fixed the mailbox.
        </p>
      </ConfirmDialog>
    </AdminSection>
  );
}
