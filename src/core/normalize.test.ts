import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  explainNormalization,
  FINGERPRINT_VERSION,
  MAX_MESSAGE_LENGTH,
  NORMALIZATION_RULES,
  normalizeErrorMessage,
} from "./normalize.js";

const normalize = normalizeErrorMessage;

/** Rule names that fired for a message, in order. */
const firedRules = (message: string): string[] => explainNormalization(message).rules.map((hit) => hit.rule);

// -----------------------------------------------------------------------------------------------------------
// One table per rule: `fires` rows must trigger the rule, `keeps` rows must not. Expectations are the whole
// normalised output, so the rows also show what the other rules do around them.
// -----------------------------------------------------------------------------------------------------------

type Row = readonly [input: string, expected: string];

const RULE_TABLES: Record<string, { fires: readonly Row[]; keeps: readonly Row[] }> = {
  quoted_value: {
    fires: [
      [
        "100038 (22018): Numeric value 'abc' is not recognized",
        "100038 (22018): numeric value '<value>' is not recognized",
      ],
      ['invalid input syntax for type integer: "abc"', 'invalid input syntax for type integer: "<value>"'],
      ["DETAIL:  Key (id)=(12345) already exists.", "detail: key (id)=(<value>) already exists."],
      [
        'Key (order_id, line_no)=(987, 2) is not present in table "orders".',
        'key (order_id, line_no)=(<value>) is not present in table "orders".',
      ],
      ["Duplicate entry '123-abc' for key 'PRIMARY'", "duplicate entry '<value>' for key 'primary'"],
      ["Failing row contains (12345, null, 2024-01-02 03:04:05, 12.50).", "failing row contains (<value>)."],
      [
        'java.lang.NumberFormatException: For input string: "12a"',
        'java.lang.numberformatexception: for input string: "<value>"',
      ],
      ["Date '2024-13-45' is not recognized", "date '<value>' is not recognized"],
      ["partial_unexpected_list=[-3, 10500, 99999]", "partial_unexpected_list=[<value>]"],
      ["value: 'it\\'s here'", "value: '<value>'"],
      ['{"value": "secret"}', '{"value": "<value>"}'],
      [
        "ValueError: could not convert string to float: 'N/A'",
        "valueerror: could not convert string to float: '<value>'",
      ],
      [
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "valueerror: invalid literal for int() with base <num>: '<value>'",
      ],
      ['Unparseable date: "2024-13-45"', 'unparseable date: "<value>"'],
      [
        'invalid input value for enum order_status: "shiped"',
        'invalid input value for enum order_status: "<value>"',
      ],
      [
        "Input should be a valid integer [type=int_parsing, input_value='abc', input_type=str]",
        "input should be a valid integer [type=int_parsing, input_value='<value>', input_type=str]",
      ],
    ],
    keeps: [
      ['relation "public.orders" does not exist', 'relation "public.orders" does not exist'],
      ['column "customer_id" does not exist', 'column "customer_id" does not exist'],
      [
        'duplicate key value violates unique constraint "orders_pkey"',
        'duplicate key value violates unique constraint "orders_pkey"',
      ],
      ["KeyError: 'customer_id'", "keyerror: 'customer_id'"],
      ["Invalid object name 'dbo.orders'.", "invalid object name 'dbo.orders'."],
      [
        'null value in column "customer_id" violates not-null constraint',
        'null value in column "customer_id" violates not-null constraint',
      ],
      [
        "Object 'ANALYTICS.PUBLIC.ORDERS' does not exist or not authorized.",
        "object 'analytics.public.orders' does not exist or not authorized.",
      ],
      ["for key 'PRIMARY'", "for key 'primary'"],
    ],
  },
  temp_path: {
    fires: [
      ["No space left on device: '/tmp/tmpab12cd/file.csv'", "no space left on device: '<path>'"],
      ["/var/folders/xy/abc123_def/T/tmpk9x/out.json not found", "<path> not found"],
      ["file:///tmp/airflowtmp3x9/script.sh: exit 2", "file://<path>: exit 2"],
      ["C:\\Users\\etl\\AppData\\Local\\Temp\\tmp12ab\\x.csv locked", "<path> locked"],
      ["/dev/shm/sem.mp-2a7f: permission denied", "<path>: permission denied"],
      ["wrote /private/var/tmp/x1.", "wrote <path>."],
      ["cd /tmp", "cd <path>"],
    ],
    keeps: [
      ["/data/tmp/orders.csv", "/data/tmp/orders.csv"],
      ["s3://bucket/tmp/file.json", "s3://bucket/tmp/file.json"],
      ["/tmpfiles/x.csv", "/tmpfiles/x.csv"],
      ["~/tmp/x", "~/tmp/x"],
    ],
  },
  airflow_run_id: {
    fires: [
      ["run_id=scheduled__2024-01-02T03:04:05+00:00", "run_id=<run_id>"],
      ["manual__2024-01-02T03:04:05.123456+00:00", "<run_id>"],
      ["DagRun backfill__2024-01-02T00:00:00+00:00.", "dagrun <run_id>."],
      ["dataset_triggered__2024-01-02T03:04:05.123+00:00", "<run_id>"],
      ["asset_triggered__2024-01-02T03:04:05+00:00_AbC123", "<run_id>"],
      [
        "/run_id=manual__2024-01-02T03:04:05+00:00/task_id=load/attempt=1.log",
        "/run_id=<run_id>/task_id=load/attempt=<num>.log",
      ],
      ["run scheduled__2024-01-02T03%3A04%3A05%2B00%3A00 failed", "run <run_id> failed"],
    ],
    keeps: [
      ["scheduled_2024", "scheduled_2024"],
      ["unscheduled__x", "unscheduled__x"],
      ["manual run failed", "manual run failed"],
      ["scheduled task", "scheduled task"],
    ],
  },
  uuid: {
    fires: [
      ["request 550e8400-e29b-41d4-a716-446655440000 failed", "request <uuid> failed"],
      ["550E8400-E29B-41D4-A716-446655440000", "<uuid>"],
      ["{8F14E45F-CEEA-467F-A9F1-2B3C4D5E6F70}", "{<uuid>}"],
      ["job_550e8400-e29b-41d4-a716-446655440000", "job_<uuid>"],
      ["Query ID: 01b2c3d4-0602-1b6c-0000-0e2d00c1d2a6", "query id: <uuid>"],
    ],
    keeps: [
      ["ab-cd-ef", "ab-cd-ef"],
      ["550e8400-e29b-41d4-a716", "<hex>-e29b-41d4-a716"],
      ["x550e8400-e29b-41d4-a716-446655440000", "x550e8400-e29b-41d4-a716-446655440000"],
    ],
  },
  email: {
    fires: [
      ["user john.doe@example.com not allowed", "user <email> not allowed"],
      ["ops+alerts@corp.example.org", "<email>"],
      ["To: Jane.Roe@Example.COM;", "to: <email>;"],
      ["mailto:a_b-c@mail.co.uk", "mailto:<email>"],
    ],
    keeps: [
      ["'root'@'localhost'", "'root'@'localhost'"],
      ["java.lang.Object@1b6d3586", "java.lang.object@<hex>"],
      ["git@github", "git@github"],
      ["@here", "@here"],
    ],
  },
  timestamp: {
    fires: [
      ["[2024-01-02 03:04:05,123] ERROR", "[<ts>] error"],
      ["2024-01-02T03:04:05.123456+00:00", "<ts>"],
      ["2024-01-02T03:04:05Z", "<ts>"],
      ["at 2024-01-02 03:04:05 UTC", "at <ts>"],
      ["20240102T030405Z", "<ts>"],
      ["backup_2024-01-02_03-04-05.sql", "backup_<ts>.sql"],
      ["Tue, 02 Jan 2024 03:04:05 GMT", "<ts>"],
      ["Tue Jan 02 03:04:05 CET 2024", "<ts>"],
      ["Jan  2 03:04:05 host cron", "<ts> host cron"],
      ["[02/Jan/2024:03:04:05 +0000]", "[<ts>]"],
      ["finished at 03:04:05.123", "finished at <ts>"],
      ["02/01/2024 03:04 PM", "<ts>"],
      ["2024/01/02 03:04:05-05:00", "<ts>"],
      ["execution_date=20240102T000000", "execution_date=<ts>"],
    ],
    keeps: [
      ["12:30", "<num>:<num>"],
      ["2024-01-02", "<date>"],
      ["25:61:99", "<num>:<num>:<num>"],
      ["v1.2.3", "v1.2.3"],
    ],
  },
  date: {
    fires: [
      ["dt=2024-01-02", "dt=<date>"],
      ["s3://bucket/orders/2024/01/02/part-0001.parquet", "s3://bucket/orders/<date>/part-<num>.parquet"],
      ["on 02/01/2024", "on <date>"],
      ["02.01.2024", "<date>"],
      ["2 January 2024", "<date>"],
      ["Jan 2, 2024", "<date>"],
      ["02-JAN-24", "<date>"],
      ["orders_2024-01-02.csv", "orders_<date>.csv"],
      ["Mon, 2nd Jan 2024", "<date>"],
    ],
    keeps: [
      ["2024-13-45", "<num>"],
      ["sales_2024", "sales_2024"],
      ["2024", "<num>"],
      ["1.2.3", "1.2.3"],
      ["year=2024/month=01", "year=<num>/month=<num>"],
    ],
  },
  ip: {
    fires: [
      ["from 10.0.0.5", "from <ip>"],
      ["172.16.0.4:51234", "<ip>:<port>"],
      ["10.0.0.0/16", "<ip>"],
      ["[fe80::1]:5432", "[<ip>]:5432"],
      ["2001:db8::ff00:42:8329", "<ip>"],
      ["ip-10-0-0-5.ec2.internal", "<ip>.ec2.internal"],
      ["::1", "<ip>"],
      ["'etl'@'10.0.0.7'", "'etl'@'<ip>'"],
    ],
    keeps: [
      ["10.0.0.256", "10.0.0.256"],
      ["1.2.3.4.5", "1.2.3.4.5"],
      ["std::vector", "std::vector"],
      ["12:34", "<num>:<num>"],
      ["abc::def", "abc::def"],
    ],
  },
  host_port: {
    fires: [
      ["db-01.prod.internal:54321", "db-01.prod.internal:<port>"],
      ["connecting to localhost:40022", "connecting to localhost:<port>"],
      ["postgresql://etl@db:6543/x", "postgresql://etl@db:<port>/x"],
      ["port 6543", "port <port>"],
      ["port=6543", "port=<port>"],
      ["(host='10.0.0.5', port=8793)", "(host='<ip>', port=<port>)"],
      [
        "dial tcp 10.0.3.17:41234: connect: connection refused",
        "dial tcp <ip>:<port>: connect: connection refused",
      ],
      ["registry.example.com:5000/etl", "registry.example.com:<port>/etl"],
    ],
    keeps: [
      ["db.internal:5432", "db.internal:5432"],
      ["localhost:8080", "localhost:8080"],
      ["kafka:9092", "kafka:9092"],
      ["port 5432", "port 5432"],
      ["orders.py:123", "orders.py:<num>"],
      ["status:500", "status:500"],
      ["line:42", "line:<num>"],
      ["Main.java:80", "main.java:<num>"],
      ["redis://cache:6379/0", "redis://cache:6379/<num>"],
    ],
  },
  pod: {
    fires: [
      ["Pod my-dag-task-7f9c8d6b5-x2k9p failed", "pod <pod> failed"],
      ["etl-job-28457340-x7kq2 OOMKilled", "<pod> oomkilled"],
      ['pods "etl-run-abc12-xyz9" is forbidden', 'pods "<pod>" is forbidden'],
      ["Pod airflow-worker-0 was evicted", "pod <pod> was evicted"],
      ["pod_name=my-task-x8z2k1qa", "pod_name=<pod>"],
      ["pod airflow/etl-load-orders-a1b2c3d4", "pod airflow/<pod>"],
      ["my-dag-task-7f9c8d6b5-x2k9p.airflow.svc.cluster.local", "<pod>.airflow.svc.cluster.local"],
      ["pod/etl-load-orders-zqxbnmkt", "pod/<pod>"],
    ],
    keeps: [
      ["pods re-created", "pods re-created"],
      ["Pod Launching failed", "pod launching failed"],
      ["orders-pkey-violation", "orders-pkey-violation"],
      ["python-3-11", "python-3-11"],
      ["aws-eu-west-1", "aws-eu-west-1"],
      ["pod-template-hash", "pod-template-hash"],
      ["node-pool-2", "node-pool-2"],
    ],
  },
  hex: {
    fires: [
      ["commit 7f3a9c2", "commit <hex>"],
      ["object at 0x7f3a2b1c4d50", "object at <hex>"],
      ["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256:<hex>"],
      ["run_7f3a9c2b1d", "run_<hex>"],
      ["etag d41d8cd98f00b204e9800998ecf8427e", "etag <hex>"],
      ["byte 0xff in position 0", "byte <hex> in position <num>"],
      ["cursor=9f86d081884c7d65", "cursor=<hex>"],
    ],
    keeps: [
      ["facade added cafe deadbeef", "facade added cafe deadbeef"],
      ["abc123", "abc123"],
      ["1234567", "<num>"],
      ["ORA-00942", "ora-00942"],
      ["E11000 duplicate key error", "e11000 duplicate key error"],
      ["decade feedback", "decade feedback"],
    ],
  },
  embedded_date: {
    fires: [
      ["sales_20240102", "sales_<date>"],
      ["export_20240102.csv", "export_<date>.csv"],
      ["orders_202401020304.csv", "orders_<ts>.csv"],
      ["dump-20240102-x", "dump-<date>-x"],
      ["v20240102", "v<date>"],
    ],
    keeps: [
      ["20240102", "<num>"],
      ["partition 20240102 missing", "partition <num> missing"],
      ["sales_2024", "sales_2024"],
      ["build_20241399", "build_20241399"],
    ],
  },
  embedded_epoch: {
    fires: [
      ["application_1704164645123_0042", "application_<ts>_0042"],
      ["file_1704164645.csv", "file_<ts>.csv"],
      ["tmp-1704164645123456", "tmp-<ts>"],
    ],
    keeps: [
      ["at 1704164645", "at <num>"],
      ["id_2704164645", "id_2704164645"],
      ["x_170416464", "x_170416464"],
    ],
  },
  duration: {
    fires: [
      ["12.5s", "<duration>"],
      ["retried in 300ms", "retried in <duration>"],
      ["waited 5 minutes", "waited <duration>"],
      ["took 1h30m", "took <duration>"],
      ["after 12.3 seconds", "after <duration>"],
      ["timeout of 3,600 second(s)", "timeout of <duration>(s)"],
      ["PT5M", "<duration>"],
      ["2h 13m 5s", "<duration>"],
      ["in 250us", "in <duration>"],
      ["P1D", "<duration>"],
    ],
    keeps: [
      ["5 m", "<num> m"],
      ["s3", "s3"],
      ["4xx", "4xx"],
      ["10GB", "<num>gb"],
      ["5 secondary", "<num> secondary"],
      ["1st", "1st"],
    ],
  },
  sequence: {
    fires: [
      ["part-00017-c000.snappy.parquet", "part-<num>-c000.snappy.parquet"],
      ["airflow-worker-2", "airflow-worker-<num>"],
      ["shard_04", "shard_<num>"],
      ["part-m-00001", "part-m-<num>"],
      ["attempt_3.log", "attempt_<num>.log"],
      ["chunk-12", "chunk-<num>"],
    ],
    keeps: [
      ["department-5", "department-5"],
      ["parts-3", "parts-3"],
      ["utf-8", "utf-8"],
      ["partner_7", "partner_7"],
    ],
  },
  number: {
    fires: [
      ["Got 88 failing rows", "got <num> failing rows"],
      ["Got 1,523 failing rows", "got <num> failing rows"],
      ["ratio 0.95", "ratio <num>"],
      ["offset -5", "offset <num>"],
      ["eps 1e-3", "eps <num>"],
      ["rows 10-20", "rows <num>"],
      ["used 10GB", "used <num>gb"],
      ["95% full", "<num>% full"],
      ["run #4521", "run #<num>"],
      [
        'File "/opt/airflow/dags/orders.py", line 123, in execute',
        'file "/opt/airflow/dags/orders.py", line <num>, in execute',
      ],
      [
        "Process 12345 waits for ShareLock on transaction 67890",
        "process <num> waits for sharelock on transaction <num>",
      ],
      ["0/3 nodes are available", "<num>/<num> nodes are available"],
      ["limits.memory=2Gi", "limits.memory=<num>gi"],
      ["at 1704164645", "at <num>"],
      [
        "SMTP said (550, b'5.1.1 User unknown') after 3 tries",
        "smtp said (550, b'5.1.1 user unknown') after <num> tries",
      ],
    ],
    keeps: [
      ["HTTP 503", "http 503"],
      ["status code 404", "status code 404"],
      ["503 Service Unavailable", "503 service unavailable"],
      ["HTTPError: 500 Server Error", "httperror: 500 server error"],
      ["status=429", "status=429"],
      ["SQLSTATE 23505", "sqlstate 23505"],
      ["SQLSTATE[23000]", "sqlstate[23000]"],
      ["pgcode 40001", "pgcode 40001"],
      ["ORA-00942", "ora-00942"],
      ["E11000", "e11000"],
      ["MySQL error 1213", "mysql error 1213"],
      ["ERROR 1045 (28000)", "error 1045 (28000)"],
      ["002003 (42S02)", "002003 (42s02)"],
      ["(1213, 'Deadlock found')", "(1213, 'deadlock found')"],
      ["[Errno 111]", "[errno 111]"],
      ["errno 28", "errno 28"],
      ["[Errno -2]", "[errno -2]"],
      ["exit code 137", "exit code 137"],
      ["exited with code 1", "exited with code 1"],
      ["return code 2", "return code 2"],
      ["returned non-zero exit status 2", "returned non-zero exit status 2"],
      ["signal 9", "signal 9"],
      ["<Signals.SIGKILL: 9>", "<signals.sigkill: 9>"],
      ["Msg 208", "msg 208"],
      ["port 5432", "port 5432"],
      ["varchar(50)", "varchar(50)"],
      ["numeric(10, 2)", "numeric(10, 2)"],
      [
        "sales_2024 orders_v2 utf-8 python3.11 int64 base64 s3 ec2 x86_64",
        "sales_2024 orders_v2 utf-8 python3.11 int64 base64 s3 ec2 x86_64",
      ],
      ["1.2.3", "1.2.3"],
      ["HTTP/1.1", "http/1.1"],
      ["too many 503 error responses", "too many 503 error responses"],
      ["Snowflake 390100 (08004)", "snowflake 390100 (08004)"],
      ["rc=8", "rc=8"],
      ["sqlcode=-204", "sqlcode=-204"],
    ],
  },
  lowercase: {
    fires: [
      ["Connection Refused", "connection refused"],
      ["ÉCHEC", "échec"],
    ],
    keeps: [["already lower", "already lower"]],
  },
  whitespace: {
    fires: [
      ["  a \t b\n\nc  ", "a b c"],
      ["a\u00a0b", "a b"],
      ["a\r\nb", "a b"],
    ],
    keeps: [["a b", "a b"]],
  },
};

