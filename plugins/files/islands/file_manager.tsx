import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, useHydrated } from "../../../islands/_api.ts";
import { Editor } from "./_editor.tsx";
import { EntryForm, type Form } from "./_entry_form.tsx";
import { ConfirmPrompt } from "./_confirm_prompt.tsx";
import { crumbs, type Entry, filesApi, formatSize, join, type Listing, parent } from "./_files_api.ts";

export interface FileManagerProps {
  instanceId: number;
  /** The configured roots (the server answers with them resolved on the instance). */
  roots: string[];
  maxEditBytes: number;
  maxUploadBytes: number;
}

interface Upload {
  /** Unique in the page: rows are updated by it, as a later drop adds rows while earlier ones still send. */
  id: number;
  /** The drop (or pick) it came with. */
  batch: number;
  name: string;
  size: number;
  sent: number;
  state: "waiting" | "sending" | "done" | "failed";
  error?: string;
}

interface Open {
  path: string;
  text: string;
  saved: string;
}

/** A folder, or a link to one (opened as a folder, never downloaded). */
function isFolder(entry: Entry): boolean {
  return entry.type === "directory" || (entry.type === "symlink" && entry.target_type === "directory");
}

/**
 * The Files tab: breadcrumbs and a folder listing, drag-and-drop upload with per-file progress,
 * downloads, an inline text editor that guards unsaved changes, and confirmations before anything
 * is deleted or replaced.
 */
