import { useRef, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";

export type Outcome = "success" | "failure" | "denied";

export interface Entry {
  id: number;
  /** ISO 8601 in UTC, e.g. `2026-01-31T12:00:00.000Z`. */
  at: string;
  actor_id: number | null;
  actor: string;
  ip: string;
  action: string;
  target: string;
  instance_id: number | null;
  outcome: Outcome;
  details: Record<string, unknown>;
}

export interface Page {
  entries: Entry[];
  total: number;
}

export interface AuditViewerProps {
  /** The first page with no filters, rendered by the server. */
  initial: Page;
  /** Action names present in the log, for the action filter. */
  actions: string[];
  pageSize: number;
}

/** What the filter form holds (all strings, as typed). */
interface Filters {
  actor: string;
  action: string;
  target: string;
  instance_id: string;
  outcome: "" | Outcome;
  since: string;
  until: string;
}

const NO_FILTERS: Filters = { actor: "", action: "", target: "", instance_id: "", outcome: "", since: "", until: "" };

/** Query parameters sent for the filters (without paging); empty values are left out. */
type Query = Record<string, string>;

/** The same text on the server and in every browser: no locale or time zone involved. */
export function formatTime(iso: string): string {
  return iso.replace("T", " ").slice(0, 19) + " UTC";
}

/** One-line JSON with a space after each top-level comma, so long details can wrap between keys. */
function compactJson(details: Record<string, unknown>): string {
  if (!details || typeof details !== "object") return details == null ? "" : JSON.stringify(details);
  const keys = Object.entries(details);
  if (keys.length === 0) return "";
  return "{" + keys.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(", ") + "}";
}

/**
 * A `datetime-local` value (the browser's local time, to the minute) as ISO UTC. `endOfMinute` makes
 * an "until" bound include the whole minute it names.
 */
function localToIso(value: string, endOfMinute: boolean): string | null {
  if (!value) return "";
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) return null;
  const hasSeconds = /T\d{2}:\d{2}:\d{2}/.test(value);
  return new Date(endOfMinute && !hasSeconds ? t + 59_999 : t).toISOString();
}

/** Turns the form into query parameters, or explains what is wrong. */
function toQuery(f: Filters): { query: Query } | { error: string } {
  const query: Query = {};
  if (f.actor.trim()) query.actor = f.actor.trim();
  if (f.action) query.action = f.action;
  if (f.target.trim()) query.target = f.target.trim();
  if (f.instance_id.trim()) {
    const n = Number(f.instance_id);
    if (!Number.isInteger(n) || n < 1) return { error: "Instance id must be a positive whole number." };
    query.instance_id = String(n);
  }
  if (f.outcome) query.outcome = f.outcome;
  const since = localToIso(f.since, false);
  const until = localToIso(f.until, true);
  if (since === null) return { error: "“Since” is not a valid date and time." };
  if (until === null) return { error: "“Until” is not a valid date and time." };
  if (since) query.since = since;
  if (until) query.until = until;
  if (since && until && since > until) return { error: "“Since” must be before “Until”." };
  return { query };
}

