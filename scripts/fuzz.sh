#!/usr/bin/env bash
# Fuzzes one Jazzer fuzz target for a while: scripts/fuzz.sh TARGET [MINUTES [MAVEN_ARGS...]]
#   TARGET   a fuzz test class (e.g. SafeTensorsFuzzTest) or Class#method when a class has several
#   MINUTES  how long libFuzzer runs (default 10); further arguments go to Maven
# New coverage goes to <module>/.cifuzz-corpus/<class>/<method>/ (not committed); a crashing input is
# written as crash-<sha1> into the class's Inputs resource folder, where the normal test run replays it.
# Prints executions, corpus size, wall and CPU time at the end (docs/RELIABILITY.md#fuzzing).
# Classes to instrument beyond the project's: JAZZER_INSTRUMENT (e.g.
# 'org.internvl4j.**:com.twelvemonkeys.**').
set -euo pipefail
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]}
minutes=${2:-10}
shift $(( $# < 2 ? $# : 2 ))
cd "$(dirname "$0")/.."
cls=${target%%#*}
file=$(find internvl4j-*/src/test/java -name "$cls.java" | head -1)
[ -n "$file" ] || { echo "fuzz.sh: no fuzz test class $cls under internvl4j-*/src/test/java" >&2; exit 2; }
module=${file%%/src/*}
fqcn=$(echo "${file#*/src/test/java/}" | sed 's|/|.|g; s|\.java$||')
log=$(mktemp -t "fuzz-$cls.XXXX.log")

if [ -z "${JAVA_HOME:-}" ]; then export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64; fi
export JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${minutes}m"
start=$(date +%s)
set +e
/usr/bin/time -f 'cpu_s=%U+%S' -o "$log.time" \
  ./mvnw -B -ntp -Pfuzz -pl "$module" -am test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false "$@" >"$log" 2>&1
rc=$?
set -e
end=$(date +%s)
grep -E '^(#[0-9]+ +(INITED|DONE|pulse)|Done [0-9]+ runs|== Java Exception|INFO: Seed|Crash|.*crash-[0-9a-f]{40})' "$log" | tail -20 || true
execs=$(grep -oE '^Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo '?')
method=${target#*#}; [ "$method" = "$target" ] && method=$(ls "$module/.cifuzz-corpus/$fqcn" 2>/dev/null | head -1)
corpus=$(ls "$module/.cifuzz-corpus/$fqcn/$method" 2>/dev/null | wc -l)
cpu=$(sed -n 's/^cpu_s=//p' "$log.time" | bc)
echo "fuzz: target=$target wall_s=$((end - start)) execs=$execs cpu_s=$cpu corpus=$corpus exit=$rc log=$log"
exit $rc
