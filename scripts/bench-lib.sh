# bench-lib.sh: what scripts/bench and scripts/bench-export share (sourced, not run). Call bench_setup WORK once:
# afterwards `as_user HOME CMD...` runs CMD as an unprivileged user (nobody when root: tshark ignores personal
# plugins as root) with that HOME and an empty global plugin folder, so that a system-wide smcdump (or any other
# plugin) plays no part; `median` prints the median of the numbers on its input, one a line.

bench_setup() {
    bench_work=$1
    if [ "$(id -u)" -eq 0 ]; then
        chown -R 65534:65534 "$bench_work"
        as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$1" PATH=/usr/bin:/bin LC_ALL=C.UTF-8 WIRESHARK_PLUGIN_DIR="$bench_work/no-global-plugins" "${@:2}"; }
    else
        as_user() { env -i HOME="$1" PATH=/usr/bin:/bin LC_ALL=C.UTF-8 WIRESHARK_PLUGIN_DIR="$bench_work/no-global-plugins" "${@:2}"; }
    fi
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
