// An OAuth-capable client on the TypeScript SDK (an authProvider, as desktop clients have) that reaches a key-mode
// server without the key. It probes /.well-known (404), falls back to POST /register at the root, and fails; this
// checks that what it shows the person is the server's sentence, not `ServerError: ""`.
//
//   node ts_key_mode.mjs CALLS.json LABEL URL        (the arguments ts_client.mjs takes; CALLS.json is not read)
//
// Exits 0 when the error the client throws names the bearer key; 1 otherwise (and when it connects at all).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = process.argv[4];
const redirect = "http://127.0.0.1:1/callback";
const opened = [];
const provider = {
  redirectUrl: redirect,
  clientMetadata: {
    client_name: "missive-ci-key-mode",
    redirect_uris: [redirect],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  },
  clientInformation: () => undefined,
  saveClientInformation: () => {},
  tokens: () => undefined,
  saveTokens: () => {},
  redirectToAuthorization: (to) => opened.push(String(to)),
  saveCodeVerifier: () => {},
  codeVerifier: () => "v".repeat(43),
};
const client = new Client({ name: "missive-ci-key-mode", version: "1.0.0" });
let shown = "";
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  shown = "connected without a key";
} catch (error) {
  shown = `${error.constructor.name}: ${error.message}`;
}
console.log(`the client shows: ${shown}${opened.length ? ` (and opened ${opened.join(", ")})` : ""}`);
process.exit(shown.includes("bearer key") && shown.includes("MISSIVE_MCP_AUTH_TOKEN") ? 0 : 1);
