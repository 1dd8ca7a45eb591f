#!/bin/sh
# veraPDF, the PDF/A validator (GPLv3 / MPLv2, from Maven Central; needs java and mvn), for checking the
# printed documents (tests/integration/test_pdfa.py, and by hand). It is not a dependency of the platform.
#
#   services/assessment/documents/verapdf.sh --flavour 2u --format text report.pdf notice.pdf
#
# The first run resolves veraPDF 1.28.2 and its libraries into ~/.m2 (about 15 MB, a minute).
set -eu
VERSION=1.28.2
DIR="${XDG_CACHE_HOME:-$HOME/.cache}/ohs-verapdf-$VERSION"
if [ ! -s "$DIR/classpath" ]; then
  mkdir -p "$DIR"
  cat > "$DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.ohs</groupId><artifactId>verapdf-runner</artifactId><version>1</version>
  <dependencies><dependency>
    <groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId><version>$VERSION</version>
  </dependency></dependencies>
</project>
POM
  mvn -q -B -f "$DIR/pom.xml" dependency:build-classpath -Dmdep.outputFile="$DIR/classpath" >&2
fi
exec java -cp "$(cat "$DIR/classpath")" org.verapdf.apps.GreenfieldCliWrapper "$@"
