# Sourced by the bin/ scripts: finds a JDK 21+ and sets JAVA_HOME, or explains what is missing.

java_major() { # prints the major version of the java at $1/bin/java, or nothing; never fails
  # The probe ignores the user's JVM options: a bad JAVA_TOOL_OPTIONS must reach the real java call,
  # which prints the JVM's own error, instead of making every JDK look unusable here.
  env -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS -u _JAVA_OPTIONS "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1 || true
}

find_jdk() { # find_jdk [runtime]: with "runtime", a Java runtime without javac will do (prebuilt jars)
  local candidates=() c v need_javac=1
  [ "${1:-}" = runtime ] && need_javac=0
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] || continue
    [ "$need_javac" = 0 ] || [ -x "$c/bin/javac" ] || continue
    v=$(java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "aiwae: needs a JDK 21 or newer (java and javac); none found in JAVA_HOME, PATH or /usr/lib/jvm." >&2
  echo "aiwae: install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin 25) or set JAVA_HOME." >&2
  return 1
}

need_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "aiwae: needs Apache Maven 3.8+ to build ('apt-get install maven')." >&2
    return 1
  fi
  # Maven's own libraries warn about sun.misc.Unsafe on JDK 24+; that is noise, not ours.
  if [ "$(java_major "$JAVA_HOME")" -ge 24 ]; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  fi
}

drop_incubator_warning() { # stdin to stdout unchanged, less the exact line the incubating Vector API prints
  LC_ALL=C grep -a -v -x --line-buffered 'WARNING: Using incubator modules: jdk.incubator.vector' || true
}
