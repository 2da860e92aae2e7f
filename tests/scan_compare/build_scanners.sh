#!/usr/bin/env bash
# Builds, from their public sources at pinned commits, the four pickle scanners that
# tests/scan_compare/compare.py measures against `ckpt4j scan`, into ONE venv of their own
# (not the build's venv, not part of `mvn verify`):
#
#   picklescan  (mmaitre314/picklescan)   the scanner the Hugging Face hub runs
#   modelscan   (protectai/modelscan)
#   fickling    (trailofbits/fickling)    its `--check-safety` CLI
#   modelaudit  (promptfoo/modelaudit)    ModelAudit
#
# Usage:
#   tests/scan_compare/build_scanners.sh VENV_DIR            # git-fetches each pinned commit
#   tests/scan_compare/build_scanners.sh VENV_DIR SRC_DIR    # uses work trees already there:
#       SRC_DIR/{picklescan,modelscan,fickling,modelaudit}
#       SRC_DIR/deps/{boolean.py,license-expression,packageurl-python,serializable,yaspin,
#                     cyclonedx-python-lib}
#     (a missing one is fetched into SRC_DIR; an existing one is used as it is, so check it
#      is the pinned commit: a tree made with `git archive` has no .git to check).
#
# Why some dependencies are built from source too: modelaudit needs yaspin and
# cyclonedx-python-lib (and cyclonedx's packageurl-python, py-serializable, license-expression,
# boolean.py), which the build machines' pip index lacks; all are pure Python. Everything else
# (numpy, scipy, click, rich, pydantic, ...) comes from the configured pip index.
#
# Changes made to the sources before building (in a copy; SRC_DIR is not touched):
#   - modelscan: its build uses poetry-dynamic-versioning (not on the index) to stamp the version
#     from git; we stamp it by hand (0.8.6.post2+g8b8ed4b, what `git describe` says at the pinned
#     commit) and build with plain poetry-core. Its pin tomlkit<0.14 is relaxed to <0.16 (the index
#     has 0.15.1 only; modelscan reads its optional settings file with it, nothing else).
#   - modelaudit: installed with --no-deps, then its dependencies one by one; s3fs and gcsfs
#     (cloud-storage URLs only, imported lazily) are tried and skipped if the index lacks them.
# None of the changes touches scanning code.
#
# At the end VENV_DIR/SCANNERS.txt lists what was built (name, version, commit); compare.py
# prints it above its table.
set -euo pipefail
venv=${1:?usage: build_scanners.sh VENV_DIR [SRC_DIR]}
src=${2:-}
python=${PYTHON:-python3}

# name | clone URL | commit (HEAD of the snapshot fetched on 2026-12-06) | subdir in SRC_DIR
pins=(
  "picklescan|https://github.com/mmaitre314/picklescan|f15d54da3dec9aa28a87ede82f87882bb80f1023|picklescan"
  "modelscan|https://github.com/protectai/modelscan|8b8ed4bf78a863fcf3b664888dc7ff6ae22f5230|modelscan"
  "fickling|https://github.com/trailofbits/fickling|854c99acd2637f97162dd2e1aa2dab4e8d55d77d|fickling"
  "modelaudit|https://github.com/promptfoo/modelaudit|5ddfcdc34310d45a209872c7300585a3aa481971|modelaudit"
  "boolean.py|https://github.com/bastikr/boolean.py|8a443837e68dc027004294fb17fe1857cf783410|deps/boolean.py"
  "license-expression|https://github.com/aboutcode-org/license-expression|a3c00c09986bcca1240afd5b1844b56de3f581c1|deps/license-expression"
  "packageurl-python|https://github.com/package-url/packageurl-python|a13141e6215cf6e0233df109fbfaae6e1db55893|deps/packageurl-python"
  "py-serializable|https://github.com/madpah/serializable|ee2f6f504440ba0966012d04366430a8ae8f973a|deps/serializable"
  "yaspin|https://github.com/pavdmyt/yaspin|3ca61d2e28967e425c94e0718dc86c7ff453122c|deps/yaspin"
  "cyclonedx-python-lib|https://github.com/CycloneDX/cyclonedx-python-lib|52cb3c94f023df887ac65a6125bce4d63ab7857e|deps/cyclonedx-python-lib"
)

