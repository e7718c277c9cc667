# Shared by scripts/test and scripts/demo: the toolchain on PATH and the Debian packages
# forecastd needs (installed when missing). Source it; do not run it.

# The Swift toolchain lives in /opt/swift on the machines this project targets.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# Installs libpq, OpenBLAS, PostgreSQL and pkg-config with apt when any is missing.
ensure_system_packages() {
    local needed=(libpq-dev libopenblas-dev postgresql pkg-config systemd)
    local missing=()
    local package
    for package in "${needed[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing missing packages: ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}
