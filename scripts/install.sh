#!/bin/sh
# Builds rotor and installs it under PREFIX (default /usr/local): the binary,
# the man page and the bash, zsh and fish completions, all generated from the
# command definitions by swift-argument-parser.
#
#   scripts/install.sh [PREFIX]
#
# ROTOR_BUILD_CONFIGURATION=debug installs a debug build (CI does, to reuse
# its build); ROTOR_SWIFT_BUILD_FLAGS adds flags to `swift build` (the
# container image uses --static-swift-stdlib); DESTDIR stages the files for
# a package or an image.
set -eu
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
configuration=${ROTOR_BUILD_CONFIGURATION:-release}
root="${DESTDIR:-}$prefix"

install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"

# shellcheck disable=SC2086 # the flags are separate words
swift build -c "$configuration" --product rotor ${ROTOR_SWIFT_BUILD_FLAGS:-}
install -m 0755 "$(swift build -c "$configuration" --show-bin-path)/rotor" "$root/bin/rotor"
rotor="$root/bin/rotor"

# generate-manual builds the package and renders `rotor --experimental-dump-help`
# as mdoc; it runs after the binary is installed because it relinks it.
# scripts/manual.py states the global options once and adds ENVIRONMENT,
# FILES, the real EXIT STATUS and EXAMPLES.
swift package generate-manual --configuration "$configuration"
python3 scripts/manual.py .build/plugins/GenerateManual/outputs/rotor/rotor.1 > .build/rotor.1
install -m 0644 .build/rotor.1 "$root/share/man/man1/rotor.1"
"$rotor" --generate-completion-script bash > "$root/share/bash-completion/completions/rotor"
"$rotor" --generate-completion-script zsh > "$root/share/zsh/site-functions/_rotor"
"$rotor" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/rotor.fish"
echo "installed rotor $("$rotor" --version) under $root"