export default function FileManager({ instanceId, roots: configured, maxEditBytes, maxUploadBytes }: FileManagerProps) {
  const ready = useHydrated();
  const files = filesApi(instanceId);
  const [listing, setListing] = useState<Listing | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [open, setOpen] = useState<Open | null>(null);
  const [saving, setSaving] = useState(false);
  const [pending, setPending] = useState<(() => void) | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  /** An upload waiting for the user to agree that it replaces files of the same names. */
  const [replacing, setReplacing] = useState<{ files: File[]; names: string[] } | null>(null);
  const [dragging, setDragging] = useState(false);
  const ticket = useRef(0);
  /** The file being read for the editor: a read that answers after another click (file or folder) is dropped. */
  const reading = useRef(0);
  const uploadSeq = useRef(0);
  const picker = useRef<HTMLInputElement>(null);
  const self = useRef<HTMLDivElement>(null);
  const cwd = listing?.path ?? "";
  /** The folder shown now, for work that finishes later (an upload, a save) and must not act on a stale one. */
  const shown = useRef(cwd);
  shown.current = cwd;
  const roots = listing?.roots ?? configured;
  const dirty = open !== null && open.text !== open.saved;

  async function load(path?: string) {
    const mine = ++ticket.current;
    setLoading(true);
    setError("");
    try {
      const result = await files.browse(path);
      if (mine !== ticket.current) return;
      setListing(result);
      setForm(null);
    } catch (e) {
      if (mine === ticket.current) setError(errorText(e));
    } finally {
      if (mine === ticket.current) setLoading(false);
    }
  }

  useEffect(() => {
    if (ready) void load();
  }, [ready]);

  /** Runs `next` now, or after the user agrees to drop unsaved edits. */
  function guarded(next: () => void) {
    if (dirty) setPending(() => next);
    else next();
  }

  /** Leaves the open file (if any) for the folder `path`. */
  function go(path: string) {
    ++reading.current;
    setOpen(null);
    void load(path);
  }

  async function openFile(path: string) {
    const mine = ++reading.current;
    setError("");
    setNotice("");
    try {
      const content = await files.read(path);
      if (mine !== reading.current) return;
      if (content.encoding !== "utf-8") {
        setNotice(`${path} is not UTF-8 text; download it instead.`);
        return;
      }
      setOpen({ path, text: content.content, saved: content.content });
    } catch (e) {
      if (mine === reading.current) setError(errorText(e));
    }
  }

  function activate(entry: Entry) {
    const path = join(cwd, entry.name);
    if (isFolder(entry)) guarded(() => go(path));
    else if (entry.size !== null && entry.size > maxEditBytes) {
      setNotice(`${entry.name} is too large to edit here; download it.`);
    } else guarded(() => void openFile(path));
  }

  async function save() {
    if (!open) return;
    const { path, text } = open;
    setSaving(true);
    setError("");
    try {
      await files.save(path, text);
      // Keep what was typed while the save was on its way: only the saved text is marked saved.
      setOpen((now) => now?.path === path ? { ...now, saved: text } : now);
      setNotice(`Saved ${path}.`);
      if (parent(path) === shown.current) void load(shown.current);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSaving(false);
    }
  }

  async function submitForm(e: Event) {
    e.preventDefault();
    if (!form) return;
    setError("");
    try {
      if (form.kind === "new-folder") await files.mkdir(join(cwd, form.value.trim()));
      if (form.kind === "new-file") {
        const path = join(cwd, form.value.trim());
        await files.save(path, "", true);
        guarded(() => setOpen({ path, text: "", saved: "" }));
      }
      if (form.kind === "rename") {
        const from = join(cwd, form.name);
        const to = form.value.startsWith("/") ? form.value : join(cwd, form.value.trim());
        await files.rename(from, to);
        if (open?.path === from) setOpen({ ...open, path: to });
      }
      if (form.kind === "delete") {
        const path = join(cwd, form.name);
        await files.remove(path);
        if (open && (open.path === path || open.path.startsWith(path + "/"))) setOpen(null);
      }
      setForm(null);
      await load(cwd);
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function uploadAll(list: File[]) {
    if (!list.length || !cwd) return;
    const dir = cwd;
    const batch = ++uploadSeq.current;
    const queue: Upload[] = list.map((f) => ({
      id: ++uploadSeq.current,
      batch,
      name: f.name,
      size: f.size,
      sent: 0,
      state: "waiting",
    }));
    // Earlier drops that are done make way; one still sending keeps its rows (and goes on updating them).
    setUploads((all) => {
      const running = new Set(all.filter((u) => u.state === "waiting" || u.state === "sending").map((u) => u.batch));
      return [...all.filter((u) => running.has(u.batch)), ...queue];
    });
    const update = (i: number, patch: Partial<Upload>) =>
      setUploads((all) => all.map((u) => u.id === queue[i].id ? { ...u, ...patch } : u));
    for (const [i, file] of list.entries()) {
      if (file.size > maxUploadBytes) {
        update(i, { state: "failed", error: `larger than ${formatSize(maxUploadBytes)}` });
        continue;
      }
      update(i, { state: "sending" });
      try {
        await files.upload(dir, file, (sent) => update(i, { sent }));
        update(i, { state: "done", sent: file.size });
      } catch (e) {
        update(i, { state: "failed", error: errorText(e) });
      }
    }
    // Refresh the listing only if the user is still in that folder (not pull them back to it).
    if (dir === shown.current) await load(dir);
  }

  const existing = new Set(listing?.entries.map((e) => e.name));

  /** Uploads `list`, after asking when it would replace files here (or one of its own, by name). */
  function upload(list: File[]) {
    const seen = new Set<string>();
    const clashes = new Set<string>();
    for (const f of list) {
      if (existing.has(f.name) || seen.has(f.name)) clashes.add(f.name);
      seen.add(f.name);
    }
    if (clashes.size) setReplacing({ files: list, names: [...clashes] });
    else void uploadAll(list);
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    upload([...(e.dataTransfer?.files ?? [])]);
  }

  return (
    <div class="stack" ref={self} data-testid="file-manager">
      <nav class="row wrap" aria-label="Shared folders">
        {roots.map((r) => (
          <button
            type="button"
            key={r}
            class="ghost"
            disabled={!ready || loading}
            onClick={() => guarded(() => go(r))}
            data-testid="files-root"
          >
            {r}
          </button>
        ))}
      </nav>

      <div class="row between wrap">
        <nav aria-label="Folder path" class="row wrap mono" data-testid="files-breadcrumbs">
          {cwd
            ? crumbs(cwd, roots).map((c, i, all) =>
              i === all.length - 1
                ? <strong key={c.path} aria-current="location">{c.label}</strong>
                : (
                  <span key={c.path} class="row">
                    <a
                      href="#"
                      onClick={(e) => (e.preventDefault(), guarded(() => go(c.path)))}
                      data-testid="files-crumb"
                    >
                      {c.label}
                    </a>
                    <span class="muted">/</span>
                  </span>
                )
            )
            : <span class="muted">{ready ? "Loading…" : "Files load once the page's script runs."}</span>}
        </nav>
        <div class="row wrap">
          <button
            type="button"
            disabled={!ready || !cwd}
            onClick={() => setForm({ kind: "new-file", value: "" })}
            data-testid="files-new-file"
          >
            New file
          </button>
          <button
            type="button"
            disabled={!ready || !cwd}
            onClick={() => setForm({ kind: "new-folder", value: "" })}
            data-testid="files-new-folder"
          >
            New folder
          </button>
          <button
            type="button"
            disabled={!ready || !cwd}
            onClick={() => picker.current?.click()}
            data-testid="files-upload"
          >
            Upload…
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            onChange={(e) => {
              const list = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = "";
              upload(list);
            }}
            data-testid="files-upload-input"
          />
          <button
            type="button"
            class="ghost"
            disabled={!ready || loading || !cwd}
            onClick={() => load(cwd)}
            data-testid="files-refresh"
          >
            Refresh
          </button>
        </div>
      </div>

      {pending && (
        <ConfirmPrompt
          label="Unsaved changes"
          testId="files-unsaved"
          confirm={{
            text: "Discard changes",
            testId: "files-discard",
            onClick: () => {
              const next = pending;
              setPending(null);
              setOpen(null);
              next();
            },
          }}
          cancel={{
            text: "Keep editing",
            testId: "files-keep-editing",
            onClick: () => {
              setPending(null);
              self.current?.querySelector("textarea")?.focus();
            },
          }}
        >
          {open?.path} has unsaved changes. Discard them?
        </ConfirmPrompt>
      )}

      {replacing && (
        <ConfirmPrompt
          label="Replace files"
          testId="files-replace"
          confirm={{
            text: "Replace",
            testId: "files-replace-confirm",
            onClick: () => {
              setReplacing(null);
              void uploadAll(replacing.files);
            },
          }}
          cancel={{ text: "Cancel", testId: "files-replace-cancel", onClick: () => setReplacing(null) }}
        >
          {replacing.names.length === 1 ? "A file named " : "Files named "}
          <span class="mono">{replacing.names.join(", ")}</span> {replacing.names.length === 1 ? "is" : "are"}{" "}
          already in this folder (or twice in this upload). Replace?
        </ConfirmPrompt>
      )}

      {form && (
        <EntryForm
          form={form}
          existing={existing}
          onChange={setForm}
          onSubmit={submitForm}
          onCancel={() => setForm(null)}
        />
      )}

      {error && <p role="alert" data-testid="files-error">{error}</p>}
      {notice && <p role="status" data-testid="files-notice">{notice}</p>}

      {uploads.length > 0 && (
        <ul class="stack" aria-label="Uploads" data-testid="files-uploads">
          {uploads.map((u) => (
            // By id: one drop can hold two files of one name (from different folders).
            <li key={u.id} class="row wrap" data-testid="files-upload-row" data-state={u.state}>
              <span class="mono">{u.name}</span>
              <progress max={u.size || 1} value={u.state === "done" ? u.size || 1 : u.sent} />
              <span class="muted">
                {u.state === "failed"
                  ? `failed: ${u.error}`
                  : u.state === "done"
                  ? "done"
                  : `${formatSize(u.sent)} of ${formatSize(u.size)}`}
              </span>
            </li>
          ))}
        </ul>
      )}

      <div
        class={`table-wrap dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          if (!dragging) setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="files-dropzone"
      >
        <table class="data" aria-busy={loading ? "true" : undefined} data-testid="files-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Permissions</th>
              <th scope="col">Modified (UTC)</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {cwd && cwd !== parent(cwd) && !roots.includes(cwd) && (
              <tr>
                <td colSpan={5}>
                  <a
                    href="#"
                    onClick={(e) => (e.preventDefault(), guarded(() => go(parent(cwd))))}
                    data-testid="files-up"
                  >
                    ..
                  </a>
                </td>
              </tr>
            )}
            {listing?.entries.map((entry) => (
              <tr key={entry.name} data-testid="files-row" data-name={entry.name}>
                <td>
                  <a
                    href="#"
                    onClick={(e) => (e.preventDefault(), activate(entry))}
                    class="mono"
                    data-testid="files-open"
                  >
                    {entry.type === "directory" ? `${entry.name}/` : entry.name}
                  </a>
                  {entry.type === "symlink" && <span class="muted">{` → ${entry.target}`}</span>}
                </td>
                <td class="nowrap">{formatSize(entry.size)}</td>
                <td class="mono">{entry.permissions}</td>
                <td class="nowrap">
                  <time dateTime={entry.mtime}>{entry.mtime.replace("T", " ").slice(0, 19)}</time>
                </td>
                <td class="actions-cell">
                  <div class="row">
                    {!isFolder(entry) && (
                      <a
                        href={files.downloadUrl(join(cwd, entry.name))}
                        download={entry.name}
                        data-testid="files-download"
                      >
                        Download
                      </a>
                    )}
                    <button
                      type="button"
                      onClick={() => setForm({ kind: "rename", name: entry.name, value: entry.name })}
                      data-testid="files-rename"
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setForm({ kind: "delete", name: entry.name, type: entry.type })}
                      data-testid="files-delete"
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {listing && listing.entries.length === 0 && (
          <div class="empty" data-testid="files-empty">This folder is empty.</div>
        )}
        <p class="hint">Drop files here to upload them into this folder (up to {formatSize(maxUploadBytes)} each).</p>
      </div>

      {open && (
        <Editor
          path={open.path}
          text={open.text}
          saved={open.saved}
          busy={saving}
          onInput={(text) => setOpen((now) => now && { ...now, text })}
          onSave={save}
          onClose={() => guarded(() => setOpen(null))}
        />
      )}
    </div>
  );
}
