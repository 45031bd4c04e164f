// A client built on the TypeScript MCP SDK (what most desktop clients build on) calls every tool of the server,
// with the SDK's output-schema validation on: after tools/list, Client.callTool checks each structuredContent
// against the tool's outputSchema and throws on a mismatch.
//
//   node ts_client.mjs CALLS.json stdio COMMAND [ARGS...]
//   MCP_KEY=... node ts_client.mjs CALLS.json http URL
//
// CALLS.json: {"deadline_ms": N, "calls": [[tool, arguments, error_expected], ...]}; an argument value
// {"$from": [tool, "field.sub"]} is taken from that tool's earlier structured result. Fails (exit 1) on a listed tool
// without a call, a call to an unlisted tool, a validation error, a call slower than the deadline, an error where
// none is expected, or an expected error that is not a proper tool error (isError with one line of text).
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [callsFile, kind, ...target] = process.argv.slice(2);
const { deadline_ms: deadline, calls } = JSON.parse(readFileSync(callsFile, "utf8"));
const transport =
  kind === "stdio"
    ? new StdioClientTransport({ command: target[0], args: target.slice(1), stderr: "ignore" })
    : new StreamableHTTPClientTransport(new URL(target[0]), {
        requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_KEY}` } },
      });
const client = new Client({ name: "missive-ci-typescript", version: "1.0.0" });
const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`FAIL ${kind}: ${what}`);
};

await client.connect(transport);
const { tools } = await client.listTools(); // also arms the SDK's output-schema validators
const listed = new Set(tools.map((tool) => tool.name));
const called = new Set(calls.map(([name]) => name));
for (const name of listed) if (!called.has(name)) fail(`${name} is listed but has no call in the table`);
for (const name of called) if (!listed.has(name)) fail(`${name} is in the table but not listed`);
for (const tool of tools) if (!tool.outputSchema) fail(`${tool.name} has no output schema`);

const results = {};
// An argument, with each {"$from": [tool, "a.0.b"]} in it (at any depth) replaced by that earlier result's value.
const resolve = (value) =>
  Array.isArray(value)
    ? value.map(resolve)
    : value && typeof value === "object"
      ? "$from" in value
        ? value.$from[1].split(".").reduce((found, part) => found?.[part], results[value.$from[0]])
        : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]))
      : value;
for (const [name, rawArguments, errorExpected] of calls) {
  if (!listed.has(name)) continue;
  const args = resolve(rawArguments);
  let progress = 0;
  const started = performance.now();
  let result;
  try {
    result = await client.callTool({ name, arguments: args }, undefined, {
      timeout: deadline,
      onprogress: () => {
        progress += 1;
      },
    });
  } catch (error) {
    fail(`${name} threw after ${((performance.now() - started) / 1000).toFixed(1)} s: ${error.message}`);
    continue;
  }
  const seconds = (performance.now() - started) / 1000;
  if (seconds * 1000 > deadline) fail(`${name} took ${seconds.toFixed(1)} s, past the ${deadline / 1000} s deadline`);
  const text = (result.content ?? []).map((block) => block.text ?? "").join(" ");
  if (result.isError && !errorExpected) {
    fail(`${name} answered an error: ${text.slice(0, 300)}`);
    continue;
  }
  if (errorExpected) {
    const proper = result.isError === true && result.content?.[0]?.type === "text" && text.trim() && !text.includes("\n");
    if (!proper) fail(`${name} should answer one tool error line, got ${JSON.stringify(result).slice(0, 300)}`);
    else console.log(`ok   ${kind}: ${name} refused as expected in ${seconds.toFixed(2)} s: ${text.slice(0, 100)}`);
    continue;
  }
  results[name] = result.structuredContent;
  const streamed = progress ? `, ${progress} progress notification(s)` : "";
  console.log(`ok   ${kind}: ${name} in ${seconds.toFixed(2)} s, structuredContent valid${streamed}`);
  if (name === "get_analytics_report" && progress === 0) fail(`${name} sent no progress while it waited`);
}
await client.close();
console.log(failures.length ? `${failures.length} failure(s)` : `${kind}: all ${calls.length} calls passed`);
process.exit(failures.length ? 1 : 0);
