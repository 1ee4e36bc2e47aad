# shellcheck shell=bash
# Shared by the scripts in this folder: where the Python environment lives and how to run in it.
#
# Home Assistant 2026.10 needs Python >= 3.14.2. A host Python that new is used directly (.venv in
# the repository). Otherwise (these Debian 12 machines) the environment lives in a Debian sid chroot
# with its python3.14; commands run there in a private mount namespace, with the repository mounted
# at the same absolute path, so nothing stays mounted when they end.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${FLEXCHARGING_CACHE:-/var/cache/flexcharging}"
CHROOT_DIR="$CACHE_DIR/chroot-sid"
CHROOT_VENV=/opt/flexcharging-venv
HOST_VENV="$REPO_ROOT/.venv"
MIN_PYTHON="3.14.2"

log() { printf '\033[1;34m[flexcharging]\033[0m %s\n' "$*" >&2; }

# Prints the path of a host Python >= MIN_PYTHON, or nothing.
find_host_python() {
    local candidate
    for candidate in "${FLEXCHARGING_PYTHON:-}" python3.14 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 0
}

# "host" or "chroot": which environment this machine uses.
env_kind() {
    if [ -n "$(find_host_python)" ]; then echo host; else echo chroot; fi
}

# The hash of a requirements file (decides whether the environment must be updated).
requirements_hash() {
    sha256sum "$REPO_ROOT/${1:-requirements_test.txt}" | cut -c1-16
}

# The environment's folder as seen from this machine (inside the chroot's tree when chrooted).
env_dir_on_host() {
    if [ "$(env_kind)" = host ]; then echo "$HOST_VENV"; else echo "$CHROOT_DIR$CHROOT_VENV"; fi
}

# Installs Debian packages inside the chroot unless they already are (no-op on a host Python).
ensure_chroot_packages() {
    [ "$(env_kind)" = chroot ] || return 0
    local missing=()
    for package in "$@"; do
        chroot "$CHROOT_DIR" dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "Installing Debian packages in the chroot: ${missing[*]}"
    cp /etc/resolv.conf "$CHROOT_DIR/etc/resolv.conf"
    chroot "$CHROOT_DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -c \
        "apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq ${missing[*]} >/dev/null && update-ca-certificates >/dev/null 2>&1"
}

# Installs a requirements file into the environment unless it already is (stamp by hash).
ensure_requirements() {
    local file="$1" stamp
    stamp="$(env_dir_on_host)/.stamp-$(basename "$file" .txt)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$(requirements_hash "$file")" ]; then
        log "Installing $file"
        in_env pip install --quiet -r "$REPO_ROOT/$file"
        requirements_hash "$file" >"$stamp"
    fi
}

# Runs a command inside the project's Python environment, in the current directory.
in_env() {
    if [ "$(env_kind)" = host ]; then
        PATH="$HOST_VENV/bin:$PATH" VIRTUAL_ENV="$HOST_VENV" "$@"
        return
    fi
    local cwd
    cwd="$(pwd)"
    # The inner shell mounts what the chroot needs; the namespace takes the mounts away at exit.
    unshare --mount --propagation private -- /bin/bash -c '
        set -e
        root="$1"; repo="$2"; cwd="$3"; shift 3
        mount --rbind /dev "$root/dev"
        mount -t proc proc "$root/proc"
        mkdir -p "$root$repo"
        mount --bind "$repo" "$root$repo"
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        cp /etc/hosts "$root/etc/hosts" 2>/dev/null || true
        exec chroot "$root" /usr/bin/env -u PIP_FIND_LINKS PATH="'"$CHROOT_VENV"'/bin:/usr/local/bin:/usr/bin:/bin" \
            VIRTUAL_ENV="'"$CHROOT_VENV"'" HOME=/root LANG=C.UTF-8 /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
    ' flexcharging-env "$CHROOT_DIR" "$REPO_ROOT" "$cwd" "$@"
}
