/**
 * `npm run dev`: the Worker on this machine, offline, over a persisted local
 * D1 (.wrangler/state). Applies the migrations (local/wrangler-state.ts, the
 * function every redun-edge database is migrated with), starts `wrangler dev` on
 * 127.0.0.1:8787, records the example workflow through the HTTP API when the
 * store is empty (so there is something to look at), prints the inspector's
 * URL (the page at `/`, dist/inspector) and two curl requests, and stays up
 * until Ctrl-C.
 *
 * Environment: PORT (default 8787); API_TOKEN (writes then need it);
 * PERSIST_TO (a folder for the local D1 instead of .wrangler/state, as the
 * load benchmark uses); INSPECTOR_PORT (wrangler's devtools port, 9229 by default).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Scheduler } from "redun-edge";
import { createHttpClient, createHttpRepository } from "redun-edge/http";
import { main } from "../examples/hello-world.ts";
import { migrateWranglerState } from "../local/wrangler-state.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const url = `http://127.0.0.1:${port}`;
const token = process.env.API_TOKEN || undefined;
const persistTo = process.env.PERSIST_TO || undefined;
const persistArgs = persistTo ? ["--persist-to", persistTo] : [];
const stateDir = persistTo ?? ".wrangler/state";
const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
// Offline and quiet: no telemetry, no update check, no prompts, no download of the `Request.cf` object.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  NO_UPDATE_NOTIFIER: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "1",
  FORCE_COLOR: "0",
};

async function portIsFree(): Promise<boolean> {
  try {
    await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

async function waitForHealth(child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (code ${child.exitCode}) before the API answered`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API did not answer at ${url}/api/health within ${timeoutMs / 1000}s`);
}

/** Record `main({ name: "World" })` through the API when the store holds nothing yet. */
async function seedWhenEmpty(): Promise<string | null> {
  const client = createHttpClient({ url, token });
  if ((await client.pull(null, 1)).records.length > 0) return null;
  const repository = createHttpRepository({ url, token });
  const { executionId } = await new Scheduler({ repository }).runWithId(main({ name: "World" }), {
    tags: { example: "hello-world" },
    argv: ["run", "examples/hello-world.ts", "main", "--name", "World"],
  });
  return executionId;
}

async function newestExecution(): Promise<string | null> {
  const { records } = await createHttpClient({ url }).log({ limit: 1 });
  return records[0]?.id ?? null;
}

if (!(await portIsFree())) {
  console.error(`dev: something already listens on ${url}; stop it or set PORT`);
  process.exit(1);
}

console.log(`dev: applying migrations to the local D1 (${stateDir})`);
try {
  const applied = await migrateWranglerState(stateDir, root);
  console.log(applied.length ? `dev: applied ${applied.join(", ")}` : "dev: no migrations to apply");
} catch (error) {
  console.error(`dev: applying migrations failed: ${(error as Error).message}`);
  process.exit(1);
}

const devArgs = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false", ...persistArgs];
if (process.env.INSPECTOR_PORT) devArgs.push("--inspector-port", process.env.INSPECTOR_PORT);
if (token) devArgs.push("--var", `API_TOKEN:${token}`);
console.log("dev: starting wrangler dev");
const child = spawn(process.execPath, [wrangler, ...devArgs], { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
const stop = () => {
  if (child.exitCode === null) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
child.on("exit", (code) => process.exit(code ?? 0));

try {
  await waitForHealth(child);
  const seeded = await seedWhenEmpty();
  const id = (seeded ?? (await newestExecution()))?.slice(0, 8) ?? "<id-prefix>";
  const auth = token ? ` -H 'authorization: Bearer ${token}'` : "";
  console.log(
    [
      "",
      `redun-edge inspector: ${url}/`,
      `redun-edge API: ${url}/api   (OpenAPI: ${url}/api/openapi.json)`,
      seeded ? `recorded examples/hello-world.ts main({ name: "World" }) as execution ${id}` : "the store already holds records",
      "",
      "try:",
      `  curl '${url}/api/records?tag=example=hello-world'`,
      `  curl -X POST${auth} -H 'content-type: application/json' -d '{"op":"add","tags":["reviewed=true"]}' ${url}/api/records/${id}/tags`,
      "",
      `Ctrl-C stops the server; the store stays in ${stateDir}.`,
      "",
    ].join("\n"),
  );
} catch (error) {
  console.error(`dev: ${(error as Error).message}`);
  stop();
  process.exitCode = 1;
}
