#!/usr/bin/env bash
# The Python package and the Spark job: build the wheel with maturin, install it with pyarrow,
# pandas, pyspark and pytest, then run the package's tests (crates/svchunt-py/tests), which
# compare svchunt.hunt and the Spark job in local[2] mode with the svchunt command.
# Any failure stops the script with a non-zero exit; with CI set, a test that cannot run
# (no Java, no binary) fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
pip() { "$python" -m pip install --quiet --disable-pip-version-check "$@"; }

pip "maturin>=1.7,<2" "pyarrow>=14" pandas "pyspark>=4.0" pytest

# Spark runs on Java 17 or later (Debian's openjdk).
if ! command -v java >/dev/null; then
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

# Parquet output is not a default feature (it nearly doubles the first build of the command):
# lint and test it here, where it is built anyway for the comparisons below.
cargo clippy --quiet -p svchunt --all-targets --features parquet -- -D warnings
cargo test --quiet -p svchunt --features parquet --test cli events_output::

# The command and the generator the tests compare against (the dev profile optimises
# dependencies, so debug binaries hunt the 20-host scenario in seconds).
cargo build --quiet --bin svchunt -p svchunt --features parquet
cargo build --quiet --bin svchunt-gen -p evtx-writer
export SVCHUNT_BIN="$target/debug/svchunt"
export SVCHUNT_GEN="$target/debug/svchunt-gen"

wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
# A debug wheel: it reuses target/debug's dependencies, where a release wheel rebuilt them all
# (about 4 minutes of a cold CI run); the tests' inputs are small, so they run about as fast.
(cd crates/svchunt-py && "$python" -m maturin build --quiet --out "$wheels")
pip --force-reinstall --no-deps "$wheels"/svchunt-*.whl

# pytest exits 5 when it collected no test: a failure here, not a pass.
"$python" -m pytest -q crates/svchunt-py/tests
