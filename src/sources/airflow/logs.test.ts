import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  capErrorMessage,
  findLastTracebackError,
  MAX_MESSAGE_CHARS,
  MAX_MESSAGE_LINES,
  parseStructuredLogError,
  parseTextLogError,
} from "./logs.js";

const NONE = { errorClass: null, errorMessage: null };
const SITE = "/home/airflow/.local/lib/python3.11/site-packages";

/** The frames Airflow 2.9 prints above every task failure, in the ISO-prefixed file format. */
const RUNNER_FRAMES = `  File "${SITE}/airflow/models/taskinstance.py", line 465, in _execute_task
    result = _execute_callable(context=context, **execute_callable_kwargs)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "${SITE}/airflow/models/taskinstance.py", line 432, in _execute_callable
    return execute_callable(context=context, **execute_callable_kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "${SITE}/airflow/models/baseoperator.py", line 401, in wrapper
    return func(self, *args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^`;

const PRE_EXECUTION = `[2024-05-01T10:00:00.123+0000] {local_task_job_runner.py:120} INFO - ::group::Pre task execution logs
[2024-05-01T10:00:00.150+0000] {taskinstance.py:2076} INFO - Dependencies all met for dep_context=non-requeueable deps ti=<TaskInstance: acme_orders.load manual__2024-05-01T09:59:00+00:00 [queued]>
[2024-05-01T10:00:00.200+0000] {taskinstance.py:2306} INFO - Starting attempt 1 of 1
[2024-05-01T10:00:00.300+0000] {taskinstance.py:2330} INFO - Executing <Task(PythonOperator): load> on 2024-05-01 09:59:00+00:00
[2024-05-01T10:00:00.310+0000] {standard_task_runner.py:90} INFO - Running: ['airflow', 'tasks', 'run', 'acme_orders', 'load', 'manual__2024-05-01T09:59:00+00:00', '--job-id', '4321', '--raw']
[2024-05-01T10:00:00.400+0000] {taskinstance.py:2648} INFO - Exporting env vars: AIRFLOW_CTX_DAG_OWNER='data' AIRFLOW_CTX_DAG_ID='acme_orders'
[2024-05-01T10:00:00.401+0000] {taskinstance.py:430} INFO - ::endgroup::
`;

const POST_FAILURE = `[2024-05-01T10:00:01.190+0000] {taskinstance.py:1206} INFO - Marking task as FAILED. dag_id=acme_orders, task_id=load, run_id=manual__2024-05-01T09:59:00+00:00, execution_date=20240501T095900, start_date=20240501T100000, end_date=20240501T100001
[2024-05-01T10:00:01.210+0000] {standard_task_runner.py:110} ERROR - Failed to execute job 4321 for task load (see above; 1234)
[2024-05-01T10:00:01.250+0000] {local_task_job_runner.py:240} INFO - Task exited with return code 1
[2024-05-01T10:00:01.300+0000] {taskinstance.py:3498} INFO - 0 downstream tasks scheduled from follow-on schedule check
[2024-05-01T10:00:01.310+0000] {local_task_job_runner.py:222} INFO - ::endgroup::
`;

function taskLog(failure: string): string {
  return `${PRE_EXECUTION}[2024-05-01T10:00:01.180+0000] {taskinstance.py:2905} ERROR - Task failed with exception
${failure}
${POST_FAILURE}`;
}

