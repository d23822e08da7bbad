// A real gridwork-server process for the tests: a fresh data directory
// with the demo loaded, listening on a free loopback port (port 0; the
// port is read from the server's `listening on http://…` line).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const PASSWORD = "js-client-demo-password";

/** The binary: GRIDWORK_SERVER_BIN, else the workspace's debug build. */
export function serverBinary() {
  if (process.env.GRIDWORK_SERVER_BIN) return process.env.GRIDWORK_SERVER_BIN;
  const target =
    process.env.CARGO_TARGET_DIR ?? resolve(import.meta.dirname, "../../target");
  return join(target, "debug", "gridwork-server");
}

/** Starts a server with `load-demo --records <records>`. */
export async function startServer({ records = 200 } = {}) {
  const bin = serverBinary();
  const data = mkdtempSync(join(tmpdir(), "gridwork-js-client-"));
  const admin = (...args) =>
    execFileSync(bin, ["--data", data, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  admin("init");
  const loaded = admin("load-demo", "--records", String(records), "--password", PASSWORD);
  // "demo login, grid worker: user ID (NAME, grid CODE), password …"
  const logins = {};
  for (const m of loaded.matchAll(/demo login, ([a-z ]+): user (\S+) \(.*, grid (\d+)\)/g)) {
    logins[m[1]] = { user: m[2], grid: m[3] };
  }
  if (!logins["grid worker"] || !logins.supervisor) {
    throw new Error(`load-demo printed no logins:\n${loaded}`);
  }
  const child = spawn(
    bin,
    ["--data", data, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // The server's log, shown when a test fails.
  let log = "";
  child.stderr.on("data", (chunk) => {
    log += chunk;
  });
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start in 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const url = line.match(/^listening on (http:\/\/\S+)/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolveBase(url);
      }
    });
  });
  return {
    base,
    logins,
    log: () => log,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}