work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt4j-scanners.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -z "$src" ]; then src="$work/src"; fi
mkdir -p "$src/deps"

fetch() { # URL COMMIT DIR: a work tree of exactly COMMIT
  local url=$1 commit=$2 dir=$3
  git init -q "$dir"
  git -C "$dir" fetch -q --depth 1 "$url" "$commit"
  git -C "$dir" -c advice.detachedHead=false checkout -q FETCH_HEAD
}

pip_() { "$venv/bin/pip" --disable-pip-version-check "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }

echo "== venv $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
# Build back ends (from the index), then --no-build-isolation everywhere: no build needs the net.
pip_ install --retries 0 -q "setuptools==80.9.0" wheel hatchling poetry-core setuptools-scm

: > "$work/built.txt"
for pin in "${pins[@]}"; do
  IFS='|' read -r name url commit sub <<<"$pin"
  if [ ! -d "$src/$sub" ]; then
    echo "== fetching $name $commit"
    fetch "$url" "$commit" "$src/$sub"
  fi
  if [ -d "$src/$sub/.git" ]; then
    have=$(git -C "$src/$sub" rev-parse HEAD)
    [ "$have" = "$commit" ] || echo "!! $name: $src/$sub is at $have, not the pinned $commit" >&2
  else
    have="$commit (tree from SRC_DIR, unchecked)"
  fi
  rm -rf "$work/build/$sub"; mkdir -p "$work/build/$sub"
  (cd "$src/$sub" && tar --exclude=.git -cf - .) | tar -xf - -C "$work/build/$sub"
  echo "$name|$url|$have" >> "$work/built.txt"
done

b=$work/build
# modelscan: version by hand, no poetry-dynamic-versioning, tomlkit pin relaxed (see above).
sed -i 's/^version = "0.0.0"/version = "0.8.6.post2+g8b8ed4b"/;
        s/requires = \["poetry-core", "poetry-dynamic-versioning"\]/requires = ["poetry-core"]/;
        s/^tomlkit = ">=0.12.3,<0.14.0"/tomlkit = ">=0.12.3,<0.16.0"/' "$b/modelscan/pyproject.toml"
sed -i 's/__version__ = "0.0.0"/__version__ = "0.8.6.post2+g8b8ed4b"/' "$b/modelscan/modelscan/_version.py"

for sub in deps/boolean.py deps/license-expression deps/packageurl-python deps/serializable \
           deps/yaspin deps/cyclonedx-python-lib picklescan fickling modelscan; do
  echo "== building $sub"
  pip_ install --retries 0 -q --no-build-isolation "$b/$sub"
done

echo "== building modelaudit (--no-deps, then its dependencies)"
pip_ install --retries 0 -q --no-build-isolation --no-deps "$b/modelaudit"
pip_ install --retries 0 -q 'click>=8.1.7' 'numpy>=2.4,<2.5' 'scipy>=1.7.0' 'defusedxml>=0.7.1' \
  'huggingface-hub>=0.23.0' 'requests>=2.28.0' 'python-dotenv>=1.0.0' 'platformdirs>=3.0.0' \
  'pyyaml>=6.0,<7.0' 'pydantic>=2.11.0,<3.0' 'fsspec>=2025.5.1' 'posthog>=7.0.0' \
  'protobuf>=5.29.0' 'msgpack>=1.0.0,<2.0' 'safetensors>=0.4.0' 'dill>=0.3.0,<1.0'
for opt in 's3fs>=2025.5.1' 'gcsfs>=2025.5.1'; do
  pip_ install --retries 0 -q "$opt" || echo "-- skipped optional $opt (not on the index; cloud URLs only)"
done

echo "== checking the entry points"
"$venv/bin/picklescan" --help > /dev/null
"$venv/bin/modelscan" --version
"$venv/bin/fickling" --version
PROMPTFOO_DISABLE_TELEMETRY=1 NO_ANALYTICS=1 "$venv/bin/modelaudit" --version

{
  echo "# scanners built by tests/scan_compare/build_scanners.sh on $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')"
  while IFS='|' read -r name url have; do
    ver=$("$venv/bin/python" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name" 2>/dev/null || echo '?')
    echo "$name $ver $url @ $have"
  done < "$work/built.txt"
} > "$venv/SCANNERS.txt"
cat "$venv/SCANNERS.txt"
