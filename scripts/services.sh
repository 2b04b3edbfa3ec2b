# Sourced by test.sh: the servers on 127.0.0.1 that the suite talks to
# (PostgreSQL, MariaDB, Redis, RabbitMQ). Where one does not answer but is
# installed, and this runs as root (as CI does on the project's machines),
# start it with its package's own command and wait until it answers: a
# server that stopped must not turn its tests into skips, which fail under
# CI=true. Elsewhere (a laptop, no root) say which one is missing; its tests
# skip saying why.
set -euo pipefail

_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_ensure_server() {
    local name=$1 port=$2 binary=$3
    shift 3
    _answers "$port" && return 0
    if ! command -v "$binary" >/dev/null 2>&1; then
        echo "$name does not answer on 127.0.0.1:$port and is not installed: its tests will skip" \
            "(and fail under CI=true)" >&2
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "$name does not answer on 127.0.0.1:$port; start it (as root: $*):" \
            "its tests will skip meanwhile (and fail under CI=true)" >&2
        return 0
    fi
    echo "$name does not answer on 127.0.0.1:$port: starting it ($*)" >&2
    "$@" >&2 || true
    local waited=0
    until _answers "$port"; do
        if [ "$waited" -ge 120 ]; then
            echo "$name still does not answer on 127.0.0.1:$port after ${waited}s" >&2
            return 0
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "$name answers on 127.0.0.1:$port (after ${waited}s)" >&2
}

if [ -d /etc/postgresql ]; then
    _ensure_server PostgreSQL 5432 pg_ctlcluster \
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
fi
_ensure_server MariaDB 3306 mariadbd \
    start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd || echo /usr/sbin/mariadbd)"
_ensure_server Redis 6379 redis-server \
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
_ensure_server RabbitMQ 5672 rabbitmq-server rabbitmq-server -detached
