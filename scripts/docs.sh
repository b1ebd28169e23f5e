#!/usr/bin/env bash
# The documentation site (mkdocs.yml, sources in docs/): `scripts/docs.sh` serves it at
# http://127.0.0.1:8000 and rebuilds it on every change; `scripts/docs.sh build` builds it into
# site/ with --strict (a broken link, reference or missing page fails). Extra arguments go to mkdocs.
# Needs the docs extra, which scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
MKDOCS=(.venv/bin/python -m mkdocs)
if ! .venv/bin/python -c "import mkdocs, mkdocstrings_handlers.python" >/dev/null 2>&1; then
  echo "docs: mkdocs is not installed in .venv; run scripts/setup.sh (or .venv/bin/pip install -e '.[docs]')" >&2
  exit 2
fi
export NO_MKDOCS_2_WARNING=1
if [ "${1:-serve}" = build ]; then
  shift || true
  exec "${MKDOCS[@]}" build --strict "$@"
fi
[ "${1:-}" = serve ] && shift
exec "${MKDOCS[@]}" serve "$@"
