// The inbox and thread views. Both draw whatever result their tool gives (a list of conversations, or one thread),
// act only by calling the server's tools, and redraw from each tool's answer.
import { App, applyDocumentTheme, applyHostStyleVariables, type McpUiHostContext } from "@modelcontextprotocol/ext-apps";
import { append, button, clear, h, named, names, when } from "./dom";
import { call, servedTools, type Answer } from "./tools";

type Data = Record<string, unknown>;
type Conversation = Data & { id: string };
type Entry = Data;
type Kind = "inbox" | "thread";

interface View {
  app: App;
  kind: Kind;
  served: Set<string>;
  root: HTMLElement;
  /** The arguments the agent called the view's tool with (tool-input), reused to load the next page. */
  args: Data;
  /** Conversations closed from this view (the tool said so); a list item carries no closed flag of its own. */
  closed: Set<string>;
  list: { items: Conversation[]; next: Data | null; tool: string };
}

const LIST_TOOLS = ["list_conversations", "watch_inbox"];

export function start(kind: Kind): void {
  const root = document.getElementById("app") as HTMLElement;
  const app = new App({ name: `missive-${kind}`, version: "1.0.0" }, {}, { autoResize: true });
  const view: View = {
    app,
    kind,
    served: servedTools(),
    root,
    args: {},
    closed: new Set(),
    list: { items: [], next: null, tool: "list_conversations" },
  };
  waiting(view, kind === "inbox" ? "Waiting for the conversations…" : "Waiting for the conversation…");
  app.ontoolinput = (params) => {
    view.args = (params.arguments ?? {}) as Data;
  };
  app.ontoolresult = (result) => {
    if (result.isError) {
      const text = (result.content ?? []).map((b) => (b.type === "text" ? b.text : "")).join(" ");
      return waiting(view, text || "The tool failed.", true);
    }
    show(view, (result.structuredContent ?? {}) as Data);
  };
  app.onhostcontextchanged = (context) => theme(context);
  app.onteardown = async () => ({});
  app.connect().then(
    () => theme(app.getHostContext()),
    (error: unknown) => waiting(view, `Could not connect to the host: ${String(error)}`, true),
  );
}

function theme(context: Partial<McpUiHostContext> | undefined): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
}

function waiting(view: View, text: string, error = false): void {
  clear(view.root);
  append(view.root, h("p", { class: error ? "message error" : "message", role: error ? "alert" : "status" }, text));
}

function show(view: View, data: Data): void {
  if (Array.isArray(data.conversations)) {
    const name = view.app.getHostContext()?.toolInfo?.tool?.name;
    view.list = { items: newestFirst(data.conversations as Conversation[]), next: null, tool: "list_conversations" };
    if (name && LIST_TOOLS.includes(name)) view.list.tool = name;
    view.list.next = nextPage(view, data);
    return drawList(view);
  }
  if (data.conversation && Array.isArray(data.entries)) return drawThread(view, data, null);
  waiting(view, "This result holds no conversations to show.", true);
}

function newestFirst(items: Conversation[]): Conversation[] {
  const at = (c: Conversation) => (typeof c.last_activity_at === "number" ? c.last_activity_at : 0);
  return items.filter((c) => c && typeof c.id === "string").sort((a, b) => at(b) - at(a));
}

/** The arguments for the next page, from the page just read: list_conversations pages with next_until, a watch
 * with its cursor. */
function nextPage(view: View, data: Data): Data | null {
  if (data.has_more && typeof data.next_until === "number") return { ...view.args, until: data.next_until };
  if (view.list.tool === "watch_inbox" && typeof data.cursor === "string" && data.has_more !== false)
    return { ...view.args, cursor: data.cursor };
  return null;
}

function subjectOf(c: Conversation): string {
  return named(c.subject) || named(c.latest_message_subject) || "(no subject)";
}

function organizationOf(c: Conversation): string | undefined {
  const org = c.organization;
  if (typeof org === "string") return org;
  if (org && typeof org === "object" && typeof (org as Data).id === "string") return (org as Data).id as string;
  return undefined;
}

