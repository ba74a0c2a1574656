import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { importErrorKey, importErrorSummary, normalizePath } from "./import-errors.js";

const MODULE_NOT_FOUND = `Traceback (most recent call last):
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/opt/airflow/dags/acme/orders.py", line 4, in <module>
    from acme_utils.io import read_orders
ModuleNotFoundError: No module named 'acme_utils'
`;

const SYNTAX_ERROR = `Traceback (most recent call last):
  File "<frozen importlib._bootstrap_external>", line 936, in exec_module
  File "<frozen importlib._bootstrap_external>", line 1074, in get_code
  File "<frozen importlib._bootstrap_external>", line 1004, in source_to_code
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/opt/airflow/dags/acme/broken.py", line 12
    with DAG("broken", schedule="@daily" as dag:
                                         ^^
SyntaxError: invalid syntax
`;

const NAME_ERROR = `Traceback (most recent call last):
  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/dagbag.py", line 351, in parse
    loader.exec_module(new_module)
  File "<frozen importlib._bootstrap_external>", line 940, in exec_module
  File "/opt/airflow/dags/repo/.worktrees/3f9c2a1b7e4d5f60718293a4b5c6d7e8f9012345/acme/orders.py", line 30, in <module>
    load = PythonOperator(task_id="load", python_callable=load_orders)
                                                          ^^^^^^^^^^^
NameError: name 'load_orders' is not defined
`;

describe("importErrorSummary", () => {
  it("reads the last exception line of a traceback", () => {
    expect(importErrorSummary(MODULE_NOT_FOUND)).toEqual({
      errorClass: "ModuleNotFoundError",
      errorMessage: "No module named 'acme_utils'",
    });
    expect(importErrorSummary(SYNTAX_ERROR)).toEqual({
      errorClass: "SyntaxError",
      errorMessage: "invalid syntax",
    });
    expect(importErrorSummary(NAME_ERROR)).toEqual({
      errorClass: "NameError",
      errorMessage: "name 'load_orders' is not defined",
    });
  });

  it("reads Airflow's own DAG checks stored without a traceback", () => {
    expect(
      importErrorSummary("AirflowDagCycleException: Cycle detected in DAG: acme_orders. Faulty task: load"),
    ).toEqual({
      errorClass: "AirflowDagCycleException",
      errorMessage: "Cycle detected in DAG: acme_orders. Faulty task: load",
    });
    expect(
      importErrorSummary(
        "airflow.exceptions.AirflowDagDuplicatedIdException: Ignoring DAG acme_orders from /a.py - also found in /b.py",
      ),
    ).toEqual({
      errorClass: "airflow.exceptions.AirflowDagDuplicatedIdException",
      errorMessage: "Ignoring DAG acme_orders from /a.py - also found in /b.py",
    });
  });

  it("gives a null class for a bare message", () => {
    expect(importErrorSummary("Cycle detected in DAG: acme_orders. Faulty task: load\n")).toEqual({
      errorClass: null,
      errorMessage: "Cycle detected in DAG: acme_orders. Faulty task: load",
    });
    expect(importErrorSummary("invalid: lower-case words are not a class")).toEqual({
      errorClass: null,
      errorMessage: "invalid: lower-case words are not a class",
    });
  });

  it("keeps a multi-line message without a traceback", () => {
    expect(
      importErrorSummary("ParamValidationError: Invalid input for param x:\n'a' is not of type 'integer'"),
    ).toEqual({
      errorClass: "ParamValidationError",
      errorMessage: "Invalid input for param x:\n'a' is not of type 'integer'",
    });
  });

  it("returns nulls for an empty trace", () => {
    expect(importErrorSummary("")).toEqual({ errorClass: null, errorMessage: null });
    expect(importErrorSummary(" \n ")).toEqual({ errorClass: null, errorMessage: null });
  });
});

