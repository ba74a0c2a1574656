// Prints vitest's JSON report as one plain closing line ("Tests: N passed, N failed, N skipped"), the
// form CI reads in any language. Exits non-zero when the report is missing or counts a failure.
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? ".ci/vitest-report.json";
let report;
try {
  report = JSON.parse(readFileSync(path, "utf8"));
} catch (error) {
  console.error(`no test report at ${path}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
