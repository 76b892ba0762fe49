#!/usr/bin/env bash
# make release: everything a release publishes, built locally into $DIST (a dry run: nothing
# is pushed). Environment: VERSION, IMAGE_REPO (e.g. ghcr.io/taskward), PLATFORMS, DIST, HELM.
#
#   $DIST/images/{controller,defender}/   OCI layouts (multi-arch image indexes), images.json
#   $DIST/release/taskward-linux-ARCH, taskward-defender-linux-ARCH
#                 *.sbom.txt              `go version -m`: module versions and build settings
#                 taskward-CHART.tgz      the Helm chart, version from VERSION
#                 images.txt              the image references, by digest
#                 SHA256SUMS
#
# The binaries are the ones inside the images (hack/build-images -bindir), so the
# controller's default defender image is the digest of the defender index built here.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?}" "${IMAGE_REPO:?}" "${PLATFORMS:?}" "${DIST:?}" "${HELM:?}"
GO=${GO:-go}
# SemVer for the chart: v1.2.3 -> 1.2.3; an untagged build -> 0.0.0-<describe>.
case "$VERSION" in
v[0-9]*) chart_version=${VERSION#v} ;;
*) chart_version=0.0.0-${VERSION} ;;
esac

rm -rf "$DIST/images" "$DIST/bin" "$DIST/release"
mkdir -p "$DIST/release"
# Reproducible: every file in the images gets the commit's time.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
$GO run ./hack/build-images -out "$DIST/images" -bindir "$DIST/bin" -version "$VERSION" \
	-repo "$IMAGE_REPO" -platforms "$PLATFORMS"

for platform in ${PLATFORMS//,/ }; do
	arch=${platform#linux/}
	for bin in taskward taskward-defender; do
		out="$DIST/release/$bin-linux-$arch"
		cp "$DIST/bin/linux_$arch/$bin" "$out"
		$GO version -m "$out" >"$out.sbom.txt"
	done
done

"$HELM" lint --strict charts/taskward >/dev/null
"$HELM" package charts/taskward --version "$chart_version" --app-version "$VERSION" \
	-d "$DIST/release" >/dev/null

cp "$DIST/images/images.txt" "$DIST/release/images.txt"

(cd "$DIST/release" && sha256sum -- * | grep -v ' SHA256SUMS$' >SHA256SUMS)
echo "release $VERSION (chart $chart_version) in $DIST/release:"
(cd "$DIST/release" && ls -l)
cat "$DIST/release/images.txt"
