"""The workspace store in the app (AppTest): a reload brings everything back, a fresh address
starts afresh, Forget deletes every row, and a full or unreachable store never breaks a page."""

from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from dashboard.store import backend, store_ui
from dashboard.training import loop
from tests.conftest import ROOT
from tests.test_app_pages import upload_csv

DATA, TRAIN, COMPARE = "pages/1_Data.py", "pages/3_Train.py", "pages/6_Compare.py"
PENGUINS = (ROOT / "tests" / "data" / "tables" / "penguins.csv").read_bytes()
TOKEN = backend.TOKEN_PARAM


@pytest.fixture
def store_url(tmp_path, monkeypatch, clear_streamlit_caches):
    """A store of this test's own, for the app and for the test to look into."""
    url = f"sqlite:///{tmp_path}/workspaces.sqlite"
    monkeypatch.setenv(backend.ENV_URL, url)
    yield url
    with store_ui._lock:  # the app's handle on it goes with the test's folder
        opened = store_ui._opened.pop(url, None)
    if opened is not None:
        opened.close()


def open_app(page: str | None = None, token: str | None = None) -> AppTest:
    """A new session (a reload, or a new tab) on ``page``, with ``?ws=token`` when given."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    if token is not None:
        at.query_params[TOKEN] = token
    if page is not None:
        at.switch_page(page)
    return at.run()


def texts(at) -> str:
    return " ".join(
        str(e.value)
        for kind in ("markdown", "info", "warning", "success", "caption")
        for e in at.get(kind)
    )


def train(at, epochs: int = 15) -> loop.Trainer:
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    at.button(key="train.start").click().run()
    while at.session_state[state.TRAINER].running:
        at.run()
    assert not at.exception
    return at.session_state[state.TRAINER]


def penguins_session() -> AppTest:
    at = upload_csv(open_app(DATA), PENGUINS, "penguins.csv")
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    at.switch_page(TRAIN).run()
    at.number_input(key="train.learning_rate").set_value(0.02).run()
    return at


def test_a_reload_brings_back_the_upload_settings_network_history_and_runs(store_url):
    at = penguins_session()
    first = train(at, epochs=12)
    at.switch_page(COMPARE).run()  # the finished run is kept for Compare
    assert [r["name"] for r in at.session_state[state.COMPARE_RUNS]] == ["run 1"]
    token = at.query_params[TOKEN]
    assert backend.valid_token(token)

    again = open_app(TRAIN, token)
    assert not again.exception
    assert (
        r"Your workspace is back: CSV file penguins\.csv, the settings, the network (12 epochs) "
        "and 1 run for Compare." in texts(again)
    )
    ss = again.session_state
    assert ss[state.DATA_SPEC]["file_name"] == "penguins.csv"
    np.testing.assert_array_equal(ss[state.DATASET].X, at.session_state[state.DATASET].X)
    assert ss[state.TRAIN_SETTINGS] == at.session_state[state.TRAIN_SETTINGS]
    assert ss[state.TRAIN_SETTINGS]["learning_rate"] == 0.02
    assert again.number_input(key="train.learning_rate").value == 0.02
    t = ss[state.TRAINER]
    assert t.status == loop.FINISHED and t.epochs_trained == 12
    for a, b in zip(t.net.get_weights(), first.net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r.as_dict() for r in t.net.history] == [r.as_dict() for r in first.net.history]
    X_test = ss[state.SPLIT].X_test
    np.testing.assert_array_equal(t.net.predict_proba(X_test), first.net.predict_proba(X_test))
    runs = ss[state.COMPARE_RUNS]
    kept = at.session_state[state.COMPARE_RUNS]
    assert [(r["name"], r["metrics"]) for r in runs] == [(r["name"], r["metrics"]) for r in kept]
    assert runs[0]["net"]() is t.net  # still the current network's run
    # Going on trains the same network further and replaces its run, not a second one.
    again.switch_page(TRAIN).run()
    again.number_input(key="train.epochs").set_value(14).run()
    again.button(key="train.start").click().run()
    while again.session_state[state.TRAINER].running:
        again.run()
    again.switch_page(COMPARE).run()
    runs = again.session_state[state.COMPARE_RUNS]
    assert [(r["name"], r["metrics"]["epochs trained"]) for r in runs] == [("run 1", 14)]


def test_a_run_in_progress_is_saved_as_it_trains_and_comes_back_paused(store_url, monkeypatch):
    monkeypatch.setattr(store_ui, "SAVE_EVERY_S", 0.0)  # every tick saves (else every 2 s)
    at = open_app(TRAIN)
    at.number_input(key="train.epochs").set_value(2000).run()
    at.button(key="train.start").click().run()
    deadline = 0
    while at.session_state[state.TRAINER].epochs_trained < 5 and deadline < 200:
        at.run()
        deadline += 1
    token = at.query_params[TOKEN]
    trained = at.session_state[state.TRAINER].epochs_trained
    kept = backend.open_store(store_url)
    try:
        items = kept.load(token)
    finally:
        kept.close()
    assert items and items.get("network")
    again = open_app(TRAIN, token)
    t = again.session_state[state.TRAINER]
    assert t.status == loop.PAUSED and 0 < t.epochs_trained <= trained
    assert again.button(key="train.start").label == "Resume"


def test_every_session_gets_its_own_token_and_an_unknown_one_is_never_adopted(store_url):
    a, b = open_app(), open_app()
    assert a.query_params[TOKEN] != b.query_params[TOKEN]
    stranger = backend.new_token()  # well formed, but no workspace of ours
    c = open_app(token=stranger)
    assert c.query_params[TOKEN] != stranger and backend.valid_token(c.query_params[TOKEN])
    assert "not kept here any more" in texts(c)
    d = open_app(token="<script>alert(1)</script>")
    assert backend.valid_token(d.query_params[TOKEN])
    assert "not one of ours" in texts(d) and "<script>" not in texts(d)


def test_the_token_stays_in_the_address_on_every_page(store_url):
    at = open_app()
    token = at.query_params[TOKEN]
    for page in (DATA, TRAIN, "pages/4_Predict.py", "pages/5_Inside.py", COMPARE):
        at.switch_page(page).run()
        assert not at.exception
        assert at.query_params[TOKEN] == token, page


def test_forget_deletes_every_row_of_the_workspace_and_starts_afresh(store_url):
    at = penguins_session()
    train(at, epochs=5)
    token = at.query_params[TOKEN]
    other = open_app()  # another visitor's workspace stays
    other_token = other.query_params[TOKEN]
    kept = backend.open_store(store_url)
    try:
        assert kept.rows(token) > 1 and kept.rows(other_token) >= 1
        at.switch_page("streamlit_app.py").run()
        assert "7 days after your last visit" in texts(at)
        at.button(key="home.forget").click().run()
        assert not at.exception
        assert kept.rows(token) == 0
        assert kept.rows(other_token) >= 1
    finally:
        kept.close()
    assert at.query_params[TOKEN] != token
    assert at.session_state[state.DATA_SPEC] == {"source": "iris"}
    assert at.session_state[state.TRAINER] is None
    assert "was forgotten" in texts(at)
    back = open_app(token=token)
    assert "not kept here any more" in texts(back)


def test_a_full_workspace_is_said_once_and_the_app_goes_on(store_url, monkeypatch):
    monkeypatch.setenv(backend.ENV_WORKSPACE_MB, "0.004")  # 4 kB: the settings fit, a CSV not
    at = upload_csv(open_app(DATA), PENGUINS, "penguins.csv")
    said = []
    for step in ("use", DATA, TRAIN, DATA):
        if step == "use":
            at.button(key="data.use_csv").click().run()
        else:
            at.switch_page(step).run()
        assert not at.exception
        said += [w.value for w in at.warning if "workspace is full" in w.value]
    assert len(said) == 1, said
    assert "more than the 4 kB one workspace may keep" in said[0], said
    assert at.session_state[state.DATA_SPEC]["file_name"] == "penguins.csv"


def test_without_a_reachable_store_the_app_works_and_says_nothing_is_kept(
    monkeypatch, clear_streamlit_caches
):
    monkeypatch.setenv(backend.ENV_URL, "postgresql://nobody:secret@127.0.0.1:1/none")
    at = open_app()
    assert not at.exception
    assert TOKEN not in at.query_params
    assert "keeps nothing of your visit" in texts(at)
    assert "secret" not in texts(at)
    at.switch_page(TRAIN).run()
    assert not at.exception


def test_a_damaged_store_file_is_moved_aside_and_the_app_starts_with_an_empty_store(
    tmp_path, monkeypatch, clear_streamlit_caches, caplog
):
    path = tmp_path / "workspaces.sqlite"
    good = backend.open_store(f"sqlite:///{path}")
    good.save(backend.new_token(), {"settings": b"{}" * 5000})
    good.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short, as a full disk leaves it
    url = f"sqlite:///{path}"
    monkeypatch.setenv(backend.ENV_URL, url)
    try:
        with caplog.at_level("WARNING", logger="nn_lab.store"):
            at = open_app(TRAIN)
        assert not at.exception
        aside = [p for p in tmp_path.iterdir() if re.search(r"\.corrupt-\d{8}T\d{6}$", p.name)]
        assert len(aside) == 1, list(tmp_path.iterdir())  # its -wal and -shm go beside it
        assert aside[0].read_bytes() == data[: len(data) // 2]  # kept as it was, for a look
        assert any(str(aside[0]) in r.getMessage() for r in caplog.records), caplog.text
        token = at.query_params[TOKEN]
        at.number_input(key="train.learning_rate").set_value(0.5).run()
        again = open_app(TRAIN, token)  # the fresh store keeps the new workspace
        assert again.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.5
    finally:
        with store_ui._lock:
            opened = store_ui._opened.pop(url, None)
        if opened is not None:
            opened.close()
