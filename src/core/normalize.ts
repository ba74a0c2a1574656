/**
 * Error-message normalisation: strips the volatile parts of a failure message (ids, timestamps, counts,
 * hosts, temp paths, data values) so that repeated occurrences of one problem produce the same string and
 * therefore the same fingerprint. Pure: no I/O, no clock, no locale.
 *
 * The pipeline is an ordered list of typed rules (see NORMALIZATION_RULES). Volatile parts become lower-case
 * angle-bracketed placeholders:
 *
 *   <value>     quoted data value in a known data context (never a quoted table/column/constraint name)
 *   <path>      temporary file path (/tmp, /var/tmp, /var/folders, /dev/shm, Windows Temp)
 *   <run_id>    Airflow run id (scheduled__..., manual__..., backfill__..., dataset/asset_triggered__...)
 *   <uuid>      UUID
 *   <email>     e-mail address
 *   <ts>        timestamp (a date with a time, a time of day, or an epoch embedded in an identifier)
 *   <date>      calendar date (ISO, slashed, dotted, month names, yyyymmdd embedded in an identifier)
 *   <ip>        IPv4 / IPv6 address (and AWS-style ip-10-0-0-5 host names)
 *   <port>      port after a host that is not a well-known service port
 *   <pod>       Kubernetes pod name
 *   <hex>       hex id or hash (0x..., or 7+ hex chars with a digit and a letter, or 32/40/64 hex chars)
 *   <duration>  duration (12.5s, 300ms, 5 minutes, 1h30m, PT5M)
 *   <num>       any other free-standing number, whatever its magnitude (88, 1,523, -5, 12.5, 1e-3, 10GB)
 *
 * Numbers that carry meaning are kept: HTTP statuses, SQLSTATEs, vendor codes (ORA-00942, MySQL 1045,
 * Snowflake 002003), errno, exit codes, signals, well-known service ports, SQL type sizes, digits inside
 * identifiers (sales_2024, orders_v2, utf-8, int64).
 *
 * Properties the rules are written for (and tested against):
 * - idempotence: the rules are run to a fixed point, so normalising a normalised string changes nothing;
 * - insensitivity to case and to the kind and amount of whitespace (lower-casing and whitespace collapse run
 *   last; every rule is case-insensitive and matches whitespace with \s);
 * - robustness on hostile input: only the first MAX_MESSAGE_LENGTH characters are looked at, and patterns
 *   that start with a quantifier are anchored by a look-behind to the start of their run (or guarded by a
 *   look-ahead), so no pattern is retried from every position of a long run.
 */

/** Bump whenever a rule change alters the output for some input: fingerprints are only comparable within one version. */
export const FINGERPRINT_VERSION = 1;

/**
 * Only the first MAX_MESSAGE_LENGTH characters are normalised (huge tracebacks that differ only in their
 * tail still group). If placeholders make the result longer than that, it is cut again and re-normalised,
 * so the output never exceeds this length and stays a fixed point.
 */
export const MAX_MESSAGE_LENGTH = 10_000;

export interface NormalizationRuleHit {
  rule: string;
  /** Matched substrings, before replacement (only those the rule actually changed). */
  matches: string[];
}

export interface NormalizationExplanation {
  version: number;
  input: string;
  normalized: string;
  /** Only the rules that fired, in the order applied. */
  rules: NormalizationRuleHit[];
}

type Replacer = (match: RegExpExecArray, text: string) => string;

interface Rule {
  readonly name: string;
  readonly description: string;
  /** Must be global; case-insensitive unless the rule is about case. */
  readonly pattern: RegExp;
  readonly replace: string | Replacer;
  /**
   * A cheap, non-global test that holds whenever the rule could change the text (a necessary condition, so
   * skipping the rule when it fails changes nothing). Saves running the full pattern on most messages.
   */
  readonly guard?: RegExp;
  /**
   * A character (class) that must be present in the text at the start of the pass (see passHas) for the
   * rule to change anything; checked before `guard`.
   */
  readonly needs?: Need;
}

// ---------------------------------------------------------------------------------------------------------
// Characters present in a text: tested at most once per pass, they let rules that cannot fire skip their
// scan. Rules only ever replace text by placeholders (<[a-z_]+>) or keep it, so none of these characters
// can appear during a pass without having been in the text at its start.
// ---------------------------------------------------------------------------------------------------------