describe("importErrorKey", () => {
  it("is the first 16 hex characters of a sha256 over version, file and trace", () => {
    // python3 -c "import hashlib; print(hashlib.sha256(b'import-error/v1\x00dags/acme/orders.py\x00ModuleNotFoundError: No module named \'acme_utils\'').hexdigest()[:16])"
    expect(importErrorKey("dags/acme/orders.py", "ModuleNotFoundError: No module named 'acme_utils'")).toBe(
      "482873937c33b780",
    );
  });

  it("ignores line numbers, so an edit elsewhere in the file keeps the key", () => {
    const moved = MODULE_NOT_FOUND.replace("line 4, in <module>", "line 9, in <module>").replace(
      "line 241",
      "line 228",
    );
    expect(importErrorKey("/opt/airflow/dags/acme/orders.py", moved)).toBe(
      importErrorKey("/opt/airflow/dags/acme/orders.py", MODULE_NOT_FOUND),
    );
  });

  it("ignores the Python installation prefix before site-packages", () => {
    const venv = NAME_ERROR.replace(
      "/home/airflow/.local/lib/python3.11/site-packages",
      "/opt/venv/lib/python3.12/site-packages",
    );
    expect(importErrorKey("acme/orders.py", venv)).toBe(importErrorKey("acme/orders.py", NAME_ERROR));
  });

  it("ignores the checkout directory of a git-sync worktree or a bundle version", () => {
    const otherCommit = NAME_ERROR.replace(
      "3f9c2a1b7e4d5f60718293a4b5c6d7e8f9012345",
      "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    );
    expect(importErrorKey("acme/orders.py", otherCommit)).toBe(importErrorKey("acme/orders.py", NAME_ERROR));
    expect(normalizePath("/tmp/airflow/dag_bundles/acme/versions/0123abcd/dags/orders.py")).toBe(
      "dags/orders.py",
    );
    expect(normalizePath("/tmp/airflow/dag_bundles/acme/tracking_repo/dags/orders.py")).toBe(
      "dags/orders.py",
    );
    expect(importErrorKey("/tmp/airflow/dag_bundles/acme/versions/0123abcd/dags/orders.py", "E")).toBe(
      importErrorKey("/tmp/airflow/dag_bundles/acme/versions/89ef4567/dags/orders.py", "E"),
    );
  });

  it("keeps ordinary paths, including a directory that merely looks like a version", () => {
    expect(normalizePath("/opt/airflow/dags/acme/orders.py")).toBe("/opt/airflow/dags/acme/orders.py");
    expect(normalizePath("/opt/airflow/dags/versions/v2/orders.py")).toBe(
      "/opt/airflow/dags/versions/v2/orders.py",
    );
    expect(normalizePath("C:\\airflow\\dags\\x.py")).toBe("C:/airflow/dags/x.py");
  });

  it("ignores caret lines, memory addresses, timestamps, PIDs, repeat counts and line endings", () => {
    const a = `${NAME_ERROR}<object at 0x7f3a2b1c4d90> at 2024-05-01T10:00:00.123+00:00 PID: 1234\n  [Previous line repeated 996 more times]`;
    const b =
      `${NAME_ERROR.replace(/ {58}\^+\n/, "")}<object at 0x7f00deadbeef> at 2024-06-02 11:30:00 PID: 99\r\n  [Previous line repeated 12 more times]\r\n`.replaceAll(
        "\n",
        "\r\n",
      );
    expect(importErrorKey("acme/orders.py", a)).toBe(importErrorKey("acme/orders.py", b));
  });

  it("tells different files, messages and failure sites apart", () => {
    const base = importErrorKey("acme/orders.py", MODULE_NOT_FOUND);
    expect(importErrorKey("acme/billing.py", MODULE_NOT_FOUND)).not.toBe(base);
    expect(
      importErrorKey("acme/orders.py", MODULE_NOT_FOUND.replace("'acme_utils'", "'acme_tools'")),
    ).not.toBe(base);
    expect(
      importErrorKey("acme/orders.py", MODULE_NOT_FOUND.replace("in <module>", "in build_dag")),
    ).not.toBe(base);
    expect(
      importErrorKey("acme/orders.py", MODULE_NOT_FOUND.replace("read_orders", "write_orders")),
    ).not.toBe(base);
  });

  it("never throws, is deterministic and always 16 hex characters", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: "grapheme", maxLength: 500 }), (file, trace) => {
        const key = importErrorKey(file, trace);
        expect(key).toMatch(/^[0-9a-f]{16}$/);
        expect(importErrorKey(file, trace)).toBe(key);
        const summary = importErrorSummary(trace);
        expect(summary.errorClass === null || typeof summary.errorClass === "string").toBe(true);
      }),
    );
  });

  it("normalizePath is idempotent", () => {
    const path = fc
      .array(
        fc.constantFrom(
          "opt",
          "site-packages",
          "dist-packages",
          "versions",
          "0123abcd",
          ".worktrees",
          "tracking_repo",
          "x.py",
          "a",
        ),
        {
          maxLength: 8,
        },
      )
      .map((parts) => `/${parts.join("/")}`);
    fc.assert(
      fc.property(fc.oneof(path, fc.string()), (p) => {
        expect(normalizePath(normalizePath(p))).toBe(normalizePath(p));
      }),
    );
  });
});
