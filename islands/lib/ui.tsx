/**
 * Small pieces of console UI the islands share: the error/notice alerts, the loading line, the
 * hidden "Actions" column header, the controlled "Create …" panel, removable chips and reading a
 * form field. They render exactly the
 * markup each island used to write inline, so server HTML and hydration are unchanged.
 */
import type { Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";

/** The API error (role=alert) and the last success message (role=status), when set. */
export function Alerts({ error, notice }: { error: string; notice?: string }) {
  return (
    <>
      {error && <div class="alert error" role="alert" data-error>{error}</div>}
      {notice && <div class="alert ok" role="status">{notice}</div>}
    </>
  );
}

/** The text of one field of the form an event came from ("" when the form has no such field). */
export function formField(ev: Event, name: string): string {
  return String(new FormData(ev.currentTarget as HTMLFormElement).get(name) ?? "");
}

/** A chip in a `<ul class="chips">` with a × button that removes what it names. */
export function Chip(
  { label, removeLabel, onRemove }: { label: string; removeLabel: string; onRemove: () => void },
) {
  return (
    <li>
      {label}
      <button type="button" class="link" aria-label={removeLabel} onClick={onRemove}>
        ×
      </button>
    </li>
  );
}

export function Loading() {
  return <p aria-busy="true">Loading…</p>;
}

/** Header of a table's row-actions column: named for screen readers, blank on screen. */
export function ActionsTh() {
  return (
    <th>
      <span class="sr-only">Actions</span>
    </th>
  );
}

/**
 * A `<details class="panel">` holding a create form. It is controlled by `open`, so the form
 * stays open across the island's re-renders.
 */
export function CreatePanel(
  { open, title, children }: { open: Signal<boolean>; title: string; children: ComponentChildren },
) {
  return (
    <details
      class="panel"
      open={open.value}
      onToggle={(e) => open.value = (e.currentTarget as HTMLDetailsElement).open}
    >
      <summary>
        <strong>{title}</strong>
      </summary>
      {children}
    </details>
  );
}

/**
 * Previous / Next over pages that each start where the last one ended: `starts` holds the start
 * of every page shown so far (the first is null), `next` the start of the page after this one
 * (none: this is the last).
 */
export function Pager<T>(
  { starts, next, load }: {
    starts: Signal<(T | null)[]>;
    next: T | null | undefined;
    load: (start: T | null) => void;
  },
) {
  return (
    <div class="pager">
      <span>Page {starts.value.length}</span>
      <button
        type="button"
        disabled={starts.value.length <= 1}
        onClick={() => {
          starts.value = starts.value.slice(0, -1);
          load(starts.value.at(-1) ?? null);
        }}
      >
        Previous
      </button>
      <button
        type="button"
        disabled={!next}
        onClick={() => {
          starts.value = [...starts.value, next!];
          load(next!);
        }}
      >
        Next
      </button>
    </div>
  );
}

/**
 * A global administrator's choice of namespace (global or a tenant) for pages whose records
 * belong to one; `onChange` gets the tenant id ("" global).
 */
export function NamespacePicker(
  { id, tenants, value, onChange }: {
    id: string;
    tenants: { id: string; name: string }[];
    value: string;
    onChange: (tenantId: string) => void;
  },
) {
  return (
    <div class="panel">
      <label>
        Namespace
        <select
          id={id}
          value={value}
          onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">Global</option>
          {tenants.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
    </div>
  );
}