describe("parseTextLogError: Airflow 2 task logs", () => {
  it("reads a simple failure", () => {
    const log = taskLog(`Traceback (most recent call last):
${RUNNER_FRAMES}
  File "${SITE}/airflow/operators/python.py", line 235, in execute
    return_value = self.execute_callable()
                   ^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/airflow/dags/acme_orders.py", line 18, in load
    raise ValueError("missing column 'amount' in orders_2024_05_01.csv")
ValueError: missing column 'amount' in orders_2024_05_01.csv`);
    expect(parseTextLogError(log)).toEqual({
      errorClass: "ValueError",
      errorMessage: "missing column 'amount' in orders_2024_05_01.csv",
    });
  });

  it("reads the BashOperator failure, not the script's own traceback re-logged above it", () => {
    const log = `${PRE_EXECUTION}[2024-05-01T10:00:00.500+0000] {subprocess.py:63} INFO - Tmp dir root location: /tmp
[2024-05-01T10:00:00.501+0000] {subprocess.py:75} INFO - Running command: ['/usr/bin/bash', '-c', 'python /opt/airflow/scripts/load.py']
[2024-05-01T10:00:00.510+0000] {subprocess.py:86} INFO - Output:
[2024-05-01T10:00:01.100+0000] {subprocess.py:93} INFO - Traceback (most recent call last):
[2024-05-01T10:00:01.101+0000] {subprocess.py:93} INFO -   File "/opt/airflow/scripts/load.py", line 12, in <module>
[2024-05-01T10:00:01.101+0000] {subprocess.py:93} INFO -     main()
[2024-05-01T10:00:01.102+0000] {subprocess.py:93} INFO - ValueError: missing column 'amount'
[2024-05-01T10:00:01.150+0000] {subprocess.py:97} INFO - Command exited with return code 1
[2024-05-01T10:00:01.180+0000] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
${RUNNER_FRAMES}
  File "${SITE}/airflow/operators/bash.py", line 243, in execute
    raise AirflowException(
airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.
${POST_FAILURE}`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "airflow.exceptions.AirflowException",
      errorMessage: "Bash command failed. The command returned a non-zero exit code 1.",
    });
  });

  it("reads a traceback whose every line carries the record prefix (a subprocess's output)", () => {
    const log = `[2024-05-01T10:00:01.100+0000] {subprocess.py:93} INFO - Traceback (most recent call last):
[2024-05-01T10:00:01.101+0000] {subprocess.py:93} INFO -   File "/opt/airflow/scripts/load.py", line 12, in <module>
[2024-05-01T10:00:01.101+0000] {subprocess.py:93} INFO -     main()
[2024-05-01T10:00:01.102+0000] {subprocess.py:93} INFO - psycopg2.errors.UndefinedTable: relation "staging.orders" does not exist
[2024-05-01T10:00:01.102+0000] {subprocess.py:93} INFO - LINE 1: INSERT INTO staging.orders SELECT * FROM raw.orders
[2024-05-01T10:00:01.150+0000] {subprocess.py:97} INFO - Command exited with return code 1
`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "psycopg2.errors.UndefinedTable",
      errorMessage:
        'relation "staging.orders" does not exist\nLINE 1: INSERT INTO staging.orders SELECT * FROM raw.orders',
    });
  });

  it("takes the raised exception of an explicit chain (raise X from Y)", () => {
    const log = taskLog(`Traceback (most recent call last):
  File "/opt/airflow/dags/acme_orders.py", line 20, in fetch
    resp.raise_for_status()
  File "${SITE}/requests/models.py", line 1021, in raise_for_status
    raise HTTPError(http_error_msg, response=self)
requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.acme.test/orders

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
${RUNNER_FRAMES}
  File "/opt/airflow/dags/acme_orders.py", line 24, in fetch
    raise OrdersUnavailable("orders API unavailable") from exc
acme.errors.OrdersUnavailable: orders API unavailable`);
    expect(parseTextLogError(log)).toEqual({
      errorClass: "acme.errors.OrdersUnavailable",
      errorMessage: "orders API unavailable",
    });
  });

  it("takes the exception raised while handling another (implicit chaining)", () => {
    const log = taskLog(`Traceback (most recent call last):
  File "/opt/airflow/dags/acme_orders.py", line 30, in transform
    region = REGIONS[row["region"]]
             ~~~~~~~^^^^^^^^^^^^^^^
KeyError: 'EMEA-2'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
${RUNNER_FRAMES}
  File "/opt/airflow/dags/acme_orders.py", line 33, in transform
    raise RuntimeError(f"unknown region in row {i}")
RuntimeError: unknown region in row 17`);
    expect(parseTextLogError(log)).toEqual({
      errorClass: "RuntimeError",
      errorMessage: "unknown region in row 17",
    });
  });

  it("keeps the first lines of a multi-line SQL error and stops at the blank line", () => {
    const log = taskLog(`Traceback (most recent call last):
${RUNNER_FRAMES}
  File "${SITE}/airflow/providers/common/sql/hooks/sql.py", line 404, in run
    self._run_command(cur, sql_statement, parameters)
  File "${SITE}/airflow/providers/common/sql/hooks/sql.py", line 450, in _run_command
    cur.execute(sql_statement)
psycopg2.errors.UndefinedTable: relation "staging.orders" does not exist
LINE 1: INSERT INTO staging.orders SELECT * FROM raw.orders
                    ^
`);
    expect(parseTextLogError(log)).toEqual({
      errorClass: "psycopg2.errors.UndefinedTable",
      errorMessage: [
        'relation "staging.orders" does not exist',
        "LINE 1: INSERT INTO staging.orders SELECT * FROM raw.orders",
        "                    ^",
      ].join("\n"),
    });
  });

  it("ends a message at the next log record", () => {
    const log = `Traceback (most recent call last):
  File "/opt/airflow/dags/x.py", line 3, in run
    cur.execute(sql)
sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) column "amount" does not exist
LINE 1: SELECT amount FROM orders
[2024-05-01, 10:00:01 UTC] {taskinstance.py:1206} INFO - Marking task as FAILED. dag_id=x, task_id=y`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "sqlalchemy.exc.ProgrammingError",
      errorMessage:
        '(psycopg2.errors.UndefinedColumn) column "amount" does not exist\nLINE 1: SELECT amount FROM orders',
    });
  });

  it("reads a task timeout", () => {
    const log = `[2024-05-01, 10:30:00 UTC] {timeout.py:68} ERROR - Process timed out, PID: 1234
[2024-05-01, 10:30:00 UTC] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
${RUNNER_FRAMES}
  File "/opt/airflow/dags/slow.py", line 9, in crunch
    time.sleep(10)
  File "${SITE}/airflow/utils/timeout.py", line 69, in handle_timeout
    raise AirflowTaskTimeout(self.error_message)
airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 1234
[2024-05-01, 10:30:00 UTC] {taskinstance.py:1206} INFO - Marking task as UP_FOR_RETRY. dag_id=slow, task_id=crunch`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "airflow.exceptions.AirflowTaskTimeout",
      errorMessage: "Timeout, PID: 1234",
    });
  });

  it("reads KeyError with a message and a bare KeyError (empty message)", () => {
    const frame = `Traceback (most recent call last):\n  File "/opt/airflow/dags/x.py", line 5, in run\n    conf["x"]`;
    expect(parseTextLogError(taskLog(`${frame}\nKeyError: 'x'`))).toEqual({
      errorClass: "KeyError",
      errorMessage: "'x'",
    });
    expect(parseTextLogError(taskLog(`${frame}\nKeyError`))).toEqual({
      errorClass: "KeyError",
      errorMessage: "",
    });
  });

  it("takes an exception group as a whole, not its last sub-exception", () => {
    const log = taskLog(`  + Exception Group Traceback (most recent call last):
  |   File "${SITE}/airflow/models/taskinstance.py", line 465, in _execute_task
  |     result = _execute_callable(context=context, **execute_callable_kwargs)
  |   File "/opt/airflow/dags/fanout.py", line 31, in load_all
  |     raise ExceptionGroup("2 partitions failed", errors)
  | ExceptionGroup: 2 partitions failed (2 sub-exceptions)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/opt/airflow/dags/fanout.py", line 25, in load_all
    |     load(p)
    |   File "/opt/airflow/dags/fanout.py", line 12, in load
    |     raise ValueError(f"bad partition {p}")
    | ValueError: bad partition 2024-04-30
    +---------------- 2 ----------------
    | Traceback (most recent call last):
    |   File "/opt/airflow/dags/fanout.py", line 14, in load
    |     raise TimeoutError("partition 2024-05-01 timed out")
    | TimeoutError: partition 2024-05-01 timed out
    +------------------------------------`);
    expect(parseTextLogError(log)).toEqual({
      errorClass: "ExceptionGroup",
      errorMessage: "2 partitions failed (2 sub-exceptions)",
    });
  });

  it("takes a plain exception raised while handling an exception group", () => {
    const log = `  + Exception Group Traceback (most recent call last):
  |   File "/opt/airflow/dags/fanout.py", line 31, in load_all
  | ExceptionGroup: 1 partition failed (1 sub-exception)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/opt/airflow/dags/fanout.py", line 12, in load
    | ValueError: bad partition
    +------------------------------------

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/opt/airflow/dags/fanout.py", line 40, in load_all
    raise AirflowException("fan-out failed")
airflow.exceptions.AirflowException: fan-out failed`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "airflow.exceptions.AirflowException",
      errorMessage: "fan-out failed",
    });
  });

  it("reads a SyntaxError traceback (source and caret lines are frames)", () => {
    const log = `Traceback (most recent call last):
  File "/opt/airflow/dags/gen.py", line 8, in build
    exec(code)
  File "<string>", line 1
    def broken(:
               ^
SyntaxError: invalid syntax`;
    expect(parseTextLogError(log)).toEqual({ errorClass: "SyntaxError", errorMessage: "invalid syntax" });
  });

  it("strips the older comma time and the doubled-brace prefixes", () => {
    const comma = `[2021-03-19 15:37:19,468] {{taskinstance.py:1455}} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/usr/local/lib/python3.8/site-packages/airflow/operators/bash.py", line 180, in execute
    raise AirflowException('Bash command failed. The command returned a non-zero exit code.')
airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code.
[2021-03-19 15:37:19,470] {{taskinstance.py:1496}} INFO - Marking task as FAILED.`;
    expect(parseTextLogError(comma)).toEqual({
      errorClass: "airflow.exceptions.AirflowException",
      errorMessage: "Bash command failed. The command returned a non-zero exit code.",
    });
  });

  it("reads Windows line endings and ANSI colours", () => {
    const log = `[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} \x1b[31mERROR\x1b[0m - Task failed with exception\r
Traceback (most recent call last):\r
  File "/opt/airflow/dags/x.py", line 5, in run\r
\x1b[1mZeroDivisionError\x1b[0m: division by zero\r
[2024-05-01, 10:00:00 UTC] {taskinstance.py:1206} INFO - Marking task as FAILED.\r
`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "ZeroDivisionError",
      errorMessage: "division by zero",
    });
  });

  it("takes the last traceback when several tasks' failures are in one log (e.g. a failing callback)", () => {
    const log = `${taskLog(`Traceback (most recent call last):\n  File "/opt/airflow/dags/x.py", line 1, in a\nValueError: first`)}[2024-05-01T10:00:02.000+0000] {taskinstance.py:1405} ERROR - Error when executing on_failure_callback
Traceback (most recent call last):
  File "/opt/airflow/dags/x.py", line 40, in notify
    requests.post(url, json=payload, timeout=5)
requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='hooks.example.test', port=443): Max retries exceeded`;
    expect(parseTextLogError(log).errorClass).toBe("requests.exceptions.ConnectTimeout");
  });

  it("keeps a message line that contains ': ' and a class written without a module", () => {
    const log = `Traceback (most recent call last):\n  File "x.py", line 1, in f\nException: failed: code=42: retry later`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "Exception",
      errorMessage: "failed: code=42: retry later",
    });
  });

  it("gives a null class when the exception line is not `Name: message`", () => {
    const log = `Traceback (most recent call last):\n  File "x.py", line 1, in f\n<unprintable RuntimeError object>`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: null,
      errorMessage: "<unprintable RuntimeError object>",
    });
  });
});