// ---- the inbox ---------------------------------------------------------------------------------------------------

function drawList(view: View): void {
  clear(view.root);
  const count = view.list.items.length;
  append(
    view.root,
    h("header", { class: "bar" }, h("h1", {}, "Inbox"), h("span", { class: "count" }, `${count} conversation${count === 1 ? "" : "s"}`)),
  );
  const list = h("ul", { class: "conversations", "aria-label": "Conversations" });
  for (const conversation of view.list.items) list.appendChild(row(view, conversation));
  if (!count) append(list, h("li", { class: "empty" }, "No conversations."));
  append(view.root, list);
  const { next, tool } = view.list;
  if (next && view.served.has(tool)) {
    const status = h("p", { class: "message", role: "status" });
    const more = button("Load more", "Load more conversations", async () => {
      more.disabled = true;
      working(status, "Loading…");
      const answer = await call(view.app, tool, next);
      if (!answer.ok) {
        more.disabled = false;
        return fail(status, answer.error);
      }
      const known = new Set(view.list.items.map((c) => c.id));
      const added = ((answer.data.conversations as Conversation[]) ?? []).filter((c) => !known.has(c.id));
      view.list.items = [...view.list.items, ...newestFirst(added)];
      view.list.next = nextPage(view, answer.data);
      drawList(view);
    });
    append(view.root, h("div", { class: "more" }, more, status));
  }
}

function row(view: View, conversation: Conversation): HTMLElement {
  const item = h("li", { class: "conversation", "data-id": conversation.id });
  const draw = (c: Conversation) => {
    clear(item);
    const authors = Array.isArray(c.authors) ? c.authors : [];
    const from = authors.map(named).filter(Boolean)[0] ?? "";
    const preview = named(c.preview) || named(c.latest_message_preview);
    append(
      item,
      h("div", { class: "line" }, h("span", { class: "from" }, from || "Unknown sender"), when(c.last_activity_at)),
      h("div", { class: "subject" }, subjectOf(c)),
      preview && h("div", { class: "preview" }, preview),
      tags(view, c),
      actions(view, c, {
        open: true,
        changed: (updated) => {
          view.list.items = view.list.items.map((x) => (x.id === updated.id ? updated : x));
          draw(updated);
        },
      }),
    );
  };
  draw(conversation);
  return item;
}

function tags(view: View, c: Conversation): HTMLElement {
  const labels = names(c.shared_labels);
  const assignees = names(c.assignees);
  const team = named(c.team);
  return h(
    "div",
    { class: "tags" },
    view.closed.has(c.id) && h("span", { class: "tag closed" }, "Closed"),
    ...labels.map((label) => h("span", { class: "tag label" }, label)),
    team && h("span", { class: "tag team" }, `Team: ${team}`),
    assignees.length > 0 && h("span", { class: "assignees" }, `Assigned: ${assignees.join(", ")}`),
  );
}

// ---- actions on one conversation ---------------------------------------------------------------------------------

interface ActionOptions {
  open: boolean;
  changed: (updated: Conversation) => void;
}