describe("normalisation rules (one table per rule)", () => {
  it("has a table for every rule except truncate, which has its own tests", () => {
    const names = NORMALIZATION_RULES.map((rule) => rule.name).filter((name) => name !== "truncate");
    expect(Object.keys(RULE_TABLES).sort()).toEqual([...names].sort());
  });

  for (const [rule, { fires, keeps }] of Object.entries(RULE_TABLES)) {
    describe(rule, () => {
      it.each(fires)("fires on %j -> %j", (input, expected) => {
        expect(normalize(input)).toBe(expected);
        expect(firedRules(input)).toContain(rule);
      });
      it.each(keeps)("does not fire on %j -> %j", (input, expected) => {
        expect(normalize(input)).toBe(expected);
        expect(firedRules(input)).not.toContain(rule);
      });
    });
  }
});

describe("NORMALIZATION_RULES", () => {
  it("lists every rule once, with a description, truncation first and lower-casing/whitespace last", () => {
    const names = NORMALIZATION_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe("truncate");
    expect(names.slice(-2)).toEqual(["lowercase", "whitespace"]);
    for (const rule of NORMALIZATION_RULES) expect(rule.description.length).toBeGreaterThan(10);
  });

  it("documents every placeholder the rules produce", () => {
    const placeholders = [
      "<value>",
      "<path>",
      "<run_id>",
      "<uuid>",
      "<email>",
      "<ts>",
      "<date>",
      "<ip>",
      "<port>",
    ];
    const described = NORMALIZATION_RULES.map((rule) => rule.description).join(" ");
    for (const placeholder of [...placeholders, "<pod>", "<hex>", "<duration>", "<num>"]) {
      expect(described).toContain(placeholder);
    }
  });
});

