// A client on the TypeScript MCP SDK signs in to the team server (MISSIVE_MCP_AUTH=oauth) the way desktop clients do:
// the SDK's own OAuth machinery (`authProvider`: discovery, dynamic registration, PKCE, token exchange), with the
// browser step automated: open the sign-in page, paste the Missive token, allow on the page that says whose token
// it is (its consent cookie included), and hand the code back. Then it calls a read tool and a write tool.
//
//   MISSIVE_TOKEN=... node ts_oauth.mjs URL
//
// Fails (exit 1) if the sign-in does not end in tokens, if the read does not show the token's owner as `me`, if the
// write is refused, or if an Allow without the browser's cookie is not refused.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url] = process.argv.slice(2);
const missiveToken = process.env.MISSIVE_TOKEN;
const redirectUrl = "http://127.0.0.1:9/callback";
const failures = [];
const check = (what, holds) => {
  console.log(`${holds ? "ok  " : "FAIL"} oauth: ${what}`);
  if (!holds) failures.push(what);
};

// The hidden fields of a page's form, as a browser submits them.
const hiddenFields = (html) =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map((m) => [m[1], m[2]]));
const unescape = (text) => text.replaceAll("&amp;", "&").replaceAll("&#x27;", "'").replaceAll("&quot;", '"');

let code = null;
let cookieRefused = false;

// The person's browser: follows /authorize to the sign-in page, pastes the token, allows.
async function browser(authorizationUrl) {
  const authorize = await fetch(authorizationUrl, { redirect: "manual" });
  const signinUrl = new URL(authorize.headers.get("location"), authorizationUrl);
  const form = await fetch(signinUrl);
  const request = hiddenFields(await form.text()).request;
  const shown = await fetch(new URL("/signin", signinUrl), {
    method: "POST",
    body: new URLSearchParams({ request, missive_token: missiveToken }),
  });
  const page = await shown.text();
  check(`the sign-in page says whose token it is (HTTP ${shown.status})`, page.includes('class="who"'));
  const cookie = shown.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
  const fields = hiddenFields(page);
  for (const key of Object.keys(fields)) fields[key] = unescape(fields[key]);
  const allow = new URL("/signin/allow", signinUrl);
  const allowed = await fetch(allow, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { cookie },
    redirect: "manual",
  });
  const back = new URL(allowed.headers.get("location") ?? "about:blank");
  code = back.searchParams.get("code");
  check(`Allow with the browser's cookie sends the browser back with a code (HTTP ${allowed.status})`, Boolean(code));
}

const memory = { client: undefined, tokens: undefined, verifier: "" };
const authProvider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return {
      client_name: "missive-ci-typescript-oauth",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => memory.client,
  saveClientInformation: (info) => {
    memory.client = info;
  },
  tokens: () => memory.tokens,
  saveTokens: (tokens) => {
    memory.tokens = tokens;
  },
  redirectToAuthorization: (authorizationUrl) => browser(authorizationUrl),
  saveCodeVerifier: (verifier) => {
    memory.verifier = verifier;
  },
  codeVerifier: () => memory.verifier,
};

const first = new StreamableHTTPClientTransport(new URL(url), { authProvider });
try {
  await new Client({ name: "missive-ci-typescript-oauth", version: "1.0.0" }).connect(first);
  check("the first connection asks for a sign-in", false);
} catch (error) {
  check(`the first connection asks for a sign-in (${error.constructor.name})`, error instanceof UnauthorizedError);
}
if (code) await first.finishAuth(code);
check("the SDK holds an access token and a refresh token", Boolean(memory.tokens?.access_token && memory.tokens?.refresh_token));

// A second flow, allowed without the browser's cookie, as a client that read the request id from /authorize would.
{
  const authorize = await fetch(
    `${new URL("/authorize", url)}?${new URLSearchParams({
      response_type: "code",
      client_id: memory.client?.client_id ?? "",
      redirect_uri: redirectUrl,
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      state: "s",
    })}`,
    { redirect: "manual" },
  );
  const signinUrl = new URL(authorize.headers.get("location"), url);
  const request = signinUrl.searchParams.get("request");
  await fetch(new URL("/signin", url), { method: "POST", body: new URLSearchParams({ request, missive_token: missiveToken }) });
  const bare = await fetch(new URL("/signin/allow", url), {
    method: "POST",
    body: new URLSearchParams({ request }),
    redirect: "manual",
  });
  cookieRefused = bare.status === 403 && !bare.headers.get("location");
  check(`an Allow without the browser's cookie is refused (HTTP ${bare.status})`, cookieRefused);
}

const client = new Client({ name: "missive-ci-typescript-oauth", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider }));
const read = await client.callTool({ name: "list_users", arguments: {} });
const me = (read.structuredContent?.users ?? []).find((user) => user.me);
check(`read: list_users answers as the signed-in person (${me?.email})`, !read.isError && Boolean(me));
const conversations = await client.callTool({ name: "list_conversations", arguments: { inbox: true, limit: 2 } });
const conversation = conversations.structuredContent?.conversations?.[0]?.id;
const write = await client.callTool({
  name: "create_draft",
  arguments: { conversation, body: "Signed in through OAuth from the TypeScript SDK." },
});
check(`write: create_draft makes a draft in the person's name`, !write.isError && Boolean(write.structuredContent?.draft?.id));
await client.close();
console.log(failures.length ? `${failures.length} failure(s)` : "oauth: signed in and called a read and a write tool");
process.exit(failures.length ? 1 : 0);