describe("parseTextLogError: no usable traceback", () => {
  it("falls back to the last ERROR record's text", () => {
    const log = `${PRE_EXECUTION}[2024-05-01, 10:00:00 UTC] {local_task_job_runner.py:302} WARNING - State of this instance has been externally set to failed. Terminating instance.
[2024-05-01, 10:00:00 UTC] {process_utils.py:132} INFO - Sending 15 to group 1234. PIDs of all processes in the group: [1234]
[2024-05-01, 10:00:00 UTC] {taskinstance.py:2611} ERROR - Received SIGTERM. Terminating subprocesses.
[2024-05-01, 10:00:01 UTC] {process_utils.py:80} INFO - Process psutil.Process(pid=1234, status='terminated', exitcode=0) (1234) terminated with exit code 0
`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: null,
      errorMessage: "Received SIGTERM. Terminating subprocesses.",
    });
  });

  it("uses the record level, not ' ERROR - ' inside an INFO message", () => {
    const log = `[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} ERROR - Task failed with exception
[2024-05-01, 10:00:01 UTC] {logging_mixin.py:188} INFO - grep found: x ERROR - y
[2024-05-01, 10:00:02 UTC] {logging_mixin.py:188} INFO - done`;
    expect(parseTextLogError(log)).toEqual({ errorClass: null, errorMessage: "Task failed with exception" });
  });

  it("counts CRITICAL as an error level, and reads structlog's console format", () => {
    expect(parseTextLogError("[2024-05-01, 10:00:00 UTC] {cli.py:9} CRITICAL - worker lost\n")).toEqual({
      errorClass: null,
      errorMessage: "worker lost",
    });
    const consoleLog =
      "2025-05-01T10:00:00.100000Z [info     ] Starting\n2025-05-01T10:00:01.200000Z [error    ] Task failed with exception\n";
    expect(parseTextLogError(consoleLog)).toEqual({
      errorClass: null,
      errorMessage: "Task failed with exception",
    });
  });

  it("falls back when the log is cut before the exception line", () => {
    const log = `[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/opt/airflow/dags/x.py", line 5, in run`;
    expect(parseTextLogError(log)).toEqual({ errorClass: null, errorMessage: "Task failed with exception" });
    expect(findLastTracebackError(log)).toBeNull();
  });

  it("returns nulls for an empty log, a log without errors and a non-string", () => {
    expect(parseTextLogError("")).toEqual(NONE);
    expect(parseTextLogError(PRE_EXECUTION)).toEqual(NONE);
    expect(parseTextLogError(undefined as unknown as string)).toEqual(NONE);
  });
});