describe("basic contract", () => {
  it("treats null, undefined and '' alike", () => {
    expect(normalize(null)).toBe("");
    expect(normalize(undefined)).toBe("");
    expect(normalize("")).toBe("");
    expect(normalize(" \n\t ")).toBe("");
  });

  it("buckets counts of any magnitude into the same placeholder", () => {
    expect(normalize("Got 88 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 1,523 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 1523 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 12.5 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 1704164645 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 20240102 failing rows")).toBe("got <num> failing rows");
    expect(normalize("Got 123456789012345678901234567890 failing rows")).toBe("got <num> failing rows");
  });

  it("folds the two characters whose lower case is ASCII before the rules run", () => {
    // KELVIN SIGN and LATIN CAPITAL LETTER I WITH DOT ABOVE
    expect(normalize("\u212aey (id)=(5) already exists")).toBe("key (id)=(<value>) already exists");
    expect(normalize("P\u0130D 42")).toBe("pid <num>");
  });
});

describe("truncation", () => {
  it("normalises only the first MAX_MESSAGE_LENGTH characters", () => {
    expect(MAX_MESSAGE_LENGTH).toBe(10_000);
    const head = "x".repeat(MAX_MESSAGE_LENGTH);
    expect(normalize(`${head}tail that differs 1`)).toBe(head);
    const explanation = explainNormalization(`${head}tail`);
    expect(explanation.rules).toEqual([{ rule: "truncate", matches: ["tail"] }]);
  });

  it("groups huge tracebacks that differ only after the cut", () => {
    const frame =
      'File "/opt/airflow/dags/orders.py", line 123, in execute\n    rows = hook.get_records(sql)\n';
    const traceback = `Traceback (most recent call last):\n${frame.repeat(200)}`;
    expect(traceback.length).toBeGreaterThan(MAX_MESSAGE_LENGTH);
    const a = normalize(`${traceback}psycopg2.errors.UniqueViolation: Key (id)=(1) already exists.`);
    const b = normalize(`${traceback}psycopg2.OperationalError: server closed the connection unexpectedly`);
    expect(a).toBe(b);
  });

  it("cuts again when placeholders make the result longer, and stays a fixed point", () => {
    const input = "1 ".repeat(4_000); // 8,000 chars that expand to 24,000
    const out = normalize(input);
    expect(out.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(out.startsWith("<num> <num> ")).toBe(true);
    expect(out).toMatch(/^(?:<num> )*<num>$/);
    expect(normalize(out)).toBe(out);
  });

  it("never splits a surrogate pair", () => {
    const input = `${"a".repeat(MAX_MESSAGE_LENGTH - 1)}😀tail`;
    const out = normalize(input);
    expect(out).toBe("a".repeat(MAX_MESSAGE_LENGTH - 1));
  });
});

// -----------------------------------------------------------------------------------------------------------
// Realistic corpus: pairs that must group (they differ only in volatile parts) and pairs that must not.
// -----------------------------------------------------------------------------------------------------------

const GROUP_TOGETHER: readonly (readonly [name: string, a: string, b: string, normalized: string])[] = [
  [
    "airflow task timeout",
    "[2024-01-02 03:04:05,123] {taskinstance.py:1937} ERROR - Task failed with exception\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: 12345",
    "[2024-03-17 22:15:00,987] {taskinstance.py:1937} ERROR - Task failed with exception\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: 9876",
    "[<ts>] {taskinstance.py:<num>} error - task failed with exception airflow.exceptions.airflowtasktimeout: timeout, pid: <num>",
  ],
  [
    "airflow marking task failed",
    "Marking task as FAILED. dag_id=orders_daily, task_id=load_orders, run_id=scheduled__2024-01-02T03:00:00+00:00, execution_date=20240102T030000, start_date=20240102T030512, end_date=20240102T031515",
    "Marking task as FAILED. dag_id=orders_daily, task_id=load_orders, run_id=manual__2024-01-05T10:11:12.345678+00:00, execution_date=20240105T101112, start_date=20240105T101130, end_date=20240105T101200",
    "marking task as failed. dag_id=orders_daily, task_id=load_orders, run_id=<run_id>, execution_date=<ts>, start_date=<ts>, end_date=<ts>",
  ],
  [
    "airflow task killed externally",
    "Executor reports task instance <TaskInstance: orders_daily.load_orders scheduled__2024-01-02T00:00:00+00:00 [queued]> finished (failed) although the task says it's queued. (Info: None) Was the task killed externally?",
    "Executor reports task instance <TaskInstance: orders_daily.load_orders backfill__2023-12-31T00:00:00+00:00 [queued]> finished (failed) although the task says it's queued. (Info: None) Was the task killed externally?",
    "executor reports task instance <taskinstance: orders_daily.load_orders <run_id> [queued]> finished (failed) although the task says it's queued. (info: none) was the task killed externally?",
  ],
  [
    "airflow SIGKILL, differing only in case and whitespace",
    "Task exited with return code Negsignal.SIGKILL",
    "  task exited with\treturn code negsignal.sigkill\n",
    "task exited with return code negsignal.sigkill",
  ],
  [
    "airflow KubernetesPodOperator OOM",
    "Pod my-dag-load-orders-7f9c8d6b5-x2k9p returned a failure: OOMKilled (exit code 137)",
    "Pod my-dag-load-orders-5c8b7d9f4-q7w2z returned a failure: OOMKilled (exit code 137)",
    "pod <pod> returned a failure: oomkilled (exit code 137)",
  ],
  [
    "airflow log permission",
    "PermissionError: [Errno 13] Permission denied: '/opt/airflow/logs/dag_id=orders_daily/run_id=scheduled__2024-01-02T03:00:00+00:00/task_id=load_orders/attempt=1.log'",
    "PermissionError: [Errno 13] Permission denied: '/opt/airflow/logs/dag_id=orders_daily/run_id=manual__2024-02-11T08:30:00+00:00/task_id=load_orders/attempt=3.log'",
    "permissionerror: [errno 13] permission denied: '/opt/airflow/logs/dag_id=orders_daily/run_id=<run_id>/task_id=load_orders/attempt=<num>.log'",
  ],
  [
    "airflow sensor timeout",
    "Sensor has timed out; run duration of 3600.52 seconds exceeds the specified timeout of 3600.0.",
    "Sensor has timed out; run duration of 3601.07 seconds exceeds the specified timeout of 3600.0.",
    "sensor has timed out; run duration of <duration> exceeds the specified timeout of <num>.",
  ],
  [
    "postgres unique violation",
    'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(12345) already exists.',
    'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(67890) already exists.',
    'psycopg2.errors.uniqueviolation: duplicate key value violates unique constraint "orders_pkey" detail: key (id)=(<value>) already exists.',
  ],
  [
    "postgres foreign key violation",
    'insert or update on table "order_items" violates foreign key constraint "order_items_order_id_fkey"\nDETAIL:  Key (order_id)=(987) is not present in table "orders".',
    'insert or update on table "order_items" violates foreign key constraint "order_items_order_id_fkey"\nDETAIL:  Key (order_id)=(1001) is not present in table "orders".',
    'insert or update on table "order_items" violates foreign key constraint "order_items_order_id_fkey" detail: key (order_id)=(<value>) is not present in table "orders".',
  ],
  [
    "postgres deadlock",
    "deadlock detected\nDETAIL:  Process 12345 waits for ShareLock on transaction 67890; blocked by process 12346.\nProcess 12346 waits for ShareLock on transaction 67891; blocked by process 12345.",
    "deadlock detected\nDETAIL:  Process 801 waits for ShareLock on transaction 1529934; blocked by process 799.\nProcess 799 waits for ShareLock on transaction 1529933; blocked by process 801.",
    "deadlock detected detail: process <num> waits for sharelock on transaction <num>; blocked by process <num>. process <num> waits for sharelock on transaction <num>; blocked by process <num>.",
  ],
  [
    "postgres not-null violation",
    'null value in column "customer_id" of relation "orders" violates not-null constraint\nDETAIL:  Failing row contains (12345, null, 2024-01-02 03:04:05+00, 12.50).',
    'null value in column "customer_id" of relation "orders" violates not-null constraint\nDETAIL:  Failing row contains (777, null, 2024-02-29 23:59:59+00, 0.99).',
    'null value in column "customer_id" of relation "orders" violates not-null constraint detail: failing row contains (<value>).',
  ],
  [
    "postgres connection timeout",
    'connection to server at "db.internal" (10.0.0.5), port 5432 failed: Connection timed out\n\tIs the server running on that host and accepting TCP/IP connections?',
    'connection to server at "db.internal" (10.0.1.17), port 5432 failed: Connection timed out\n\tIs the server running on that host and accepting TCP/IP connections?',
    'connection to server at "db.internal" (<ip>), port 5432 failed: connection timed out is the server running on that host and accepting tcp/ip connections?',
  ],
  [
    "postgres statement timeout",
    "ERROR:  canceling statement due to statement timeout\nCONTEXT:  PL/pgSQL function refresh_orders() line 12 at SQL statement",
    "ERROR:  canceling statement due to statement timeout\nCONTEXT:  PL/pgSQL function refresh_orders() line 14 at SQL statement",
    "error: canceling statement due to statement timeout context: pl/pgsql function refresh_orders() line <num> at sql statement",
  ],
  [
    "postgres bad integer input",
    'invalid input syntax for type integer: "abc"',
    'invalid input syntax for type integer: "N/A"',
    'invalid input syntax for type integer: "<value>"',
  ],
  [
    "snowflake numeric value",
    "100038 (22018): Numeric value 'abc' is not recognized",
    "100038 (22018): Numeric value '12,5' is not recognized",
    "100038 (22018): numeric value '<value>' is not recognized",
  ],
  [
    "snowflake statement timeout",
    "000630 (57014): Statement reached its statement or warehouse timeout of 3,600 second(s) and was canceled.",
    "000630 (57014): Statement reached its statement or warehouse timeout of 7,200 second(s) and was canceled.",
    "000630 (57014): statement reached its statement or warehouse timeout of <duration>(s) and was canceled.",
  ],
  [
    "snowflake missing object",
    "Query 01b2c3d4-0602-1b6c-0000-0e2d00c1d2a6 failed: 002003 (42S02): SQL compilation error:\nObject 'ANALYTICS.PUBLIC.ORDERS' does not exist or not authorized.",
    "Query 01b2c3e9-0602-2f7a-0000-0e2d00c1f00d failed: 002003 (42S02): SQL compilation error:\nObject 'ANALYTICS.PUBLIC.ORDERS' does not exist or not authorized.",
    "query <uuid> failed: 002003 (42s02): sql compilation error: object 'analytics.public.orders' does not exist or not authorized.",
  ],
  [
    "oracle deadlock",
    'ORA-00060: deadlock detected while waiting for resource\nORA-06512: at "ETL.LOAD_PKG", line 123',
    'ORA-00060: deadlock detected while waiting for resource\nORA-06512: at "ETL.LOAD_PKG", line 131',
    'ora-00060: deadlock detected while waiting for resource ora-06512: at "etl.load_pkg", line <num>',
  ],
  [
    "oracle value too large",
    'java.sql.SQLException: ORA-12899: value too large for column "ETL"."ORDERS"."STATUS" (actual: 27, maximum: 20)',
    'java.sql.SQLException: ORA-12899: value too large for column "ETL"."ORDERS"."STATUS" (actual: 31, maximum: 20)',
    'java.sql.sqlexception: ora-12899: value too large for column "etl"."orders"."status" (actual: <num>, maximum: <num>)',
  ],
  [
    "mysql duplicate entry",
    "(1062, \"Duplicate entry '123-abc' for key 'PRIMARY'\")",
    "(1062, \"Duplicate entry '456-def' for key 'PRIMARY'\")",
    "(1062, \"duplicate entry '<value>' for key 'primary'\")",
  ],
  [
    "mysql connection refused",
    "(pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on '10.0.0.7' ([Errno 111] Connection refused)\")",
    "(pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on '10.0.0.8' ([Errno 111] Connection refused)\")",
    "(pymysql.err.operationalerror) (2003, \"can't connect to mysql server on '<ip>' ([errno 111] connection refused)\")",
  ],
  [
    "requests 503",
    "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.example.com/v1/orders?page=3&since=2024-01-02T00:00:00Z",
    "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.example.com/v1/orders?page=17&since=2024-01-09T00:00:00Z",
    "requests.exceptions.httperror: 503 server error: service unavailable for url: https://api.example.com/v1/orders?page=<num>&since=<ts>",
  ],
  [
    "urllib3 connection refused",
    "HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1/orders?page=2 (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2b1c4d50>: Failed to establish a new connection: [Errno 111] Connection refused'))",
    "HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1/orders?page=9 (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f00112233a8>: Failed to establish a new connection: [Errno 111] Connection refused'))",
    "httpsconnectionpool(host='api.example.com', port=443): max retries exceeded with url: /v1/orders?page=<num> (caused by newconnectionerror('<urllib3.connection.httpsconnection object at <hex>>: failed to establish a new connection: [errno 111] connection refused'))",
  ],
  [
    "requests read timeout",
    "ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=30)",
    "ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=60)",
    "readtimeout: httpsconnectionpool(host='api.example.com', port=443): read timed out. (read timeout=<num>)",
  ],
  [
    "requests 429",
    "429 Client Error: Too Many Requests for url: https://api.example.com/v1/items?cursor=9f86d081884c7d65&limit=500",
    "429 Client Error: Too Many Requests for url: https://api.example.com/v1/items?cursor=2c26b46b68ffc68f&limit=100",
    "429 client error: too many requests for url: https://api.example.com/v1/items?cursor=<hex>&limit=<num>",
  ],
  [
    "kubernetes quota",
    'pods "etl-run-abc12-xyz9" is forbidden: exceeded quota: compute-resources, requested: limits.memory=2Gi, used: limits.memory=14Gi, limited: limits.memory=16Gi',
    'pods "etl-run-qq7h2-m4n8" is forbidden: exceeded quota: compute-resources, requested: limits.memory=4Gi, used: limits.memory=13Gi, limited: limits.memory=16Gi',
    'pods "<pod>" is forbidden: exceeded quota: compute-resources, requested: limits.memory=<num>gi, used: limits.memory=<num>gi, limited: limits.memory=<num>gi',
  ],
  [
    "kubernetes scheduling",
    "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    "0/12 nodes are available: 12 Insufficient memory. preemption: 0/12 nodes are available: 12 No preemption victims found for incoming pod.",
    "<num>/<num> nodes are available: <num> insufficient memory. preemption: <num>/<num> nodes are available: <num> no preemption victims found for incoming pod.",
  ],
  [
    "kubernetes back-off",
    "Back-off restarting failed container base in pod etl-7c9d8f6b5-abcde_airflow(8f14e45f-ceea-467f-a9f1-2b3c4d5e6f70)",
    "Back-off restarting failed container base in pod etl-6d5f4c8b9-zz9xw_airflow(0b9a3c1e-5d2f-4c11-9e8a-77f0d1c2b3a4)",
    "back-off restarting failed container base in pod <pod>_airflow(<uuid>)",
  ],
  [
    "dbt test failure",
    "Failure in test not_null_orders_customer_id (models/staging/schema.yml)\n  Got 88 results, configured to fail if != 0",
    "Failure in test not_null_orders_customer_id (models/staging/schema.yml)\n  Got 1,523 results, configured to fail if != 0",
    "failure in test not_null_orders_customer_id (models/staging/schema.yml) got <num> results, configured to fail if != <num>",
  ],
  [
    "dbt database error",
    "Database Error in model stg_orders (models/staging/stg_orders.sql)\n  000904 (42000): SQL compilation error: error line 3 at position 14\n  invalid identifier 'ORDER_TOTAL'",
    "Database Error in model stg_orders (models/staging/stg_orders.sql)\n  000904 (42000): SQL compilation error: error line 5 at position 7\n  invalid identifier 'ORDER_TOTAL'",
    "database error in model stg_orders (models/staging/stg_orders.sql) 000904 (42000): sql compilation error: error line <num> at position <num> invalid identifier 'order_total'",
  ],
  [
    "great expectations not null",
    "expect_column_values_to_not_be_null: 12 unexpected values found. 0.5% of 2400 total rows.",
    "expect_column_values_to_not_be_null: 1,204 unexpected values found. 12.3% of 9,788 total rows.",
    "expect_column_values_to_not_be_null: <num> unexpected values found. <num>% of <num> total rows.",
  ],
  [
    "great expectations between",
    "expect_column_values_to_be_between(column='amount', min_value=0, max_value=10000) failed: unexpected_count=5, unexpected_percent=0.21, partial_unexpected_list=[-3, 10500, 99999]",
    "expect_column_values_to_be_between(column='amount', min_value=0, max_value=10000) failed: unexpected_count=41, unexpected_percent=1.7, partial_unexpected_list=[-1, -2]",
    "expect_column_values_to_be_between(column='amount', min_value=<num>, max_value=<num>) failed: unexpected_count=<num>, unexpected_percent=<num>, partial_unexpected_list=[<value>]",
  ],
  [
    "soda missing count",
    "Check failed: missing_count(customer_id) = 12 [FAIL] (threshold: fail when > 0)",
    "Check failed: missing_count(customer_id) = 3 [FAIL] (threshold: fail when > 0)",
    "check failed: missing_count(customer_id) = <num> [fail] (threshold: fail when > <num>)",
  ],
  [
    "cloverdx parsing error",
    'Parsing error: Unexpected data in record 1523, field 4 ("amount"), metadata "orders"; value: \'12a.5\'',
    'Parsing error: Unexpected data in record 77, field 4 ("amount"), metadata "orders"; value: \'n/a\'',
    'parsing error: unexpected data in record <num>, field <num> ("amount"), metadata "orders"; value: \'<value>\'',
  ],
  [
    "cloverdx missing input file",
    "java.io.FileNotFoundException: /data/in/orders_20240102.csv (No such file or directory)",
    "java.io.FileNotFoundException: /data/in/orders_20240315.csv (No such file or directory)",
    "java.io.filenotfoundexception: /data/in/orders_<date>.csv (no such file or directory)",
  ],
  [
    "cloverdx database refused",
    "Component [DBOutputTable:DB_OUTPUT1] finished with status ERROR. Caused by: org.postgresql.util.PSQLException: Connection to db.internal:5432 refused. Execution started Tue Jan 02 03:04:05 CET 2024, run 4521.",
    "Component [DBOutputTable:DB_OUTPUT1] finished with status ERROR. Caused by: org.postgresql.util.PSQLException: Connection to db.internal:5432 refused. Execution started Wed Mar 13 22:00:01 CET 2024, run 4533.",
    "component [dboutputtable:db_output1] finished with status error. caused by: org.postgresql.util.psqlexception: connection to db.internal:5432 refused. execution started <ts>, run <num>.",
  ],
  [
    "missing s3 partition",
    "FileNotFoundError: s3://bucket/orders/2024/01/02/part-0001.parquet",
    "FileNotFoundError: s3://bucket/orders/2024/01/03/part-0007.parquet",
    "filenotfounderror: s3://bucket/orders/<date>/part-<num>.parquet",
  ],
  [
    "disk full in a temp dir",
    "OSError: [Errno 28] No space left on device: '/tmp/tmpab12cd/file.csv'",
    "OSError: [Errno 28] No space left on device: '/tmp/tmpq9z8y7x/file.csv'",
    "oserror: [errno 28] no space left on device: '<path>'",
  ],
  [
    "smtp recipient refused",
    "SMTPRecipientsRefused: {'john.doe@example.com': (550, b'5.1.1 User unknown')}",
    "SMTPRecipientsRefused: {'jane.roe@example.org': (550, b'5.1.1 User unknown')}",
    "smtprecipientsrefused: {'<email>': (550, b'5.1.1 user unknown')}",
  ],
];

const KEEP_APART: readonly (readonly [name: string, a: string, b: string])[] = [
  ["other table", 'relation "public.orders" does not exist', 'relation "public.customers" does not exist'],
  ["other column", 'column "customer_id" does not exist', 'column "order_id" does not exist'],
  [
    "other constraint",
    'duplicate key value violates unique constraint "orders_pkey"',
    'duplicate key value violates unique constraint "orders_email_key"',
  ],
  ["other key column", "Key (id)=(1) already exists.", "Key (email)=(1) already exists."],
  ["other ORA code", "ORA-00942: statement failed", "ORA-00904: statement failed"],
  [
    "other HTTP status",
    "HTTP 503 from https://api.example.com/v1/orders",
    "HTTP 502 from https://api.example.com/v1/orders",
  ],
  [
    "other requests status",
    "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://api.example.com/v1",
    "requests.exceptions.HTTPError: 500 Server Error: Service Unavailable for url: https://api.example.com/v1",
  ],
  [
    "other status code",
    "unexpected status code 404 from upstream",
    "unexpected status code 401 from upstream",
  ],
  ["other SQLSTATE", "COPY failed (SQLSTATE 23505)", "COPY failed (SQLSTATE 23503)"],
  ["other pgcode", "could not serialize access, pgcode 40001", "could not serialize access, pgcode 40P01"],
  [
    "other exit code",
    "container base terminated with exit code 137",
    "container base terminated with exit code 1",
  ],
  [
    "other signal name",
    "Task exited with return code Negsignal.SIGKILL",
    "Task exited with return code Negsignal.SIGTERM",
  ],
  ["other signal number", "process killed by signal 9", "process killed by signal 15"],
  ["other errno", "[Errno 111] Connection refused", "[Errno 113] Connection refused"],
  [
    "other service port",
    "could not connect to db.internal:5432: connection refused",
    "could not connect to db.internal:6379: connection refused",
  ],
  ["other port", "connection refused on port 5432", "connection refused on port 3306"],
  [
    "other MySQL code",
    "ERROR 1045 (28000): Access denied for user 'etl'",
    "ERROR 1044 (42000): Access denied for user 'etl'",
  ],
  [
    "other MySQL tuple code",
    "(1213, 'Deadlock found when trying to get lock')",
    "(1205, 'Deadlock found when trying to get lock')",
  ],
  ["other Snowflake code", "002003 (42S02): SQL compilation error", "002043 (02000): SQL compilation error"],
  [
    "other dbt test",
    "Failure in test not_null_orders_customer_id (models/schema.yml)",
    "Failure in test unique_orders_order_id (models/schema.yml)",
  ],
  [
    "year inside an identifier",
    'relation "sales_2024" does not exist',
    'relation "sales_2023" does not exist',
  ],
  [
    "other type size",
    "value too long for type character varying(50)",
    "value too long for type character varying(255)",
  ],
  [
    "other MySQL index",
    "Duplicate entry '1' for key 'PRIMARY'",
    "Duplicate entry '1' for key 'orders.email_uq'",
  ],
  ["other missing key", "KeyError: 'customer_id'", "KeyError: 'order_id'"],
  ["other exception class", "psycopg2.errors.UniqueViolation: x", "psycopg2.errors.ForeignKeyViolation: x"],
  ["other SMTP reply", "(550, b'5.1.1 User unknown')", "(552, b'5.1.1 User unknown')"],
];

describe("realistic messages", () => {
  it.each(GROUP_TOGETHER)("groups: %s", (_name, a, b, normalized) => {
    expect(normalize(a)).toBe(normalized);
    expect(normalize(b)).toBe(normalized);
  });

  it.each(KEEP_APART)("keeps apart: %s", (_name, a, b) => {
    expect(normalize(a)).not.toBe(normalize(b));
  });
});

// -----------------------------------------------------------------------------------------------------------
// Generators for realistic messages with random volatile parts
// -----------------------------------------------------------------------------------------------------------

const chars = (alphabet: string, minLength: number, maxLength = minLength) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const withThousands = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** A count as people write it: 7, 1523, 1,523, 12.5, 123456789012345. */
const countText = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 15n }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 15n }).map((n) => withThousands(String(n))),
  fc.tuple(fc.nat(100_000), fc.nat(99)).map(([whole, fraction]) => `${whole}.${fraction}`),
);
const instant = fc.date({
  min: new Date("2002-01-01T00:00:00Z"),
  max: new Date("2032-12-31T23:59:59Z"),
  noInvalidDate: true,
});
const K8S_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

