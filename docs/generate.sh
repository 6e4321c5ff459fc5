#!/usr/bin/env bash
# Regenerates the rendered wiring of the reference app, from the running
# code (go run ./app graph):
#
#   docs/graph.dot, graph.svg   every topic: modules -> publish -> topics -> listeners
#   docs/graph.mmd              the same as a Mermaid flowchart
#   docs/areas.dot, areas.svg   the overview: one node per area of topics (graph -areas)
#   docs/wired.dot, wired.svg   the topics something publishes or hears (graph -wired), drawn
#                               by docs/readable.gvpr to read at README width: listeners as
#                               nodes, no edge labels, 11-12 pt text
#
# Each SVG ends with a comment holding the sha256 of the DOT it was
# rendered from; app's TestDocsCurrent checks the DOT and Mermaid files
# against what the command prints now, and each SVG against its DOT.
# Run it from anywhere: bash docs/generate.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v dot >/dev/null 2>&1; then
	echo "docs/generate.sh: Graphviz's dot is not installed; install Graphviz (apt-get install graphviz, brew install graphviz) and run again" >&2
	exit 1
fi

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/app" ./app
"$tmp/app" graph -format dot >"$tmp/graph.dot"
"$tmp/app" graph -format mermaid >"$tmp/graph.mmd"
"$tmp/app" graph -format dot -areas >"$tmp/areas.dot"
"$tmp/app" graph -format dot -wired >"$tmp/wired.dot"
gvpr -f docs/readable.gvpr "$tmp/wired.dot" | dot -Tsvg >"$tmp/wired.svg"
printf '<!-- rendered from docs/wired.dot, sha256 %s -->\n' "$(sha256 "$tmp/wired.dot")" >>"$tmp/wired.svg"
for g in graph areas; do
	dot -Tsvg "$tmp/$g.dot" >"$tmp/$g.svg"
	printf '<!-- rendered from docs/%s.dot, sha256 %s -->\n' "$g" "$(sha256 "$tmp/$g.dot")" >>"$tmp/$g.svg"
done

# Only now that everything rendered, replace the committed files.
for f in graph.dot graph.mmd graph.svg areas.dot areas.svg wired.dot wired.svg; do
	mv "$tmp/$f" "docs/$f"
done
echo "docs/generate.sh: wrote docs/graph.dot, graph.mmd, graph.svg, areas.dot, areas.svg, wired.dot, wired.svg"