describe("parseTextLogError: long logs", () => {
  const filler = `[2024-05-01T10:00:00.500+0000] {logging_mixin.py:188} INFO - processed batch of 500 rows into staging.orders\n`;
  const TWELVE_MB = 12 * 1024 * 1024;
  const bulk = filler.repeat(Math.ceil(TWELVE_MB / filler.length));

  it("finds a traceback near the start of a 12 MB log", () => {
    const log = `${taskLog(`Traceback (most recent call last):\n  File "x.py", line 1, in f\nMemoryError`)}${bulk}`;
    expect(log.length).toBeGreaterThan(TWELVE_MB);
    expect(parseTextLogError(log)).toEqual({ errorClass: "MemoryError", errorMessage: "" });
  });

  it("finds a traceback at the end of a 12 MB log and ignores an earlier one", () => {
    const early = `Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: early\n`;
    const log = `${early}${bulk}${taskLog(`Traceback (most recent call last):\n  File "x.py", line 2, in g\nOSError: [Errno 28] No space left on device`)}`;
    expect(parseTextLogError(log)).toEqual({
      errorClass: "OSError",
      errorMessage: "[Errno 28] No space left on device",
    });
  });

  it("returns nulls for a 12 MB log without errors", () => {
    expect(parseTextLogError(bulk)).toEqual(NONE);
  });

  it("copes with a 12 MB single line full of headers and error markers", () => {
    const hostile = "Traceback (most recent call last): ERROR - ".repeat(TWELVE_MB / 43);
    expect(parseTextLogError(hostile)).toEqual(NONE);
  });

  it("caps a huge message to its first lines and characters", () => {
    const longMessage = Array.from({ length: 50 }, (_, i) => `detail line ${i} ${"x".repeat(100)}`).join(
      "\n",
    );
    const result = parseTextLogError(
      `Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: ${longMessage}`,
    );
    expect(result.errorClass).toBe("ValueError");
    expect(result.errorMessage?.split("\n")).toHaveLength(MAX_MESSAGE_LINES);
    expect(result.errorMessage?.startsWith("detail line 0 ")).toBe(true);
    const oneLine = parseTextLogError(
      `Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: ${"y".repeat(50_000)}`,
    );
    expect(oneLine.errorMessage).toHaveLength(MAX_MESSAGE_CHARS);
  });
});

