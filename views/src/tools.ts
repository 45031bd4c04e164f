// The view's one way to act: a call to one of the server's tools through the host (App.callServerTool), so every
// rule the server keeps (read-only mode, the send permission, names checked) holds here as in chat.
import type { App } from "@modelcontextprotocol/ext-apps";

export type Answer = { ok: true; data: Record<string, unknown>; content: unknown[] } | { ok: false; error: string };

/** The tools this server serves among the view's actions (written into the page by the server). */
export function servedTools(): Set<string> {
  const node = document.getElementById("missive-tools");
  try {
    const parsed: unknown = JSON.parse(node?.textContent ?? "[]");
    return new Set(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : []);
  } catch {
    return new Set();
  }
}

export async function call(app: App, name: string, args: Record<string, unknown>): Promise<Answer> {
  try {
    const result = await app.callServerTool({ name, arguments: args });
    const content = Array.isArray(result.content) ? result.content : [];
    if (result.isError) {
      // The tool's own sentence: it says what was wrong and what to do.
      const text = content.map((block) => (block && block.type === "text" ? block.text : "")).join(" ").trim();
      return { ok: false, error: text || `${name} failed.` };
    }
    const data = (result.structuredContent ?? {}) as Record<string, unknown>;
    return { ok: true, data, content };
  } catch (error) {
    return { ok: false, error: `${name} could not be called: ${error instanceof Error ? error.message : String(error)}` };
  }
}
