"""The visitor's workspace in the session: brought back once, saved as it changes, forgotten
(and the Home page's "Your workspace": what is kept, for how long, and the Forget button).

A workspace is named by an unguessable token in the address (``?ws=...``): nothing else
identifies a visitor. The first page a session draws reads it: a token the store knows brings
the workspace back (dataset, split and settings, the network with its preprocessing and
history, the runs of Compare); no token, or one the store does not know, starts a fresh
workspace under a new token. An unknown token is never adopted: whoever made the link could
otherwise read what the visitor does in it later.

Every page run saves what changed since the last save (``save``), and the training fragment does
after its chunks (at most every ``SAVE_EVERY_S`` while a run is on), so a reload, a new tab with
the same address, or a restarted server finds the workspace as it was. See
``dashboard/store/backend.py`` for where it is kept and for how long.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import weakref

import streamlit as st

from dashboard import state
from dashboard.common.text import md_escape
from dashboard.compare import runs
from dashboard.data import datasets
from dashboard.share import link
from dashboard.store import backend, workspace
from dashboard.training import loop

log = logging.getLogger("nn_lab.store")
TOKEN = backend.TOKEN_PARAM
SAVE_EVERY_S = 2.0  # while a run is on, its network is saved at most this often
RETRY_S = 60.0  # a store that could not be opened is tried again after this long
_opened: dict[str, object] = {}  # store URL -> the open store (one per server process)
_failed: dict[str, float] = {}  # store URL -> when opening it last failed
_lock = threading.Lock()


def store() -> backend.Store | None:
    """The server's store (None when it is off, or cannot be opened just now: the app then
    works as before, and says that nothing is kept)."""
    url = os.environ.get(backend.ENV_URL, "")
    with _lock:
        if url in _opened:
            return _opened[url]
        if time.monotonic() - _failed.get(url, -RETRY_S) < RETRY_S:
            return None
        try:
            opened = backend.open_store(url)
        except Exception as exc:  # a bad URL or an unreachable database: run without a store
            log.error("The workspace store could not be opened: %s", exc)
            _failed[url] = time.monotonic()
            return None
        if opened is not None:
            backend.start_sweeper(opened, opened.limits.sweep_s)
        _opened[url] = opened
        return opened


def token() -> str | None:
    """This session's workspace token (None before the first page, or without a store)."""
    return st.session_state.get(state.WORKSPACE)


def keep_token_in_url() -> None:
    """Put the workspace token back in the address (a page switch may have dropped it)."""
    current = token()
    if current and st.query_params.get(TOKEN) != current:
        st.query_params[TOKEN] = current


def open_once() -> None:
    """On a session's first page: bring the workspace of the address back, or start a fresh
    one; then (for a fresh one) apply the settings in the address, as a shared link does."""
    ss = st.session_state
    if ss.get(state.URL_READ):
        keep_token_in_url()
        return
    kept = store()
    if kept is None:
        st.query_params.pop(TOKEN, None)
        state.apply_url_once()
        return
    asked = st.query_params.get(TOKEN)
    items = None
    if backend.valid_token(asked):
        try:
            items = kept.load(asked)
        except Exception as exc:
            log.error("Workspace could not be read: %s", exc)
            state.flash(
                "Your workspace could not be read just now; this is a fresh one.", "warning"
            )
        if items is None:
            state.flash(
                "The workspace in this address is not kept here any more (it was forgotten, or "
                f"not visited for {days_text(kept)}); this is a fresh one.",
                "warning",
            )
    elif asked is not None:
        state.flash("The workspace key in this address is not one of ours; this is a fresh one.")
    if items:
        ss[state.WORKSPACE] = asked
        ss[state.URL_READ] = True
        restore(items)
        for key in [k for k in st.query_params if k in link.PARAMS]:
            del st.query_params[key]
    else:
        ss[state.WORKSPACE] = backend.new_token()
        state.apply_url_once()
    keep_token_in_url()


