"""Cluster layouts, specs, TF_CONFIG and the private network namespace (no TensorFlow started)."""
import json
import subprocess
import sys

import pytest
from skips import cannot_run

from legacy_vae.cluster import netns, spec


def test_layout_parses_and_refuses_with_one_line():
    assert spec.parse_layout("ps=1,workers=2") == (1, 2)
    assert spec.parse_layout(" ps = 2 , worker = 4 ") == (2, 4)
    for bad in ("ps=1", "workers=2,ps=1", "ps=0,workers=1", "ps=1,workers=0", "ps=40,workers=40", ""):
        with pytest.raises(ValueError) as error:
            spec.parse_layout(bad)
        assert "\n" not in str(error.value) and "--cluster" in str(error.value)


def test_local_spec_gives_distinct_loopback_ports():
    made = spec.local_spec(2, 3)
    addresses = made["ps"] + made["worker"]
    assert len(made["ps"]) == 2 and len(made["worker"]) == 3
    assert len(set(addresses)) == 5 and all(a.startswith("127.0.0.1:") for a in addresses)


@pytest.mark.parametrize("bad, words", [
    ({"ps": ["a:1"]}, "non-empty list of host:port addresses for 'worker'"),
    ({"ps": ["a:1"], "worker": ["b"]}, "must look like host:port"),
    ({"ps": ["a:1"], "worker": ["a:1"]}, "share an address"),
    ({"ps": ["a:1"], "worker": ["b:2"], "chief": ["c:3"]}, "worker 0 is the chief"),
    (["a:1"], "JSON object"),
])
def test_bad_specs_are_refused(bad, words):
    with pytest.raises(ValueError, match=words):
        spec.check_spec(bad)


def test_external_takes_a_spec_and_a_task_or_tf_config(monkeypatch, tmp_path):
    cluster = {"ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222"]}
    assert spec.external(json.dumps(cluster), "worker:1") == (cluster, ("worker", 1))
    (tmp_path / "c.json").write_text(json.dumps(cluster))
    assert spec.external(f"@{tmp_path / 'c.json'}", "ps:0") == (cluster, ("ps", 0))
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert spec.external("TF_CONFIG", None) == (cluster, ("worker", 0))
    with pytest.raises(ValueError, match="pass --task"):
        spec.external(json.dumps(cluster), None)
    with pytest.raises(ValueError, match="has 1 ps task"):
        spec.external(json.dumps(cluster), "ps:1")


def test_the_namespace_has_loopback_only():
    """The local cluster's servers listen on 0.0.0.0: inside the namespace that is loopback alone."""
    try:
        netns.check_available()
    except netns.IsolationError as error:
        cannot_run(f"no private network namespace for the cluster: {error}")
    code = ("from legacy_vae.cluster import netns, spec; netns.bring_up_loopback(); "
            "print(netns.interfaces(), spec.local_spec(1, 1)['ps'][0].split(':')[0])")
    done = subprocess.run(netns.prefix() + [sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['lo']", "127.0.0.1"]
