#!/usr/bin/env bash
# Local stand-ins for the images Dockerfile and compose.yaml name, built once per machine and cached:
# a Debian 12 base made with debootstrap (no registry is reachable from CI), then python:3.11-slim,
# postgres:16 and redis:7 from Debian's own packages. Sourced by .ci/stack.sh, which sets WORK.
set -euo pipefail
t() { local s; s=$(date +%s); "$@"; echo "[time] $(( $(date +%s) - s ))s: $*" >&2; }

tools() {
  command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v runc >/dev/null || {
    t apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive t apt-get install -y -q podman runc debootstrap curl >/dev/null
  }
  [ -x "$WORK/pc-venv/bin/podman-compose" ] || t sh -c "python3 -m venv '$WORK/pc-venv' && '$WORK/pc-venv/bin/pip' install -q podman-compose==1.5.0"
}

configure() {
  # All container state under $WORK; runc (this VM's crun rejects its hybrid cgroups) and capped rlimits
  # (no CAP_SYS_RESOURCE here, so podman's default 1048576 fails).
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$WORK" "$WORK" > "$WORK/storage.conf"
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
    "$nofile" "$nofile" "$nproc" "$nproc" > "$WORK/containers.conf"
  export CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_CONF=$WORK/containers.conf
}

base() {
  podman image exists localhost/debian-bookworm && return
  local mirror c=/etc/ssl/certs/ca-certificates.crt rootfs=$WORK/rootfs
  mirror=$(sed -n 's/^URIs: *\(.*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  : "${mirror:=http://deb.debian.org/debian}"
  rm -rf "$rootfs"; t debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log"
  mkdir -p "$rootfs/usr/local/share/ca-certificates" "$rootfs/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp $c "$rootfs/etc/ssl/certs/"
  printf '[global]\ncert = %s\n' $c > "$rootfs/etc/pip.conf"
  printf 'Acquire::Check-Valid-Until "false";\n' > "$rootfs/etc/apt/apt.conf.d/99no-valid-until"
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  t sh -c "tar -C '$rootfs' -c . | podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
     --change 'ENV PIP_CERT=$c' --change 'ENV REQUESTS_CA_BUNDLE=$c' --change 'ENV SSL_CERT_FILE=$c' \
     --change 'CMD [\"bash\"]' - localhost/debian-bookworm >/dev/null"
  rm -rf "$rootfs"
}

standin() {  # standin TAG <<Containerfile: built again only when its Containerfile changed
  local file sum; file=$(mktemp); cat > "$file"
  sum=$(sha256sum "$file" | cut -c1-16)
  if [ "$(podman image inspect --format '{{index .Labels "reengage.standin"}}' "$1" 2>/dev/null)" != "$sum" ]; then
    mkdir -p "$WORK/empty"
    t podman build -q --label "reengage.standin=$sum" -t "$1" -f "$file" "$WORK/empty" >/dev/null
  fi
  rm -f "$file"
}

standins() {
  standin docker.io/library/python:3.11-slim <<'EOT'
FROM localhost/debian-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 \
    ca-certificates && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/python3 /usr/local/bin/python3.11
ENV PYTHONUNBUFFERED=1
EOT
  # Debian's PostgreSQL 15 answering as the official image does: POSTGRES_PASSWORD / POSTGRES_DB, data in
  # /var/lib/postgresql/data, port 5432, pg_isready for the health check.
  standin docker.io/library/postgres:16-bookworm <<'EOT'
FROM localhost/debian-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
RUN printf '#!/bin/sh\nset -e\nmkdir -p "$PGDATA" /run/postgresql && chown postgres "$PGDATA" /run/postgresql\nif [ ! -s "$PGDATA/PG_VERSION" ]; then\n  echo "$POSTGRES_PASSWORD" > /tmp/pw; chown postgres /tmp/pw\n  su postgres -c "initdb -D $PGDATA -U ${POSTGRES_USER:-postgres} --pwfile=/tmp/pw -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256" >/dev/null\n  echo "host all all 0.0.0.0/0 scram-sha-256" >> $PGDATA/pg_hba.conf\n  su postgres -c "pg_ctl -D $PGDATA -w start -o \\"-c listen_addresses=\\"" >/dev/null\n  su postgres -c "createdb -U ${POSTGRES_USER:-postgres} ${POSTGRES_DB:-postgres}" 2>/dev/null || true\n  su postgres -c "pg_ctl -D $PGDATA -w stop" >/dev/null; rm /tmp/pw\nfi\nexec runuser -u postgres -- postgres -D "$PGDATA" -c "listen_addresses=*"\n' > /usr/local/bin/docker-entrypoint.sh \
 && chmod +x /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
CMD ["docker-entrypoint.sh"]
EOT
  standin docker.io/library/redis:7-bookworm <<'EOT'
FROM localhost/debian-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
EOT
}
