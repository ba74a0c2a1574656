#!/usr/bin/env bash
# Image smoke test without a Docker engine: reproduces the Dockerfile's two stages in a clean temporary
# directory and runs the result the way the image's ENTRYPOINT does.
#
#   build stage:   the files the Dockerfile copies (from this checkout, as a build context would have them),
#                  `npm ci --ignore-scripts`, `npm run build`
#   runtime stage: package*.json only, `npm ci --omit=dev --ignore-scripts`, dist/ copied from the build stage,
#                  then `node dist/bin.js ...` from a directory it cannot write to (a read-only root
#                  filesystem), as an unprivileged user when run as root
#
# Checks: `list` prints every job in src/jobs/registry.ts; `run <job> --help` works for each; an unknown job
# exits 2; and, with OBSERVABILITY_DATA_DIR on a writable "volume", the embedded database migrates and a job
# runs end to end on production dependencies only. Any failure exits non-zero with the step that failed.
#
# Usage (from anywhere in the repository): bash scripts/image-smoke.sh
#   IMAGE_SMOKE_REF=HEAD   build a commit (git archive) instead of the work tree
#   KEEP=1                 keep the temporary directory
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/observability-image-smoke.XXXXXX")"
started=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf '\nimage-smoke: FAILED: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  local code=$?
  chmod -R u+w "$work" 2>/dev/null || true
  if [[ "${KEEP:-}" == 1 || $code -ne 0 ]]; then
    echo "image-smoke: work directory kept at $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

build="$work/build"
app="$work/app"
mkdir -p "$build" "$app" "$work/home" "$work/volume"
# The unprivileged user below must be able to reach the directories (mktemp makes them 0700).
chmod 755 "$work" "$work/home"

# What the Dockerfile COPYs into the build stage (keep in step with Dockerfile and .dockerignore).
build_inputs=(package.json package-lock.json tsconfig.json tsconfig.build.json scripts/copy-schema.mjs src)

cd "$repo"
if [[ -n "${IMAGE_SMOKE_REF:-}" ]]; then
  step "build context: the Dockerfile's inputs at commit $IMAGE_SMOKE_REF (git archive)"
  git archive --format=tar "$IMAGE_SMOKE_REF" -- "${build_inputs[@]}" | tar -xf - -C "$build"
else
  step "build context: the Dockerfile's inputs from the work tree $repo (tracked and untracked, not ignored)"
  # A docker build of this checkout sees the work tree minus .gitignore'd files (node_modules, dist, ...).
  git ls-files -z --cached --others --exclude-standard -- "${build_inputs[@]}" |
    while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done |
    tar --null -T - -cf - | tar -xf - -C "$build"
fi
find "$build" -path '*/src/*' -name '*.test.ts' -delete # .dockerignore: src/**/*.test.ts
echo "copied $(find "$build" -type f | wc -l) files: ${build_inputs[*]}"

step "build stage: npm ci --ignore-scripts"
cd "$build"
npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error

step "build stage: npm run build"
npm run build --silent
[[ -f dist/bin.js ]] || fail "the build produced no dist/bin.js"
[[ -d dist/db/schema ]] || fail "the build did not copy the SQL schema to dist/db/schema"

step "the registry's job ids (src/jobs/registry.ts, read with tsx from the build stage)"
mapfile -t jobs < <(node --import tsx -e \
  'const { JOBS } = await import("./src/jobs/registry.ts"); for (const j of JOBS) console.log(j.id);')
((${#jobs[@]} > 0)) || fail "no jobs found in src/jobs/registry.ts"
echo "${jobs[*]}"

step "runtime stage: package*.json, npm ci --omit=dev --ignore-scripts"
cp "$build/package.json" "$build/package-lock.json" "$app/"
cd "$app"
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error
for dev in typescript vitest @biomejs/biome tsx; do
  [[ ! -e "node_modules/$dev" ]] || fail "dev dependency $dev was installed in the runtime stage"
done

step "runtime stage: COPY --from=build dist/"
cp -R "$build/dist" "$app/dist"
echo "runtime tree: $(du -sh "$app" | cut -f1) ($(find "$app/node_modules" -maxdepth 1 -mindepth 1 | wc -l) top-level packages)"

# The container: the runtime tree read-only, a clean environment, the image's ENV, the ENTRYPOINT.
chmod -R a-w "$app"
as_user=()
if [[ "$(id -u)" == 0 ]]; then
  command -v setpriv >/dev/null || fail "running as root needs setpriv (util-linux) to drop to an unprivileged user"
  chown 65534:65534 "$work/volume"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
image() { # image [VAR=value ...] -- args...
  local env=(PATH="$PATH" HOME="$work/home" NODE_ENV=production OBSERVABILITY_DATA_DIR=/nonexistent/observability)
  while [[ $# -gt 0 && "$1" != -- ]]; do env+=("$1"); shift; done
  shift
  (cd "$app" && env -i "${env[@]}" "${as_user[@]}" node "$app/dist/bin.js" "$@")
}

step "image: list (must print every registered job)"
listing="$(image -- list)"
echo "$listing"
for id in "${jobs[@]}"; do
  grep -qE "^${id}[[:space:]]" <<<"$listing" || fail "\`list\` does not print job $id"
done
listed_json="$(image -- list --json)"
node -e 'const ids = JSON.parse(process.argv[1]).map((j) => j.id).sort().join(" ");
  const want = process.argv.slice(2).sort().join(" ");
  if (ids !== want) { console.error(`list --json gives [${ids}], the registry has [${want}]`); process.exit(1); }' \
  "$listed_json" "${jobs[@]}" || fail "list --json differs from the registry"

step "image: run <job> --help for every job (config loads with an empty environment)"
for id in "${jobs[@]}"; do
  image -- run "$id" --help >/dev/null || fail "\`run $id --help\` failed"
done
echo "ok: ${#jobs[@]} jobs"

step "image: run no_such_job exits 2 with the list of valid jobs"
if unknown_err="$(image -- run no_such_job 2>&1 >/dev/null)"; then unknown_code=0; else unknown_code=$?; fi
[[ $unknown_code == 2 ]] || fail "run no_such_job exited $unknown_code, expected 2"
echo "$unknown_err"

# ingest_inbox needs no source: it drains the (empty) inbox table and syncs Slack to the outbox file.
e2e_job=ingest_inbox
[[ " ${jobs[*]} " == *" $e2e_job "* ]] || fail "job $e2e_job is not in the registry; pick another job for this step"
step "image with a writable volume at OBSERVABILITY_DATA_DIR: db migrate --with-core, run $e2e_job (embedded PGlite)"
image OBSERVABILITY_DATA_DIR="$work/volume/data" -- db migrate --with-core >/dev/null
summary="$(image OBSERVABILITY_DATA_DIR="$work/volume/data" -- run "$e2e_job")"
echo "$summary"
node -e 'const s = JSON.parse(process.argv[1]); if (s.status !== "succeeded") process.exit(1);' "$summary" ||
  fail "run $e2e_job did not succeed on the production install"

step "done in $((SECONDS - started))s: the image's steps build, and its CLI runs on production dependencies only"