const volatileParts = fc.record({
  count: countText,
  count2: countText,
  line: fc.integer({ min: 1, max: 5000 }),
  at: instant,
  runKind: fc.constantFrom("scheduled", "manual", "backfill", "dataset_triggered", "asset_triggered"),
  uuid: fc.uuid(),
  ip: fc.ipV4(),
  port: fc.integer({ min: 32768, max: 60999 }),
  hex: chars("0123456789abcdef", 10),
  pod: fc
    .tuple(chars(K8S_ALPHABET, 9, 10), chars(K8S_ALPHABET, 5))
    .map(([rs, id]) => `orders-load-${rs}-${id}`),
  email: fc
    .tuple(
      chars("abcdefghijklmnopqrstuvwxyz", 1, 8),
      fc.constantFrom("example.com", "corp.example.org", "mail.io"),
    )
    .map(([local, domain]) => `${local}@${domain}`),
  duration: fc
    .tuple(fc.nat(100_000), fc.constantFrom("ms", "s", " seconds", " minutes", "h"))
    .map(([n, unit]) => `${n}${unit}`),
  tmp: chars("abcdefghijklmnopqrstuvwxyz0123456789_", 8).map((s) => `/tmp/tmp${s}`),
  value: chars("abcdefghijklmnopqrstuvwxyz0123456789 -_./:,", 0, 20),
  seq: fc.nat(99_999).map((n) => pad(n, 5)),
});
type Volatile = typeof volatileParts extends fc.Arbitrary<infer T> ? T : never;

