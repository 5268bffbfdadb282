"""bench/page.py's provenance line: which command measured the figures on the results page."""


def meta(stage_runs, wall=None):
    m = {"command": "python bench/run.py", "git": "aaaaaaa", "started_utc": "T0", "model": "m.ffs",
         "host": "2 CPUs", "stage_runs": stage_runs}
    if wall:
        m["wall_seconds"] = wall
    return m


def run(stage, git, seconds, command="python bench/run.py --stages X"):
    return {"stage": stage, "command": command, "git": git, "utc": "T1", "seconds": seconds}


def test_a_finished_run_names_itself(bench_module):
    page = bench_module("page")
    text = page.provenance(meta([], wall=123.4))
    assert "`python bench/run.py` at commit aaaaaaa" in text and "wall time 123 s" in text
    assert "Measured again" not in text


def test_partial_rerun_names_only_the_latest_run_of_each_stage(bench_module):
    page = bench_module("page")
    text = page.provenance(meta([run("pareto", "old1", 10), run("pareto", "new1", 20), run("golden", "g", 1)]))
    assert "run not finished" in text and "old1" not in text
    assert "`pareto`: `python bench/run.py --stages X` at commit new1" in text and "`golden`" in text


def test_every_stage_measured_again_supersedes_the_first_run(bench_module):
    page = bench_module("page")
    runs = [run(st, "c0ffee0", 2) for st in page.STAGES]
    runs[3] = run(page.STAGES[3], "c0ffee0", 2, command="python bench/run.py --stages pareto --out elsewhere")
    text = page.provenance(meta(runs))
    assert text.startswith("Every stage was measured again") and "none of its figures is left" in text
    assert f"({2 * len(page.STAGES)} s in all)" in text and "copied into this results.json" in text
    assert all(f"`{st}`:" in text for st in page.STAGES)


def test_accuracy_table_says_what_each_target_counted(bench_module):
    page = bench_module("page")
    row = {"name": "r97n", "seed": 0, "target": 0.97, "sp": 97.0, "sp_dep": 95.5, "nnz": 2000, "acc": 97.8}
    old = dict(row, name="r94")                 # a row recorded before the field existed: the deployed shapes
    text = "\n".join(page.accuracy_md({"accuracy_sweep": [dict(row, count="nominal"), old]}))
    assert "| r97n | 0 | 0.97 | nominal shapes | 97.00% / 95.50% | 2,000 | 97.80% |" in text
    assert "| r94 | 0 | 0.97 | deployed shapes |" in text
    assert page.accuracy_md({"accuracy_sweep": []}) == []
