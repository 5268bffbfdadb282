"""bench/recorded.py's file times and bench/page.py's figure table: a fresh clone gives every file the
checkout's mtime, so a committed recording is dated by its commit; percentages keep their decimals."""
import os
import subprocess


def git(repo, *args, date=None):
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date) if date else None
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True, env=env)


def test_a_committed_unchanged_file_is_dated_by_its_commit(bench_module, tmp_path, monkeypatch):
    rec = bench_module("recorded")
    git(tmp_path, "init", "-q")
    f = tmp_path / "r.json"
    f.write_text("{}")
    git(tmp_path, "add", "r.json")
    git(tmp_path, "commit", "-q", "-m", "x", date="2020-01-02T03:04:00+00:00")
    monkeypatch.setattr(rec, "ROOT", str(tmp_path))
    assert rec.file_time(str(f)) == "2020-01-02T03:04+00:00"
    f.write_text("{ }")             # changed since the commit: its own modification time
    os.utime(f, (1.6e9, 1.6e9))
    assert rec.file_time(str(f)) == "2020-09-13T12:26+00:00"
    g = tmp_path / "new.json"       # never committed
    g.write_text("{}")
    os.utime(g, (1.5e9, 1.5e9))
    assert rec.file_time(str(g)) == "2017-07-14T02:40+00:00"


def test_percent_figures_keep_two_decimals(bench_module):
    page = bench_module("page")
    res = {"figures": [{"name": "acc", "value": 98.64, "unit": "% (10k test)", "source": "recorded", "command": "c"},
                       {"name": "cyc", "value": 7099.4, "unit": "cycles/frame", "source": "measured", "command": "c"}]}
    text = "\n".join(page.figures_md(res))
    assert "| acc | 98.64 | % (10k test) |" in text and "| cyc | 7,099 | cycles/frame |" in text
