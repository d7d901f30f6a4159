#!/usr/bin/env bash
# Regenerates the committed completion scripts from the clap definition.
set -euo pipefail
cd "$(dirname "$0")/.."
milly="cargo run -q --"
$milly completions bash > completions/milly.bash
$milly completions zsh > completions/_milly
$milly completions fish > completions/milly.fish
$milly completions powershell > completions/_milly.ps1
$milly completions elvish > completions/milly.elv
