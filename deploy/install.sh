#!/usr/bin/env bash
# Installs forecastd as a systemd service on this machine (run as root from the repository):
#   deploy/install.sh             build (release), install, create the schema, print next steps
#   deploy/install.sh --uninstall stop and remove the service, binary and unit (keeps /etc/forecastd
#                                 and the database; say so to remove them too with --purge)
# Environment: PREFIX (default /usr/local), FORECASTD_DATABASE_URL (to run `forecastd migrate`
# as an administrator now; otherwise run it yourself before starting the service).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
unit=/etc/systemd/system/forecastd.service
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

if [ "${1:-}" = "--uninstall" ] || [ "${1:-}" = "--purge" ]; then
    systemctl disable --now forecastd.service 2>/dev/null || true
    rm -f "$unit" "$PREFIX/bin/forecastd" "$PREFIX/share/man/man1/forecastd.1" \
        "$PREFIX/share/bash-completion/completions/forecastd" "$PREFIX/share/zsh/site-functions/_forecastd" \
        "$PREFIX/share/fish/vendor_completions.d/forecastd.fish"
    rm -rf "$PREFIX/share/forecastd" "$PREFIX/share/doc/forecastd"
    systemctl daemon-reload 2>/dev/null || true
    if [ "$1" = "--purge" ]; then rm -rf /etc/forecastd; fi
    echo "forecastd removed.$([ "$1" = "--purge" ] || echo " /etc/forecastd kept (use --purge to remove it).")"
    echo "The forecast schema stays in your database: DROP SCHEMA forecast CASCADE removes it."
    exit 0
fi

source scripts/lib/common.sh
ensure_system_packages
swift build -c release --product forecastd
install -D -m 0755 .build/release/forecastd "$PREFIX/bin/forecastd"
# The man page, generated from the command line's own help by swift-argument-parser's
# manual plugin, and shell completions from the binary.
swift package plugin generate-manual >/dev/null
install -D -m 0644 .build/plugins/GenerateManual/outputs/forecastd/forecastd.1 "$PREFIX/share/man/man1/forecastd.1"
install -d "$PREFIX/share/bash-completion/completions" "$PREFIX/share/zsh/site-functions" \
    "$PREFIX/share/fish/vendor_completions.d"
"$PREFIX/bin/forecastd" --generate-completion-script bash >"$PREFIX/share/bash-completion/completions/forecastd"
"$PREFIX/bin/forecastd" --generate-completion-script zsh >"$PREFIX/share/zsh/site-functions/_forecastd"
"$PREFIX/bin/forecastd" --generate-completion-script fish >"$PREFIX/share/fish/vendor_completions.d/forecastd.fish"
install -D -m 0644 README.md "$PREFIX/share/doc/forecastd/README.md"
install -d "$PREFIX/share/doc/forecastd/docs/images"
install -m 0644 docs/*.md "$PREFIX/share/doc/forecastd/docs/"
install -m 0644 docs/images/*.png "$PREFIX/share/doc/forecastd/docs/images/"
install -D -m 0644 data/ETTh1.csv "$PREFIX/share/forecastd/ETTh1.csv"
install -D -m 0644 data/ETT-LICENSE.txt "$PREFIX/share/forecastd/ETT-LICENSE.txt"
sed "s|/usr/local/bin/forecastd|$PREFIX/bin/forecastd|" deploy/forecastd.service >"$unit"
chmod 0644 "$unit"
install -d -m 0755 /etc/forecastd
[ -f /etc/forecastd/forecastd.conf ] || install -m 0644 deploy/forecastd.conf /etc/forecastd/forecastd.conf
# The password file: root-only on disk; systemd hands a copy to the service (LoadCredential=).
if [ ! -f /etc/forecastd/pgpass ]; then
    install -m 0600 /dev/null /etc/forecastd/pgpass
    echo "# hostname:port:database:username:password (libpq password file)" >/etc/forecastd/pgpass
fi
"$PREFIX/bin/forecastd" check-config /etc/forecastd/forecastd.conf
systemctl daemon-reload 2>/dev/null || echo "(systemd is not running here: the unit is installed but not loaded)"
if [ -n "${FORECASTD_DATABASE_URL:-}" ]; then
    "$PREFIX/bin/forecastd" migrate --database "$FORECASTD_DATABASE_URL"
fi

cat <<TEXT

forecastd is installed. Next:
  1. Create the schema (as a database administrator), unless done above:
       forecastd migrate --database "dbname=sensors user=postgres"
  2. Create the least-privilege roles and grant read access to your sources:
       psql "dbname=sensors user=postgres" -v daemon=forecastd -f $(pwd)/deploy/roles.sql
       psql "dbname=sensors user=postgres" -c "GRANT USAGE ON SCHEMA plant TO forecast_reader; GRANT SELECT ON plant.readings TO forecast_reader"
       psql "dbname=sensors user=postgres" -c "\\password forecastd"
  3. Put the connection (without password) in /etc/forecastd/forecastd.conf and the password in
     /etc/forecastd/pgpass, e.g.  localhost:5432:sensors:forecastd:SECRET
  4. Start it:  systemctl enable --now forecastd
     Watch it:  systemctl status forecastd; journalctl -u forecastd -f
                curl http://127.0.0.1:9464/readyz; http://127.0.0.1:9464/ (status); /metrics (Prometheus)
     Reload:    systemctl reload forecastd   (after editing forecastd.conf)
     Manual:    man forecastd   (completions for bash, zsh and fish are installed too)
TEXT
