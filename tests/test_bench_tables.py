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


def test_cluster_table_rate_images_and_ps_traffic_on_paper(tmp_path):
    """bench cluster's rows (made up), its update-rate reading of the logs, and the bandwidth on paper."""
    from legacy_vae.bench import cluster

    logs = tmp_path / "cluster"
    logs.mkdir()
    # Worker 1 starts at t=1: the window runs from there to the last update, 4 updates in 2 s.
    (logs / "updates-worker0.jsonl").write_text("".join(json.dumps({"step": s, "time": t}) + "\n"
                                                        for s, t in ((1, 0.0), (2, 1.0), (4, 3.0))))
    (logs / "updates-worker1.jsonl").write_text("".join(json.dumps({"step": s, "time": t}) + "\n"
                                                        for s, t in ((3, 1.0), (5, 2.0))))
    rate = cluster.update_rate(tmp_path)
    assert rate["window_updates"] == 4 and rate["steps_per_second"] == pytest.approx(1.5)
    rows = [{"model": "post", "ps": 1, "workers": 2, "sync": sync, "steps": 2000, "steps_per_second": 40.0,
             "cpu_ms_per_update": 35.0, "test_elbo": -158.5, "mb_per_gradient": 3.2, "wall_seconds": 90,
             "load": 2.0} for sync in (False, True)]
    lines = cluster.table(rows).splitlines()
    assert "post: 1 ps + 2 workers, async" in lines[2] and "4,000" in lines[2]  # 40 steps/s x 100 images
    assert "post: 1 ps + 2 workers, sync" in lines[3] and "8,000" in lines[3]   # each step averages 2 batches
    paper = cluster.paper("post", 396_388)
    # Pulls leave the ps and gradients arrive on the two directions of a full-duplex link:
    # 10 Gb/s = 1.25e9 B/s each way, over 396,388 x 4 B per update.
    assert "3.17 MB" in paper and "on 10 Gb/s: at most 788 updates/s" in paper
