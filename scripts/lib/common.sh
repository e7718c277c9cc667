# Shared by scripts/test and scripts/demo: the toolchain on PATH and the Debian packages
# forecastd needs (installed when missing). Source it; do not run it.

# The Swift toolchain lives in /opt/swift on the machines this project targets.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# Installs libpq, OpenBLAS, PostgreSQL, pkg-config and systemd (systemd-analyze) with apt
# when any is missing; with --for-tests also prometheus (promtool checks /metrics) and
# chromium (headless, loads the status pages), both without their recommended packages
# (prometheus's server and node exporter are not needed and not started).
ensure_system_packages() {
    local needed=(libpq-dev libopenblas-dev postgresql pkg-config systemd)
    local needed_alone=()
    [ "${1:-}" = --for-tests ] && needed_alone=(prometheus chromium)
    local missing=()
    local missing_alone=()
    local package
    for package in "${needed[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    for package in "${needed_alone[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing_alone+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && [ ${#missing_alone[@]} -eq 0 ] && return 0
    echo "installing missing packages: ${missing[*]} ${missing_alone[*]}" >&2
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ${#missing_alone[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
            "${missing_alone[@]}" >/dev/null
    fi
}
