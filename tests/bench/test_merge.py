"""bench/run.py --merge-from: one stage, measured with another --out, taken into the committed page without
running anything. Works on copies of the committed bench/results/results.json."""
import copy
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "bench", "results", "results.json")


@pytest.fixture
def folders(tmp_path):
    if not os.path.exists(RESULTS):
        pytest.skip("no committed benchmark results")
    with open(RESULTS) as f:
        dst = json.load(f)
    src = copy.deepcopy(dst)
    for f in src["figures"]:                # the "new" pareto run: every figure of the stage changed
        if f.get("stage") == "pareto":
            f["value"], f["command"] = 12345, "python bench/run.py --stages pareto --out elsewhere"
    src["pareto"] = src["pareto"][:2]
    src["meta"]["stage_runs"].append({"stage": "pareto", "command": "python bench/run.py --stages pareto "
                                      "--out elsewhere", "git": "abc1234", "settings": {}, "seconds": 1.0,
                                      "utc": "2026-11-30T00:00:00+00:00"})
    paths = {}
    for name, res in (("src", src), ("dst", dst)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(res))
        paths[name] = tmp_path / name
    return paths, dst


def test_merge_replaces_only_that_stage(bench_module, folders):
    paths, before = folders
    bench_module("run").main(["--merge-from", str(paths["src"]), "--stages", "pareto", "--out", str(paths["dst"])])
    after = json.loads((paths["dst"] / "results.json").read_text())
    assert after["pareto"] == before["pareto"][:2]
    names = [f["name"] for f in after["figures"]]
    assert names == [f["name"] for f in before["figures"]]         # same figures, same order on the page
    for f, g in zip(after["figures"], before["figures"]):
        if g.get("stage") == "pareto":
            assert f["value"] == 12345 and f["command"].endswith("--out elsewhere")
        else:
            assert f == g
    last = after["meta"]["stage_runs"][-1]
    assert last["git"] == "abc1234" and last["merged_from"] == str(paths["src"])
    page = (paths["dst"] / "RESULTS.md").read_text()
    assert "--out elsewhere" in page


@pytest.mark.parametrize("case", ["missing", "self", "all stages", "no run"])
def test_merge_bad_input(bench_module, folders, tmp_path, case):
    paths, _ = folders
    argv = {"missing": ["--merge-from", str(tmp_path / "nowhere"), "--stages", "pareto"],
            "self": ["--merge-from", str(paths["dst"]), "--stages", "pareto"],
            "all stages": ["--merge-from", str(paths["src"])],
            "no run": ["--merge-from", str(paths["src"]), "--stages", "neurobench"]}[case]
    if case == "no run":
        res = json.loads((paths["src"] / "results.json").read_text())
        res["meta"]["stage_runs"] = [r for r in res["meta"]["stage_runs"] if r["stage"] != "neurobench"]
        (paths["src"] / "results.json").write_text(json.dumps(res))
    with pytest.raises(SystemExit) as e:
        bench_module("run").main(argv + ["--out", str(paths["dst"])])
    assert e.value.code != 0


@pytest.mark.slow
def test_model_parts_replaces_only_those_rows(bench_module, folders):
    """--stages models --model-parts a7-35 (quick: SCNN5 / MNIST only, 1 frame in RTL) replaces that one row where
    it stands; every other model row and every other stage's result stay."""
    paths, before = folders
    bench_module("run").main(["--quick", "--stages", "models", "--model-parts", "a7-35", "--model-frames", "1",
                              "--jobs", "1", "--out", str(paths["dst"])])
    after = json.loads((paths["dst"] / "results.json").read_text())
    keys = [(r["model"], r["part"]) for r in after["models"]]
    assert keys == [(r["model"], r["part"]) for r in before["models"]]
    i = keys.index(("SCNN5 / MNIST", "a7-35"))
    for j, (a, b) in enumerate(zip(after["models"], before["models"])):
        assert (a["frames"] == 1 and a["readout_exact"] is True) if j == i else a == b
    assert after["pareto"] == before["pareto"] and after["sparsity"] == before["sparsity"]
    recorded = {f["name"] for f in before["figures"] if f["source"] == "recorded"}
    assert recorded <= {f["name"] for f in after["figures"]}       # kept, even where their files are not here
    assert "--model-parts a7-35" in after["meta"]["stage_runs"][-1]["command"]


def test_bad_model_parts_is_one_line(bench_module, folders, capsys):
    paths, _ = folders
    with pytest.raises(SystemExit) as e:
        bench_module("run").main(["--stages", "models", "--model-parts", "a7-35,zx81", "--out", str(paths["dst"])])
    assert e.value.code == 2 and "--model-parts a7-35,zx81" in capsys.readouterr().err