const iso = (d: Date) => d.toISOString();
const logTs = (d: Date) => iso(d).replace("T", " ").replace(".", ",").replace("Z", "");
const basicTs = (d: Date) => iso(d).slice(0, 19).replace(/[-:]/g, "");
const ymd = (d: Date) => iso(d).slice(0, 10).replace(/-/g, "");

const TEMPLATES: readonly ((v: Volatile) => string)[] = [
  (v) =>
    `[${logTs(v.at)}] {taskinstance.py:${v.line}} ERROR - Task failed with exception\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: ${v.count}`,
  (v) =>
    `Marking task as FAILED. dag_id=orders_daily, task_id=load_orders, run_id=${v.runKind}__${iso(v.at).replace("Z", "+00:00")}, execution_date=${basicTs(v.at)}, start_date=${basicTs(v.at)}`,
  (v) =>
    `duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(${v.count}) already exists.`,
  (v) =>
    `Failure in test not_null_orders_customer_id (models/staging/schema.yml)\n  Got ${v.count} results, configured to fail if != 0`,
  (v) =>
    `HTTPSConnectionPool(host='${v.ip}', port=${v.port}): Max retries exceeded with url: /v1/orders?page=${v.count} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f${v.hex}>: Failed to establish a new connection: [Errno 111] Connection refused'))`,
  (v) => `Pod ${v.pod} returned a failure: OOMKilled (exit code 137) after ${v.duration}`,
  (v) => `OSError: [Errno 28] No space left on device: '${v.tmp}/part-${v.seq}.csv'`,
  (v) => `java.io.FileNotFoundException: /data/in/orders_${ymd(v.at)}.csv (No such file or directory)`,
  (v) =>
    `Parsing error: Unexpected data in record ${v.count}, field 4 ("amount"), metadata "orders"; value: '${v.value}'`,
  (v) => `request ${v.uuid} for ${v.email} failed at ${iso(v.at)}: 503 Service Unavailable`,
  (v) => `dial tcp ${v.ip}:${v.port}: connect: connection refused`,
  (v) => `Query ${v.uuid} failed: 100038 (22018): Numeric value '${v.value}' is not recognized`,
  (v) =>
    `expect_column_values_to_not_be_null: ${v.count} unexpected values found. ${v.count2}% of ${v.count} total rows.`,
  (v) =>
    `application_${v.at.getTime()}_0042 failed on ip-${v.ip.replace(/\./g, "-")}.ec2.internal at ${Math.floor(v.at.getTime() / 1000)}`,
  (v) => `s3://bucket/orders/${iso(v.at).slice(0, 10).replace(/-/g, "/")}/part-${v.seq}.parquet not found`,
  (v) => `Job took ${v.duration}; retried ${v.count} times; commit 7f${v.hex.slice(0, 6)}`,
];
const template = fc.nat(TEMPLATES.length - 1).map((i) => TEMPLATES[i] as (v: Volatile) => string);
const realisticMessage = fc.tuple(template, volatileParts).map(([t, v]) => t(v));