describe("capErrorMessage", () => {
  it("keeps short messages, trims, and never splits a surrogate pair", () => {
    expect(capErrorMessage("  a\nb  ")).toBe("a\nb");
    const emoji = `${"a".repeat(MAX_MESSAGE_CHARS - 1)}😀tail`;
    expect(capErrorMessage(emoji)).toBe("a".repeat(MAX_MESSAGE_CHARS - 1));
  });
});

// ---- Airflow 3 structured logs ----

function frame(filename: string, lineno: number, name: string) {
  return { filename, lineno, name };
}

function stack(excType: string, excValue: string, extra: Record<string, unknown> = {}) {
  return {
    exc_type: excType,
    exc_value: excValue,
    exc_notes: [],
    syntax_error: null,
    is_cause: false,
    frames: [frame("/opt/airflow/task-sdk/src/airflow/sdk/execution_time/task_runner.py", 867, "run")],
    is_group: false,
    exceptions: [],
    ...extra,
  };
}

function structuredLog(errorDetail: unknown[] | undefined, tail: unknown[] = []): unknown[] {
  const failure: Record<string, unknown> = {
    timestamp: "2025-05-01T10:00:01.200000Z",
    level: "error",
    event: "Task failed with exception",
    logger: "task",
    filename: "task_runner.py",
    lineno: 875,
  };
  if (errorDetail !== undefined) failure.error_detail = errorDetail;
  return [
    {
      timestamp: "2025-05-01T10:00:00.000000Z",
      event: "::group::Log message source details",
      sources: ["/opt/airflow/logs/dag_id=acme_orders/run_id=manual__2025-05-01/task_id=load/attempt=1.log"],
    },
    { timestamp: "2025-05-01T10:00:00.000000Z", event: "::endgroup::" },
    {
      timestamp: "2025-05-01T10:00:00.500000Z",
      level: "info",
      event: "DAG bundles loaded: dags-folder",
      logger: "airflow.dag_processing.bundles.manager.DagBundlesManager",
    },
    failure,
    {
      timestamp: "2025-05-01T10:00:01.300000Z",
      level: "info",
      event: "Task instance in failure state",
      chan: "stdout",
      logger: "task",
    },
    ...tail,
  ];
}

