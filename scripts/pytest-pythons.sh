#!/usr/bin/env bash
# Runs the codec, client and template tests (which need no Airflow) on every
# supported Python, each in its own venv `.venv-py<version>`:
#     scripts/pytest-pythons.sh "3.10 3.12 3.13" "<pip requirements>" <test files...>
# An interpreter is found as python<version> on PATH, or in pyenv's versions
# folder; PYTHON<major>_<minor> (e.g. PYTHON3_10=/opt/py/bin/python3.10) names it
# directly. A missing one is reported by name; with CI set, that fails the run.
set -euo pipefail
# The property tests run in full on the main interpreter (tests/examples.py).
export IW_EXAMPLES_SCALE="${IW_EXAMPLES_SCALE:-0.25}"
versions=$1 requirements=$2
shift 2
missing=()

find_python() {
    local version=$1 override candidate
    override="PYTHON${version/./_}"
    for candidate in "${!override:-}" "python$version" \
        $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V -r); do
        [ -n "$candidate" ] || continue
        # pyenv's shims exist for every installed version but fail unless it is selected.
        if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" \
            2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

for version in $versions; do
    if ! python=$(find_python "$version"); then
        echo "Python $version: not found (install it, e.g. 'pyenv install $version', or set PYTHON${version/./_}=/path/to/python$version)"
        missing+=("$version")
        continue
    fi
    venv=".venv-py$version"
    stamp="$venv/.installed-$(echo "$requirements" | cksum | cut -d' ' -f1)"
    if [ ! -e "$stamp" ]; then
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        # shellcheck disable=SC2086  # one requirement per word
        "$venv/bin/python" -m pip install --quiet $requirements
        touch "$stamp"
    fi
    echo "== Python $version ($("$venv/bin/python" -c 'import platform; print(platform.python_version())'))"
    "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "Not tested on Python ${missing[*]}: interpreter missing"
    if [ -n "${CI:-}" ]; then
        exit 1
    fi
fi
