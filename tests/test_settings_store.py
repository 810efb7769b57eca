"""One source of truth for settings: validated on load, observable, read fresh by every consumer."""

import json
import shutil

import pytest

from zimage_desktop.app import run_app
from zimage_desktop.config import Paths, Settings
from zimage_desktop.engine.planner import COMPONENT_FOR_FORM
from zimage_desktop.errors import BadInputError
from zimage_desktop.ui.settings_store import SettingsStore


def test_load_replaces_unknown_enum_values_with_defaults(tmp_path):
    paths = Paths.resolve(tmp_path)
    paths.settings_file.write_text(json.dumps({"device": "tpu", "profile": "3gb", "language": "fr",
                                               "download_source": "ftp", "previews": False}))
    s = Settings.load(paths)
    assert (s.device, s.profile, s.language, s.download_source) == ("auto", "auto", "system", "auto")
    assert s.previews is False  # valid values stay


def test_update_saves_and_announces_only_what_changed(qtbot, tmp_path):
    paths = Paths.resolve(tmp_path)
    store = SettingsStore(paths)
    seen = []
    store.changed.connect(seen.append)
    assert store.update(profile="6gb", device="auto") == {"profile"}
    assert seen == ["profile"] and store.value.profile == "6gb"
    assert Settings.load(paths).profile == "6gb"  # saved
    assert store.update(profile="6gb") == set() and seen == ["profile"]
    with pytest.raises(BadInputError):
        store.update(profile="3gb")
    with pytest.raises(BadInputError):
        store.update(colour="red")
    assert store.value.profile == "6gb"


def test_model_manager_follows_a_models_folder_change_without_restart(qtbot, tmp_path, tiny_models):
    win = run_app(str(tmp_path / "fresh"), exec_loop=False)  # no models: the manager opens
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: getattr(win, "_model_dialog", None) is not None and win._model_dialog.plan is not None,
                    timeout=30000)
    dialog = win._model_dialog
    transformer = COMPONENT_FOR_FORM[dialog.plan.transformer_form]
    assert transformer in dialog.plan.missing
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tiny_models.gguf, elsewhere)
    win.store.update(models_dir=str(elsewhere))  # what the Settings dialog's OK does
    assert dialog.make_downloader().models_dir == elsewhere  # downloads go to the new folder
    assert dialog.plan.transformer_form == "Q8_0" and COMPONENT_FOR_FORM["Q8_0"] not in dialog.plan.missing
    win.close()


def test_poster_jobs_and_reruns_use_the_chosen_profile(qtbot, tmp_path):
    win = run_app(str(tmp_path / "data"), exec_loop=False)
    qtbot.addWidget(win)
    win.store.update(profile="4gb")
    win.poster.prompt.setPlainText("海报，标题文字“新春特惠”")
    poster_job = win.poster.request()
    assert poster_job.profile == "4gb" and poster_job.extra["poster"]
    win.prompt.setPlainText("a cat")
    assert win.build_request().profile == "4gb"
    win.store.update(profile="6gb")
    again = win.requests().rerun(poster_job)
    assert (again.profile, again.seed, again.prompt) == ("6gb", poster_job.seed, poster_job.prompt)
    varied = win.requests().rerun(poster_job, vary=True)
    assert varied.seed != poster_job.seed and varied.count == 1 and varied.profile == "6gb"
    win.close()
