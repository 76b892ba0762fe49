#!/usr/bin/env bash
# Checks what make release left in $DIST/release: checksums, one static binary per
# command and architecture with its SBOM, the controller's default defender image equal to
# the defender index built in the same run, and the packaged chart.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?}" "${PLATFORMS:?}" "${DIST:?}" "${HELM:?}"
rel=$DIST/release
fail() { echo "release-check: $*" >&2; exit 1; }
(cd "$rel" && sha256sum --quiet -c SHA256SUMS) || fail "checksums do not match"
defender=$(awk '$1 == "defender" {print $2}' "$rel/images.txt")
[[ $defender == */taskward/defender@sha256:* ]] || fail "images.txt: no defender by digest: $defender"
for platform in ${PLATFORMS//,/ }; do
	arch=${platform#linux/}
	for bin in taskward taskward-defender; do
		f=$rel/$bin-linux-$arch
		[ -x "$f" ] || fail "$f missing"
		grep -qx "	path	github.com/taskward/taskward/cmd/$bin" "$f.sbom.txt" || fail "$f.sbom.txt: not go version -m output of cmd/$bin"
		grep -q "	build	GOARCH=$arch" "$f.sbom.txt" || fail "$f: not built for $arch"
		grep -q "	build	CGO_ENABLED=0" "$f.sbom.txt" || fail "$f: not static (CGO_ENABLED=0)"
		grep -q -- "-trimpath=true" "$f.sbom.txt" || fail "$f: not built with -trimpath"
		# (-trimpath keeps -ldflags out of the build info: look for the stamped string)
		grep -qaF -- "$VERSION" "$f" || fail "$f: version $VERSION not stamped"
		grep -q " $bin-linux-$arch\$" "$rel/SHA256SUMS" || fail "$f: not in SHA256SUMS"
	done
	if [ "$arch" = "$(go env GOARCH)" ]; then
		out=$("$rel/taskward-linux-$arch" version)
		grep -qx "default defender image: $defender" <<<"$out" || fail "taskward version: $out; want default defender image $defender"
		grep -q "^taskward $VERSION" <<<"$out" || fail "taskward version: $out; want $VERSION"
	fi
done
chart=$(ls "$rel"/taskward-*.tgz)
"$HELM" lint --strict "$chart" >/dev/null || fail "$chart: helm lint"
# helm quotes a version that YAML would read as a number (a commit id of digits only)
"$HELM" show chart "$chart" | grep -qxE "appVersion: \"?$VERSION\"?" || fail "$chart: appVersion is not $VERSION"
echo "release-check: $rel is complete ($(wc -l <"$rel/SHA256SUMS") files)"
