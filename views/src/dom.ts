// Building the view's DOM. Every string from a tool's answer becomes a text node: mail, names and subjects are
// never parsed as HTML, so markup in them shows as the characters it is and cannot run.

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | boolean | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  append(node, ...children);
  return node;
}

export function append(node: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function button(text: string, label: string | undefined, onClick: (event: Event) => void, kind = ""): HTMLButtonElement {
  const node = h("button", { type: "button", class: kind || undefined, "aria-label": label }, text) as HTMLButtonElement;
  node.addEventListener("click", onClick);
  return node;
}

/** A person, team or label as the tools give it: a name string (lean lists) or an object with a name. */
export function named(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    for (const key of ["name", "email", "address", "id"]) if (typeof v[key] === "string" && v[key]) return v[key] as string;
  }
  return "";
}

export function names(values: unknown): string[] {
  return Array.isArray(values) ? values.map(named).filter(Boolean) : [];
}

export function when(seconds: unknown): HTMLElement | null {
  if (typeof seconds !== "number") return null;
  const date = new Date(seconds * 1000);
  const shown = date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  return h("time", { datetime: date.toISOString() }, shown);
}
