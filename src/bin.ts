#!/usr/bin/env node
import { main } from "./cli.js";

// Kubernetes sends SIGTERM before killing a pod (eviction, activeDeadlineSeconds): stop at the next batch
// boundary, record the run as interrupted and release the locks. A second signal exits at once.
const stop = new AbortController();
for (const name of ["SIGTERM", "SIGINT"] as const) {
  process.on(name, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  });
}

const code = await main(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  stopSignal: stop.signal,
});
// Exit once stdout has drained, even if a library left a handle open.
process.stdout.write("", () => process.exit(code));