const DIGIT = 0;
const DASH = 1;
/** "/" or "\\" */
const SLASH = 2;
/** A quote, "(" or "[" (what quoted_value can start at or after). */
const OPENER = 3;
/** White space other than single spaces (no rule creates any, and no replacement is empty). */
const UNCOLLAPSED = 4;
type Need = typeof DIGIT | typeof DASH | typeof SLASH | typeof OPENER | typeof UNCOLLAPSED;
const NEED_TESTS: readonly RegExp[] = [/\d/, /-/, /[/\\]/, /["'([]/, /\s\s|[^\S ]/];

/** Text at the start of the current pass, and which NEED_TESTS have been run on it / held. */
let passText = "";
let needsKnown = 0;
let needsHeld = 0;

function startPass(text: string): void {
  passText = text;
  needsKnown = 0;
  needsHeld = 0;
}

function passHas(need: Need): boolean {
  const bit = 1 << need;
  if ((needsKnown & bit) === 0) {
    needsKnown |= bit;
    if (NEED_TESTS[need]?.test(passText)) needsHeld |= bit;
  }
  return (needsHeld & bit) !== 0;
}

const rx = (source: string): RegExp => new RegExp(source, "gi");
const join = (parts: readonly string[]): string => `(?:${parts.join("|")})`;

// ---------------------------------------------------------------------------------------------------------
// Shared fragments
// ---------------------------------------------------------------------------------------------------------

const YEAR = String.raw`(?:19|20)\d\d`;
const MM = "(?:0[1-9]|1[0-2])";
const DD = String.raw`(?:0[1-9]|[12]\d|3[01])`;
const M1 = "(?:1[0-2]|0?[1-9])";
const D1 = String.raw`(?:3[01]|[12]\d|0?[1-9])`;
const HH = String.raw`(?:2[0-3]|[01]?\d)`;
const HH2 = String.raw`(?:2[0-3]|[01]\d)`;
const MIN = String.raw`[0-5]\d`;
const SEC = String.raw`(?:[0-5]\d|60)`;
const FRAC = String.raw`(?:[.,]\d+)?`;
const TIME_HM = `${HH}:${MIN}(?::${SEC}${FRAC})?`;
const TIME_HMS = `${HH}:${MIN}:${SEC}${FRAC}`;
const AMPM = String.raw`(?:\s*[ap]\.?m\.?(?![a-z]))?`;
const TZ_NAME =
  "(?:utc|gmt|z|cet|cest|eet|eest|wet|west|bst|ist|est|edt|cst|cdt|mst|mdt|pst|pdt|akst|akdt|hst|jst|kst|aest|aedt|awst|nzst|nzdt|msk|sgt|hkt)";
const TZ = join([
  String.raw`\s*[+-]${HH2}:?${MIN}(?!\d)`,
  String.raw`[+-]${HH2}(?!\d)`,
  String.raw`\s*${TZ_NAME}(?![a-z])(?:[+-]${HH}(?::?${MIN})?(?!\d))?`,
]);
const OPT_TZ = `${TZ}?`;
const MONTH =
  "(?<![a-z])(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])";
const WEEKDAY = String.raw`(?<![a-z])(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)(?![a-z])\.?`;
const OPT_WEEKDAY = String.raw`(?:${WEEKDAY},?\s+)?`;
const ORDINAL = "(?:st|nd|rd|th)?";
const DATE_YMD = `${YEAR}[-/.]${M1}[-/.]${D1}`;
const DATE_DMY = `${D1}[-/.]${D1}[-/.]${YEAR}`;
/** First character of any date or timestamp form: a digit, or the initial of a weekday or a month. */
const FIRST_OF_DATE = String.raw`[\dadfjmnostw]`;

/** A placeholder produced by an earlier rule (or an earlier pass). */
const PLACEHOLDER = /<[a-z_]+>/gi;
/**
 * Left boundary: "not right after a placeholder". Placeholders mostly replace text that ends in a word
 * character, so rules that refuse to start after a word character refuse to start after one too.
 */
const NOT_AFTER_PLACEHOLDER = "(?<!<[a-z_]+>)";
/**
 * The same as NOT_AFTER_PLACEHOLDER, checked one character later, once a character of class `first` has been
 * consumed: "(?<!L)x" and "x(?<!Lx)" accept the same matches, but a pattern that starts by consuming a
 * character lets the regex engine skip quickly over positions where it cannot start.
 */
const notAfterPlaceholderThen = (first: string): string => `(?<!<[a-z_]+>${first})`;

/**
 * Ports whose number names the service (and so the problem): a refused connection to 5432 is not the same
 * problem as one to 6379. Any other port after a host is treated as arbitrary.
 */
const WELL_KNOWN_PORTS = new Set([
  "21", // ftp
  "22", // ssh / sftp
  "25", // smtp
  "53", // dns
  "80", // http
  "443", // https
  "465", // smtps
  "587", // smtp submission
  "636", // ldaps
  "1433", // sql server
  "1521", // oracle
  "2181", // zookeeper
  "3306", // mysql
  "5432", // postgres
  "5439", // redshift
  "5672", // amqp
  "6379", // redis
  "8080", // http alt
  "8443", // https alt
  "9042", // cassandra
  "9092", // kafka
  "9200", // elasticsearch
  "11211", // memcached
  "27017", // mongodb
]);

/** "file.ext:123" is a source position, not host:port. */
const FILE_EXTENSIONS = new Set(
  (
    "py pyc pyx java scala kt kts groovy gradle sbt jar class js mjs cjs ts tsx jsx go rb rs c h cc cpp hpp cs " +
    "php pl lua r sh bash zsh ps1 sql yml yaml json xml toml ini cfg conf properties grf jobflow sbt ipynb " +
    "txt log csv tsv parquet avro orc gz zip html md"
  ).split(" "),
);

// ---------------------------------------------------------------------------------------------------------
// Context helpers (used by replacers; they look at a bounded window around the match)
// ---------------------------------------------------------------------------------------------------------

const WINDOW = 64;

/** Two white-space characters in a row, or one that is not a plain space: only then is there anything to collapse. */
const COLLAPSIBLE = /\s\s|[^\S ]/;

function collapseWindow(window: string): string {
  // Replacers only run during a pass, so a window can only need collapsing if the pass text did.
  return passHas(UNCOLLAPSED) && COLLAPSIBLE.test(window) ? window.replace(/\s+/g, " ") : window;
}

function windowBefore(text: string, start: number): string {
  return collapseWindow(text.slice(Math.max(0, start - WINDOW), start));
}

function windowAfter(text: string, end: number): string {
  return collapseWindow(text.slice(end, end + WINDOW));
}

const HOST_CHAR = /[a-z0-9._<>[\]-]/i;
const HOSTNAME = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i;

/** Is the text before `colon` (index of a ':') a host, making the digits after it a port? */
function isHostBeforeColon(text: string, colon: number, allowBareLabel: boolean): boolean {
  let start = colon;
  while (start > 0 && HOST_CHAR.test(text.charAt(start - 1))) start--;
  const raw = text.slice(start, colon);
  if (/<ip>\]?$/i.test(raw)) return true;
  // Placeholders inside a host name (db-<date>.internal) stand for ordinary label characters.
  const host = raw.replace(PLACEHOLDER, "x");
  if (!HOSTNAME.test(host)) return false;
  if (host.toLowerCase() === "localhost") return true;
  if (text.charAt(start - 1) === "@" || text.slice(Math.max(0, start - 2), start) === "//") return true;
  const labels = host.split(".");
  const last = labels[labels.length - 1] ?? "";
  if (labels.length >= 2) return /[a-z]/i.test(last) && !FILE_EXTENSIONS.has(last.toLowerCase());
  return allowBareLabel && /^[a-z]/i.test(host);
}

const PORT_WORD_BEFORE = /\bport\s?[:=]?\s?$/i;

/** Do the digits starting at `start` sit in a port position ("port 5432", "db.internal:5432")? */
function isPortPosition(text: string, start: number, allowBareLabel: boolean): boolean {
  // The word match is at most 7 characters long, so 8 keep its \b exact.
  if (PORT_WORD_BEFORE.test(windowBefore(text, start).slice(-8))) return true;
  return text.charAt(start - 1) === ":" && isHostBeforeColon(text, start - 1, allowBareLabel);
}

// Words after which a number is a code, not a count. Kept to explicit code-ish words: "error: 5" stays a count.
const CODE_BEFORE = new RegExp(
  "(?:" +
    [
      String.raw`\bhttps?/`, // the protocol version in HTTP/1.1
      String.raw`\bhttp(?:/\d(?:\.\d)?)?(?:\s?(?:error|status))?(?:\s?code)?`, // HTTP 503, HTTP/1.1 503, HTTP Error 503
      String.raw`\b(?:(?:http|status|response|return|exit|error|err|reason|result|termination|sql)[ _]?)?(?:code|status)`, // status=429, exit code 137, returncode=1
      String.raw`\bexit(?:ed)?(?:\s?with)?`, // exit 1, exited with 2
      String.raw`\b(?:rc|errno|sqlstate|sql\s?state|pgcode|sqlcode|signal|sig[a-z]+|msg)`, // [Errno 111], SQLSTATE[23000], SIGKILL: 9, Msg 208
    ].join("|") +
    String.raw`)\s?[:=#]?\s?[[(]?\s?$`,
  "i",
);
/** "ERROR 1045 (28000)", "MySQL error 1213", but not "Error: 5 rows failed". */
const ERROR_WORD_BEFORE = /\berror\s$/i;
const HTTP_REASON_AFTER = new RegExp(
  String.raw`^\s?(?:bad request|unauthorized|payment required|forbidden|not found|method not allowed|not acceptable|` +
    "proxy authentication required|request time-?out|conflict|precondition failed|payload too large|" +
    "request entity too large|uri too long|unsupported media type|range not satisfiable|expectation failed|" +
    "unprocessable (?:entity|content)|failed dependency|upgrade required|precondition required|too many requests|" +
    "request header fields too large|unavailable for legal reasons|internal server error|not implemented|" +
    "bad gateway|service unavailable|gateway time-?out|http version not supported|insufficient storage|" +
    String.raw`network authentication required|(?:client|server) error|error responses?)\b`,
  "i",
);
/** "1045 (28000)" (MySQL), "002003 (42S02)" (Snowflake): vendor code followed by its SQLSTATE. */
const SQLSTATE_IN_PARENS_AFTER = /^\s?\([0-9a-z]{5}\)/i;
const VENDOR_CODE_BEFORE_PARENS = /(?:^|[^\w.])\d{4,6}\s?\($/;
/** Exception args tuples: (1213, 'Deadlock found ...') from pymysql, (550, b'5.1.1 User unknown') from smtplib. */
const TUPLE_CODE_BEFORE = /\(\s?$/;
const TUPLE_CODE_AFTER = /^\s?,\s?b?['"]/;
/** Sizes in SQL types are schema, not data: varchar(50), numeric(10, 2). */
const SQL_TYPE_PARAM_BEFORE =
  /\b(?:character varying|varchar2?|nvarchar2?|n?char|character|numeric|decimal|number|dec|varbinary|binary|bit|float|timestamp|datetime2|time|interval|string)\s?\(\s?(?:\d+\s?,\s?)?$/i;

/** Is `code` one of the characters CODE_BEFORE allows between its word and the number (collapsed window)? */
function isCodeSuffixChar(code: number): boolean {
  return code === 32 || code === 58 || code === 61 || code === 35 || code === 91 || code === 40; // space : = # [ (
}

function isAsciiLetter(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 97 && lower <= 122;
}

const CODE_WORD_END = /(?:code|status|http|error|exit|exited|with|rc|errno|state|signal|msg)$/;

/**
 * Cheap necessary condition for CODE_BEFORE on a collapsed window (whose only white space is " "): its word
 * ends where the trailing run of separators (at most 5) starts, and that word ends in one of its keywords
 * or starts with "sig" (a digit or "/" before the separators, as in HTTP/1.1 or https/, is left to it).
 */
function mayEndWithCodeWord(before: string): boolean {
  let end = before.length;
  while (end > 0 && isCodeSuffixChar(before.charCodeAt(end - 1))) end--;
  if (end === 0 || before.length - end > 5) return false;
  if (!isAsciiLetter(before.charCodeAt(end - 1))) return true;
  let start = end - 1;
  while (start > 0 && isAsciiLetter(before.charCodeAt(start - 1))) start--;
  const word = before.slice(start, end).toLowerCase();
  return word.startsWith("sig") || CODE_WORD_END.test(word);
}

/** Only digits, commas and white space may follow the "(" of SQL_TYPE_PARAM_BEFORE, which is the last one. */
const SQL_TYPE_PARAM_TAIL = /^[\s\d,]*$/;

function isMeaningfulNumber(text: string, start: number, end: number): boolean {
  const sign = text.charCodeAt(start);
  const digits = text.slice(sign === 45 || sign === 43 ? start + 1 : start, end); // without a leading - or +
  const before = windowBefore(text, start);
  // ERROR_WORD_BEFORE and TUPLE_CODE_BEFORE match at most 7 and 2 characters, none of them at ^.
  if ((mayEndWithCodeWord(before) && CODE_BEFORE.test(before)) || ERROR_WORD_BEFORE.test(before.slice(-7))) {
    return true;
  }
  // The tests below are alternatives, so their order is free: those that need the window after share it.
  const tuple = TUPLE_CODE_BEFORE.test(before.slice(-2));
  if (tuple || /^\d{3,6}$/.test(digits)) {
    const after = windowAfter(text, end);
    if (/^[1-5]\d\d$/.test(digits) && HTTP_REASON_AFTER.test(after)) return true;
    if (/^\d{4,6}$/.test(digits) && SQLSTATE_IN_PARENS_AFTER.test(after)) return true;
    if (/^\d{5}$/.test(digits) && VENDOR_CODE_BEFORE_PARENS.test(before) && after.startsWith(")"))
      return true;
    if (tuple && TUPLE_CODE_AFTER.test(after)) return true;
  }
  const paren = before.lastIndexOf("(");
  if (paren >= 0 && SQL_TYPE_PARAM_TAIL.test(before.slice(paren + 1)) && SQL_TYPE_PARAM_BEFORE.test(before)) {
    return true;
  }
  return WELL_KNOWN_PORTS.has(digits) && isPortPosition(text, start, true);
}

/**
 * Would the number rule see the digit run [start, end) as free-standing? Rules that only act on digits
 * embedded in identifiers (yyyymmdd, epochs) defer to the number rule otherwise, so that a bare
 * 8- or 10-digit count still becomes <num> like any other count.
 */
function isFreeStanding(text: string, start: number, end: number): boolean {
  const prev = text.charAt(start - 1);
  const next = text.charAt(end);
  if (
    /[\w.]/.test(prev) ||
    (prev === ">" && /<[a-z_]+>$/i.test(text.slice(Math.max(0, start - 32), start)))
  ) {
    return false;
  }
  if ((prev === "-" || prev === "+") && /[\w.>+-]/.test(text.charAt(start - 2))) return false;
  if (/\w/.test(next)) return false;
  return !(next === "." && /\d/.test(text.charAt(end + 1)));
}

function isPodName(name: string): boolean {
  const segments = name.split("-");
  if (segments.length < 3) return false;
  const last = segments[segments.length - 1] ?? "";
  const prev = segments[segments.length - 2] ?? "";
  // Kubernetes generated suffixes use a vowel-free alphabet (no 0, 1, 3 either), so words rarely fit it.
  const generated = (s: string, min: number, max: number) =>
    s.length >= min && s.length <= max && /^[bcdfghjklmnpqrstvwxz2456789]+$/i.test(s);
  const mixed = (s: string) => s.length >= 4 && s.length <= 10 && /\d/.test(s) && /[a-z]/i.test(s);
  const lastOk = generated(last, 5, 5) || mixed(last);
  const prevOk = generated(prev, 6, 10) || /^\d{6,12}$/.test(prev) || mixed(prev);
  return lastOk && prevOk;
}

// ---------------------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------------------

/** A quoted string; group `n` captures the quote character. */
const quoted = (n: number) => `(["'])(?:(?!\\${n})[^\\\\]|\\\\[\\s\\S])*\\${n}`;

const VALUE_CONTEXTS = [
  // value 'x', Numeric value 'abc', input_value='x', "value": "x" (a separator is required, so the quote
  // closing "value" itself never opens a data value)
  String.raw`\b(?:\w+_)?values?(?:["']?\s*[:=]\s*|\s+)`,
  String.raw`\bkey\s*[:=]\s*`, // key='x' (but not MySQL "for key 'PRIMARY'", which names an index)
  String.raw`\bduplicate\s+entry\s*`, // MySQL: Duplicate entry '42' for key 'PRIMARY'
  String.raw`\binvalid\s+input\s+syntax\s+for\s+\w+(?:\s+\w+){0,4}:\s*`, // Postgres: ... for type integer: "abc"
  String.raw`\binvalid\s+input\s+value\s+for\s+enum\s+[\w.]+:\s*`,
  String.raw`\bcould\s+not\s+convert\s+string\s+to\s+\w+:\s*`, // Python float('abc')
  String.raw`\binvalid\s+literal\s+for\s+\w+\(\)\s+with\s+base\s+(?:\d+|<num>):\s*`, // Python int('abc')
  String.raw`\bfor\s+input\s+string:\s*`, // Java NumberFormatException
  String.raw`\bunparseable\s+\w+:\s*`, // Java ParseException
  String.raw`\b(?:cannot|can't|could\s+not|failed\s+to|unable\s+to)\s+(?:parse|convert|cast)\s*`,
  String.raw`\bunexpected\s+(?:token|character|char)\s*(?::\s*)?`,
];

const PAREN_BODY = String.raw`(?:[^()]|\([^()]*\))+`;

const quotedValue: Rule = {
  name: "quoted_value",
  description:
    "Quoted data values in known data contexts -> '<value>': value 'x', Duplicate entry 'x', invalid input syntax " +
    'for type integer: "x", For input string: "x", \'x\' is not recognized, Key (col)=(x), Failing row contains ' +
    "(x), values: [x]. Quoted identifiers (relation, column, constraint, key 'PRIMARY') are left alone.",
  // Each form starts at a quote or right after "(" / "[": one check rejects every other position.
  pattern: rx(
    `(?:(?=["'])|(?<=[([]))` +
      join([
        `(?=["'])${join(VALUE_CONTEXTS.map((c) => `(?<=${c})`))}${quoted(1)}`,
        String.raw`(?=["'])(?<![\\\w])${quoted(2)}(?=\s+is\s+not\s+recognized)`, // Snowflake: Date '2024-13-45' is not recognized
        String.raw`(?<=\()(?<=\bkey\s*\([^()]*\)\s*=\s*\()${PAREN_BODY}(?=\))`, // Postgres: Key (id)=(42) already exists
        String.raw`(?<=\()(?<=\bfailing\s+row\s+contains\s*\()${PAREN_BODY}(?=\))`, // Postgres not-null / check violations
        String.raw`(?<=\[)(?<=\b(?:row\s+)?values\s*[:=]\s*\[|\b(?:partial_)?unexpected_(?:list|values|counts|index_list)["']?\s*[:=]\s*\[)[^[\]]+(?=\])`,
      ]),
  ),
  replace: (m) => {
    const quote = m[1] ?? m[2];
    return quote === undefined ? "<value>" : `${quote}<value>${quote}`;
  },
  // Every branch needs one of its context words (\w+_values? contains "value").
  guard: /value|key|entry|input|convert|literal|unparseable|parse|cast|unexpected|recognized|failing/i,
  needs: OPENER,
};

const PATH_CHAR = String.raw`[^\s'"\x60,;()[\]{}<>|]`;
const PATH_END = String.raw`[^\s'"\x60,;()[\]{}<>|.:]`;

const tempPath: Rule = {
  name: "temp_path",
  description:
    "Temporary paths (/tmp/..., /var/tmp/..., /var/folders/..., /dev/shm/..., C:\\...\\AppData\\Local\\Temp\\...) -> <path>",
  pattern: rx(
    join([
      String.raw`(?=/)${NOT_AFTER_PLACEHOLDER}(?<![\w.~-]|[\w.~-]/)(?:/private)?(?:/var/folders|/var/tmp|/tmp|/dev/shm)(?![\w.-])(?:/${PATH_CHAR}*${PATH_END})?`,
      String.raw`(?=[a-z])(?<![\w.])[a-z]:\\(?:users\\[^\\\s]+\\appdata\\local\\temp|windows\\temp)(?![\w.-])(?:\\${PATH_CHAR}*${PATH_END})?`,
    ]),
  ),
  replace: "<path>",
  guard: /\/(?:tmp|var\/folders|dev\/shm)|\\temp/i,
  needs: SLASH,
};

const airflowRunId: Rule = {
  name: "airflow_run_id",
  description:
    "Airflow run ids: scheduled__, manual__, backfill__, dataset_triggered__, asset_triggered__ with any suffix -> <run_id>",
  // Airflow run ids may only contain [A-Za-z0-9_.~:+-] (plus % when URL-encoded), so a path or quote ends them.
  pattern: rx(
    String.raw`(?=[smbda])${NOT_AFTER_PLACEHOLDER}(?<![\w-])(?:scheduled|manual|backfill|dataset_triggered|asset_triggered)__(?:[\w.~:+%-]*[\w~+%-])?`,
  ),
  replace: "<run_id>",
  guard: /(?:scheduled|manual|backfill|triggered)__/i,
};

const uuid: Rule = {
  name: "uuid",
  description: "UUIDs (8-4-4-4-12 hex, any case) -> <uuid>",
  pattern: rx(
    `[0-9a-f]${notAfterPlaceholderThen("[0-9a-f]")}(?<![0-9a-z][0-9a-f])[0-9a-f]{7}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])`,
  ),
  replace: "<uuid>",
  guard: /-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-/i,
  needs: DASH,
};

const email: Rule = {
  name: "email",
  description: "E-mail addresses -> <email>",
  pattern: rx(
    String.raw`[\w.+%-]${notAfterPlaceholderThen(String.raw`[\w.+%-]`)}(?<![\w.+%-][\w.+%-])[\w.+%-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-])`,
  ),
  replace: "<email>",
  guard: /@/,
};

const timestamp: Rule = {
  name: "timestamp",
  description:
    "Dates with a time of day -> <ts>: ISO 8601 with T or space, fractions, Z/offsets/zone names ([2024-01-02 " +
    "03:04:05,123], 2024-01-02T03:04:05.123+00:00); basic ISO 20240102T030405Z; 2024-01-02_03-04-05; RFC 2822; " +
    "Java Date.toString(); syslog; Apache CLF; and a bare time of day 03:04:05",
  // Every form starts with a digit, a weekday or a month: the first look-ahead rejects other positions at once.
  pattern: rx(
    `(?=${FIRST_OF_DATE})${join([
      String.raw`(?<!\d)(?:${DATE_YMD}|${DATE_DMY})(?:t|_|\s+)${TIME_HM}${AMPM}${OPT_TZ}(?!\d)`,
      String.raw`(?<!\d)${DATE_YMD}[t_]${HH2}[-.]${MIN}[-.]${SEC}(?!\d)`,
      String.raw`(?<!\d)${YEAR}${MM}${DD}(?:t${HH2}${MIN}${SEC}?|_${HH2}${MIN}${SEC})${FRAC}(?:z(?![a-z])|[+-]${HH2}(?::?${MIN})?)?(?!\d)`,
      String.raw`${OPT_WEEKDAY}(?<!\d)${D1}\s+${MONTH}\.?\s+${YEAR}\s+${TIME_HM}${AMPM}${OPT_TZ}(?!\d)`,
      String.raw`${WEEKDAY}\s+${MONTH}\s+${D1}\s+${TIME_HMS}(?:\s+[a-z]{2,5})?\s+${YEAR}(?!\d)`,
      String.raw`${OPT_WEEKDAY}${MONTH}\.?\s+${D1}${ORDINAL},?\s+(?:${YEAR},?\s+)?${TIME_HMS}${AMPM}${OPT_TZ}(?!\d)`,
      String.raw`(?<!\d)${D1}/${MONTH}/${YEAR}:${TIME_HMS}(?:\s*[+-]\d{4})?(?!\d)`,
      String.raw`(?=\d)${NOT_AFTER_PLACEHOLDER}(?<![\w.:])${TIME_HMS}${AMPM}${OPT_TZ}(?![\d:])`,
    ])}`,
  ),
  replace: "<ts>",
  // Every form has a time of day (digit, colon, minutes) or a digit, t/_ and an hour.
  guard: /\d:[0-5]\d|\d[t_][012]\d/i,
  needs: DIGIT,
};

const date: Rule = {
  name: "date",
  description:
    "Calendar dates -> <date>: 2024-01-02, 2024/01/02 (also inside object paths), 02/01/2024, 02.01.2024, " +
    "2 Jan 2024, Jan 2, 2024, 02-JAN-24 (anywhere, also glued to identifiers: dt=2024-01-02, v2024-01-02)",
  pattern: rx(
    `(?=${FIRST_OF_DATE})${join([
      String.raw`(?<!\d)${DATE_YMD}(?!\d)`,
      String.raw`(?<!\d)${DATE_DMY}(?!\d)`,
      String.raw`${OPT_WEEKDAY}(?<!\d)${D1}${ORDINAL}[-\s]+${MONTH}\.?(?:[-\s]+|,\s*)${YEAR}(?!\d)`,
      String.raw`(?<!\d)${D1}-${MONTH}-\d\d(?!\d)`,
      String.raw`${OPT_WEEKDAY}${MONTH}\.?\s+${D1}${ORDINAL},?\s+${YEAR}(?!\d)`,
    ])}`,
  ),
  replace: "<date>",
  // Every form has a four-digit year except 02-JAN-24.
  guard: /(?:19|20)\d\d|\d-[a-z]/i,
  needs: DIGIT,
};

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;

const ip: Rule = {
  name: "ip",
  description:
    "IPv4 (optionally /cidr), IPv6 (full or :: compressed, with a digit) and ip-10-0-0-5 host names -> <ip>",
  pattern: rx(
    join([
      String.raw`(?=\d)${NOT_AFTER_PLACEHOLDER}(?<![\w.])${OCTET}(?:\.${OCTET}){3}(?:/\d{1,2})?(?![\w]|\.\d)`,
      String.raw`(?=i)${NOT_AFTER_PLACEHOLDER}(?<![\w.-])ip-${OCTET}(?:-${OCTET}){3}(?![\w-])`,
      // IPv6 candidates are validated in code: the regex alone would also accept "12:34".
      String.raw`(?=[0-9a-f:])${NOT_AFTER_PLACEHOLDER}(?<![\w:.])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:]|\.\d)`,
    ]),
  ),
  replace: (m) => {
    const s = m[0];
    if (!s.includes(":")) return "<ip>";
    const groups = s.split(":").length;
    const compressed = s.split("::").length - 1;
    const valid =
      compressed === 1
        ? groups <= 9
        : compressed === 0 && groups === 8 && !s.startsWith(":") && !s.endsWith(":");
    return valid && /\d/.test(s) && !s.includes(":::") ? "<ip>" : s;
  },
  // IPv4 (octets of 1-3 digits), ip-1-2-3-4, or IPv6 (at least two colons).
  guard: /\d\.\d{1,3}\.\d|ip-\d|:[0-9a-f]{0,4}:/i,
  needs: DIGIT,
};

const hostPort: Rule = {
  name: "host_port",
  description:
    "Port after a host (db.internal:54321, <ip>:40022, localhost:, user@host:, //host:) or after 'port' -> <port>, " +
    `unless it is a well-known service port (${[...WELL_KNOWN_PORTS].join(", ")}), which is kept`,
  pattern: rx(String.raw`\d(?<=:\d)\d{0,4}(?!\w|[:.]\d)|\d(?<=\bport\s*(?:[:=]\s*)?\d)\d{0,4}(?!\w|\.\d)`),
  replace: (m, text) => {
    const port = m[0];
    if (WELL_KNOWN_PORTS.has(port) || !isPortPosition(text, m.index, false)) return port;
    return "<port>";
  },
  guard: /:\d|port/i,
  needs: DIGIT,
};

const pod: Rule = {
  name: "pod",
  description:
    "Kubernetes pod names -> <pod>: any hyphenated name after 'pod'/'pods'/'pod_name' that has a digit or 3+ " +
    "segments (pod airflow-worker-0), and names ending in two generated segments anywhere " +
    "(my-dag-task-7f9c8d6b5-x2k9p, etl-job-28457340-x7kq2, etl-run-abc12-xyz9)",
  pattern: rx(
    join([
      String.raw`[a-z0-9](?<=[\s/:="'][a-z0-9])(?<=\bpod(?:s|[_ ]?name)?(?:\s+|\s*[/:=]\s*)["']?(?:[a-z0-9-]+/)?[a-z0-9])(?:[a-z0-9.-]*[a-z0-9])?`,
      String.raw`[a-z]${notAfterPlaceholderThen("[a-z]")}(?<![\w.-][a-z])[a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])`,
    ]),
  ),
  replace: (m, text) => {
    const name = m[0];
    if (isPodName(name)) return "<pod>";
    // Context form: the look-behind only holds when a pod word precedes the name.
    const inContext = /\bpod(?:s|[_ ]?name)?(?:\s+|\s*[/:=]\s*)["']?(?:[a-z0-9-]+\/)?$/i.test(
      text.slice(Math.max(0, m.index - WINDOW), m.index),
    );
    if (inContext && name.includes("-") && (/\d/.test(name) || name.split("-").length >= 3)) return "<pod>";
    return name;
  },
  // A change needs the pod context word, or a name of 3+ segments (two hyphens).
  guard: /pod|-[a-z0-9]+-/i,
  needs: DASH,
};

const hex: Rule = {
  name: "hex",
  description:
    "Hex ids and hashes -> <hex>: 0x7f3a..., runs of 7+ hex chars with at least one digit and one letter " +
    "(so words like 'facade', 'added', 'deadbeef' stay), and any 32/40/64-char hex run",
  pattern: rx(
    `[0-9a-f]${notAfterPlaceholderThen("[0-9a-f]")}(?<![0-9a-z][0-9a-f])(?:(?<=0)x[0-9a-f]+|[0-9a-f]{6,})(?![0-9a-z])`,
  ),
  replace: (m) => {
    const s = m[0];
    if (/^0x/i.test(s)) return "<hex>";
    if (s.length === 32 || s.length === 40 || s.length === 64) return "<hex>";
    return /\d/.test(s) && /[a-f]/i.test(s) ? "<hex>" : s;
  },
  // 0x, a digit next to a hex letter (7+ hex characters with both), or a 32/40/64-letter run.
  guard: /0x|\d[a-f]|[a-f]\d|[a-f]{32}/i,
};

const embeddedDate: Rule = {
  name: "embedded_date",
  description:
    "yyyymmdd (optionally followed by hhmm[ss]) glued to an identifier -> <date> / <ts> (sales_20240102 -> " +
    "sales_<date>, export_20240102.csv -> export_<date>.csv); a free-standing 8-digit number is left to the number rule",
  pattern: rx(String.raw`(?=[12])(?<!\d)${YEAR}${MM}${DD}(?:${HH2}${MIN}(?:${SEC})?)?(?!\d)`),
  replace: (m, text) => {
    if (isFreeStanding(text, m.index, m.index + m[0].length)) return m[0];
    return m[0].length > 8 ? "<ts>" : "<date>";
  },
  guard: /(?:19|20)\d{6}/,
  needs: DIGIT,
};

const embeddedEpoch: Rule = {
  name: "embedded_epoch",
  description:
    "Epoch seconds/ms/us/ns (10/13/16/19 digits starting with 1) glued to an identifier -> <ts> " +
    "(application_1704164645123_0042); a free-standing one is a number like any other -> <num>",
  pattern: rx(String.raw`(?=1)(?<!\d)1\d{9}(?:\d{3}){0,3}(?!\d)`),
  replace: (m, text) => (isFreeStanding(text, m.index, m.index + m[0].length) ? m[0] : "<ts>"),
  guard: /1\d{9}/,
  needs: DIGIT,
};

const DUR_NUM = String.raw`(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?`;
const DUR_WORD =
  "(?:nanoseconds?|nanos?|microseconds?|micros?|milliseconds?|millis|msecs?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)";
const DUR_SHORT = "(?:ns|us|µs|ms|s|m|h|d)";
const DUR_PART = String.raw`${DUR_NUM}(?:\s*${DUR_WORD}|${DUR_SHORT})`;

const duration: Rule = {
  name: "duration",
  description:
    "Durations -> <duration>: 12.5s, 300ms, 5 minutes, 3,600 seconds, 1h30m, 1h 30m 5s, ISO 8601 PT5M / P1D " +
    "(single-letter units must be attached to the number)",
  pattern: rx(
    join([
      // DUR_PART with its first digit taken first (DUR_NUM minus one leading digit).
      String.raw`\d${notAfterPlaceholderThen(String.raw`\d`)}(?<![\w.]\d)(?:\d{0,2}(?:,\d{3})+|\d*)(?:\.\d+)?(?:\s*${DUR_WORD}|${DUR_SHORT})(?:\s*${DUR_PART})*(?!\w)`,
      String.raw`p(?<!\wp)(?:\d+[ymwd])+(?:t(?:\d+(?:\.\d+)?[hms])+)?(?!\w)`,
      String.raw`p(?<!\wp)t(?:\d+(?:\.\d+)?[hms])+(?!\w)`,
    ]),
  ),
  replace: "<duration>",
  // A number then (after optional white space) the first letter of a unit, or P1D / PT5M.
  guard: /\d\s*[dhmnsuwµ]|pt?\d/i,
  needs: DIGIT,
};

const sequence: Rule = {
  name: "sequence",
  description:
    "Sequence numbers glued to part/chunk/shard/batch/segment/split/page/attempt/try/worker/executor/replica/" +
    "partition -> <num> (part-00001.parquet, airflow-worker-3)",
  pattern: rx(
    String.raw`(?=\d)(?<=(?<![a-z0-9])(?:part|chunk|shard|batch|segment|split|page|attempt|try|worker|executor|replica|partition)(?:-[a-z])?[-_])\d+(?!\w)`,
  ),
  replace: "<num>",
  guard:
    /(?:part|chunk|shard|batch|segment|split|page|attempt|try|worker|executor|replica|partition)(?:-[a-z])?[-_]\d/i,
  needs: DIGIT,
};

const NUM_CORE = String.raw`(?:\d+(?:-\d+)+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?)`;
/** NUM_CORE once its first digit has been consumed. */
const NUM_CORE_AFTER_DIGIT = String.raw`(?:\d*(?:-\d+)+|\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?(?:e[-+]?\d+)?)`;
const SIZE_UNIT = "(?:[kmgtpe]i?b|[kmgtpe]i|[kmgtpb]|bytes?)"; // 10GB, 2Gi, 512MiB, 10k, 10G, 64b, 100 bytes

const num: Rule = {
  name: "number",
  description:
    "Any other free-standing number -> <num>, whatever its magnitude: 88, 1,523, -5, 12.5, 1e-3, 10-20, 10GB, " +
    "1704164645. Kept: HTTP statuses (HTTP 503, status=429, 503 Service Unavailable), SQLSTATE/pgcode, vendor " +
    "codes (ERROR 1045 (28000), 002003 (42S02), (1213, '...')), errno, exit codes, signals, well-known ports, " +
    "SQL type sizes (varchar(50)), and digits inside identifiers (sales_2024, orders_v2, utf-8, int64, python3.11)",
  pattern: rx(
    String.raw`(?:[-+](?<![\w.>+-][-+])${NUM_CORE}|\d(?<![\w.+-]\d)${notAfterPlaceholderThen(String.raw`\d`)}${NUM_CORE_AFTER_DIGIT})(?=${SIZE_UNIT}?(?!\w|\.\d))`,
  ),
  replace: (m, text) => (isMeaningfulNumber(text, m.index, m.index + m[0].length) ? m[0] : "<num>"),
  needs: DIGIT,
};

const lowercase: Rule = {
  name: "lowercase",
  description: "Lower-case everything (locale-independent)",
  pattern: /\S+/g,
  replace: (m) => m[0].toLowerCase(),
};

const whitespace: Rule = {
  name: "whitespace",
  description: "Collapse every whitespace run (spaces, tabs, newlines, NBSP...) to one space and trim",
  pattern: /\s+/g,
  replace: (m, text) => (m.index === 0 || m.index + m[0].length === text.length ? "" : " "),
};

const RULES: readonly Rule[] = [
  quotedValue,
  tempPath,
  airflowRunId,
  uuid,
  email,
  timestamp,
  date,
  ip,
  hostPort,
  pod,
  hex,
  embeddedDate,
  embeddedEpoch,
  duration,
  sequence,
  num,
  lowercase,
  whitespace,
];

const TRUNCATE = {
  name: "truncate",
  description:
    `Keep only the first ${MAX_MESSAGE_LENGTH} characters (before any other rule; if ` +
    "placeholders make the result longer, it is cut again and re-normalised)",
};

export const NORMALIZATION_RULES: readonly { name: string; description: string }[] = Object.freeze(
  [TRUNCATE, ...RULES].map(({ name, description }) => Object.freeze({ name, description })),
);

// ---------------------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------------------

function applyRule(rule: Rule, text: string, hits: NormalizationRuleHit[] | undefined): string {
  if (rule.needs !== undefined && !passHas(rule.needs)) return text;
  if (rule.guard !== undefined && !rule.guard.test(text)) return text;
  const { pattern, replace } = rule;
  let out = "";
  let last = 0;
  let matches: string[] | undefined;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const found = m[0];
    if (found.length === 0) pattern.lastIndex++;
    const replacement = typeof replace === "string" ? replace : replace(m, text);
    if (replacement === found) continue;
    out += text.slice(last, m.index) + replacement;
    last = m.index + found.length;
    if (matches === undefined) matches = [found];
    else matches.push(found);
  }
  pattern.lastIndex = 0;
  if (matches === undefined) return text;
  hits?.push({ rule: rule.name, matches });
  return out + text.slice(last);
}

/** The rules before lower-casing and whitespace collapse, which the fast path does without a regex scan. */
const PATTERN_RULES: readonly Rule[] = RULES.slice(0, -2);
/** U+FEFF is white space to \s but case-ignorable to lower-casing (Final_Sigma context): see lowerCase. */
const BOM = "\ufeff";
const WHITESPACE_RUN = /\s+/g;

/**
 * Same result as the lowercase rule: lower-casing the whole text equals lower-casing each \S+ run, because
 * no white-space character except U+FEFF is cased or case-ignorable, so none takes part in the only
 * context-dependent mapping (Final_Sigma).
 */
function lowerCase(text: string): string {
  return text.includes(BOM) ? applyRule(lowercase, text, undefined) : text.toLowerCase();
}

/** Same result as the whitespace rule (String.prototype.trim strips exactly the \s set). */
function collapseWhitespace(text: string): string {
  return (COLLAPSIBLE.test(text) ? text.replace(WHITESPACE_RUN, " ") : text).trim();
}

function applyRules(text: string, hits: NormalizationRuleHit[] | undefined): string {
  let out = text;
  startPass(text);
  if (hits !== undefined) {
    for (const rule of RULES) out = applyRule(rule, out, hits);
    return out;
  }
  for (const rule of PATTERN_RULES) out = applyRule(rule, out, undefined);
  return collapseWhitespace(lowerCase(out));
}

/** Cut at `limit` without splitting a surrogate pair. */
function truncate(text: string, limit: number, hits: NormalizationRuleHit[] | undefined): string {
  if (text.length <= limit) return text;
  const code = text.charCodeAt(limit - 1);
  const cut = code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
  hits?.push({ rule: TRUNCATE.name, matches: [text.slice(cut)] });
  return text.slice(0, cut);
}

/** Room left for the boundary token to be re-normalised after a cut ("5" -> "<num>"). */
const TRUNCATE_SLACK = 64;
const MAX_PASSES = 5;
const SPECIAL_CASE = /[\u212a\u0130]/;

function normalize(message: string | null | undefined, hits: NormalizationRuleHit[] | undefined): string {
  // The only two characters whose lower-case form is ASCII (KELVIN SIGN -> k, DOTTED CAPITAL I -> i + dot):
  // fold them first, or lower-casing could create matches the rules did not see.
  let out = truncate(message ?? "", MAX_MESSAGE_LENGTH, hits);
  if (SPECIAL_CASE.test(out)) out = out.replace(/\u212a/g, "K").replace(/\u0130/g, "I");
  // Run the rules to a fixed point, which is what makes normalisation idempotent by construction: a later
  // rule can create a neighbourhood an earlier rule reacts to ("03:04:05scheduled__" only becomes a run id
  // once the time is "<ts>"). Realistic messages settle in one pass; the second pass just confirms it.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let next = applyRules(out, hits);
    // Placeholders can be longer than what they replace ("1" -> "<num>"): cut again, with slack.
    if (next.length > MAX_MESSAGE_LENGTH) next = truncate(next, MAX_MESSAGE_LENGTH - TRUNCATE_SLACK, hits);
    if (next === out) {
      if (pass > 0) rememberFixedPoint(out);
      break;
    }
    out = next;
    // A pass over a known fixed point changes nothing (a pass depends on its input only): skip it.
    if (hits === undefined && FIXED_POINTS.has(out)) break;
  }
  return out;
}

/**
 * Outputs already confirmed to be fixed points. Messages that differ only in their volatile parts share
 * their normalised form, so the confirming pass mostly runs once per form, not once per message. Bounded,
 * oldest first out.
 */
const FIXED_POINTS = new Set<string>();
const MAX_FIXED_POINTS = 5_000;
/** Longer outputs are not remembered (bounds the memory held to about MAX_FIXED_POINTS kB). */
const MAX_FIXED_POINT_LENGTH = 1_000;

function rememberFixedPoint(text: string): void {
  if (text.length > MAX_FIXED_POINT_LENGTH) return;
  if (FIXED_POINTS.size >= MAX_FIXED_POINTS) {
    const oldest = FIXED_POINTS.values().next();
    if (oldest.done !== true) FIXED_POINTS.delete(oldest.value);
  }
  FIXED_POINTS.add(text);
}

/** Normalise an error message for grouping. null/undefined behave like "". */
export function normalizeErrorMessage(message: string | null | undefined): string {
  return normalize(message, undefined);
}

/** Same as normalizeErrorMessage, plus which rules fired and what they matched (for --explain). */
export function explainNormalization(message: string | null | undefined): NormalizationExplanation {
  const rules: NormalizationRuleHit[] = [];
  const normalized = normalize(message, rules);
  return { version: FINGERPRINT_VERSION, input: message ?? "", normalized, rules };
}