function actions(view: View, c: Conversation, options: ActionOptions): HTMLElement {
  const subject = subjectOf(c);
  const status = h("p", { class: "message", role: "status" });
  const form = h("div", { class: "form-slot" });
  const bar = h("div", { class: "actions" });
  const busy = (on: boolean) => bar.querySelectorAll("button").forEach((b) => ((b as HTMLButtonElement).disabled = on));
  const update = async (args: Data, done: string) => {
    busy(true);
    working(status, "Working…");
    const answer = await call(view.app, "update_conversation", { conversation_ids: [c.id], ...args });
    busy(false);
    if (!answer.ok) return fail(status, answer.error);
    if (args.close) view.closed.add(c.id);
    const returned = (answer.data.conversations as Conversation[] | undefined)?.find((x) => x.id === c.id);
    options.changed(returned ?? c);
    return done;
  };
  if (options.open && view.served.has("read_conversation")) {
    bar.appendChild(
      button("Open", `Open “${subject}”`, async () => {
        busy(true);
        working(status, "Opening…");
        const answer = await call(view.app, "read_conversation", { conversation_id: c.id });
        busy(false);
        if (!answer.ok) return fail(status, answer.error);
        drawThread(view, answer.data, () => drawList(view));
      }),
    );
  }
  if (view.served.has("update_conversation")) {
    if (!view.closed.has(c.id)) bar.appendChild(button("Close", `Close “${subject}”`, () => update({ close: true }, "Closed.")));
    const ask = (field: "add_assignees" | "add_shared_labels", text: string, label: string, submit: string) =>
      button(text, `${text} “${subject}”`, () => {
        clear(form);
        const input = h("input", { type: "text", required: true, autocomplete: "off" }) as HTMLInputElement;
        const entry = h("form", { class: "inline" }, h("label", {}, label, input), h("button", { type: "submit" }, submit));
        entry.appendChild(button("Cancel", `Cancel: ${submit}`, () => clear(form), "quiet"));
        entry.addEventListener("submit", async (event) => {
          event.preventDefault();
          const value = input.value.trim();
          if (!value) return;
          const organization = organizationOf(c);
          const outcome = await update({ [field]: [value], ...(organization ? { organization } : {}) }, "");
          if (outcome !== undefined) clear(form);
        });
        form.appendChild(entry);
        input.focus();
      });
    bar.appendChild(ask("add_assignees", "Assign", "Assign to (name or email)", "Assign"));
    bar.appendChild(ask("add_shared_labels", "Label", "Shared label", "Add label"));
  }
  return h("div", { class: "act" }, bar, form, status);
}

function working(status: HTMLElement, text: string): void {
  status.className = "message";
  status.setAttribute("role", "status");
  status.textContent = text;
}

function fail(status: HTMLElement, error: string): void {
  status.className = "message error";
  status.setAttribute("role", "alert");
  status.textContent = error;
}

// ---- the thread --------------------------------------------------------------------------------------------------

function drawThread(view: View, data: Data, back: (() => void) | null): void {
  const conversation = data.conversation as Conversation;
  const entries = (data.entries as Entry[]).slice();
  const redraw = (c: Conversation, list: Entry[]) => drawThread(view, { ...data, conversation: c, entries: list }, back);
  clear(view.root);
  if (back) append(view.root, button("← Inbox", "Back to the inbox", back, "quiet back"));
  append(
    view.root,
    h("header", { class: "thread-head" }, h("h1", {}, subjectOf(conversation)), tags(view, conversation)),
    actions(view, conversation, {
      open: false,
      changed: (c) => {
        view.list.items = view.list.items.map((x) => (x.id === c.id ? c : x)); // the inbox behind shows it too
        redraw(c, entries);
      },
    }),
  );
  if (data.older_omitted) append(view.root, h("p", { class: "message" }, "Older messages are not shown here."));
  const list = h("ol", { class: "entries", "aria-label": "Messages, comments and posts" });
  for (const entry of entries) list.appendChild(item(view, entry));
  if (!entries.length) append(list, h("li", { class: "empty" }, "Nothing in this conversation yet."));
  append(view.root, list);
  if (view.served.has("reply_to_conversation")) append(view.root, replyForm(view, conversation));
  if (view.served.has("create_post"))
    append(
      view.root,
      noteForm(view, conversation, (post) => redraw(conversation, [...entries, post])),
    );
}

function item(view: View, entry: Entry): HTMLElement {
  const kind = named(entry.kind) || "message";
  const files = Array.isArray(entry.attachments) ? (entry.attachments as Data[]) : [];
  return h(
    "li",
    { class: `entry ${kind}` },
    h(
      "div",
      { class: "line" },
      h("span", { class: "kind" }, kind[0].toUpperCase() + kind.slice(1)),
      h("span", { class: "from" }, named(entry.author) || "Unknown"),
      when(entry.at),
    ),
    named(entry.to) && h("div", { class: "to" }, `To: ${named(entry.to)}`),
    h("div", { class: "body" }, typeof entry.body === "string" ? entry.body : ""),
    files.length > 0 && attachments(view, entry, files),
  );
}