describe("parseStructuredLogError", () => {
  it("reads a simple failure from error_detail", () => {
    const content = structuredLog([stack("ValueError", "missing column 'amount'")]);
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "ValueError",
      errorMessage: "missing column 'amount'",
    });
  });

  // structlog's extract() starts at the raised exception and follows __cause__ (is_cause: true) or else
  // __context__ (is_cause: false): the list is outermost first, root cause last. These pin that reading.
  it("takes the first record of an explicit chain: the raised exception, not its cause", () => {
    const content = structuredLog([
      stack("OrdersUnavailable", "orders API unavailable"),
      stack("HTTPError", "503 Server Error: Service Unavailable for url: https://api.acme.test/orders", {
        is_cause: true,
      }),
    ]);
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "OrdersUnavailable",
      errorMessage: "orders API unavailable",
    });
  });

  it("takes the first record of an implicit chain (is_cause false throughout)", () => {
    const content = structuredLog([
      stack("RuntimeError", "unknown region in row 17"),
      stack("KeyError", "'EMEA-2'"),
    ]);
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "RuntimeError",
      errorMessage: "unknown region in row 17",
    });
  });

  it("takes an exception group as a whole", () => {
    const content = structuredLog([
      stack("ExceptionGroup", "2 partitions failed (2 sub-exceptions)", {
        is_group: true,
        exceptions: [[stack("ValueError", "bad partition 2024-04-30")], [stack("TimeoutError", "timed out")]],
      }),
    ]);
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "ExceptionGroup",
      errorMessage: "2 partitions failed (2 sub-exceptions)",
    });
  });

  it("reads AirflowException, task timeouts, SQL errors and empty messages as the text form does", () => {
    const cases: [string, string, string][] = [
      ["AirflowException", "Bash command failed. The command returned a non-zero exit code 1.", ""],
      ["AirflowTaskTimeout", "Timeout, PID: 1234", ""],
      [
        "UndefinedTable",
        'relation "staging.orders" does not exist\nLINE 1: SELECT * FROM staging.orders\n  ^\n',
        "",
      ],
      ["KeyError", "", ""],
    ];
    for (const [excType, excValue] of cases) {
      expect(parseStructuredLogError(structuredLog([stack(excType, excValue)]))).toEqual({
        errorClass: excType,
        errorMessage: excValue.trim(),
      });
    }
  });

  it("uses a SyntaxError's bare msg rather than exc_value with the location appended", () => {
    const syntaxError = {
      offset: 16,
      filename: "/opt/airflow/dags/bad.py",
      line: "def broken(:\n",
      lineno: 5,
      msg: "invalid syntax",
    };
    const content = structuredLog([
      stack("SyntaxError", "invalid syntax (bad.py, line 5)", { syntax_error: syntaxError }),
    ]);
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "SyntaxError",
      errorMessage: "invalid syntax",
    });
  });

  it("takes the last entry with error_detail (a later failing callback)", () => {
    const later = {
      timestamp: "2025-05-01T10:00:02.000000Z",
      level: "error",
      event: "Error when executing on_failure_callback",
      error_detail: [stack("ConnectTimeout", "hooks.example.test timed out")],
    };
    const content = structuredLog([stack("ValueError", "first")], [later]);
    expect(parseStructuredLogError(content).errorClass).toBe("ConnectTimeout");
  });

  it("skips a malformed error_detail for an earlier valid one", () => {
    const broken = { level: "error", event: "oops", error_detail: [{ exc_value: "no type" }, 42, null] };
    const content = structuredLog([stack("ValueError", "first")], [broken]);
    expect(parseStructuredLogError(content)).toEqual({ errorClass: "ValueError", errorMessage: "first" });
  });

  it("reads an error_detail already rendered as traceback text", () => {
    const rendered = `Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: rendered`;
    const content = [{ level: "error", event: "Task failed with exception", error_detail: rendered }];
    expect(parseStructuredLogError(content)).toEqual({ errorClass: "ValueError", errorMessage: "rendered" });
  });

  it("accepts the API response object that wraps the entries", () => {
    const response = { content: structuredLog([stack("ValueError", "wrapped")]), continuation_token: "abc" };
    expect(parseStructuredLogError(response)).toEqual({ errorClass: "ValueError", errorMessage: "wrapped" });
  });

  it("without error_detail, falls back to the last error-level event", () => {
    expect(parseStructuredLogError(structuredLog(undefined))).toEqual({
      errorClass: null,
      errorMessage: "Task failed with exception",
    });
  });

  it("reads string entries (an Airflow 2 log served through the v2 API) as text", () => {
    const lines = taskLog(
      `Traceback (most recent call last):\n  File "x.py", line 1, in f\nKeyError: 'x'`,
    ).split("\n");
    expect(parseStructuredLogError(lines)).toEqual({ errorClass: "KeyError", errorMessage: "'x'" });
  });

  it("reads a traceback carried in object events", () => {
    const content = [
      { event: "[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} ERROR - Task failed with exception" },
      { event: "Traceback (most recent call last):" },
      { event: '  File "x.py", line 1, in f' },
      { event: "IndexError: list index out of range" },
    ];
    expect(parseStructuredLogError(content)).toEqual({
      errorClass: "IndexError",
      errorMessage: "list index out of range",
    });
  });

  it("reads plain text content (the v1 API's string body)", () => {
    expect(
      parseStructuredLogError(
        taskLog(`Traceback (most recent call last):\n  File "x.py", line 1, in f\nKeyError`),
      ),
    ).toEqual({
      errorClass: "KeyError",
      errorMessage: "",
    });
  });

  it("returns nulls for shapes it does not know", () => {
    const shapes: unknown[] = [
      null,
      undefined,
      42,
      true,
      {},
      { content: 7 },
      [],
      [null, 1, [], {}],
      [{ event: 12, level: "error" }],
      [{ level: "info", event: "all good" }],
      [{ error_detail: "not a traceback" }],
      [{ error_detail: { exc_type: "NotAList" } }],
      [{ error_detail: [{ exc_type: "" }, { exc_type: 5 }] }],
    ];
    for (const shape of shapes) expect(parseStructuredLogError(shape), JSON.stringify(shape)).toEqual(NONE);
  });

  it("treats a non-string exc_value as an empty message", () => {
    expect(parseStructuredLogError([{ error_detail: [{ exc_type: "Weird", exc_value: { a: 1 } }] }])).toEqual(
      {
        errorClass: "Weird",
        errorMessage: "",
      },
    );
  });
});