/** The audit trail: filters, a page of entries, and paging. */
export default function AuditViewer({ initial, actions: initialActions, pageSize }: AuditViewerProps) {
  const ready = useHydrated();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Query>({});
  const [page, setPage] = useState<Page>(initial);
  const [offset, setOffset] = useState(0);
  const [actions, setActions] = useState<string[]>(initialActions);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const latest = useRef(0);

  const set = <K extends keyof Filters>(key: K) => (value: Filters[K]) => setFilters((f) => ({ ...f, [key]: value }));

  async function load(query: Query, at: number): Promise<void> {
    const ticket = ++latest.current;
    setLoading(true);
    setError("");
    const params = new URLSearchParams({ ...query, limit: String(pageSize), offset: String(Math.max(0, at)) });
    try {
      const result = await api<Page>("GET", `/api/v1/audit-logs?${params}`);
      if (ticket !== latest.current) return;
      setPage(result);
      setOffset(Math.max(0, at));
      setApplied(query);
    } catch (e) {
      if (ticket === latest.current) setError(errorText(e));
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  }

  function refreshActions() {
    api<{ actions: string[] }>("GET", "/api/v1/audit-logs/actions")
      .then((r) => Array.isArray(r?.actions) && setActions(r.actions))
      .catch(() => {});
  }

  function apply(e: Event) {
    e.preventDefault();
    const parsed = toQuery(filters);
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    refreshActions();
    void load(parsed.query, 0);
  }

  function reset() {
    setFilters(NO_FILTERS);
    refreshActions();
    void load({}, 0);
  }

  const { entries, total } = page;
  const first = entries.length ? offset + 1 : 0;
  const last = offset + entries.length;
  const hasPrev = offset > 0;
  const hasNext = last < total;
  const filtered = Object.keys(applied).length > 0;
  const actionChoices = filters.action && !actions.includes(filters.action) ? [...actions, filters.action] : actions;

  return (
    <div class="stack">
      <form class="card filters" method="get" noValidate onSubmit={apply} aria-label="Filter audit entries">
        <div class="grid">
          <label>
            Actor
            <input
              name="actor"
              spellcheck={false}
              placeholder="username"
              maxLength={64}
              value={filters.actor}
              onInput={(e) => set("actor")(e.currentTarget.value)}
              data-testid="filter-actor"
            />
          </label>
          <label>
            Action
            <select
              name="action"
              value={filters.action}
              onChange={(e) => set("action")(e.currentTarget.value)}
              data-testid="filter-action"
            >
              <option value="">any</option>
              {actionChoices.map((a) => <option key={a} value={a}>{a}</option>)}
            </select>
          </label>
          <label>
            Target
            <input
              name="target"
              spellcheck={false}
              maxLength={256}
              value={filters.target}
              onInput={(e) => set("target")(e.currentTarget.value)}
              data-testid="filter-target"
            />
          </label>
          <label>
            Instance id
            <input
              type="number"
              name="instance_id"
              inputMode="numeric"
              min={1}
              step={1}
              value={filters.instance_id}
              onInput={(e) => set("instance_id")(e.currentTarget.value)}
              data-testid="filter-instance"
            />
          </label>
          <label>
            Outcome
            <select
              name="outcome"
              value={filters.outcome}
              onChange={(e) => set("outcome")(e.currentTarget.value as Filters["outcome"])}
              data-testid="filter-outcome"
            >
              <option value="">any</option>
              <option value="success">success</option>
              <option value="failure">failure</option>
              <option value="denied">denied</option>
            </select>
          </label>
          <label>
            <span>
              Since <span class="muted">(local time)</span>
            </span>
            <input
              type="datetime-local"
              name="since"
              value={filters.since}
              onInput={(e) => set("since")(e.currentTarget.value)}
              data-testid="filter-since"
            />
          </label>
          <label>
            <span>
              Until <span class="muted">(local time)</span>
            </span>
            <input
              type="datetime-local"
              name="until"
              value={filters.until}
              onInput={(e) => set("until")(e.currentTarget.value)}
              data-testid="filter-until"
            />
          </label>
        </div>
        <div class="row">
          <button type="submit" class="primary" disabled={!ready || loading} data-testid="apply-filters">
            Apply filters
          </button>
          <button type="button" class="ghost" disabled={!ready || loading} onClick={reset} data-testid="reset-filters">
            Reset
          </button>
        </div>
      </form>

      {error && <p role="alert">{error}</p>}

      <div class="row between wrap">
        <p class="muted" aria-live="polite" data-testid="audit-range">
          {total === 0
            ? (filtered ? "No entries match these filters." : "No entries.")
            : entries.length === 0
            ? `No entries on this page (${total} in total).`
            : `Showing ${first}–${last} of ${total}`}
        </p>
        <div class="row">
          <button
            type="button"
            disabled={!ready || loading || !hasPrev}
            onClick={() => load(applied, offset - pageSize)}
            data-testid="prev-page"
          >
            Previous
          </button>
          <button
            type="button"
            disabled={!ready || loading || !hasNext}
            onClick={() => load(applied, offset + pageSize)}
            data-testid="next-page"
          >
            Next
          </button>
        </div>
      </div>

      {entries.length === 0
        ? (
          <div class="empty" data-testid="audit-empty">
            {filtered ? "No audit entries match these filters." : "No audit entries yet."}
          </div>
        )
        : (
          <div class="table-wrap">
            <table class="data audit" aria-busy={loading ? "true" : undefined} data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">IP</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => {
                  const details = compactJson(e.details);
                  return (
                    <tr key={e.id} data-testid="audit-row">
                      <td class="nowrap">
                        <time dateTime={e.at}>{formatTime(e.at)}</time>
                      </td>
                      <td>{e.actor}</td>
                      <td class="mono">{e.ip}</td>
                      <td class="mono">{e.action}</td>
                      <td>
                        {e.target}
                        {e.instance_id !== null && <span class="muted">{` instance #${e.instance_id}`}</span>}
                      </td>
                      <td>
                        <span class={`badge ${e.outcome}`}>{e.outcome}</span>
                      </td>
                      <td>{details ? <code class="details">{details}</code> : <span class="muted">—</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
    </div>
  );
}