def days_text(kept: backend.Store) -> str:
    days = kept.limits.days
    return f"{days:g} day{'' if days == 1 else 's'}"


# ---- bringing it back ----


def restore(items: dict[str, bytes]) -> None:
    """Put a saved workspace into the session; whatever part cannot be used is said and left
    at its default (the rest still comes back)."""
    problems = []
    try:
        settings = workspace.read_settings(items.get(workspace.SETTINGS, b""))
    except ValueError as exc:
        state.flash(
            f"Your workspace's settings could not be used ({exc}); starting afresh.", "warning"
        )
        return
    try:
        refused = restore_data(settings, items.get(workspace.DATA))
    except ValueError as exc:
        state.flash(
            "Your workspace's dataset could not be loaded again "
            f"({md_escape(str(exc), 300)}); starting afresh.",
            "warning",
        )
        return
    if refused:
        problems.append("some settings: " + "; ".join(refused))
    extra = settings["extra"]
    sample = workspace.read_sample(extra.get("predict_sample"), len(state.dataset().feature_names))
    if sample is not None:
        state.set_predict_sample(sample)
    if items.get(workspace.NETWORK):
        try:
            restore_network(items[workspace.NETWORK])
        except ValueError as exc:
            problems.append(f"the network ({exc})")
    if items.get(workspace.RUNS):
        try:
            records, counter = workspace.read_runs(items[workspace.RUNS], runs.MAX_RUNS)
            restore_runs(records, counter)
        except ValueError as exc:
            problems.append(f"the runs of Compare ({exc})")
    remember_saved(items)
    if problems:
        listed = "\n".join(f"- {md_escape(p, max_len=400)}" for p in problems)
        state.flash(f"Your workspace is back, except:\n\n{listed}", "warning")
    else:
        state.flash(f"Your workspace is back: {restored_text()}.")


def restored_text() -> str:
    """What came back, in words: "CSV file a.csv, the settings, the network (60 epochs) and
    1 run for Compare" (Markdown: the file name in it is escaped)."""
    parts = [md_escape(state.dataset_label(), 200), "the settings"]
    t = state.trainer()
    if t is not None and t.epochs_trained:
        n = t.epochs_trained
        parts.append(f"the network ({n} epoch{'' if n == 1 else 's'})")
    n_runs = len(state.run_records())
    if n_runs:
        parts.append(f"{n_runs} run{'' if n_runs == 1 else 's'} for Compare")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def restore_data(settings: dict, raw: bytes | None) -> list[str]:
    """The dataset, split, architecture and training settings of a saved workspace, checked
    as a link's are; returns what was refused. ``ValueError`` when the dataset cannot be made."""
    params, csv = settings["params"], settings["csv"]
    first = link.default_experiment()
    if csv is None:
        spec, split_set, refused = link.decode_data(params, first)
        dataset = datasets.load_spec(spec)
    else:
        if raw is None:
            raise ValueError("the uploaded file is missing")
        dataset = datasets.load_csv_spec(raw, csv)
        spec = {"source": datasets.CSV, **csv, "file_id": None}
        without_data = {k: v for k, v in params.items() if k not in link.DATA_KEYS}
        _, split_set, refused = link.decode_data(without_data, first)
    new_split = datasets.make_split(dataset, split_set)
    arch, train, more = link.decode_model(
        params,
        link.default_experiment(spec),
        new_split.preprocessor.n_inputs,
        dataset.n_outputs,
        len(new_split.y_train),
        len(new_split.y_val) > 0,
        dataset.task,
    )
    ss = st.session_state
    ss[state.DATA_SPEC], ss[state.SPLIT_SETTINGS] = spec, split_set
    ss[state.DATASET], ss[state.SPLIT] = dataset, new_split
    ss[state.DATA_RAW] = raw if csv is not None else None
    ss[state.DATA_VERSION] += 1
    ss[state.ARCH], ss[state.TRAIN_SETTINGS], ss[state.TRAINER] = arch, train, None
    state.forget_widgets(*state.SETTING_WIDGETS)
    return refused + more