describe("properties", () => {
  it("parseTextLogError never throws on arbitrary strings and returns the LogError shape", () => {
    const pieces = fc.constantFrom(
      "Traceback (most recent call last):",
      "  + Exception Group Traceback (most recent call last):",
      "  | ",
      "    | Traceback (most recent call last):",
      '  File "x.py", line 1, in f',
      "ValueError: boom",
      "KeyError",
      "[2024-05-01, 10:00:00 UTC] {taskinstance.py:2905} ERROR - ",
      "[2024-05-01T10:00:00.000+0000] {subprocess.py:93} INFO - ",
      " ERROR - ",
      "::group::x",
      "\n",
      "\r\n",
      "\x1b[31m",
      "😀",
      "",
    );
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 300 }),
      fc.array(fc.oneof(pieces, fc.string()), { maxLength: 40 }).map((p) => p.join("")),
    );
    fc.assert(
      fc.property(text, (t) => {
        const result = parseTextLogError(t);
        expect(Object.keys(result).sort()).toEqual(["errorClass", "errorMessage"]);
        if (result.errorClass !== null) expect(result.errorClass).toMatch(/^\S+$/);
        if (result.errorMessage !== null)
          expect(result.errorMessage.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      }),
      { numRuns: 500 },
    );
  });

  it("parseStructuredLogError never throws on arbitrary JSON or values", () => {
    const record = fc.record(
      {
        exc_type: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        exc_value: fc.oneof(fc.string(), fc.jsonValue()),
        syntax_error: fc.oneof(fc.constant(null), fc.jsonValue(), fc.record({ msg: fc.jsonValue() })),
        is_cause: fc.boolean(),
        exceptions: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const entry = fc.oneof(
      fc.jsonValue(),
      fc.string(),
      fc.record(
        {
          event: fc.jsonValue(),
          level: fc.oneof(fc.constantFrom("error", "info", "CRITICAL"), fc.jsonValue()),
          error_detail: fc.oneof(fc.array(fc.oneof(record, fc.jsonValue())), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    );
    const content = fc.oneof(
      fc.jsonValue(),
      fc.anything(),
      fc.array(entry),
      fc.record({ content: fc.array(entry) }),
    );
    fc.assert(
      fc.property(content, (c) => {
        const result = parseStructuredLogError(c);
        expect(result.errorClass === null || typeof result.errorClass === "string").toBe(true);
        expect(result.errorMessage === null || typeof result.errorMessage === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