function attachments(view: View, entry: Entry, files: Data[]): HTMLElement {
  const list = h("ul", { class: "files", "aria-label": "Attachments" });
  for (const file of files) {
    const name = named(file.name) || "attachment";
    const shown = h("div", { class: "opened" });
    const details = [named(file.type), typeof file.size === "number" ? `${file.size} bytes` : ""].filter(Boolean).join(", ");
    const li = h("li", {}, h("span", { class: "file" }, name), details && h("span", { class: "details" }, ` (${details})`));
    if (view.served.has("get_attachment") && typeof entry.id === "string" && typeof file.id === "string") {
      const open = button("Open", `Open attachment ${name}`, async () => {
        open.disabled = true;
        working(shown, "Opening…");
        const answer = await call(view.app, "get_attachment", { message_id: entry.id, attachment_id: file.id });
        open.disabled = false;
        clear(shown);
        if (!answer.ok) return fail(shown, answer.error);
        append(shown, ...opened(answer));
      }, "small");
      li.appendChild(open);
    }
    li.appendChild(shown);
    list.appendChild(li);
  }
  return list;
}

function opened(answer: Answer & { ok: true }): (HTMLElement | string)[] {
  for (const block of answer.content as Data[]) {
    const resource = block.type === "resource" ? (block.resource as Data) : null;
    if (resource && typeof resource.text === "string") return [h("pre", { class: "file-text" }, resource.text)];
  }
  const name = named(answer.data.name) || "The file";
  const size = typeof answer.data.size === "number" ? `${answer.data.size} bytes` : "";
  return [h("p", { class: "message" }, `${name} is ${named(answer.data.type) || "binary"}${size ? `, ${size}` : ""}: the agent has it; it is not shown here.`)];
}

function replyForm(view: View, c: Conversation): HTMLElement {
  const text = h("textarea", { rows: "3", required: true }) as HTMLTextAreaElement;
  const all = h("input", { type: "checkbox" }) as HTMLInputElement;
  const status = h("p", { class: "message", role: "status" });
  const save = h("button", { type: "submit" }, "Save reply as draft") as HTMLButtonElement;
  const form = h(
    "form",
    { class: "compose", "aria-label": "Reply" },
    h("label", { class: "stack" }, "Reply (saved as a draft, never sent from here)", text),
    h("div", { class: "row" }, h("label", { class: "check" }, all, "Reply all"), save),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    save.disabled = true;
    working(status, "Saving the draft…");
    // Never `send` or `send_at`: the view drafts; a person sends from Missive (or the agent, if allowed).
    const answer = await call(view.app, "reply_to_conversation", { conversation_id: c.id, body: text.value, reply_all: all.checked });
    save.disabled = false;
    if (!answer.ok) return fail(status, answer.error);
    const to = Array.isArray(answer.data.to_fields) ? names(answer.data.to_fields).join(", ") : "";
    text.value = "";
    status.textContent = `Draft saved${to ? ` to ${to}` : ""}; not sent. Send it from Missive.`;
  });
  return form;
}

function noteForm(view: View, c: Conversation, added: (post: Entry) => void): HTMLElement {
  const text = h("textarea", { rows: "2", required: true }) as HTMLTextAreaElement;
  const status = h("p", { class: "message", role: "status" });
  const save = h("button", { type: "submit" }, "Add note") as HTMLButtonElement;
  const form = h(
    "form",
    { class: "compose", "aria-label": "Internal note" },
    h("label", { class: "stack" }, "Internal note (seen by the team only)", text),
    h("div", { class: "row" }, save),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    save.disabled = true;
    working(status, "Adding the note…");
    const answer = await call(view.app, "create_post", { conversation: c.id, text: text.value });
    save.disabled = false;
    if (!answer.ok) return fail(status, answer.error);
    const post = (answer.data.post ?? {}) as Data;
    added({ kind: "post", id: post.id, at: post.created_at, author: named(post.username) || "You", body: named(post.text) || named(post.body) });
  });
  return form;
}