def restore_network(data: bytes) -> None:
    """The saved network as the session's trainer, where it still fits the data."""
    net, meta = workspace.read_network(data)
    ds, split = state.dataset(), state.split()
    if net.task != ds.task or net.config["layers"][-1] != ds.n_outputs:
        raise ValueError("it does not fit the dataset")
    own = net.preprocessor
    if own is None or own.n_inputs != net.config["layers"][0]:
        raise ValueError("its preprocessing is missing")
    if own == split.preprocessor:
        net.preprocessor = split.preprocessor
    t = state.new_trainer(net, tag=meta["tag"])
    t.status, t.message, t.cpu_s = meta["status"], meta["message"], meta["cpu_s"]
    if t.status == loop.PAUSED and t.epochs_trained == 0:
        t.status = loop.READY


def restore_runs(records: list[dict], counter: int) -> None:
    """The runs of Compare; the current network's run is recognised again when it goes on."""
    t = state.trainer()
    kept = []
    for record in records:
        current = record.pop("current") and t is not None
        kept.append({**record, "net": weakref.ref(t.net) if current else _gone})
        if current:
            st.session_state[state.COMPARE_SEEN] = (weakref.ref(t.net), t.epochs_trained)
    st.session_state[state.COMPARE_RUNS] = kept
    st.session_state[state.COMPARE_COUNTER] = max(counter, len(kept))


def _gone():
    """The network reference of a run whose network is gone (as a dead weak reference)."""
    return None


# ---- saving what changed ----


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def remember_saved(items: dict[str, bytes | None]) -> None:
    """Note what the store holds now, item by item (by digest)."""
    saved = st.session_state.setdefault(state.STORE_SAVED, {})
    for name, data in items.items():
        saved[name] = None if data is None else _digest(data)


def settings_bytes() -> bytes:
    spec = state.data_spec()
    csv = spec if spec.get("source") == datasets.CSV else None
    extra = {
        "predict_sample": state.predict_sample(),
        "compare_counter": st.session_state.get(state.COMPARE_COUNTER, 0),
    }
    return workspace.settings_item(link.to_params(state.current_experiment()), csv, extra)


def changed_items(now: float, running_pause_s: float) -> dict[str, bytes | None]:
    """The items that differ from what was saved last (None: delete that item)."""
    ss = st.session_state
    saved = ss.setdefault(state.STORE_SAVED, {})
    marks = ss.setdefault(state.STORE_MARKS, {})
    out: dict[str, bytes | None] = {}
    settings = settings_bytes()
    if saved.get(workspace.SETTINGS) != _digest(settings):
        out[workspace.SETTINGS] = settings
    raw = ss.get(state.DATA_RAW) if state.data_spec().get("source") == datasets.CSV else None
    data_mark = (ss[state.DATA_VERSION], raw is not None)
    if marks.get(workspace.DATA) != data_mark:
        if raw is not None and saved.get(workspace.DATA) != _digest(raw):
            out[workspace.DATA] = raw
        elif raw is None and saved.get(workspace.DATA) is not None:
            out[workspace.DATA] = None
        marks[workspace.DATA] = data_mark
    t = state.trainer()
    net_mark = None
    if t is not None:
        net_mark = (id(t.net), t.epochs_trained, str(t.status), t.message, t.tag)
        net_mark += (state.manual_steps(t.net),)
    if marks.get(workspace.NETWORK) != net_mark:
        too_soon = (
            t is not None and t.running and now - marks.get("network_at", 0.0) < running_pause_s
        )
        if t is None:
            if saved.get(workspace.NETWORK) is not None:
                out[workspace.NETWORK] = None
            marks[workspace.NETWORK] = net_mark
        elif not too_soon:
            out[workspace.NETWORK] = workspace.network_item(
                t.net, t.status, t.message, t.tag, t.cpu_s
            )
            marks[workspace.NETWORK], marks["network_at"] = net_mark, now
    records = state.run_records()
    runs_mark = tuple(
        (r["name"], r["metrics"].get("epochs trained"), r["metrics"].get("status"), id(r))
        for r in records
    )
    if marks.get(workspace.RUNS) != runs_mark:
        if records:
            counter = ss.get(state.COMPARE_COUNTER, 0)
            out[workspace.RUNS] = workspace.runs_item(records, counter, t.net if t else None)
        elif saved.get(workspace.RUNS) is not None:
            out[workspace.RUNS] = None
        marks[workspace.RUNS] = runs_mark
    return {k: v for k, v in out.items() if v is not None or saved.get(k) is not None}


