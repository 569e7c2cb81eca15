#!/usr/bin/env bash
# The VMM sees only the hypervisor's public API: src/vmm may include common/, vmm/ and hyp/api/,
# nothing from the hart or the hypervisor's internals.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bad=$(grep -rn '#include "' "$root/src/vmm" | grep -v -E '#include "(common|vmm|hyp/api)/' || true)
if [[ -n $bad ]]; then
  echo "src/vmm includes something outside common/, vmm/ and hyp/api/:"
  echo "$bad"
  exit 1
fi
# And the dependency direction of the libraries: isa <- hart <- hyp <- vmm.
for pair in "isa:hart|hyp|vmm" "hart:hyp|vmm" "hyp:vmm"; do
  lib=${pair%%:*}
  upper=${pair#*:}
  bad=$(grep -rn -E "#include \"($upper)/" "$root/src/$lib" || true)
  if [[ -n $bad ]]; then
    echo "src/$lib includes a higher layer:"
    echo "$bad"
    exit 1
  fi
done
echo "layering OK"