/** Same message with every whitespace run swapped for another one and random ASCII case flips. */
function reshape(message: string, runs: readonly string[], flips: readonly boolean[]): string {
  let i = 0;
  const spaced = `${runs[runs.length - 1] ?? ""}${message.replace(/\s+/g, () => runs[i++ % runs.length] ?? " ")}${runs[0] ?? ""}`;
  let j = 0;
  return spaced.replace(/[a-z]/gi, (c) =>
    flips[j++ % flips.length] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c,
  );
}

// A soup of fragments that sit on rule boundaries: good at finding non-idempotent neighbourhoods.
const fragmentSoup = fc
  .array(
    fc.constantFrom(
      ..."0123456789abcdefxyzABCXYZ -_.:/@'\"()[]=,+<>%\\\n\tTZ".split(""),
      "<num>",
      "<hex>",
      "2024-01-02",
      "03:04:05",
      "0x",
      "::",
      "port ",
      "pod ",
      "value '",
      "key (id)=(",
      "exit code ",
      "http ",
      "scheduled__",
      "/tmp/",
      "part-",
      "1,523",
      "ms",
      " minutes",
      "Jan ",
      "ERROR ",
      "(28000)",
      "SIGKILL: ",
      "\u212a",
      "\u0130",
      "status ",
      "1h",
      "12.5",
      "-5",
      "ip-10-0-0-5",
      "my-dag-task-",
      "x2k9p",
      "7f9c8d6b5",
      "db.internal:",
      "20240102",
      "1704164645",
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(""));

describe("properties", () => {
  it("is idempotent on arbitrary strings", () => {
    for (const unit of ["grapheme-ascii", "grapheme", "binary"] as const) {
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 300 }), (s) => {
          const once = normalize(s);
          expect(normalize(once)).toBe(once);
        }),
        { numRuns: 1000 },
      );
    }
  });

  it("is idempotent on fragments that sit on rule boundaries", () => {
    fc.assert(
      fc.property(fragmentSoup, (s) => {
        const once = normalize(s);
        expect(normalize(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });

  it("is idempotent on realistic messages", () => {
    fc.assert(
      fc.property(realisticMessage, (m) => {
        const once = normalize(m);
        expect(normalize(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it("groups realistic messages that differ only in volatile parts", () => {
    fc.assert(
      fc.property(template, volatileParts, volatileParts, (t, v1, v2) => {
        expect(normalize(t(v1))).toBe(normalize(t(v2)));
      }),
      { numRuns: 1000 },
    );
  });

  it("ignores whitespace kinds and amounts and ASCII case", () => {
    const whitespaceRun = fc.constantFrom(" ", "  ", "\t", "\n", "\r\n", "\u00a0", " \n\t ");
    fc.assert(
      fc.property(
        realisticMessage,
        fc.array(whitespaceRun, { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 100 }),
        (m, runs, flips) => {
          expect(normalize(reshape(m, runs, flips))).toBe(normalize(m));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("normalises a number of any size in a count position the same way", () => {
    const countTemplates: readonly ((n: string) => string)[] = [
      (n) => `Got ${n} failing rows`,
      (n) =>
        `Failure in test unique_orders_id (models/schema.yml)\n  Got ${n} results, configured to fail if != 0`,
      (n) => `expect_column_values_to_not_be_null: ${n} unexpected values found.`,
      (n) => `Parsing error: Unexpected data in record ${n}, field 4 ("amount")`,
      (n) => `deadlock detected: Process ${n} waits for ShareLock on transaction 1; blocked by process 2.`,
      (n) => `airflow.exceptions.AirflowTaskTimeout: Timeout, PID: ${n}`,
      (n) => `GET https://api.example.com/v1/orders?page=${n}&limit=100 failed`,
      (n) => `missing_count(customer_id) = ${n} [FAIL]`,
    ];
    fc.assert(
      fc.property(fc.constantFrom(...countTemplates), countText, countText, (t, a, b) => {
        expect(normalize(t(a))).toBe(normalize(t(b)));
      }),
      { numRuns: 2000 },
    );
  });

  describe("never merges distinct meaningful codes", () => {
    const distinctPair = <T>(arb: fc.Arbitrary<T>) =>
      fc.uniqueArray(arb, { minLength: 2, maxLength: 2, selector: (x) => String(x).toLowerCase() });
    const check = <T>(templates: readonly ((code: T) => string)[], codes: fc.Arbitrary<T>) =>
      fc.assert(
        fc.property(fc.constantFrom(...templates), distinctPair(codes), (t, [a, b]) => {
          const na = normalize(t(a as T));
          const nb = normalize(t(b as T));
          expect(na).not.toBe(nb);
          expect(na).toContain(String(a).toLowerCase());
        }),
        { numRuns: 500 },
      );

    it("HTTP statuses", () => {
      check<number>(
        [
          (c) => `HTTP ${c} from https://api.example.com/v1/orders?page=2`,
          (c) =>
            `requests.exceptions.HTTPError: ${c} Server Error: Internal Server Error for url: https://x.example.com/v1`,
          (c) => `urllib.error.HTTPError: HTTP Error ${c}: Service Unavailable`,
          (c) => `upstream returned status code ${c} after 3 retries`,
          (c) => `rate limited: status=${c}`,
          (c) => `${c} Too Many Requests`,
          (c) => `HTTP/1.1 ${c} Bad Gateway`,
        ],
        fc.integer({ min: 100, max: 599 }),
      );
    });

    it("SQLSTATEs", () => {
      const sqlstate = fc
        .tuple(
          fc.constantFrom(
            "08",
            "0A",
            "22",
            "23",
            "25",
            "28",
            "40",
            "42",
            "53",
            "54",
            "55",
            "57",
            "58",
            "HV",
            "P0",
            "XX",
          ),
          fc.oneof(
            chars("0123456789", 3),
            fc.tuple(chars("ABCDEFGHPSZ", 1), chars("0123456789", 2)).map(([l, d]) => l + d),
          ),
        )
        .map(([cls, sub]) => cls + sub);
      check<string>(
        [
          (s) => `ERROR: could not serialize access (SQLSTATE ${s})`,
          (s) => `SQLSTATE[${s}]: General error`,
          (s) => `psycopg2 pgcode ${s}: retry`,
          (s) => `SQL state: ${s}`,
        ],
        sqlstate,
      );
    });

    it("Oracle error codes", () => {
      check<string>(
        [
          (c) => `ORA-${c}: table or view does not exist`,
          (c) => `java.sql.SQLException: ORA-${c}: failure, line 12`,
        ],
        chars("0123456789", 5),
      );
    });

    it("exit codes, errno and signals", () => {
      check<number>(
        [
          (c) => `container base terminated with exit code ${c}`,
          (c) => `Command '['dbt', 'run']' returned non-zero exit status ${c}.`,
          (c) => `Task exited with return code ${c}`,
          (c) => `process exited with code ${c}`,
          (c) => `Reason: Error, Exit Code: ${c}`,
          (c) => `[Errno ${c}] Connection refused`,
          (c) => `worker killed by signal ${c}`,
        ],
        fc.integer({ min: 0, max: 255 }),
      );
    });

    it("MySQL and Snowflake vendor codes", () => {
      check<number>(
        [
          (c) => `ERROR ${c} (28000): Access denied for user 'etl'`,
          (c) => `(${c}, 'Deadlock found when trying to get lock; try restarting transaction')`,
          (c) => `MySQL error ${c}`,
        ],
        fc.integer({ min: 1000, max: 9999 }),
      );
      check<string>([(c) => `${c} (42S02): SQL compilation error`], chars("0123456789", 6));
    });

    it("well-known ports", () => {
      check<number>(
        [
          (p) => `could not connect to db.internal:${p}: connection refused`,
          (p) => `connection refused on port ${p}`,
        ],
        fc.constantFrom(22, 25, 80, 443, 1433, 1521, 3306, 5432, 6379, 8080, 9092, 27017),
      );
    });
  });
});

describe("explainNormalization", () => {
  it("reports the rules that fired, in order, with what they matched", () => {
    const message =
      "  ERROR 1045 (28000): access denied for 'etl'@'10.0.0.7' after 3 attempts at 2024-01-02T03:04:05Z  ";
    expect(explainNormalization(message)).toEqual({
      version: FINGERPRINT_VERSION,
      input: message,
      normalized: "error 1045 (28000): access denied for 'etl'@'<ip>' after <num> attempts at <ts>",
      rules: [
        { rule: "timestamp", matches: ["2024-01-02T03:04:05Z"] },
        { rule: "ip", matches: ["10.0.0.7"] },
        { rule: "number", matches: ["3"] },
        { rule: "lowercase", matches: ["ERROR"] },
        { rule: "whitespace", matches: ["  ", "  "] },
      ],
    });
  });

  it("explains a Postgres violation", () => {
    const message =
      'duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=(12345) already exists.';
    expect(explainNormalization(message).rules).toEqual([
      { rule: "quoted_value", matches: ["12345"] },
      { rule: "lowercase", matches: ["DETAIL:", "Key"] },
      { rule: "whitespace", matches: ["\n", "  "] },
    ]);
  });

  it("handles null and undefined", () => {
    expect(explainNormalization(null)).toEqual({
      version: FINGERPRINT_VERSION,
      input: "",
      normalized: "",
      rules: [],
    });
    expect(explainNormalization(undefined)).toEqual({
      version: FINGERPRINT_VERSION,
      input: "",
      normalized: "",
      rules: [],
    });
  });

  it("agrees with normalizeErrorMessage and only names known rules, each with non-empty matches", () => {
    const known = new Set(NORMALIZATION_RULES.map((rule) => rule.name));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fragmentSoup, realisticMessage), (s) => {
        const explanation = explainNormalization(s);
        expect(explanation.normalized).toBe(normalize(s));
        expect(explanation.input).toBe(s);
        for (const hit of explanation.rules) {
          expect(known.has(hit.rule)).toBe(true);
          expect(hit.matches.length).toBeGreaterThan(0);
          for (const match of hit.matches) expect(match.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("lists rules in NORMALIZATION_RULES order for realistic messages", () => {
    const order = NORMALIZATION_RULES.map((rule) => rule.name);
    fc.assert(
      fc.property(realisticMessage, (m) => {
        const indices = firedRules(m).map((name) => order.indexOf(name));
        expect(indices).toEqual([...indices].sort((x, y) => x - y));
        expect(new Set(indices).size).toBe(indices.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe("hostile input", () => {
  // Each of these would take minutes with a backtracking-prone pattern. No timing assertion: finishing is the test.
  const units = [
    "1",
    "1,",
    "a-",
    "1.",
    "'",
    "\\'",
    "value '",
    "Key (a)=(",
    "pod a-",
    ":1",
    "1h",
    "::",
    "a@",
    "0x",
    "/tmp/",
    "scheduled__",
    "1-",
    "f",
    " ",
    "\n",
    "Jan 1 ",
    "2024-01-02 ",
    "03:04:",
    "1.1.",
    "ab12-",
    "<num>",
    "failing row contains (",
    "values: [",
    "1 minutes ",
    "http ",
    "a.b:",
    "invalid input syntax for ",
    "port ",
    "a:1 ",
  ];
  it.each(units)("finishes on 100,000 characters of %j", (unit) => {
    const input = unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);
    const out = normalize(input);
    expect(out.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(normalize(out)).toBe(out);
  });

  it("finishes on 100,000 characters of whitespace-padded context words", () => {
    for (const word of ["port", "pod", "value", "exit code", "invalid input syntax for type"]) {
      const input = `${word}${" ".repeat(99_990)}'1'`;
      expect(normalize(input)).toBe(word);
    }
  });
});

describe("fast path", () => {
  // Expectations produced by the rule-by-rule implementation, pinned for the optimised engine (guards,
  // single-pass lower-casing and white-space collapse, consume-first patterns, fixed-point memo).
  const rows: readonly Row[] = [
    ["A\u03a3\ufeffB \u03a3\ufeff x\u03a3", "a\u03c2 b \u03c3 x\u03c2"],
    ["\u0391\u03a3 \u03a3 \u03a3\u0391", "\u03b1\u03c2 \u03c3 \u03c3\u03b1"],
    ["a\ufeffb  \u00a0c", "a b c"],
    [
      "0x 0x1f 0X1F 0xg1 x0x1f 00x1 1234567 abcdef1 abcdef12abcdef12abcdef12abcdef12",
      "0x <hex> <hex> 0xg1 x0x1f 00x1 <num> <hex> <hex>",
    ],
    [
      "a-5 -5 +5 >-5 <num>5 1-2-3 1,523.5 1e-3 .5 5. 12.5.6 +-5",
      "a-5 <num> <num> >-5 <num>5 <num> <num> <num> .5 <num>. 12.5.6 +-5",
    ],
    [
      "port\t 6543, pod\tname=my-job-x2k9p, pod name=abc-def-1",
      "port <port>, pod name=<pod>, pod name=<pod>",
    ],
    [
      "exit code\n\n 3, HTTP   503 Service   Unavailable, error  1045 (28000)",
      "exit code 3, http 503 service unavailable, error 1045 (28000)",
    ],
    ["2h 13m 5s p1d pt5m xp1d 1,000 seconds 12.5s", "<duration> <duration> <duration> xp1d <duration>"],
    [
      "a.b.example.com:54321 localhost:8080 [::1]:6000 user@db:7000",
      "a.b.example.com:<port> localhost:8080 [<ip>]:<port> user@db:<port>",
    ],
    ["sig\u212aill: 9 and P\u0130D 42", "sigkill: 9 and pid <num>"],
    ["x@y.io john.doe@example.com <num>a@b.com", "<email> <email> <num>a@b.com"],
  ];

  it.each(rows)("normalises %j -> %j, like explainNormalization", (input, expected) => {
    expect(normalize(input)).toBe(expected);
    expect(explainNormalization(input).normalized).toBe(expected);
  });

  it("gives the same result when the normalised form is already known", () => {
    const first = "task 1234 failed after 17 seconds: 1,523 rows rejected";
    const second = "task 98 failed after 3 seconds: 7 rows rejected";
    const expected = "task <num> failed after <duration>: <num> rows rejected";
    for (let i = 0; i < 3; i++) {
      expect(normalize(first)).toBe(expected);
      expect(normalize(second)).toBe(expected);
      expect(normalize(expected)).toBe(expected);
    }
  });

  it("agrees with explainNormalization on realistic messages and boundary fragments", () => {
    fc.assert(
      fc.property(fc.oneof(realisticMessage, fragmentSoup), (s) => {
        const normalized = normalize(s);
        expect(explainNormalization(s).normalized).toBe(normalized);
        expect(normalize(normalized)).toBe(normalized);
      }),
      { numRuns: 1000 },
    );
  });
});
