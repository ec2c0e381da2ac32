#!/usr/bin/env bash
# Fails when a `*.rs` file under a crate's `tests/` directory is compiled by
# no test target: a file that no test crate reaches through `mod` is never
# built, so its tests silently never run.
#
# Test crates (cargo's targets): `tests/*.rs`, `tests/<dir>/main.rs` (unless
# the crate sets `autotests = false`), and every `[[test]]` of the crate's
# Cargo.toml (its `path`, else `tests/<name>.rs` or `tests/<name>/main.rs`).
# From each, `mod x;` is followed as rustc does: from a crate root, `main.rs`
# or `mod.rs` to `x.rs` or `x/mod.rs` beside it, from any other `f.rs` to
# `f/x.rs` or `f/x/mod.rs`, and `#[path = "p"] mod x;` to `p` beside the
# declaring file. `mod` declarations inside inline `mod x { ... }` blocks are
# followed as if they were at the top of the file (such a file would be
# reported, not missed).
#
# Usage: deploy/local/check-tests-compiled.sh   (exit 1 naming each orphan)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# `path|name` per `mod name;` declared in file $1; path is the value of a
# `#[path = "..."]` attribute on it, or empty.
mods_of() {
  awk '
    {
      line = $0
      sub(/\/\/.*/, "", line)
      # Attributes, on lines of their own or before the item on its line.
      while (match(line, /^[ \t]*#!?\[[^]]*\][ \t]*/)) {
        attr = substr(line, RSTART, RLENGTH)
        if (match(attr, /^[ \t]*#\[[ \t]*path[ \t]*=[ \t]*"[^"]*"/)) {
          p = attr
          sub(/^[^"]*"/, "", p)
          sub(/".*/, "", p)
          path = p
        }
        line = substr(line, length(attr) + 1)
      }
      if (line ~ /^[ \t]*$/) next
      if (match(line, /^[ \t]*(pub(\([^)]*\))?[ \t]+)?mod[ \t]+(r#)?[A-Za-z_][A-Za-z0-9_]*[ \t]*;/)) {
        decl = substr(line, RSTART, RLENGTH)
        sub(/;.*/, "", decl)
        sub(/^.*mod[ \t]+(r#)?/, "", decl)
        gsub(/[ \t]/, "", decl)
        printf "%s|%s\n", path, decl
      }
      path = ""
    }
  ' "$1"
}

# `name|path` per `[[test]]` table of Cargo.toml $1 (either may be empty).
test_targets() {
  awk '
    function flush() { if (intest) printf "%s|%s\n", name, path; intest = 0; name = ""; path = "" }
    /^[ \t]*\[/ { flush(); if ($0 ~ /^[ \t]*\[\[[ \t]*test[ \t]*\]\]/) intest = 1; next }
    intest && /^[ \t]*name[ \t]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); name = v }
    intest && /^[ \t]*path[ \t]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); path = v }
    END { flush() }
  ' "$1"
}

# Per crate: its test crate roots, and the files reached from them.
declare -A root reached
orphans=0

while IFS= read -r manifest; do
  crate="$(dirname "$manifest")"
  crate="${crate#./}"
  [[ -d $crate/tests ]] || continue

  root=()
  reached=()
  queue=()
  add_root() {
    [[ -f $1 ]] || return 0
    local f
    f="$(realpath -m --relative-to="$ROOT" "$1")"
    root[$f]=1
    queue+=("$f")
  }
  if ! grep -Eq '^[[:space:]]*autotests[[:space:]]*=[[:space:]]*false' "$manifest"; then
    for f in "$crate"/tests/*.rs "$crate"/tests/*/main.rs; do add_root "$f"; done
  fi
  while IFS='|' read -r name path; do
    if [[ -n $path ]]; then
      add_root "$crate/$path"
    elif [[ -n $name ]]; then
      add_root "$crate/tests/$name.rs"
      add_root "$crate/tests/$name/main.rs"
    fi
  done < <(test_targets "$manifest")

  while ((${#queue[@]})); do
    file="${queue[0]}"
    queue=("${queue[@]:1}")
    [[ -z ${reached[$file]:-} ]] || continue
    reached[$file]=1
    dir="$(dirname "$file")"
    base="$(basename "$file" .rs)"
    # A crate root, `main.rs` or `mod.rs` declares the files beside it;
    # any other `f.rs` those under `f/`.
    if [[ -n ${root[$file]:-} || $base == main || $base == mod ]]; then
      child_dir="$dir"
    else
      child_dir="$dir/$base"
    fi
    while IFS='|' read -r path name; do
      if [[ -n $path ]]; then
        candidates=("$dir/$path")
      else
        candidates=("$child_dir/$name.rs" "$child_dir/$name/mod.rs")
      fi
      for c in "${candidates[@]}"; do
        if [[ -f $c ]]; then
          queue+=("$(realpath -m --relative-to="$ROOT" "$c")")
          break
        fi
      done
    done < <(mods_of "$file")
  done

  while IFS= read -r f; do
    f="${f#./}"
    if [[ -z ${reached[$f]:-} ]]; then
      echo "not compiled by any test target: $f (declare it with \`mod\` in a test crate)" >&2
      orphans=$((orphans + 1))
    fi
  done < <(find "$crate/tests" -name '*.rs' -type f | sort)
done < <(find . \( -name target -o -name node_modules -o -name '.*' ! -name . \) -prune -o -name Cargo.toml -type f -print | sort)

if ((orphans)); then
  echo "$orphans test file(s) never compiled" >&2
  exit 1
fi
echo "every test file is compiled"
