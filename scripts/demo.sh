#!/usr/bin/env bash
# The seed workflow on the offline sandbox: real `daystrom ... --sandbox` commands, each printed before it runs
# so you can copy them one by one. Needs nothing but this checkout after `npm install`.
# State goes to DAYSTROM_DATA_DIR (default: a fresh folder under /tmp, so the demo never touches your own sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/daystrom-demo.XXXXXX")
export DAYSTROM_DATA_DIR="${DAYSTROM_DATA_DIR:-$work/data}"
export DAYSTROM_CONFIG_DIR="${DAYSTROM_CONFIG_DIR:-$work/config}"
export DAYSTROM_CACHE_DIR="${DAYSTROM_CACHE_DIR:-$work/cache}"

daystrom() {
  { printf '\n$ daystrom'; printf ' %q' "$@"; printf '\n'; } >&2
  node ./bin/run.js "$@"
}
json() { node ./bin/run.js "$@"; }   # the same command, quietly, for values the next step needs

daystrom model-security groups list --sandbox
daystrom model-security rules list --sandbox
daystrom model-security rules get "Stored In Approved File Format" --sandbox
daystrom model-security rule-instances list "Default LOCAL" --sandbox

echo '{"state": "BLOCKING"}' > "$work/update.json"
instance=$(json model-security rule-instances list "Default LOCAL" --rule "Stored In Approved File Format" --sandbox --json \
  | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].uuid)')
daystrom model-security rule-instances update "Default LOCAL" "$instance" --config "$work/update.json" --sandbox

cat > "$work/group.json" <<JSON
{"name": "demo-strict-local-$(date +%s)", "source_type": "LOCAL", "description": "Created by the daystrom demo"}
JSON
daystrom model-security groups create --config "$work/group.json" --sandbox
group=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).name)' "$work/group.json")

# A tiny "model": a config file, and a protocol-0 pickle that would call os.system when loaded.
# It is only ever parsed, never loaded: the scanner is static.
mkdir -p "$work/model"
echo '{"architectures": ["DemoModel"], "model_type": "demo"}' > "$work/model/config.json"
printf 'cos\nsystem\n(S%secho pwned%s\ntR.' "'" "'" > "$work/model/pytorch_model.bin"

set +e
daystrom model-security scans create --model-path "$work/model" --group "$group" -l env=demo --wait --interval 1s --sandbox
echo "(exit code $?: 8 means the gate blocked the model)" >&2
set -e
scan=$(json model-security scans list --sandbox --limit 1 --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].uuid)')

daystrom model-security scans list --sandbox
daystrom model-security scans evaluations "$scan" --sandbox
daystrom model-security scans violations "$scan" --sandbox
daystrom model-security scans files "$scan" --sandbox
daystrom model-security labels add "$scan" --labels '[{"key":"env","value":"prod"}]' --sandbox
daystrom model-security labels keys --sandbox

echo >&2
echo "Demo state is in $DAYSTROM_DATA_DIR (remove $work when done)." >&2
