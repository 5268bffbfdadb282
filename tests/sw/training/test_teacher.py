"""--teacher: a float CNN teacher for --distill, trained on exactly the run's training frames."""
import pytest
import torch
import torch.nn.functional as F

from sw.training import export, run, teacher

from .toy import SMALL, toy_data, toy_trainer


def _teacher_file(tmp_path, y, dataset="mnist", val_split=0, epochs=3):
    x, _ = toy_data(len(y))
    net = teacher.train(x, y, 4, 8, epochs=epochs, batch=16, shift=1, log=lambda *a: None)
    meta = {"dataset": dataset, "val_split": val_split, "train_frames": len(y),
            "train_labels": teacher.labels_digest(y), "eval_split": "val", "eval_acc": 0.5}
    path = tmp_path / "t.pt"
    teacher.save(net, path, meta)
    return path, net


def test_teacher_learns_the_toy_task():
    x, y = toy_data(256)
    net = teacher.train(x, y, 4, 8, epochs=4, batch=16, shift=1, log=lambda *a: None)
    assert teacher.accuracy(net, x, y) > 0.9
    assert not net.training


def test_distillation_from_the_cnn_teacher(tmp_path):
    x, y = toy_data(64)
    path, net = _teacher_file(tmp_path, y)
    t = toy_trainer(distill=0.5, teacher=str(path))
    assert t.teacher_meta["eval_acc"] == 0.5
    t.make_optimizer()
    t.run_epoch()
    t.enter_joint()
    t.epoch = 0
    t.make_optimizer()
    assert t.teacher is t.cnn_teacher and isinstance(t.teacher, teacher.TeacherCNN)
    xin, yt = export.torch_input(x[:16], t.net), torch.from_numpy(y[:16])
    logits, _ = t.net(xin)
    ce = F.cross_entropy(logits, yt)
    with torch.no_grad():
        tl = net(xin)[0]
    kd = F.kl_div(F.log_softmax(logits / 2, 1), F.log_softmax(tl / 2, 1), log_target=True,
                  reduction="batchmean") * 4
    assert torch.allclose(t.loss(logits, xin, yt), 0.5 * ce + 0.5 * kd, atol=1e-6)
    before = {k: v.clone() for k, v in t.teacher.state_dict().items()}
    t.run_epoch()
    assert all(torch.equal(v, before[k]) for k, v in t.teacher.state_dict().items())    # frozen, eval mode
    t.save(str(tmp_path / "c.pt"))                   # a joint checkpoint stores no copy of it...
    assert torch.load(tmp_path / "c.pt", weights_only=False)["teacher"] is None
    u = toy_trainer(distill=0.5, teacher=str(path))   # ...and resumes with the file's teacher
    u.load(str(tmp_path / "c.pt"))
    assert u.teacher is u.cnn_teacher


def test_a_teacher_of_other_frames_is_refused(tmp_path):
    _, y = toy_data(64)
    path, _ = _teacher_file(tmp_path, y[::-1].copy(), epochs=1)
    with pytest.raises(teacher.TeacherError, match="train_labels"):
        toy_trainer(distill=0.5, teacher=str(path))
    path, _ = _teacher_file(tmp_path, y, val_split=5000, epochs=1)
    with pytest.raises(teacher.TeacherError, match="val_split 5000"):
        toy_trainer(distill=0.5, teacher=str(path))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(teacher.TeacherError, match="cannot read"):
        teacher.load(tmp_path / "junk.pt", "mnist", 0, y)


@pytest.mark.parametrize("extra, fragment", [
    (["--teacher", "nowhere.pt", "--distill", "0.5"], "--teacher nowhere.pt: no such file"),
    (["--teacher", "{tmp}/t.pt"], "goes with --distill"),
])
def test_teacher_options_fail_in_one_line(tmp_path, capsys, extra, fragment):
    (tmp_path / "t.pt").write_bytes(b"x")
    with pytest.raises(SystemExit) as e:
        run.main(["--out", str(tmp_path / "o")] + SMALL + [a.format(tmp=tmp_path) for a in extra])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_teacher_cli_refuses_bad_numbers(capsys):
    with pytest.raises(SystemExit):
        teacher.main(["--epochs", "0", "--out", "/tmp/never.pt"])
    assert "--epochs" in capsys.readouterr().err
    assert torch.isfinite(teacher.TeacherCNN(1, 28, 28, 10, 8).eval()(torch.zeros(2, 1, 28, 28))[0]).all()
