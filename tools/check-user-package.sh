#!/usr/bin/env bash
# The "done when" of issue 15, checked: a new user's package that depends on this one by path builds and runs
# from the documentation alone. Creates a package in a temporary folder (or DIR) with one executable per
# document (README.md and docs/**/*.md), whose main.swift is that document's Swift blocks, top to bottom,
# imports first (fragments left out, as in the tests), then builds it in release mode and runs each one.
# In the executables `require` is Tape's own check, which stops the program with its message.
#
#   tools/check-user-package.sh [DIR]        # exit 0: every document builds and runs
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d /tmp/bilevelkit-user.XXXXXX)}"
mkdir -p "$dir/Sources"
extractor="$dir/extract"
echo "building the extractor (Plugins/DocSnippetExtractor) into $extractor"
swiftc -O "$repo"/Plugins/DocSnippetExtractor/*.swift -o "$extractor"

targets=()
while IFS= read -r doc; do
    rel="${doc#"$repo"/}"
    name="doc_$(echo "$rel" | tr -c 'A-Za-z0-9\n' '_')"
    name="${name%_}"
    mkdir -p "$dir/Sources/$name"
    "$extractor" --main "$doc" "$dir/Sources/$name/main.swift"
    if grep -q '[^[:space:]]' <(grep -v '^import ' "$dir/Sources/$name/main.swift"); then
        targets+=("$name")
    else
        rm -r "${dir:?}/Sources/$name"   # no compiled block in this document
    fi
done < <(find "$repo/README.md" "$repo/docs" -name '*.md' | sort)

# SwiftPM names a path dependency after its folder (a clone of this repository: BilevelKit).
identity="$(basename "$repo")"
{
    echo '// swift-tools-version:6.0'
    echo 'import PackageDescription'
    echo 'let deps: [Target.Dependency] = [.product(name: "Tape", package: "'"$identity"'"), .product(name: "Layers", package: "'"$identity"'"),'
    echo '                                 .product(name: "Bilevel", package: "'"$identity"'")]'
    echo 'let package = Package(name: "FirstHour", dependencies: [.package(path: "'"$repo"'")], targets: ['
    for t in "${targets[@]}"; do echo "    .executableTarget(name: \"$t\", dependencies: deps),"; done
    echo '])'
} > "$dir/Package.swift"

echo "package in $dir: ${#targets[@]} executables (${targets[*]})"
cd "$dir"
swift build -c release
for t in "${targets[@]}"; do
    echo "== running $t"
    "$(swift build -c release --show-bin-path)/$t" > "$dir/$t.out"
    tail -n 3 "$dir/$t.out"
done
echo "every document built and ran as a user's package: $dir"
