"""``zimage-desktop info --engines``: test every configured ComfyUI server, as the Engines page's
"Test" does (version, device and VRAM, queue, the model files it has, ComfyUI-GGUF)."""

from __future__ import annotations

import json
from typing import Any

from ..config import Paths
from ..messages import render
from ..remote import engines as engine_list
from ..remote.engine import ROLE_LOADERS
from ..remote.server_check import test_server


def print_engines(paths: Paths, as_json: bool, language: str) -> int:
    engines = engine_list.load(paths)
    rows: list[dict[str, Any]] = []
    for name in engines.ordered():
        if name == engine_list.LOCAL:
            rows.append({"name": name, "kind": "local", "enabled": engines.local_enabled})
            continue
        entry = engines.server(name)
        assert entry is not None
        report, files, problem = test_server(entry)
        rows.append({"kind": "comfyui", "enabled": entry.enabled, **report.to_dict(), "job_files": files,
                     "files_problem": problem, "token": "set" if entry.has_token else "none",
                     "token_storage": "plain" if entry.plain_token else ("keyring" if entry.has_token else "")})
    failed = any(r.get("error") for r in rows)
    if as_json:
        print(json.dumps({"engines": rows}, ensure_ascii=False))
        return 1 if failed else 0
    gib = 1024**3
    for row in rows:
        if row["kind"] == "local":
            print(f"{row['name']}: this computer{'' if row['enabled'] else ' (off)'}")
            continue
        head = f"{row['name']}  {row['url']}{'' if row['enabled'] else ' (off)'}"
        if row["error"]:
            print(f"{head}: {render(row['error'], language)}")
            continue
        print(f"{head}: ComfyUI {row['version']}, {row['device']} {row['vram_total'] / gib:.1f} GiB "
              f"({row['vram_free'] / gib:.1f} free), queue {row['queue']}, "
              f"ComfyUI-GGUF {'yes' if row['gguf'] else 'no'}")
        if row["job_files"]:
            print("  files: " + ", ".join(f"{role} {row['job_files'][role]}" for role in ROLE_LOADERS))
        else:
            print(f"  {render(row['files_problem'], language)}")
        if row["token_storage"] == "plain":
            print("  note: the access token is stored in plain text in engines.json (no OS keyring found)")
    if not engines.servers:
        print("No ComfyUI servers are configured (Settings ▸ Engines, or generate --engine URL).")
    return 1 if failed else 0
