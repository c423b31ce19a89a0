"""The benchmark tables and their JSON, on made-up measurements (no timing here)."""
import json

import pytest

from legacy_vae import cli
from legacy_vae.bench import quality, throughput, variants


def fake_throughput():
    return {"machine": {"cpu": "Test CPU", "cores": 2, "tensorflow": "2.x"}, "matmul_gflops": 200.0,
            "results": [{"model": "post", "variant": v, "steps_per_sec": s, "steps_per_sec_min": s - 1,
                         "steps_per_sec_max": s + 1, "flops_per_step": 205_520_000,
                         "peak_fraction": s * 205_520_000 / 200e9}
                        for v, s in (("graph", 480.0), ("tf2_function", 270.0))]}


def test_throughput_table_shows_rates_flops_and_peak_fraction():
    table = throughput.format_table(fake_throughput())
    assert "Test CPU, 2 cores" in table and "200.0 GFLOP/s" in table
    assert "205,520,000 matmul FLOPs per step" in table
    graph_line = next(line for line in table.splitlines() if line.split()[:2] == ["post", "graph"])
    assert "480.0" in graph_line and "98.6" in graph_line and "49.3%" in graph_line


def test_throughput_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(throughput, "run", lambda *a, **k: fake_throughput())
    path = tmp_path / "t.json"
    throughput.main(json_path=str(path))
    report = json.loads(path.read_text())
    assert set(report) == {"machine", "matmul_gflops", "results"}
    assert {"model", "variant", "steps_per_sec", "steps_per_sec_min", "steps_per_sec_max",
            "flops_per_step", "peak_fraction"} <= set(report["results"][0])
    assert "wrote" in capsys.readouterr().out


def test_quality_table_labels_every_data_setting():
    row = dict(model="post", trained_on="none", steps=100, train_seconds=3.0, test_elbo=-150.0,
               eval_elbo=-151.0, iw_log_likelihood=-145.0, iw_stderr=0.5, iw_samples=10, images=20, anchor=None)
    slim = dict(row, model="slim", trained_on="static", evaluated_on="binarized 0.5",
                anchor={"what": "Burda", "value": -86.76, "data": "dynamic"})
    report = {"quick": True, "both_mlp_wall_seconds": 12.0, "rows": [
        dict(row, evaluated_on="grey"), dict(row, evaluated_on="binarized 0.5 (trained on grey)"), slim]}
    lines = quality.format_table(report).splitlines()
    assert "grey" in lines[2] and "-150.00" in lines[2]
    assert "binarized 0.5 (trained on grey)" in lines[3] and "-150.00" not in lines[3]
    assert "-86.76 Burda (dynamic)" in lines[4]


def test_unknown_variant_and_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit, match="unknown variant 'warp'"):
        variants.main(["post", "warp", "1", "1", "1"])
    with pytest.raises(SystemExit) as error:
        cli.main(["bench", "throughput", "--repeats", "0"])
    assert error.value.code == 2
    assert "expected a positive integer" in capsys.readouterr().err
