// The test host (tests/test_views.py): loads a view in a sandboxed iframe and connects it with AppBridge, as an
// MCP Apps host does. Tool calls from the view go to window.mcpCall, which the test binds to a real MCP client.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";
import type { McpUiHostContext } from "@modelcontextprotocol/ext-apps";

interface Opening {
  html: string;
  toolName: string;
  toolInput: Record<string, unknown>;
  toolResult: Record<string, unknown>;
  theme: "light" | "dark";
  width: number;
}

declare global {
  interface Window {
    mcpCall(params: unknown): Promise<Record<string, unknown>>;
    openView(opening: Opening): Promise<void>;
    setTheme(theme: "light" | "dark"): Promise<void>;
    /** Every string posted to this page: planted mail markup that ran would post here. */
    posted: string[];
    bridge: AppBridge;
  }
}

window.posted = [];
window.addEventListener("message", (event) => {
  if (typeof event.data === "string") window.posted.push(event.data);
});

window.openView = async (opening) => {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts allow-forms");
  frame.title = "MCP App view";
  frame.style.width = `${opening.width}px`;
  frame.style.height = "1400px";
  frame.style.border = "0";
  document.body.appendChild(frame);
  const context: McpUiHostContext = {
    theme: opening.theme,
    displayMode: "inline",
    toolInfo: { tool: { name: opening.toolName, inputSchema: { type: "object" } } },
    containerDimensions: { maxWidth: opening.width },
  };
  const bridge = new AppBridge(null, { name: "missive-mcp test host", version: "1.0.0" }, { serverTools: {} }, { hostContext: context });
  bridge.onsizechange = ({ height }) => {
    if (height) frame.style.height = `${Math.ceil(height)}px`;
  };
  bridge.oncalltool = async (params) => (await window.mcpCall(params)) as never;
  const initialized = new Promise<void>((resolve) => (bridge.oninitialized = () => resolve()));
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
  frame.srcdoc = opening.html;
  await initialized;
  await bridge.sendToolInput({ arguments: opening.toolInput });
  await bridge.sendToolResult(opening.toolResult as never);
  window.bridge = bridge;
  current = context;
};

let current: McpUiHostContext = {};

window.setTheme = async (theme) => {
  current = { ...current, theme };
  window.bridge.setHostContext(current);
};
