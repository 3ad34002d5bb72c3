#!/bin/sh
# Install feral's system dependencies from Debian packages.  Idempotent, and
# quiet when everything is present.  Run as root (or with sudo available).
set -e
PKGS="gcc make pkg-config git libcriterion-dev libhwloc-dev libnuma-dev zlib1g-dev
liblapacke-dev libopenblas-dev gnuplot-nox clang libclang-rt-14-dev libomp-14-dev
hwloc liblinear-tools python3-sklearn python3-numpy python3-scipy dataset-fashion-mnist
python3-pytest python3-setuptools python3-pip
libopenmpi-dev openmpi-bin"
# scripts/data/spam.sh also needs npm (to fetch the data set); it is not listed here
# because Debian's npm would replace a NodeSource nodejs: install it yourself.
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
