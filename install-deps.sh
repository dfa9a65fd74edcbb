#!/usr/bin/env bash
# Installs what xgrad builds against, all from Debian's packages. Idempotent: packages already
# present are skipped, and nothing is downloaded from anywhere else.
#   ./install-deps.sh            library, tests, examples (and their data: Fashion-MNIST, the fortunes'
#                                texts, the wamerican word list)
#   ./install-deps.sh --bench    also Google Benchmark (bench/)
#   ./install-deps.sh --peers    also dlib and tiny-dnn (bench/peers/, -DXGRAD_WITH_PEERS=ON); tiny-dnn's
#                                headers need cereal and gemmlowp, which its package does not pull in
#   ./install-deps.sh --clang    also clang, for CI's clang build
#   ./install-deps.sh --chromium also Chromium, whose headless mode tests to_html's page (the options combine)
set -euo pipefail

packages=(build-essential cmake pkg-config
          libxtensor-dev xtl-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev libxsmm-dev
          googletest libgtest-dev nlohmann-json3-dev libstb-dev
          zlib1g-dev libzip-dev libcli11-dev dataset-fashion-mnist
          fortunes wamerican)
for option in "$@"; do
  case "$option" in
    --bench) packages+=(libbenchmark-dev) ;;
    --peers) packages+=(libdlib-dev tiny-dnn libcereal-dev libgemmlowp-dev) ;;
    --clang) packages+=(clang) ;;
    --chromium) packages+=(chromium) ;;
    *) echo "install-deps: unknown option $option (known: --bench --peers --clang --chromium)" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