def save() -> None:
    """Save what changed (nothing when nothing did; a running network at most every
    ``SAVE_EVERY_S``); a full workspace or a store that fails is said once and never breaks the
    page."""
    kept, current = store(), token()
    if kept is None or current is None:
        return
    items = changed_items(time.monotonic(), SAVE_EVERY_S)
    if not items:
        return
    try:
        kept.save(current, items)
    except backend.StoreFull as exc:
        _say_once(
            "full", f"Your workspace is full, so this change is not kept after a reload: {exc}"
        )
        st.session_state[state.STORE_MARKS] = {}  # try again at the next change
        return
    except Exception as exc:
        log.error("Workspace %s… could not be saved: %s", current[:6], exc)
        _say_once(
            "failed",
            "Your workspace could not be saved just now; it is tried again at the next change.",
        )
        st.session_state[state.STORE_MARKS] = {}
        return
    remember_saved(items)


if save not in state.AFTER_CHANGE:  # a change made while a page is drawn is saved at once
    state.AFTER_CHANGE.append(save)


def _say_once(kind: str, message: str) -> None:
    said = st.session_state.setdefault(state.STORE_SAID, set())
    if kind not in said:
        said.add(kind)
        state.flash(message, "warning")


# ---- forgetting it ----


def forget() -> None:
    """Delete every row of this workspace, and start a fresh one under a new token (the
    session's state goes too: the next page run starts as a new visitor's)."""
    kept, current = store(), token()
    t = state.trainer()
    if t is not None and t.running:
        loop.pause(t)
    if kept is not None and current is not None:
        kept.forget(current)
    st.session_state.clear()
    st.query_params.clear()
    state.init()
    st.session_state[state.WORKSPACE] = backend.new_token()
    st.session_state[state.URL_READ] = True
    state.flash(
        "This workspace was forgotten: everything of it is deleted from the server.", "success"
    )


# ---- the Home page ----


def workspace_ui() -> None:
    """What is kept and for how long (one sentence), and the Forget button with its check."""
    st.subheader("Your workspace")
    kept = store()
    if kept is None:
        st.caption(
            "This server keeps nothing of your visit: a reload or a new tab starts afresh "
            "(its workspace store is off or out of reach)."
        )
        return
    mb = kept.limits.workspace_bytes / 1e6
    st.markdown(
        "This server keeps your dataset (an uploaded file too), its split and settings, the "
        "network with its history and the finished runs of Compare for "
        f"**{days_text(kept)} after your last visit**, up to {mb:g} MB, in a workspace "
        "that only the address in your browser opens (its `ws=` part): reload the page, open "
        "the address in a new tab or bookmark it to come back. A run that was training comes "
        "back paused. Links from the Share panel of the Compare page leave your workspace out."
    )
    with st.popover("Forget this workspace", icon=":material/delete_forever:"):
        st.markdown(
            "Deletes everything of this workspace from the server now (the dataset, the "
            "network, the runs) and starts a fresh one. This cannot be undone."
        )
        if st.button("Yes, forget everything", key="home.forget", type="primary"):
            forget()
            st.rerun()
