#!/usr/bin/env bash
# Runs `internvl spark-caption` on a real standalone Spark cluster on this machine: a master and WORKERS workers on
# 127.0.0.1, each a separate JVM started from the Spark jars the build copied to internvl4j-spark/target/lib, each
# worker starting one executor JVM. The cluster is stopped afterwards, also on Ctrl-C or error.
#
#   scripts/spark-local-cluster.sh WORKERS CORES MEMORY -- --model DIR --input DIR --output out.parquet [...]
#
# CORES and MEMORY are per worker (and its executor), e.g. 1 2g. Build first: ./mvnw -q package -DskipTests
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -lt 4 ] || [ "$4" != "--" ]; then
  echo "usage: $0 WORKERS CORES MEMORY -- spark-caption arguments (without --master)" >&2
  exit 2
fi
workers=$1 cores=$2 mem=$3
shift 4
lib="$root/internvl4j-spark/target/lib"
if [ ! -d "$lib" ]; then
  echo "$lib is missing; build it with: (cd $root && ./mvnw -q package -DskipTests)" >&2
  exit 1
fi
if [ -z "${JAVA_HOME:-}" ]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64; do
    [ -x "$j/bin/java" ] && JAVA_HOME=$j && break
  done
fi
export JAVA_HOME
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

work=$(mktemp -d)
pgids=()
stop() {
  # each daemon leads its own process group, which also holds the executors its worker started
  for g in "${pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  sleep 1
  for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT

# A Spark "distribution" for the workers: SPARK_HOME/jars holds the resolved Spark jars.
mkdir -p "$work/home/jars"
ln -s "$lib"/*.jar "$work/home/jars/"
export SPARK_HOME="$work/home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
port=$((20000 + RANDOM % 20000))
daemon() {   # name, main class, args...
  local name=$1; shift
  setsid "$java" -Xmx256m -cp "$lib/*" "$@" >"$work/$name.log" 2>&1 &
  pgids+=($!)
}
daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 0
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
for i in $(seq "$workers"); do
  daemon "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$cores" --memory "$mem" \
    --webui-port 0 --work-dir "$work/work-$i" "spark://127.0.0.1:$port"
done

# The driver waits until every executor has registered, so the measured time is the cluster's full size.
INTERNVL_JAVA_OPTS="${INTERNVL_JAVA_OPTS:-} -Dspark.executor.cores=$cores -Dspark.executor.memory=$mem \
-Dspark.cores.max=$((workers * cores)) -Dspark.scheduler.minRegisteredResourcesRatio=1.0 \
-Dspark.scheduler.maxRegisteredResourcesWaitingTime=120s -Dspark.driver.host=127.0.0.1" \
  "$root/bin/internvl" spark-caption --master "spark://127.0.0.1:$port" "$@"
