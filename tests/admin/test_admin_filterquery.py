"""The buffer filters' URL state (appliance/admin/static/js/filterquery.js, a pure ES module) run by
Node: what a query string restores, what the API and the URL get, the chips' texts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "appliance" / "admin" / "static" / "js" / "filterquery.js"


def run(expression: str) -> object:
    """The JSON value of ``expression`` evaluated with the module's exports in scope."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (f"import * as m from {json.dumps(MODULE.as_uri())};\n"
              f"const {{ DEFAULTS, fromSearch, toParams, extraCount, describe, sourceKey }} = m;\n"
              f"console.log(JSON.stringify({expression}));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


def test_a_query_string_restores_the_filters():
    got = run("fromSearch('?rating=3&flag=picked&state=unpublished&source=ftp:camera-a"
              "&from=2026-06-14T18:30&to=2026-06-14T23:00&sort=import&filter=new')")
    assert got == {"filter": "new", "rating": "3", "flag": "picked", "state": "unpublished",
                   "source": "ftp:camera-a", "from": "2026-06-14T18:30", "to": "2026-06-14T23:00",
                   "sort": "import"}


def test_bad_values_fall_back_to_the_defaults():
    got = run("fromSearch('?rating=9&flag=maybe&state=x&sort=name&filter=all2&from=yesterday&to=2026-13')")
    assert got == run("DEFAULTS")


def test_only_what_differs_from_the_defaults_goes_into_the_url():
    assert run("toParams(DEFAULTS).toString()") == ""
    assert run("toParams({...DEFAULTS, rating: '4', source: 'card:EOS DIGITAL'}).toString()") == \
        "rating=4&source=card%3AEOS+DIGITAL"
    assert run("toParams(fromSearch('?sort=import&flag=rejected')).toString()") == "flag=rejected&sort=import"


def test_the_chips_name_each_active_filter():
    sources = "[{kind: 'ftp', name: 'camera-a', label: 'FTP · Camera A', count: 3}]"
    got = run(f"describe(fromSearch('?rating=2&source=ftp:camera-a&to=2026-06-14T23:00'), {sources})")
    assert got == [["rating", "★ 2+"], ["source", "FTP · Camera A"], ["to", "Until 2026-06-14 23:00"]]
    assert run("extraCount(fromSearch('?filter=new&rating=2&sort=import'))") == 2
    assert run("[sourceKey({kind: 'upload', name: null}), sourceKey({kind: 'card', name: 'EOS'})]") == \
        ["upload", "card:EOS"]
